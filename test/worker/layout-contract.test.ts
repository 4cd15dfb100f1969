// The Layout contract (src/layout/types.ts), as one list of cases run against every layout.
// Cases speak only the interface (never the stored keys), so any layout is checked by adding
// one row to LAYOUTS. Layouts store bodies as given (sealing happens above them), so the
// bodies here are plain bytes and the envelopes well-formed fakes.

import { describe, expect, it } from 'vitest';
import type { UpstreamMapping } from '../../src/config';
import { LayoutError, type LayoutErrorKind } from '../../src/layout/errors';
import { ProxyLayout } from '../../src/layout/proxy/layout';
import { R2Layout } from '../../src/layout/r2/layout';
import {
  decodeManifest,
  decodePartRecord,
  encodeManifest,
  encodeStateEntry,
  encodeUploadCustom,
  manifestPart,
  type ObjectManifest,
  type ObjectRecord,
  type PartFields,
} from '../../src/layout/record';
import type { Body, Completion, Layout, Listing, PartInfo, Precondition, RecordFields, Sealed, UploadInfo } from '../../src/layout/types';
import { writePrecondition } from '../../src/s3/protocol/conditions';
import { S3Error } from '../../src/s3/protocol/errors';
import { decodeEnvelope, encodeEnvelope } from '../../src/sse/envelope';
import { IntegrityError } from '../../src/sse/errors';
import type { Envelope } from '../../src/sse/types';
import { R2Store } from '../../src/store/r2';
import type { HttpMeta } from '../../src/store/types';
import { FakeUpstream } from './helpers/fake-upstream';
import { bytes, md5hex, rawStore, sameBytes } from './helpers/s3';

// --- the layouts under test ---

interface Subject {
  name: string;
  /** A fresh layout (a proxy gets its own empty upstream; R2 shares the file's store, so cases use fresh bucket names). */
  make(): Promise<Layout>;
  /** The one bucket a layout answers for by configuration: it exists without CreateBucket and is not deleted through the gateway. */
  fixedBucket?: string;
  /**
   * Contract cases this layout is known to break, by case id, with the reason. They run as
   * it.fails, so the suite stays green and one starts failing (to be taken off) once fixed.
   */
  bugs?: Record<string, string>;
  /** Only the cases whose id matches (a row that differs from another in one respect only). */
  only?: RegExp;
}

const UPSTREAM_BUCKET = 'upstream';
/** What the fake upstream demands of a non-final part, and so what the mapping declares. */
const UPSTREAM_MIN_PART = 1024;

function proxy(m: Pick<UpstreamMapping, 'name' | 'prefix'>, conditionalWrites?: 'ignore' | 'refuse'): Layout {
  const upstream = new FakeUpstream({ bucket: UPSTREAM_BUCKET, minPart: UPSTREAM_MIN_PART, conditionalWrites });
  const mapping: UpstreamMapping = {
    endpoint: 'https://upstream.test',
    region: 'us-east-1',
    bucket: UPSTREAM_BUCKET,
    pathStyle: true,
    credentials: 'UPSTREAM',
    minPart: UPSTREAM_MIN_PART,
    ...m,
  };
  return new ProxyLayout(mapping, async () => 'AKIDFAKEUPSTREAM:fake-upstream-secret', upstream.fetch);
}

/**
 * The proxy layout takes an upstream object's ETag for the record's version. S3's ETag is the MD5
 * of the bytes (unless SSE-KMS/SSE-C upstream), which neither a CopyObject onto itself with new
 * metadata (swap, rewrap) nor a PUT of the same bytes changes: a version read before such a
 * change still matches after it, so the compare-and-swap lets a stale writer through.
 */
const MD5_VERSION = 'the record version is the upstream ETag, the MD5 of the bytes, which a metadata-only change keeps';
const PROXY_BUGS: Record<string, string> = {
  'if-record-same-bytes': MD5_VERSION,
  'swap-stale': MD5_VERSION,
  'rewrap-stale': MD5_VERSION,
};

/** What an upstream without conditional writes leaves to chance (README, docs/FORMAT.md: checked, not atomic). */
const CHECKED_ONLY = 'checked, not atomic: the upstream does not hold its write to the object the gateway judged';
const NOT_ATOMIC: Record<string, string> = {
  'cond-window-none-match': CHECKED_ONLY,
  'cond-window-match': CHECKED_ONLY,
  'cond-window-delete': CHECKED_ONLY,
  'cond-concurrent': CHECKED_ONLY,
  'cond-complete-window': CHECKED_ONLY,
};

const LAYOUTS: Subject[] = [
  { name: 'r2', make: async () => new R2Layout(new R2Store(rawStore())) },
  { name: 'proxy "*"', make: async () => proxy({ name: '*', prefix: 'gw/{bucket}/' }), bugs: PROXY_BUGS },
  { name: 'proxy named', make: async () => proxy({ name: 'archive', prefix: 'vault/' }), fixedBucket: 'archive', bugs: PROXY_BUGS },
  // An upstream without S3's conditional writes (s3rver ignores them, some servers refuse them):
  // conditions are checked just before the upstream write, so a write in between gets through.
  ...(['ignore', 'refuse'] as const).map(
    (c): Subject => ({
      name: `proxy, upstream that ${c}s conditional writes`,
      make: async () => proxy({ name: '*', prefix: 'gw/{bucket}/' }, c),
      only: /^cond-/,
      bugs: NOT_ATOMIC,
    }),
  ),
];

// --- helpers ---

const uniq = () => crypto.randomUUID().replace(/-/g, '').slice(0, 12);
const uploadId = () => crypto.randomUUID().replace(/-/g, '');
/** Stored bytes of a sealed object beyond its plaintext (any positive number does for a layout). */
const SEAL_OVERHEAD = 32;

const HTTP: HttpMeta = {
  contentType: 'text/plain; charset=utf-8',
  contentEncoding: 'gzip',
  contentDisposition: 'attachment; filename="a b.txt"',
  contentLanguage: 'en-GB',
  cacheControl: 'max-age=60',
  expires: 'Wed, 21 Oct 2026 07:28:00 GMT',
};

const envelope = (n: number): Envelope => ({
  v: 1,
  mode: 'cos',
  seg: 65536,
  salt: `salt${n}`,
  commit: `commit${n}`,
  wsalt: `wsalt${n}`,
  wkey: `wrapped-key-${n}`,
  kid: 'k1',
});

/** The fields S3 would answer with, less `undefined` ones (R2 reports absent headers as undefined). */
const defined = <T extends object>(o: T) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));

/** A body that tells whether its last byte was taken. */
function body(data: Uint8Array, chunk = 1000): Body & { drained(): boolean } {
  let at = 0;
  const stream = new ReadableStream<Uint8Array>({
    pull(c) {
      if (at >= data.length) return c.close();
      c.enqueue(data.slice(at, at + chunk));
      at += chunk;
    },
  });
  return { stream, length: data.length, drained: () => at >= data.length };
}

async function all(s: ReadableStream<Uint8Array> | null): Promise<Uint8Array | null> {
  return s && new Uint8Array(await new Response(s).arrayBuffer());
}

interface Obj {
  /** What the store receives (ciphertext when sealed). */
  stored: Uint8Array;
  fields: RecordFields;
}

/** A PutObject's stored bytes and record fields, as src/s3/objects.ts hands them to a layout. */
async function object(seed: number, size = 3000, o: { meta?: Record<string, string>; envelope?: Envelope } = {}): Promise<Obj> {
  const stored = bytes(size + (o.envelope ? SEAL_OVERHEAD : 0), seed);
  const etag = o.envelope ? await md5hex(bytes(size, seed + 7)) : await md5hex(stored);
  return {
    stored,
    fields: { size, etag, crc64: String(seed * 7919), meta: o.meta ?? {}, ...(o.envelope ? { envelope: o.envelope } : {}) },
  };
}

/** write(), checking that `finish` is called at most once, and only after the last byte was taken. */
async function put(
  L: Layout,
  bucket: string,
  key: string,
  o: Obj,
  opts: { http?: HttpMeta; ifRecord?: string; precondition?: Precondition } = {},
): Promise<ObjectRecord | null> {
  const b = body(o.stored);
  let finished = 0;
  const rec = await L.write(
    bucket,
    key,
    b,
    async () => {
      finished++;
      if (!b.drained()) throw new Error('finish was called before the body was stored');
      return o.fields;
    },
    { http: opts.http ?? {}, ifRecord: opts.ifRecord, precondition: opts.precondition },
  );
  expect(finished).toBeLessThanOrEqual(1);
  if (rec) expect(finished).toBe(1);
  return rec;
}

/** Whether a record says its data is in parts, which is how a reader knows to ask for the manifest. */
const multipart = (r: ObjectRecord): boolean => r.location.kind === 'multipart';

/** The record fields a layout must keep as written (`location` and `storeEtag` are its own). */
const fieldsOf = (r: Partial<ObjectRecord>) => ({
  size: r.size,
  etag: r.etag,
  crc64: r.crc64,
  meta: r.meta,
  envelope: r.envelope,
  manifest: r.manifest,
  tags: r.tags,
});

function expectRecord(rec: ObjectRecord | null, fields: RecordFields, http: HttpMeta): asserts rec is ObjectRecord {
  expect(rec).not.toBeNull();
  expect(fieldsOf(rec!)).toEqual(fieldsOf(fields));
  expect(defined(rec!.http)).toEqual(defined(http));
  expect(rec!.uploaded).toBeInstanceOf(Date);
  expect(Number.isNaN(rec!.uploaded.getTime())).toBe(false);
  expect(rec!.storeEtag).toEqual(expect.any(String));
}

/** S3 codes a LayoutError kind stands for (src/s3/protocol/errors.ts toS3Error), while layouts still throw S3Error. */
const S3_CODE: Partial<Record<LayoutErrorKind, string>> = {
  NoSuchUpload: 'NoSuchUpload',
  KeyTooLong: 'KeyTooLongError',
  Conflict: 'OperationAborted',
  ConditionConflict: 'ConditionalRequestConflict',
  UploadBusy: 'OperationAborted',
  BucketNotDeletable: 'MethodNotAllowed',
};

/** A refusal of this kind: a LayoutError, an S3Error with its code, or the upstream's refusal with that code. */
function isRefusal(e: unknown, kind: LayoutErrorKind): boolean {
  const code = S3_CODE[kind];
  if (e instanceof LayoutError) return e.kind === kind || (e.kind === 'UpstreamRefused' && e.detail.code === code);
  return e instanceof S3Error && e.code === code;
}

async function refused(p: Promise<unknown> | (() => unknown), kind: LayoutErrorKind): Promise<void> {
  let error: unknown;
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    error = e;
  }
  if (!isRefusal(error, kind))
    expect.fail(
      `expected a ${kind} refusal, got ${error === undefined ? 'success' : `${(error as Error)?.constructor?.name}: ${(error as { code?: string }).code ?? ''} ${String(error)}`}`,
    );
}

/** Every page of a listing, `limit` entries at a time. */
async function pages(
  L: Layout,
  bucket: string,
  o: { prefix?: string; delimiter?: string; startAfter?: string },
  limit: number,
): Promise<Listing[]> {
  const out: Listing[] = [];
  let cursor: string | undefined;
  do {
    const page = await L.list(bucket, { prefix: o.prefix ?? '', delimiter: o.delimiter, startAfter: o.startAfter, cursor, limit });
    expect(page.objects.length + page.prefixes.length).toBeLessThanOrEqual(limit);
    out.push(page);
    if (page.truncated) expect(page.cursor, 'a truncated page gives a cursor').toBeTruthy();
    cursor = page.truncated ? page.cursor : undefined;
    if (out.length > 200) expect.fail('the listing does not end');
  } while (cursor);
  return out;
}

const keysOf = (l: Listing) => l.objects.map((o) => o.key);

/** A part as UploadPart hands it over: stored bytes, and the record `finish` returns. */
async function writePart(
  L: Layout,
  bucket: string,
  up: UploadInfo,
  n: number,
  stored: Uint8Array,
  size = stored.length,
): Promise<PartFields> {
  const fields: PartFields = { size, etag: await md5hex(stored), crc64: String(n) };
  const b = body(stored);
  await L.writePart(bucket, up, n, b, async () => {
    if (!b.drained()) throw new Error('finish was called before the part was stored');
    return fields;
  });
  return fields;
}

const b64url = (b: Uint8Array) =>
  btoa(String.fromCharCode(...b))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '');
const fromHex = (h: string) => new Uint8Array(h.match(/../g)!.map((x) => parseInt(x, 16)));

/** A Completion choosing parts `choose`, built as CompleteMultipartUpload does (src/s3/ops/multipart.ts). */
async function completion(
  id: string,
  records: PartInfo[],
  choose: number[],
  o: { meta?: Record<string, string>; envelope?: Envelope; tags?: RecordFields['tags'] } = {},
): Promise<Completion> {
  const byNumber = new Map(records.map((r) => [r.n, r]));
  const parts = choose.map((n) => {
    const r = byNumber.get(n);
    if (!r) throw new S3Error('InvalidPart');
    return manifestPart(n, decodePartRecord(r.custom));
  });
  const manifest: ObjectManifest = { upload: id, parts };
  const manifestBody = encodeManifest(manifest);
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', manifestBody));
  const md5s = new Uint8Array(parts.length * 16);
  parts.forEach((p, i) => {
    md5s.set(fromHex(p.etag), i * 16);
  });
  const etag = `${await md5hex(md5s)}-${parts.length}`;
  const size = parts.reduce((a, p) => a + p.size, 0);
  const fields: RecordFields = {
    size,
    etag,
    crc64: '',
    manifest: b64url(digest),
    meta: o.meta ?? {},
    ...(o.envelope ? { envelope: o.envelope } : {}),
    ...(o.tags ? { tags: o.tags } : {}),
  };
  return { manifest, manifestBody, fields };
}

/** A non-final part's size: at least what the backing store demands. */
const partSize = (L: Layout) => Math.max(L.minPart ?? 0, 1500);

/** An upload as CreateMultipartUpload makes it. */
async function open(
  L: Layout,
  bucket: string,
  key: string,
  o: { meta?: Record<string, string>; envelope?: Envelope; http?: HttpMeta } = {},
): Promise<UploadInfo> {
  const id = uploadId();
  const custom: Record<string, string> = {};
  if (o.envelope) custom['sb-env'] = encodeEnvelope(o.envelope);
  for (const [k, v] of Object.entries(o.meta ?? {})) custom[`m-${k}`] = v;
  await L.createUpload(bucket, key, id, custom, o.http ?? {});
  const up = await L.upload(bucket, id);
  expect(up).not.toBeNull();
  return up!;
}

/** The whole rotation scan, `limit` entries at a time. */
async function scan(L: Layout, limit: number): Promise<Sealed[]> {
  const items: Sealed[] = [];
  let after: string | undefined;
  for (let i = 0; ; i++) {
    if (i > 10_000) expect.fail('the scan does not end');
    const r = await L.sealed(after, limit);
    expect(r.items.length).toBeLessThanOrEqual(limit);
    items.push(...r.items);
    if (r.next === undefined) return items;
    after = r.next;
  }
}

/** A read that must not give back `old`: null, a refusal, or other bytes. */
async function expectNotReadable(p: Promise<ReadableStream<Uint8Array> | null>, old: Uint8Array): Promise<void> {
  const got = await p.then(all, () => null);
  if (got) expect(sameBytes(got, old), 'the replaced bytes are still readable').toBe(false);
}

// --- the contract ---

describe.each(LAYOUTS)('Layout contract: $name', (subject) => {
  /** One contract case; `it.fails` where the row declares it a known bug of this layout. */
  const contract = (id: string, title: string, fn: () => Promise<void>) => {
    // A row that exists for some cases only (an upstream without conditional writes) registers just those.
    if (subject.only && !subject.only.test(id)) return;
    const bug = subject.bugs?.[id];
    if (bug) it.fails(`${title} [known bug: ${bug}]`, fn);
    else it(title, fn);
  };

  /** A fresh layout and a bucket that exists in it. */
  async function setup(): Promise<{ L: Layout; B: string }> {
    const L = await subject.make();
    if (subject.fixedBucket) return { L, B: subject.fixedBucket };
    const B = `lc-${uniq()}`;
    expect(await L.createBucket(B, 'owner')).toBe(true);
    return { L, B };
  }

  /** A group of cases every row runs (a row limited to some cases, `only`, runs none of these). */
  const group = (name: string, fn: () => void) => {
    if (!subject.only) describe(name, fn);
  };

  group('buckets', () => {
    contract('buckets', 'createBucket, bucket(), buckets() and setBucketCustom', async () => {
      const L = await subject.make();
      const name = subject.fixedBucket ?? `lc-${uniq()}`;
      if (!subject.fixedBucket) {
        expect(await L.bucket(name)).toBeNull();
        expect(await L.createBucket(name, 'alice')).toBe(true);
      }
      expect(await L.createBucket(name, 'bob')).toBe(false);
      const info = await L.bucket(name);
      expect(info).toMatchObject({ name, created: expect.any(Date) });
      expect((await L.buckets()).map((b) => b.name)).toContain(name);
      const custom = { owner: 'alice', sse: '{"mode":"cos"}' };
      await L.setBucketCustom(name, custom);
      expect((await L.bucket(name))!.custom).toEqual(custom);
      await L.setBucketCustom(name, { owner: 'alice' });
      expect((await L.bucket(name))!.custom).toEqual({ owner: 'alice' });
      expect(await L.bucket(`lc-${uniq()}`)).toBeNull();
    });

    contract('bucket-documents', 'bucketDocument / setBucketDocument: stored, replaced, removed, and gone with the bucket', async () => {
      const { L, B } = await setup();
      expect(await L.bucketDocument(B, 'cors')).toBeNull();
      const big = JSON.stringify(Array.from({ length: 200 }, (_, i) => ({ origins: [`https://app-${i}.example`] })));
      await L.setBucketDocument(B, 'cors', big);
      expect(await L.bucketDocument(B, 'cors')).toBe(big);
      await L.setBucketDocument(B, 'cors', '[]');
      expect(await L.bucketDocument(B, 'cors')).toBe('[]');
      // A document is not an object: listings and the bucket's emptiness ignore it.
      expect((await L.list(B, { prefix: '', limit: 1000 })).objects).toEqual([]);
      await L.setBucketDocument(B, 'cors', null);
      await L.setBucketDocument(B, 'cors', null);
      expect(await L.bucketDocument(B, 'cors')).toBeNull();
      if (subject.fixedBucket) return;
      await L.setBucketDocument(B, 'cors', big);
      expect(await L.deleteBucket(B)).toBe(true);
      expect(await L.createBucket(B, 'owner')).toBe(true);
      expect(await L.bucketDocument(B, 'cors')).toBeNull();
    });

    contract(
      'delete-bucket',
      'deleteBucket: false while it holds an object or an upload, true once empty (or refused, for a configured bucket)',
      async () => {
        const { L, B } = await setup();
        if (subject.fixedBucket) {
          await refused(L.deleteBucket(B), 'BucketNotDeletable');
          expect(await L.bucket(B)).not.toBeNull();
          return;
        }
        await L.setBucketCustom(B, { owner: 'owner', sse: '{"mode":"cos"}' });
        await put(L, B, 'dir/x', await object(1, 10));
        expect(await L.deleteBucket(B)).toBe(false);
        expect(await L.bucket(B)).not.toBeNull();
        await L.delete(B, 'dir/x');
        const up = await open(L, B, 'pending', { envelope: envelope(1) });
        expect(await L.deleteBucket(B)).toBe(false);
        expect(await L.bucket(B)).not.toBeNull();
        await L.abort(B, up);
        expect(await L.deleteBucket(B)).toBe(true);
        expect(await L.bucket(B)).toBeNull();
        expect((await L.buckets()).map((b) => b.name)).not.toContain(B);
        // Made again under the name, it inherits nothing.
        expect(await L.createBucket(B, 'owner')).toBe(true);
        expect((await L.bucket(B))!.custom.sse).toBeUndefined();
        expect(await L.uploads(B)).toEqual([]);
        expect((await L.list(B, { prefix: '', limit: 1000 })).objects).toEqual([]);
      },
    );
  });

  group('keys', () => {
    contract('check-key', 'checkKey refuses an over-long key and accepts ordinary ones', async () => {
      const { L, B } = await setup();
      await refused(() => L.checkKey(B, 'k'.repeat(1100)), 'KeyTooLong');
      await refused(() => L.checkKey(B, 'é'.repeat(600)), 'KeyTooLong');
      for (const k of ['a', 'dir/sub/file.txt', 'ü 中 !"#$%&\'()*+,;=?@[]^`{|}~', ' leading and trailing ', 'trailing/', 'x'.repeat(500)])
        L.checkKey(B, k);
    });

    contract('longest-key', 'the longest key checkKey accepts is stored and addressed exactly, as an object and as an upload', async () => {
      const { L, B } = await setup();
      // Spaces, "!" and non-ASCII: characters a layout might escape or encode on the way to its store.
      const unit = [...'aé !b/'];
      const keyOf = (n: number) => Array.from({ length: n }, (_, i) => unit[i % unit.length]).join('');
      const fits = (n: number) => {
        try {
          L.checkKey(B, keyOf(n));
          return true;
        } catch (e) {
          if (!isRefusal(e, 'KeyTooLong')) throw e;
          return false;
        }
      };
      let [lo, hi] = [1, 1100];
      expect(fits(lo)).toBe(true);
      expect(fits(hi)).toBe(false);
      while (hi - lo > 1) {
        const mid = (lo + hi) >> 1;
        if (fits(mid)) lo = mid;
        else hi = mid;
      }
      const key = keyOf(lo);

      const o = await object(3, 100, { envelope: envelope(3), meta: { m: 'v' } });
      expectRecord(await put(L, B, key, o, { http: HTTP }), o.fields, HTTP);
      const rec = await L.head(B, key);
      expectRecord(rec, o.fields, HTTP);
      expect(sameBytes((await all(await L.read(B, key, rec, undefined)))!, o.stored)).toBe(true);
      const listed = await L.list(B, { prefix: key.slice(0, 20), limit: 10 });
      expect(listed.objects).toEqual([{ key, size: 100, etag: o.fields.etag, uploaded: expect.any(Date) }]);

      const up = await open(L, B, key, { envelope: envelope(4), meta: { m: 'v' }, http: HTTP });
      expect(up.key).toBe(key);
      await writePart(L, B, up, 1, bytes(50, 4));
      expect((await L.uploads(B)).map((u) => u.key)).toEqual([key]);
      await L.abort(B, up);
      await L.delete(B, key);
      expect(await L.head(B, key)).toBeNull();
    });
  });

  group('objects', () => {
    contract(
      'write-head-read',
      'write → head → read: sizes, etag, meta and http fields round-trip; ranges; finish once the body is stored',
      async () => {
        const { L, B } = await setup();
        const cases: [string, Obj][] = [
          ['plain', await object(11, 3000, { meta: { color: 'blue', note: 'ünïcödé ✓', empty: '' } })],
          ['sealed/obj', await object(12, 3000, { meta: { color: 'red' }, envelope: envelope(12) })],
          ['empty', await object(13, 0)],
        ];
        for (const [key, o] of cases) {
          const rec = await put(L, B, key, o, { http: HTTP });
          expectRecord(rec, o.fields, HTTP);
          expect(multipart(rec)).toBe(false);
          const h = await L.head(B, key);
          expectRecord(h, o.fields, HTTP);
          expect(h.storeEtag).toBe(rec.storeEtag);
          expect(multipart(h)).toBe(false);
          const whole = await all(await L.read(B, key, h, undefined));
          expect(sameBytes(whole!, o.stored), key).toBe(true);
          const full = await all(await L.read(B, key, h, undefined, undefined, o.stored.length));
          expect(sameBytes(full!, o.stored), key).toBe(true);
        }
        // Plain http fields too: none at all.
        const bare = await object(14, 10);
        expectRecord(await put(L, B, 'bare', bare), bare.fields, {});
        expectRecord(await L.head(B, 'bare'), bare.fields, {});

        const listed = await L.list(B, { prefix: '', limit: 1000 });
        expect(listed.objects.map(({ key, size, etag }) => ({ key, size, etag }))).toEqual(
          [
            ...cases.map(([key, o]) => ({ key, size: o.fields.size, etag: o.fields.etag })),
            { key: 'bare', size: 10, etag: bare.fields.etag },
          ].sort((a, b) => (a.key < b.key ? -1 : 1)),
        );
        expect(listed.prefixes).toEqual([]);
        expect(listed.truncated).toBe(false);
      },
    );

    contract('read-range', 'read with a range returns exactly those bytes', async () => {
      const { L, B } = await setup();
      for (const [key, o] of [
        ['plain', await object(21, 3000)],
        ['sealed', await object(22, 3000, { envelope: envelope(22) })],
      ] as const) {
        await put(L, B, key, o);
        const rec = (await L.head(B, key))!;
        const n = o.stored.length;
        for (const [offset, length] of [
          [0, 1],
          [1000, 17],
          [n - 10, 10],
          [0, n],
          [1234, n - 1234],
        ]) {
          const got = await all(await L.read(B, key, rec, { offset, length }));
          expect(sameBytes(got!, o.stored.slice(offset, offset + length)), `${key} ${offset}+${length}`).toBe(true);
          const checked = await all(await L.read(B, key, rec, { offset, length }, undefined, n));
          expect(sameBytes(checked!, o.stored.slice(offset, offset + length)), `${key} ${offset}+${length} with storedLength`).toBe(true);
        }
      }
    });

    contract('stored-length', "read with a storedLength other than the entry's is an IntegrityError, also for a range", async () => {
      const { L, B } = await setup();
      const o = await object(31, 2000, { envelope: envelope(31) });
      await put(L, B, 'k', o);
      const rec = (await L.head(B, 'k'))!;
      const n = o.stored.length;
      for (const wrong of [n - 1, n + 1, 0]) {
        await expect(L.read(B, 'k', rec, undefined, undefined, wrong), `whole, storedLength ${wrong}`).rejects.toBeInstanceOf(
          IntegrityError,
        );
        await expect(
          L.read(B, 'k', rec, { offset: 10, length: 20 }, undefined, wrong),
          `range, storedLength ${wrong}`,
        ).rejects.toBeInstanceOf(IntegrityError);
      }
    });

    contract('if-record', 'write with a stale ifRecord returns null and changes nothing; with the current one it writes', async () => {
      const { L, B } = await setup();
      const a = await put(L, B, 'cas', await object(41, 500));
      const bo = await object(42, 600, { meta: { v: 'b' } });
      const b = await put(L, B, 'cas', bo, { http: HTTP });
      expect(await put(L, B, 'cas', await object(43, 700), { ifRecord: a!.storeEtag })).toBeNull();
      const h = await L.head(B, 'cas');
      expectRecord(h, bo.fields, HTTP);
      expect(h.storeEtag).toBe(b!.storeEtag);
      expect(sameBytes((await all(await L.read(B, 'cas', h, undefined)))!, bo.stored)).toBe(true);
      expect(await put(L, B, 'cas', await object(44, 700), { ifRecord: 'not-a-version' })).toBeNull();
      const co = await object(45, 800);
      const c = await put(L, B, 'cas', co, { ifRecord: b!.storeEtag });
      expectRecord(c, co.fields, {});
      expectRecord(await L.head(B, 'cas'), co.fields, {});
    });

    contract(
      'if-record-same-bytes',
      'write with a stale ifRecord returns null, also when the record changed over the same bytes',
      async () => {
        const { L, B } = await setup();
        const first = await object(46, 500, { meta: { v: '1' } });
        const a = await put(L, B, 'cas', first);
        // The same bytes again, with other metadata: another record.
        const second = { stored: first.stored, fields: { ...first.fields, meta: { v: '2' } } };
        await put(L, B, 'cas', second);
        expect(await put(L, B, 'cas', await object(47, 700), { ifRecord: a!.storeEtag })).toBeNull();
        expectRecord(await L.head(B, 'cas'), second.fields, {});
      },
    );

    contract('overwrite', 'an overwrite replaces the record and the old bytes are no longer readable', async () => {
      const { L, B } = await setup();
      const ao = await object(51, 5000, { meta: { v: 'a' }, envelope: envelope(51) });
      const a = await put(L, B, 'ow', ao, { http: HTTP });
      const bo = await object(52, 1200, { meta: { v: 'b' } });
      const b = await put(L, B, 'ow', bo);
      expect(b!.storeEtag).not.toBe(a!.storeEtag);
      const h = await L.head(B, 'ow');
      expectRecord(h, bo.fields, {});
      expect(sameBytes((await all(await L.read(B, 'ow', h, undefined)))!, bo.stored)).toBe(true);
      await expectNotReadable(L.read(B, 'ow', a!, undefined), ao.stored);
      const listed = await L.list(B, { prefix: '', limit: 10 });
      expect(listed.objects.map(({ key, size, etag }) => ({ key, size, etag }))).toEqual([{ key: 'ow', size: 1200, etag: bo.fields.etag }]);
    });

    contract('delete', 'delete: head is null afterwards, it is not listed nor readable; deleting a missing key is fine', async () => {
      const { L, B } = await setup();
      const o = await object(61, 900, { envelope: envelope(61) });
      const rec = await put(L, B, 'gone', o);
      await put(L, B, 'kept', await object(62, 10));
      await L.delete(B, 'gone');
      expect(await L.head(B, 'gone')).toBeNull();
      expect(keysOf(await L.list(B, { prefix: '', limit: 10 }))).toEqual(['kept']);
      await expectNotReadable(L.read(B, 'gone', rec!, undefined), o.stored);
      await L.delete(B, 'gone');
      await L.delete(B, `never-${uniq()}`);
      expect(await L.head(B, 'kept')).not.toBeNull();
    });

    contract('swap', 'swap replaces the record over the same data if ifRecord matches, else null', async () => {
      const { L, B } = await setup();
      const o = await object(71, 2500, { meta: { a: '1' }, envelope: envelope(71) });
      const rec = (await put(L, B, 'swap', o, { http: HTTP }))!;
      const next: ObjectRecord = {
        ...rec,
        meta: { a: '2', b: 'new' },
        envelope: envelope(72),
        http: { ...HTTP, contentType: 'application/json' },
      };
      const swapped = await L.swap(B, 'swap', next, rec.storeEtag!);
      expectRecord(swapped, next, next.http);
      const h = await L.head(B, 'swap');
      expectRecord(h, next, next.http);
      expect(h.storeEtag).toBe(swapped.storeEtag);
      expect(sameBytes((await all(await L.read(B, 'swap', h, undefined, undefined, o.stored.length)))!, o.stored)).toBe(true);
      const listed = await L.list(B, { prefix: '', limit: 10 });
      expect(listed.objects.map(({ key, size, etag }) => ({ key, size, etag }))).toEqual([
        { key: 'swap', size: 2500, etag: o.fields.etag },
      ]);

      expect(await L.swap(B, 'swap', { ...rec, meta: { a: '3' } }, 'not-a-version')).toBeNull();
      expect(await L.swap(B, `missing-${uniq()}`, rec, rec.storeEtag!)).toBeNull();
      expectRecord(await L.head(B, 'swap'), next, next.http);
    });

    contract('swap-stale', 'swap with the ifRecord of a record that has since been swapped returns null', async () => {
      const { L, B } = await setup();
      const o = await object(73, 2500, { meta: { a: '1' }, envelope: envelope(73) });
      const rec = (await put(L, B, 'swap', o))!;
      const next: ObjectRecord = { ...rec, meta: { a: '2' } };
      expect(await L.swap(B, 'swap', next, rec.storeEtag!)).not.toBeNull();
      // The record changed (its data did not): the first version is stale.
      expect(await L.swap(B, 'swap', { ...rec, meta: { a: '3' } }, rec.storeEtag!)).toBeNull();
      expectRecord(await L.head(B, 'swap'), next, {});
    });

    contract('tags', 'tags are stored with the record, and a swap changes or removes them over the same data', async () => {
      const { L, B } = await setup();
      const o = await object(75, 1500, { meta: { a: '1' }, envelope: envelope(75) });
      const tags = [
        { key: 'project', value: 'blue' },
        { key: 'Straße 1', value: '中文 + = . _ : / @' },
        { key: 'empty', value: '' },
      ];
      const rec = (await put(L, B, 'tagged', { stored: o.stored, fields: { ...o.fields, tags } }, { http: HTTP }))!;
      expectRecord(rec, { ...o.fields, tags }, HTTP);
      expectRecord(await L.head(B, 'tagged'), { ...o.fields, tags }, HTTP);

      const retagged = [{ key: 'z', value: '2' }];
      expectRecord(await L.swap(B, 'tagged', { ...rec, tags: retagged }, rec.storeEtag!), { ...o.fields, tags: retagged }, HTTP);
      const h = (await L.head(B, 'tagged'))!;
      expectRecord(h, { ...o.fields, tags: retagged }, HTTP);
      expect(sameBytes((await all(await L.read(B, 'tagged', h, undefined, undefined, o.stored.length)))!, o.stored)).toBe(true);

      const untagged = (await L.swap(B, 'tagged', { ...h, tags: [] }, h.storeEtag!))!;
      expect(untagged.tags ?? []).toEqual([]);
      expect((await L.head(B, 'tagged'))!.tags).toBeUndefined();
      // A deleted object is not brought back by a swap over its last record.
      await L.delete(B, 'tagged');
      expect(await L.swap(B, 'tagged', { ...h, tags }, untagged.storeEtag!)).toBeNull();
      expect(await L.head(B, 'tagged')).toBeNull();
    });
  });

  group('list', () => {
    const KEYS = ['a', 'b/1', 'b/2', 'b/c/3', 'b/c/4', 'c', 'd e', 'd!f', 'd/x', 'e/', 'z', 'é', '中文'];
    const sorted = (xs: string[]) => [...xs].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));

    async function filled(): Promise<{ L: Layout; B: string; objs: Map<string, Obj> }> {
      const { L, B } = await setup();
      const objs = new Map<string, Obj>();
      for (const [i, key] of KEYS.entries()) {
        // Every other one sealed: its stored size differs from its size.
        const o = await object(100 + i, 10 + i, i % 2 ? { envelope: envelope(i) } : {});
        objs.set(key, o);
        await put(L, B, key, o);
      }
      return { L, B, objs };
    }

    contract('list', 'prefix, delimiter (common prefixes) and startAfter', async () => {
      const { L, B, objs } = await filled();
      const everything = await L.list(B, { prefix: '', limit: 1000 });
      expect(everything.objects.map(({ key, size, etag }) => ({ key, size, etag }))).toEqual(
        sorted(KEYS).map((key) => ({ key, size: objs.get(key)!.fields.size, etag: objs.get(key)!.fields.etag })),
      );
      expect(everything).toMatchObject({ prefixes: [], truncated: false });
      for (const o of everything.objects) expect(o.uploaded).toBeInstanceOf(Date);

      const cases: [{ prefix: string; delimiter?: string; startAfter?: string }, string[], string[]][] = [
        [{ prefix: 'b/' }, ['b/1', 'b/2', 'b/c/3', 'b/c/4'], []],
        [{ prefix: 'd' }, ['d e', 'd!f', 'd/x'], []],
        [{ prefix: '', delimiter: '/' }, ['a', 'c', 'd e', 'd!f', 'z', 'é', '中文'], ['b/', 'd/', 'e/']],
        [{ prefix: 'b/', delimiter: '/' }, ['b/1', 'b/2'], ['b/c/']],
        [{ prefix: 'b/c/', delimiter: '/' }, ['b/c/3', 'b/c/4'], []],
        [{ prefix: 'nothing' }, [], []],
        [{ prefix: '', startAfter: 'b/2' }, sorted(KEYS).filter((k) => k > 'b/2'), []],
        [{ prefix: 'd', startAfter: 'd e' }, ['d!f', 'd/x'], []],
        [{ prefix: '', delimiter: '/', startAfter: 'c' }, ['d e', 'd!f', 'z', 'é', '中文'], ['d/', 'e/']],
      ];
      for (const [o, objects, prefixes] of cases) {
        const r = await L.list(B, { ...o, limit: 1000 });
        expect({ objects: keysOf(r), prefixes: r.prefixes, truncated: r.truncated }, JSON.stringify(o)).toEqual({
          objects,
          prefixes,
          truncated: false,
        });
      }
    });

    contract('list-pages', 'limit with cursor continuation yields every key exactly once, in order', async () => {
      const { L, B } = await filled();
      const cases: [{ prefix?: string; delimiter?: string; startAfter?: string }, string[], string[]][] = [
        [{}, sorted(KEYS), []],
        [{ prefix: 'b/' }, ['b/1', 'b/2', 'b/c/3', 'b/c/4'], []],
        [{ startAfter: 'b/1' }, sorted(KEYS).filter((k) => k > 'b/1'), []],
        [{ delimiter: '/' }, ['a', 'c', 'd e', 'd!f', 'z', 'é', '中文'], ['b/', 'd/', 'e/']],
        [{ prefix: 'b/', delimiter: '/' }, ['b/1', 'b/2'], ['b/c/']],
      ];
      for (const limit of [1, 2, 3, 5]) {
        for (const [o, objects, prefixes] of cases) {
          const got = await pages(L, B, o, limit);
          const why = `${JSON.stringify(o)} limit ${limit}`;
          expect(got.flatMap(keysOf), why).toEqual(objects);
          expect(
            got.flatMap((p) => p.prefixes),
            why,
          ).toEqual(prefixes);
        }
      }
    });
  });

  group('versions', () => {
    const KEYS = ['a', 'b/1', 'b/2', 'b/c/3', 'c', 'd'];

    contract('versions', 'every object is its null version, the latest; markers resume after the key', async () => {
      const { L, B } = await setup();
      const objs = new Map<string, Obj>();
      for (const [i, key] of KEYS.entries()) {
        const o = await object(200 + i, 20 + i, i % 2 ? { envelope: envelope(i) } : {});
        objs.set(key, o);
        await put(L, B, key, o);
      }
      const all = await L.versions(B, { prefix: '', limit: 1000 });
      expect(all.versions.map(({ key, size, etag, versionId, isLatest }) => ({ key, size, etag, versionId, isLatest }))).toEqual(
        KEYS.map((key) => ({ key, size: objs.get(key)!.fields.size, etag: objs.get(key)!.fields.etag, versionId: 'null', isLatest: true })),
      );
      for (const v of all.versions) expect(v.uploaded).toBeInstanceOf(Date);
      expect(all).toMatchObject({ prefixes: [], truncated: false });

      const cases: [{ prefix: string; delimiter?: string; after?: { key: string; versionId?: string } }, string[], string[]][] = [
        [{ prefix: 'b/' }, ['b/1', 'b/2', 'b/c/3'], []],
        [{ prefix: '', delimiter: '/' }, ['a', 'c', 'd'], ['b/']],
        [{ prefix: '', after: { key: 'b/1' } }, ['b/2', 'b/c/3', 'c', 'd'], []],
        // After the null version of a key, or after an id it does not have: the key's one version is behind.
        [{ prefix: '', after: { key: 'b/2', versionId: 'null' } }, ['b/c/3', 'c', 'd'], []],
        [{ prefix: '', after: { key: 'c', versionId: 'A'.repeat(32) } }, ['d'], []],
        [{ prefix: '', after: { key: 'bb' } }, ['c', 'd'], []],
      ];
      for (const [o, versions, prefixes] of cases) {
        const r = await L.versions(B, { ...o, limit: 1000 });
        expect({ versions: r.versions.map((v) => v.key), prefixes: r.prefixes, truncated: r.truncated }, JSON.stringify(o)).toEqual({
          versions,
          prefixes,
          truncated: false,
        });
      }

      // Pages of two, resumed by cursor: every version once, in order.
      const seen: string[] = [];
      let cursor: string | undefined;
      for (let n = 0; n < 20; n++) {
        const page = await L.versions(B, { prefix: '', cursor, limit: 2 });
        expect(page.versions.length + page.prefixes.length).toBeLessThanOrEqual(2);
        seen.push(...page.versions.map((v) => v.key));
        cursor = page.truncated ? page.cursor : undefined;
        if (!cursor) break;
      }
      expect(seen).toEqual(KEYS);
    });
  });

  group('multipart', () => {
    contract('multipart', 'createUpload → upload() → writePart (a part written twice is replaced) → parts() → complete', async () => {
      const { L, B } = await setup();
      const P = partSize(L);
      const up = await open(L, B, 'mp/obj', { meta: { color: 'red' }, http: HTTP });
      expect(up).toMatchObject({ key: 'mp/obj', custom: { 'm-color': 'red' }, initiated: expect.any(Date) });
      expect(defined(up.http)).toEqual(defined(HTTP));
      expect((await L.uploads(B)).map((u) => [u.id, u.key])).toEqual([[up.id, 'mp/obj']]);

      const p1 = bytes(P, 1);
      const p2 = bytes(P, 2);
      const p3 = bytes(700, 3);
      await writePart(L, B, up, 1, bytes(P + 5, 100));
      const c1 = await writePart(L, B, up, 1, p1);
      const c2 = await writePart(L, B, up, 2, p2);
      const c3 = await writePart(L, B, up, 3, p3);
      const parts = [...(await L.parts(B, up.id))].sort((a, b) => a.n - b.n);
      expect(parts.map((p) => p.n)).toEqual([1, 2, 3]);
      for (const [p, c] of [
        [parts[0], c1],
        [parts[1], c2],
        [parts[2], c3],
      ] as const) {
        expect(decodePartRecord(p.custom)).toMatchObject({ ...c, location: expect.any(Object) });
        expect(p.uploaded).toBeInstanceOf(Date);
      }

      let offered: number[] = [];
      let done!: Completion;
      const rec = await L.complete(B, 'mp/obj', up, async (records) => {
        offered = records.map((r) => r.n).sort();
        done = await completion(up.id, records, [1, 3], { meta: { color: 'red' } });
        return done;
      });
      expect(offered).toEqual([1, 2, 3]);
      expectRecord(rec, done.fields, HTTP);
      expect(multipart(rec)).toBe(true);
      const h = await L.head(B, 'mp/obj');
      expectRecord(h, done.fields, HTTP);
      expect(multipart(h)).toBe(true);
      expect(h.storeEtag).toBe(rec.storeEtag);

      const mb = await L.manifest(B, 'mp/obj', h);
      expect(sameBytes(mb!, done.manifestBody)).toBe(true);
      const m = decodeManifest(mb!);
      for (const [index, want] of [p1, p3].entries()) {
        const part = { parts: m.parts, index };
        expect(sameBytes((await all(await L.read(B, 'mp/obj', h, undefined, part)))!, want), `part ${index}`).toBe(true);
        expect(sameBytes((await all(await L.read(B, 'mp/obj', h, undefined, part, want.length)))!, want), `part ${index}`).toBe(true);
        expect(
          sameBytes((await all(await L.read(B, 'mp/obj', h, { offset: 10, length: 100 }, part, want.length)))!, want.slice(10, 110)),
          `part ${index} range`,
        ).toBe(true);
      }
      // No case reads a part with a wrong storedLength: where the parts share one store entry (the
      // proxy's upstream object, parts end to end) a layout checks that entry's length instead.
      const listed = await L.list(B, { prefix: 'mp/', limit: 10 });
      expect(listed.objects.map(({ key, size, etag }) => ({ key, size, etag }))).toEqual([
        { key: 'mp/obj', size: P + 700, etag: done.fields.etag },
      ]);

      // Claimed and gone.
      expect(await L.upload(B, up.id)).toBeNull();
      expect(await L.uploads(B)).toEqual([]);
      let built = false;
      await refused(
        L.complete(B, 'mp/obj', up, async (r) => {
          built = true;
          return completion(up.id, r, [1]);
        }),
        'NoSuchUpload',
      );
      expect(built).toBe(false);
      await refused(L.abort(B, up), 'NoSuchUpload');
      // A part arriving late is refused and never takes what the object uses.
      await refused(writePart(L, B, up, 1, bytes(P, 9)), 'NoSuchUpload');
      await refused(writePart(L, B, up, 4, bytes(P, 9)), 'NoSuchUpload');
      const again = (await L.head(B, 'mp/obj'))!;
      expect(again.storeEtag).toBe(h.storeEtag);
      for (const [index, want] of [p1, p3].entries()) {
        expect(sameBytes((await all(await L.read(B, 'mp/obj', again, undefined, { parts: m.parts, index }, want.length)))!, want)).toBe(
          true,
        );
      }
    });

    contract('build-throws', 'a build that throws leaves the upload open with its parts', async () => {
      const { L, B } = await setup();
      const P = partSize(L);
      const up = await open(L, B, 'mp/retry');
      const c1 = await writePart(L, B, up, 1, bytes(P, 11));
      const c2 = await writePart(L, B, up, 2, bytes(300, 12));
      const boom = new S3Error('InvalidPart');
      await expect(L.complete(B, 'mp/retry', up, async () => Promise.reject(boom))).rejects.toBe(boom);
      expect(await L.head(B, 'mp/retry')).toBeNull();
      expect(await L.upload(B, up.id)).toMatchObject({ id: up.id, key: 'mp/retry' });
      expect((await L.uploads(B)).map((u) => u.id)).toEqual([up.id]);
      const parts = [...(await L.parts(B, up.id))].sort((a, b) => a.n - b.n);
      expect(parts.map((p) => p.n)).toEqual([1, 2]);
      expect(decodePartRecord(parts[0].custom)).toMatchObject(c1);
      expect(decodePartRecord(parts[1].custom)).toMatchObject(c2);
      // Still open: a part is taken, and a Complete goes through.
      const p3 = bytes(200, 13);
      await writePart(L, B, up, 3, p3);
      let done!: Completion;
      const rec = await L.complete(B, 'mp/retry', up, async (records) => (done = await completion(up.id, records, [1, 3])));
      expectRecord(rec, done.fields, {});
      const h = (await L.head(B, 'mp/retry'))!;
      expect(sameBytes((await all(await L.read(B, 'mp/retry', h, undefined, { parts: done.manifest.parts, index: 1 })))!, p3)).toBe(true);
    });

    contract('abort', 'abort drops the upload and its parts; after it, writePart, abort and complete are NoSuchUpload', async () => {
      const { L, B } = await setup();
      const P = partSize(L);
      const up = await open(L, B, 'mp/abort', { envelope: envelope(5) });
      const other = await open(L, B, 'mp/other');
      await writePart(L, B, up, 1, bytes(P, 21));
      await writePart(L, B, up, 2, bytes(100, 22));
      await L.abort(B, up);
      expect(await L.upload(B, up.id)).toBeNull();
      expect((await L.uploads(B)).map((u) => u.id)).toEqual([other.id]);
      expect(await L.parts(B, up.id)).toEqual([]);
      await refused(writePart(L, B, up, 3, bytes(100, 23)), 'NoSuchUpload');
      await refused(L.abort(B, up), 'NoSuchUpload');
      let built = false;
      await refused(
        L.complete(B, 'mp/abort', up, async (r) => {
          built = true;
          return completion(up.id, r, [1]);
        }),
        'NoSuchUpload',
      );
      expect(built).toBe(false);
      expect(await L.head(B, 'mp/abort')).toBeNull();
      expect(await L.parts(B, up.id)).toEqual([]);
      await L.abort(B, other);
    });

    contract('replace-across-kinds', 'objects replace each other across kinds: multipart over single, single over multipart', async () => {
      const { L, B } = await setup();
      const P = partSize(L);
      const so = await object(81, 400, { envelope: envelope(81) });
      const single = (await put(L, B, 'k', so))!;
      const up = await open(L, B, 'k');
      const p1 = bytes(P, 82);
      const p2 = bytes(50, 83);
      await writePart(L, B, up, 1, p1);
      await writePart(L, B, up, 2, p2);
      let done!: Completion;
      await L.complete(B, 'k', up, async (r) => (done = await completion(up.id, r, [1, 2])));
      const mp = (await L.head(B, 'k'))!;
      expectRecord(mp, done.fields, {});
      await expectNotReadable(L.read(B, 'k', single, undefined), so.stored);
      expect(sameBytes((await all(await L.read(B, 'k', mp, undefined, { parts: done.manifest.parts, index: 1 })))!, p2)).toBe(true);

      const o2 = await object(84, 300);
      expectRecord(await put(L, B, 'k', o2), o2.fields, {});
      const h = (await L.head(B, 'k'))!;
      expectRecord(h, o2.fields, {});
      expect(sameBytes((await all(await L.read(B, 'k', h, undefined)))!, o2.stored)).toBe(true);
      await expectNotReadable(L.read(B, 'k', mp, undefined, { parts: done.manifest.parts, index: 0 }, p1.length), p1);
      expect(keysOf(await L.list(B, { prefix: '', limit: 10 }))).toEqual(['k']);
      await L.delete(B, 'k');
      expect(await L.head(B, 'k')).toBeNull();
    });

    contract('swap-multipart', 'swap on a multipart object replaces its record and keeps its manifest and parts', async () => {
      const { L, B } = await setup();
      const P = partSize(L);
      const up = await open(L, B, 'mp', { envelope: envelope(91), meta: { a: '1' } });
      const p1 = bytes(P + SEAL_OVERHEAD, 92);
      const p2 = bytes(80 + SEAL_OVERHEAD, 93);
      await writePart(L, B, up, 1, p1, P);
      await writePart(L, B, up, 2, p2, 80);
      let done!: Completion;
      const rec = await L.complete(
        B,
        'mp',
        up,
        async (r) => (done = await completion(up.id, r, [1, 2], { meta: { a: '1' }, envelope: envelope(91) })),
      );
      const next: ObjectRecord = { ...rec, meta: { a: '2' }, envelope: envelope(94) };
      const swapped = await L.swap(B, 'mp', next, rec.storeEtag!);
      expectRecord(swapped, next, {});
      const h = await L.head(B, 'mp');
      expectRecord(h, next, {});
      expect(sameBytes((await L.manifest(B, 'mp', h))!, done.manifestBody)).toBe(true);
      expect(sameBytes((await all(await L.read(B, 'mp', h, undefined, { parts: done.manifest.parts, index: 0 }, p1.length)))!, p1)).toBe(
        true,
      );
      const listed = await L.list(B, { prefix: '', limit: 10 });
      expect(listed.objects.map(({ key, size, etag }) => ({ key, size, etag }))).toEqual([
        { key: 'mp', size: P + 80, etag: done.fields.etag },
      ]);
      expect(await L.swap(B, 'mp', { ...rec, meta: { a: '3' } }, 'not-a-version')).toBeNull();
    });

    contract('tags-multipart', 'tags given at createUpload land on the completed object; a swap changes them', async () => {
      const { L, B } = await setup();
      const P = partSize(L);
      const tags = [{ key: 'k', value: 'v' }];
      const id = uploadId();
      await L.createUpload(B, 'mpt', id, encodeUploadCustom(envelope(95), { a: '1' }, tags), {});
      const up = (await L.upload(B, id))!;
      const p1 = bytes(P + SEAL_OVERHEAD, 96);
      await writePart(L, B, up, 1, p1, P);
      let done!: Completion;
      const rec = await L.complete(
        B,
        'mpt',
        up,
        async (r) => (done = await completion(up.id, r, [1], { meta: { a: '1' }, envelope: envelope(95), tags })),
      );
      expectRecord(await L.head(B, 'mpt'), done.fields, {});
      expect((await L.head(B, 'mpt'))!.tags).toEqual(tags);
      const retagged = [{ key: 'other', value: 'x' }];
      expectRecord(await L.swap(B, 'mpt', { ...rec, tags: retagged }, rec.storeEtag!), { ...done.fields, tags: retagged }, {});
      const h = (await L.head(B, 'mpt'))!;
      expectRecord(h, { ...done.fields, tags: retagged }, {});
      expect(sameBytes((await L.manifest(B, 'mpt', h))!, done.manifestBody)).toBe(true);
    });
  });

  group('rotation', () => {
    contract(
      'sealed-rewrap',
      'sealed() finds every sealed record, page by page; rewrap succeeds once and is refused once the record changed',
      async () => {
        const { L, B } = await setup();
        const P = partSize(L);
        const so = await object(201, 700, { envelope: envelope(1) });
        await put(L, B, 'sealed', so);
        await put(L, B, 'plain', await object(202, 700));
        const mup = await open(L, B, 'mp-sealed', { envelope: envelope(2) });
        await writePart(L, B, mup, 1, bytes(P + SEAL_OVERHEAD, 203), P);
        let done!: Completion;
        await L.complete(B, 'mp-sealed', mup, async (r) => (done = await completion(mup.id, r, [1], { envelope: envelope(2) })));
        const pending = await open(L, B, 'pending', { envelope: envelope(3) });
        const plainUpload = await open(L, B, 'plain-pending');

        const mine = (items: Sealed[]) => items.filter((i) => i.bucket === B).sort((a, b) => (a.key < b.key ? -1 : 1));
        const found = mine(await scan(L, 2));
        expect(found.map((i) => [i.key, i.env])).toEqual([
          ['mp-sealed', envelope(2)],
          ['pending', envelope(3)],
          ['sealed', envelope(1)],
        ]);
        for (const i of found) expect(i).toMatchObject({ ref: expect.any(String), version: expect.any(String) });
        const [mpItem, pendingItem, sealedItem] = found;

        expect(await L.rewrap(sealedItem, envelope(11))).toBe(true);
        const h = (await L.head(B, 'sealed'))!;
        expectRecord(h, { ...so.fields, envelope: envelope(11) }, {});
        expect(sameBytes((await all(await L.read(B, 'sealed', h, undefined, undefined, so.stored.length)))!, so.stored)).toBe(true);
        expect((await L.list(B, { prefix: 'sealed', limit: 10 })).objects.map(({ key, size, etag }) => ({ key, size, etag }))).toEqual([
          { key: 'sealed', size: 700, etag: so.fields.etag },
        ]);

        expect(await L.rewrap(mpItem, envelope(21))).toBe(true);
        const mh = (await L.head(B, 'mp-sealed'))!;
        expectRecord(mh, { ...done.fields, envelope: envelope(21) }, {});
        expect(sameBytes((await L.manifest(B, 'mp-sealed', mh))!, done.manifestBody)).toBe(true);

        expect(await L.rewrap(pendingItem, envelope(31))).toBe(true);
        expect(decodeEnvelope((await L.upload(B, pending.id))!.custom['sb-env'])).toEqual(envelope(31));

        // A record changed by a write since the scan: refused.
        const again = mine(await scan(L, 1000));
        expect(again.map((i) => [i.key, i.env])).toEqual([
          ['mp-sealed', envelope(21)],
          ['pending', envelope(31)],
          ['sealed', envelope(11)],
        ]);
        const o2 = await object(204, 600, { envelope: envelope(4) });
        await put(L, B, 'sealed', o2);
        expect(await L.rewrap(again[2], envelope(12))).toBe(false);
        expectRecord(await L.head(B, 'sealed'), o2.fields, {});

        await L.abort(B, pending);
        await L.abort(B, plainUpload);
        expect(mine(await scan(L, 1000)).map((i) => i.key)).toEqual(['mp-sealed', 'sealed']);
      },
    );

    contract('rewrap-stale', 'rewrap with an item whose record was re-wrapped since is refused', async () => {
      const { L, B } = await setup();
      const so = await object(211, 700, { envelope: envelope(1) });
      await put(L, B, 'sealed', so);
      const [item] = (await scan(L, 1000)).filter((i) => i.bucket === B);
      expect(await L.rewrap(item, envelope(11))).toBe(true);
      // The record changed (a new envelope over the same data): the item is stale.
      expect(await L.rewrap(item, envelope(12))).toBe(false);
      expectRecord(await L.head(B, 'sealed'), { ...so.fields, envelope: envelope(11) }, {});
    });

    contract('state', 'loadState / saveState round-trip', async () => {
      const L = await subject.make();
      const name = `contract-${uniq()}`;
      expect(await L.loadState(name)).toBeUndefined();
      await L.saveState(name, 'first');
      expect(await L.loadState(name)).toBe('first');
      await L.saveState(name, 'second');
      expect(await L.loadState(name)).toBe('second');
      expect(await L.loadState(`${name}-other`)).toBeUndefined();
    });

    contract('state-any-key', 'saveState keeps a rotation state whose cursor names any key (as rotateBatch saves it: JSON)', async () => {
      const L = await subject.make();
      // Scan cursors carry store keys: the object keys of any client, with any characters.
      for (const cursor of ['o/bucket/中文 é', 'bucket\ni/中文 é 0123abcd\n', 'o/bucket/emoji 😀 tab\t']) {
        const value = JSON.stringify({ active: 'k2', rewrapped: 1, skipped: 0, failed: 0, done: false, cursor });
        const name = `contract-${uniq()}`;
        await L.saveState(name, value);
        expect(await L.loadState(name), cursor).toBe(value);
      }
    });

    contract('state-legacy', 'loadState reads a printable-ASCII state saved before state values were encoded', async () => {
      const L = await subject.make();
      const name = `contract-${uniq()}`;
      const value = JSON.stringify({ active: 'k2', rewrapped: 3, skipped: 0, failed: 0, done: false, cursor: 'o/bucket/plain-key.txt' });
      // The proxy's saveState before the fix, line for line (R2's saveState is unchanged).
      type OldProxy = {
        call(
          f: (up: { put(k: string, b: null, n: number, o: { meta: Record<string, string> }): Promise<unknown> }) => Promise<unknown>,
        ): Promise<unknown>;
        stateKey(n: string): string;
      };
      const old = L as unknown as OldProxy;
      if (L instanceof ProxyLayout) await old.call((up) => up.put(old.stateKey(name), null, 0, { meta: encodeStateEntry(value) }));
      else await L.saveState(name, value);
      expect(await L.loadState(name)).toBe(value);
    });
  });
  describe('conditional writes', () => {
    /** The precondition PutObject builds from these request headers (src/s3/protocol/conditions.ts). */
    const when = (headers: Record<string, string>, key = 'k') => writePrecondition(new Headers(headers), key)!;
    /** A precondition that lets `racer` run in the window between its verdict and the commit, once. */
    const racing = (inner: Precondition, racer: () => Promise<unknown>): { precondition: Precondition; raced: () => Promise<void> } => {
      let race: Promise<unknown> | undefined;
      return {
        precondition: async (current) => {
          await inner(current);
          race ??= racer();
          await race;
        },
        raced: async () => {
          await race;
        },
      };
    };
    /** An S3 refusal with this code (the precondition's own, or a LayoutError kind's). */
    async function refusedWith(p: Promise<unknown>, code: string): Promise<void> {
      const e = await p.then(
        () => undefined,
        (x: unknown) => x,
      );
      const got = e instanceof S3Error ? e.code : e instanceof LayoutError ? (S3_CODE[e.kind] ?? e.kind) : String(e);
      expect(got).toBe(code);
    }
    const readBack = async (L: Layout, B: string, key: string) => {
      const h = (await L.head(B, key))!;
      return all(await L.read(B, key, h, undefined));
    };

    contract('cond-none-match', 'If-None-Match: * writes a new key, and refuses (412) once it exists, keeping the object', async () => {
      const { L, B } = await setup();
      const a = await object(301, 500);
      const rec = await put(L, B, 'k', a, { precondition: when({ 'if-none-match': '*' }) });
      expectRecord(rec, a.fields, {});
      await refusedWith(put(L, B, 'k', await object(302, 600), { precondition: when({ 'if-none-match': '*' }) }), 'PreconditionFailed');
      expect(fieldsOf((await L.head(B, 'k'))!)).toEqual(fieldsOf(a.fields));
      expect(sameBytes((await readBack(L, B, 'k'))!, a.stored)).toBe(true);
      // COS's x-cos-forbid-overwrite is the same check with COS's answer.
      await refusedWith(
        put(L, B, 'k', await object(303, 10), { precondition: when({ 'x-cos-forbid-overwrite': 'true' }) }),
        'FileAlreadyExists',
      );
      // Once deleted, the key is new again.
      await L.delete(B, 'k');
      expectRecord(
        await put(L, B, 'k', await object(304, 10), { precondition: when({ 'if-none-match': '*' }) }),
        (await object(304, 10)).fields,
        {},
      );
    });

    contract('cond-match', 'If-Match writes over the object with that ETag only: another ETag is 412, no object 404', async () => {
      const { L, B } = await setup();
      const a = await object(311, 400);
      const b = await object(312, 450);
      await refusedWith(put(L, B, 'k', a, { precondition: when({ 'if-match': `"${a.fields.etag}"` }) }), 'NoSuchKey');
      expect(await L.head(B, 'k')).toBeNull();
      await put(L, B, 'k', a);
      await refusedWith(put(L, B, 'k', b, { precondition: when({ 'if-match': `"${b.fields.etag}"` }) }), 'PreconditionFailed');
      expect(fieldsOf((await L.head(B, 'k'))!)).toEqual(fieldsOf(a.fields));
      expectRecord(await put(L, B, 'k', b, { precondition: when({ 'if-match': `"${a.fields.etag}"` }) }), b.fields, {});
      // Unquoted, and "*" (any object), match too.
      expectRecord(await put(L, B, 'k', a, { precondition: when({ 'if-match': b.fields.etag }) }), a.fields, {});
      expectRecord(await put(L, B, 'k', b, { precondition: when({ 'if-match': '*' }) }), b.fields, {});
      expect(sameBytes((await readBack(L, B, 'k'))!, b.stored)).toBe(true);
    });

    contract(
      'cond-window-none-match',
      'If-None-Match: a write landing between the verdict and the commit wins; the conditional one is 412',
      async () => {
        const { L, B } = await setup();
        const winner = await object(321, 300);
        const r = racing(when({ 'if-none-match': '*' }), () => put(L, B, 'k', winner));
        await refusedWith(put(L, B, 'k', await object(322, 300), { precondition: r.precondition }), 'PreconditionFailed');
        await r.raced();
        expect(fieldsOf((await L.head(B, 'k'))!)).toEqual(fieldsOf(winner.fields));
        expect(sameBytes((await readBack(L, B, 'k'))!, winner.stored)).toBe(true);
      },
    );

    contract(
      'cond-window-match',
      'If-Match: never replaces a version other than the one matched, even one written after the verdict',
      async () => {
        const { L, B } = await setup();
        const a = await object(331, 300);
        const other = await object(332, 300);
        await put(L, B, 'k', a);
        const r = racing(when({ 'if-match': a.fields.etag }), () => put(L, B, 'k', other));
        await refusedWith(put(L, B, 'k', await object(333, 300), { precondition: r.precondition }), 'PreconditionFailed');
        await r.raced();
        expect(fieldsOf((await L.head(B, 'k'))!)).toEqual(fieldsOf(other.fields));
        expect(sameBytes((await readBack(L, B, 'k'))!, other.stored)).toBe(true);
      },
    );

    contract(
      'cond-window-delete',
      'If-Match: the matched object deleted before the commit is ConditionConflict (409), and stays deleted',
      async () => {
        const { L, B } = await setup();
        const a = await object(341, 300);
        await put(L, B, 'k', a);
        const r = racing(when({ 'if-match': a.fields.etag }), () => L.delete(B, 'k'));
        await refusedWith(put(L, B, 'k', await object(342, 300), { precondition: r.precondition }), 'ConditionalRequestConflict');
        await r.raced();
        expect(await L.head(B, 'k')).toBeNull();
      },
    );

    contract(
      'cond-window-rewrap',
      'If-Match: a rotation re-wrapping the matched object meanwhile keeps its ETag, so the write lands',
      async () => {
        const { L, B } = await setup();
        const a = await object(345, 300, { envelope: envelope(345) });
        await put(L, B, 'k', a);
        const [item] = (await scan(L, 1000)).filter((i) => i.bucket === B && i.key === 'k');
        const r = racing(when({ 'if-match': a.fields.etag }), async () => expect(await L.rewrap(item, envelope(346))).toBe(true));
        const next = await object(347, 300);
        expectRecord(await put(L, B, 'k', next, { precondition: r.precondition }), next.fields, {});
        await r.raced();
        expect(fieldsOf((await L.head(B, 'k'))!)).toEqual(fieldsOf(next.fields));
      },
    );

    contract('cond-concurrent', 'concurrent If-None-Match: * writes of one new key: exactly one lands, every other is 412', async () => {
      const { L, B } = await setup();
      const objs = await Promise.all([0, 1, 2, 3, 4, 5].map((i) => object(350 + i, 200)));
      const results = await Promise.allSettled(objs.map((o) => put(L, B, 'k', o, { precondition: when({ 'if-none-match': '*' }) })));
      const won = results.flatMap((r, i) => (r.status === 'fulfilled' ? [i] : []));
      expect(won).toHaveLength(1);
      for (const r of results) if (r.status === 'rejected') expect((r.reason as S3Error).code).toBe('PreconditionFailed');
      expect(fieldsOf((await L.head(B, 'k'))!)).toEqual(fieldsOf(objs[won[0]].fields));
      expect(sameBytes((await readBack(L, B, 'k'))!, objs[won[0]].stored)).toBe(true);
    });

    contract(
      'cond-complete',
      'complete with a failed precondition leaves the object and the upload open; with a holding one it commits',
      async () => {
        const { L, B } = await setup();
        const P = partSize(L);
        const a = await object(361, 300);
        await put(L, B, 'mp', a);
        const up = await open(L, B, 'mp');
        await writePart(L, B, up, 1, bytes(P, 362));
        await writePart(L, B, up, 2, bytes(100, 363));
        const build = async (records: PartInfo[]) => completion(up.id, records, [1, 2]);
        await refusedWith(L.complete(B, 'mp', up, build, when({ 'if-none-match': '*' }, 'mp')), 'PreconditionFailed');
        await refusedWith(
          L.complete(B, 'mp', up, build, when({ 'if-match': '"0123456789abcdef0123456789abcdef"' }, 'mp')),
          'PreconditionFailed',
        );
        expect(fieldsOf((await L.head(B, 'mp'))!)).toEqual(fieldsOf(a.fields));
        expect(await L.upload(B, up.id)).toMatchObject({ id: up.id, key: 'mp' });
        expect((await L.parts(B, up.id)).map((p) => p.n).sort()).toEqual([1, 2]);
        let done!: Completion;
        const rec = await L.complete(B, 'mp', up, async (r) => (done = await build(r)), when({ 'if-match': a.fields.etag }, 'mp'));
        expectRecord(rec, done.fields, {});
        expect(multipart((await L.head(B, 'mp'))!)).toBe(true);
        expect(await L.upload(B, up.id)).toBeNull();
      },
    );

    contract(
      'cond-complete-window',
      'complete with If-None-Match: an object landing after the verdict wins; the upload stays open',
      async () => {
        const { L, B } = await setup();
        const P = partSize(L);
        const up = await open(L, B, 'mp');
        await writePart(L, B, up, 1, bytes(P, 371));
        await writePart(L, B, up, 2, bytes(100, 372));
        const winner = await object(373, 300);
        const r = racing(when({ 'if-none-match': '*' }, 'mp'), () => put(L, B, 'mp', winner));
        await refusedWith(
          L.complete(B, 'mp', up, async (records) => completion(up.id, records, [1, 2]), r.precondition),
          'PreconditionFailed',
        );
        await r.raced();
        expect(fieldsOf((await L.head(B, 'mp'))!)).toEqual(fieldsOf(winner.fields));
        expect(sameBytes((await readBack(L, B, 'mp'))!, winner.stored)).toBe(true);
        expect(await L.upload(B, up.id)).toMatchObject({ id: up.id });
        await L.abort(B, up);
      },
    );
  });
});
