// The proxy layout: an existing S3-compatible bucket that the gateway fronts.
// Objects keep their own keys, so what was there before stays readable and what
// the gateway writes sits where operators expect it:
//
//   <p><key>                        the object: ciphertext (or plaintext); record fields in x-amz-meta-sb-*
//   <p>.sealbucket/bucket           bucket settings (default encryption); under "*": <root>.sealbucket/b/<bucket>
//   <p>.sealbucket/i/<k> <etag>     listing index of a sealed object: its plaintext ETag in the name,
//                                   (stored - plaintext size) zero bytes as the body; <k> is the key
//                                   with " " written "!!" and "!" written "!\"", so index order is key order
//   <p>.sealbucket/t/<uuid>         a single upload in flight, copied onto <key> once its record is known
//   <p>.sealbucket/m/<upload>       a multipart object's manifest (body) and record fields (metadata)
//   <p>.sealbucket/u/<upload>       an upload in progress; .../p/<upload>/<part> its parts' records
//   <root>.sealbucket/s/<name>      rotation state
//
// An object without x-amz-meta-sb-data was put there by someone else: it is served
// as it is and reported unencrypted. A listing page costs one more listing (of the
// index), never a request per object.

import type { UpstreamMapping } from '../../config';
import { utf8 } from '../../crypto/bytes';
import { IntegrityError } from '../../sse';
import type { Envelope } from '../../sse/types';
import type { HttpMeta } from '../../store/types';
import { type Replacing, Upstream, type UpstreamObject } from '../../store/upstream';
import { LayoutError } from '../errors';
import {
  claimOf,
  decodeLocation,
  decodeObjectRecord,
  decodePartRecord,
  decodeStateEntry,
  decodeUploadEntry,
  encodeBucketSettings,
  encodeLocation,
  encodeObjectRecord,
  encodePartRecord,
  encodeStateEntry,
  encodeUploadEntry,
  envelopeOf,
  FIELDS,
  type ObjectLocation,
  type ObjectPart,
  type ObjectRecord,
  type PartFields,
  partStoredLength,
  storedRecord,
  withClaim,
  withEnvelope,
  withoutClaim,
} from '../record';
import type {
  Body,
  BucketInfo,
  Completion,
  Layout,
  Listing,
  PartInfo,
  Precondition,
  RecordFields,
  Sealed,
  UploadInfo,
  VersionListing,
  VersionMarker,
} from '../types';
import { asNullVersions, nullVersionsAfter } from '../versions';
import { upstreamFailure } from './failures';
import { escapeKey, HIDDEN, unescapeKey, writable } from './keys';
import { decodeMeta, encodeMeta, omit, pick, sameHttp, sameRecord, stamped, storedHttp } from './metadata';

/** Record fields of a multipart object, kept with its manifest (the object's own metadata is fixed at CreateMultipartUpload). */
const SIDECAR_FIELDS: string[] = [
  FIELDS.object.size,
  FIELDS.object.etag,
  FIELDS.object.crc64,
  FIELDS.object.checksum,
  FIELDS.object.manifest,
  FIELDS.object.envelope,
];
/** Rotation reads and swaps records one request at a time: keep a batch well inside a Worker's subrequest budget. */
const SCAN_LIMIT = 100;
/** How long an UploadPart that finds its upload claimed waits for the claim to resolve. */
const WAIT_MS = 10_000;
const POLL_MS = 50;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const noSuchUpload = (id: string) => new LayoutError('NoSuchUpload', undefined, { uploadId: id });
/** S3's limit on key length; upstream keys carry the mapping's prefix too. */
const UPSTREAM_KEY_BYTES = 1024;
/** The longest ETag an index entry names: 32 hex digits and "-10000". */
const INDEX_ETAG_BYTES = 38;
const utf8Length = (s: string) => utf8(s).length;

export class ProxyLayout implements Layout {
  readonly name: string;
  readonly minPart: number;
  private client?: Promise<Upstream>;

  constructor(
    private readonly u: UpstreamMapping,
    private readonly secret: () => Promise<string | undefined>,
    /** The upstream's fetch; tests pass an in-process fake. */
    private readonly fetcher?: typeof fetch,
  ) {
    this.name = `proxy:${u.name}`;
    this.minPart = u.minPart;
  }

  // --- buckets ---

  async bucket(name: string): Promise<BucketInfo | null> {
    if (!this.answers(name)) return null;
    const o = await this.call((up) => up.head(this.settingsKey(name)));
    if (o) return { name, created: o.lastModified, custom: decodeMeta(o.meta) };
    // A named mapping exists by configuration; under "*" a bucket exists once created.
    return this.u.name === '*' ? null : { name, created: new Date(0), custom: {} };
  }

  async buckets(): Promise<BucketInfo[]> {
    if (this.u.name !== '*') return [(await this.bucket(this.u.name))!];
    const dir = this.settingsKey('');
    return (await this.all(dir)).map((o) => ({ name: o.key.slice(dir.length), created: o.lastModified, custom: {} }));
  }

  async createBucket(name: string, owner: string): Promise<boolean> {
    if (await this.bucket(name)) return false;
    await this.setBucketCustom(name, encodeBucketSettings({ owner }));
    return true;
  }

  async deleteBucket(name: string): Promise<boolean> {
    if (this.u.name !== '*')
      throw new LayoutError(
        'BucketNotDeletable',
        'This bucket fronts an upstream bucket configured in wrangler.toml; it is not deleted through the gateway.',
      );
    const base = this.base(name);
    const r = await this.call((up) => up.list({ prefix: base, delimiter: '/', limit: 2 }));
    if (r.objects.length || r.prefixes.some((p) => p !== base + HIDDEN)) return false;
    // Uploads in progress count too (S3's BucketNotEmpty): the bucket made again must not inherit them.
    const uploads = await this.call((up) => up.list({ prefix: this.uploadEntry(name, ''), limit: 1 }));
    if (uploads.objects.length) return false;
    for (;;) {
      const left = await this.call((up) => up.list({ prefix: base + HIDDEN, limit: 1000 }));
      if (!left.objects.length) break;
      await this.call((up) => up.delete(left.objects.map((o) => o.key)));
    }
    await this.call((up) => up.delete([this.settingsKey(name)]));
    return true;
  }

  async setBucketCustom(name: string, custom: Record<string, string>): Promise<void> {
    await this.call((up) => up.put(this.settingsKey(name), null, 0, { meta: encodeMeta(custom) }));
  }

  // In the bucket's own hidden area, so deleteBucket removes them with the rest of its bookkeeping.
  async bucketDocument(bucket: string, name: string): Promise<string | null> {
    const got = await this.call((up) => up.get(this.hidden(bucket, `c/${name}`)));
    return got && new Response(got.body).text();
  }

  async setBucketDocument(bucket: string, name: string, text: string | null): Promise<void> {
    const at = this.hidden(bucket, `c/${name}`);
    if (text === null) return this.call((up) => up.delete([at]));
    const bytes = utf8(text);
    await this.call((up) => up.put(at, bytes, bytes.length));
  }

  // --- objects ---

  checkKey(bucket: string, key: string): void {
    // The key becomes a URL path: fetch resolves "." and ".." segments (also written %2E),
    // so such a key would name another object upstream, even one outside this bucket's prefix.
    if (key.split('/').some((s) => s === '.' || s === '..')) {
      throw new LayoutError(
        'KeyUnstorable',
        'Object keys with "." or ".." path segments cannot be stored in a bucket that fronts an upstream bucket.',
      );
    }
    // The longest upstream key an object needs: itself, or its listing index entry (key escaped, a space, an ETag).
    const longest = Math.max(utf8Length(this.at(bucket, key)), utf8Length(this.hidden(bucket, `i/${escapeKey(key)} `)) + INDEX_ETAG_BYTES);
    if (longest > UPSTREAM_KEY_BYTES) throw new LayoutError('KeyTooLong');
  }

  async head(bucket: string, key: string): Promise<ObjectRecord | null> {
    if (key.startsWith(HIDDEN)) return null;
    const o = await this.call((up) => up.head(this.at(bucket, key)));
    return o && this.toRecord(bucket, key, o);
  }

  async write(
    bucket: string,
    key: string,
    body: Body,
    finish: () => Promise<RecordFields>,
    opts: { http: HttpMeta; ifRecord?: string; precondition?: Precondition },
  ): Promise<ObjectRecord | null> {
    writable(key);
    const target = this.at(bucket, key);
    const tmp = this.hidden(bucket, `t/${crypto.randomUUID()}`);
    // What this write replaces (for its multipart manifest); a conditional write looks again just before the copy.
    const conditional = opts.ifRecord !== undefined || opts.precondition !== undefined;
    const previous = conditional ? undefined : this.call((up) => up.head(target));
    previous?.catch(() => {});
    try {
      // Into a hidden key first: the object only changes once its record is known (after the last byte).
      await this.call((up) => up.put(tmp, body.stream, body.length));
      const fields = await finish();
      const location: ObjectLocation = { kind: 'self' };
      const meta = stamped(encodeObjectRecord({ ...fields, location }), opts.http);
      const now = previous ? await previous.catch(() => null) : await this.call((up) => up.head(target));
      if (opts.ifRecord !== undefined && now?.etag !== opts.ifRecord) return null;
      const replacing = await this.judge(bucket, key, now, opts.precondition);
      const done = await this.reindexed(bucket, key, fields.envelope && { etag: fields.etag, delta: body.length - fields.size }, () =>
        this.conditionally(replacing, (r) => this.call((up) => up.copy(tmp, target, { meta, http: storedHttp(opts.http), replacing: r }))),
      ).catch((e) => (opts.precondition && goneUpstream(e) ? null : Promise.reject(e)));
      if (!done && opts.precondition) throw await this.lostRace(bucket, key, opts.precondition, replacing);
      if (!done) return null;
      await this.dropSidecar(bucket, now);
      return storedRecord(fields, location, { http: opts.http, uploaded: done.lastModified, storeEtag: done.etag });
    } finally {
      // Also after a failed upload: some servers keep what arrived of a body cut short.
      await this.call((up) => up.delete([tmp])).catch(() => {});
    }
  }

  async swap(bucket: string, key: string, rec: ObjectRecord, ifRecord: string): Promise<ObjectRecord | null> {
    const target = this.at(bucket, key);
    const now = await this.call((up) => up.head(target));
    if (!now || now.etag !== ifRecord) return null;
    const custom = encodeObjectRecord(rec);
    // An SSE-C re-key changes the ETag, and so the object's index entry.
    const entry = rec.envelope && { etag: rec.etag, delta: now.size - rec.size };
    if (rec.location.kind !== 'multipart') {
      const done = await this.reindexed(bucket, key, entry, () =>
        this.call((up) => up.copy(target, target, { meta: stamped(custom, rec.http), http: storedHttp(rec.http), ifMatch: ifRecord })),
      );
      return done && { ...rec, uploaded: done.lastModified, storeEtag: done.etag };
    }
    // Multipart: the envelope lives with the manifest; the object itself changes only if its metadata does.
    const side = this.manifestEntry(bucket, rec.location.upload);
    await this.reindexed(bucket, key, entry, () =>
      this.call((up) => up.copy(side, side, { meta: encodeMeta(pick(custom, SIDECAR_FIELDS)) })),
    );
    const own = stamped(omit(custom, SIDECAR_FIELDS), rec.http);
    if (sameRecord(own, now.meta) && sameHttp(storedHttp(rec.http), now.http)) return { ...rec, storeEtag: now.etag };
    const done = await this.call((up) => up.copy(target, target, { meta: own, http: storedHttp(rec.http), ifMatch: ifRecord }));
    return done && { ...rec, uploaded: done.lastModified, storeEtag: done.etag };
  }

  async delete(bucket: string, key: string): Promise<void> {
    if (key.startsWith(HIDDEN)) return;
    const now = await this.call((up) => up.head(this.at(bucket, key)));
    await this.reindexed(bucket, key, undefined, () => this.call((up) => up.delete([this.at(bucket, key)])).then(() => true));
    await this.dropSidecar(bucket, now);
  }

  async read(
    bucket: string,
    key: string,
    _rec: ObjectRecord,
    range: { offset: number; length: number } | undefined,
    part?: { parts: ObjectPart[]; index: number },
    storedLength?: number,
  ) {
    let offset = range?.offset ?? 0;
    let length = range?.length;
    let whole = storedLength;
    if (part) {
      // Parts lie end to end in the upstream object.
      const { parts } = part;
      offset += parts.slice(0, part.index).reduce((a, p) => a + partStoredLength(p), 0);
      length ??= partStoredLength(parts[part.index]);
      if (whole !== undefined) whole = parts.reduce((a, p) => a + partStoredLength(p), 0);
    }
    const got = await this.call((up) => up.get(this.at(bucket, key), length === undefined ? undefined : { offset, length }));
    if (got && whole !== undefined && got.object.size !== whole) {
      await got.body.cancel();
      throw new IntegrityError(`the upstream object holds ${got.object.size} bytes, the record says ${whole}`);
    }
    // The raw body: a byte stream, so the decryptor can read whole segments from it.
    return got ? got.body : null;
  }

  async manifest(bucket: string, _key: string, rec: ObjectRecord): Promise<Uint8Array | null> {
    if (rec.location.kind !== 'multipart') return null;
    const upload = rec.location.upload;
    const got = await this.call((up) => up.get(this.manifestEntry(bucket, upload)));
    return got && new Uint8Array(await new Response(got.body).arrayBuffer());
  }

  async list(
    bucket: string,
    o: { prefix: string; delimiter?: string; startAfter?: string; cursor?: string; limit: number },
  ): Promise<Listing> {
    const base = this.base(bucket);
    const after = o.cursor ?? o.startAfter;
    const r = await this.call((up) =>
      up.list({ prefix: base + o.prefix, delimiter: o.delimiter, startAfter: after ? base + after : undefined, limit: o.limit }),
    );
    const bookkeeping = base + HIDDEN;
    const objects = r.objects.filter((x) => !x.key.startsWith(bookkeeping));
    const prefixes = r.prefixes.filter((p) => !p.startsWith(bookkeeping)).map((p) => p.slice(base.length));
    // Resume after the last thing this page saw (past everything under it, for a common prefix).
    const lastKey = r.objects[r.objects.length - 1]?.key ?? '';
    const lastPrefix = r.prefixes[r.prefixes.length - 1] ?? '';
    const cursor = !r.truncated
      ? undefined
      : lastPrefix > lastKey
        ? `${lastPrefix.slice(base.length)}\u{10FFFF}`
        : lastKey.slice(base.length);
    const index = objects.length
      ? await this.indexed(bucket, o.prefix, o.delimiter, after, objects[objects.length - 1].key.slice(base.length))
      : new Map<string, Entry[]>();
    return {
      objects: await mapLimit(objects, 8, async (x) => {
        const key = x.key.slice(base.length);
        const found = index.get(key) ?? [];
        if (found.length === 1 && found[0].delta <= x.size)
          return { key, size: x.size - found[0].delta, etag: found[0].etag, uploaded: x.lastModified };
        // Two entries: a write of this key is under way (or died half-way); its own record decides.
        const rec = found.length > 1 ? await this.head(bucket, key).catch(() => null) : null;
        return { key, size: rec?.size ?? x.size, etag: rec?.etag ?? x.etag, uploaded: x.lastModified };
      }),
      prefixes,
      truncated: r.truncated,
      cursor,
    };
  }

  async versions(
    bucket: string,
    o: { prefix: string; delimiter?: string; after?: VersionMarker; cursor?: string; limit: number },
  ): Promise<VersionListing> {
    const { prefix, delimiter, cursor, limit } = o;
    return asNullVersions(await this.list(bucket, { prefix, delimiter, startAfter: nullVersionsAfter(o.after), cursor, limit }));
  }

  // --- multipart ---

  async createUpload(bucket: string, key: string, id: string, custom: Record<string, string>, http: HttpMeta): Promise<void> {
    writable(key);
    // The object's own metadata, fixed from here on: its user metadata and where its data is (the rest comes at Complete).
    const own = stamped(
      {
        ...omit(custom, [FIELDS.upload.envelope, FIELDS.upload.checksum]),
        [FIELDS.object.data]: encodeLocation({ kind: 'multipart', upload: id }),
      },
      http,
    );
    const upstreamUpload = await this.call((up) => up.createMultipart(this.at(bucket, key), { meta: own, http: storedHttp(http) }));
    const entry = encodeUploadEntry({ key: encodeURIComponent(key), custom, upstreamUpload });
    await this.call((up) => up.put(this.uploadEntry(bucket, id), null, 0, { meta: stamped(entry, http), http: storedHttp(http) }));
  }

  async upload(bucket: string, id: string): Promise<UploadInfo | null> {
    const o = await this.call((up) => up.head(this.uploadEntry(bucket, id)));
    return o && !claimOf(o.meta) ? toUpload(id, o) : null;
  }

  /**
   * The upstream keeps the part; its record follows. Then a second look at the upload:
   * claimed by a Complete or Abort, or gone, the part is refused and its record dropped
   * (the upstream discards parts a completion does not name, and all of an aborted upload).
   */
  async writePart(bucket: string, up: UploadInfo, n: number, body: Body, finish: () => Promise<PartFields>): Promise<void> {
    const etag = await this.call((c) => c.uploadPart(this.at(bucket, up.key), upstreamUploadOf(up), n, body.stream, body.length));
    const custom = encodePartRecord({ ...(await finish()), location: { kind: 'span', storedLength: body.length }, upstreamEtag: etag });
    const record = this.partEntry(bucket, up.id, n);
    await this.call((c) => c.put(record, null, 0, { meta: custom }));
    const deadline = Date.now() + WAIT_MS;
    let o = await this.call((c) => c.head(this.uploadEntry(bucket, up.id)));
    while (o && claimOf(o.meta) && Date.now() < deadline) {
      await sleep(POLL_MS);
      o = await this.call((c) => c.head(this.uploadEntry(bucket, up.id)));
    }
    if (o && !claimOf(o.meta)) return;
    if (o) throw new LayoutError('UploadBusy');
    await this.call((c) => c.delete([record]));
    throw noSuchUpload(up.id);
  }

  async parts(bucket: string, id: string): Promise<PartInfo[]> {
    const dir = this.partEntry(bucket, id, '');
    const keys = (await this.all(dir)).map((o) => o.key);
    const heads = await mapLimit(keys, 8, (k) => this.call((up) => up.head(k)));
    return heads.flatMap((h, i) => (h ? [{ n: Number(keys[i].slice(dir.length)), custom: h.meta, uploaded: h.lastModified }] : []));
  }

  async complete(
    bucket: string,
    key: string,
    up: UploadInfo,
    build: (parts: PartInfo[]) => Promise<Completion>,
    precondition?: Precondition,
  ): Promise<ObjectRecord> {
    const target = this.at(bucket, key);
    const rec0 = await this.claimed(bucket, up, 'completing', async () => {
      const parts = await this.parts(bucket, up.id);
      return { parts, ...(await build(parts)) };
    });
    const { parts, manifest, manifestBody, fields } = rec0;
    const location: ObjectLocation = { kind: 'multipart', upload: up.id };
    const byNumber = new Map(parts.map((p) => [p.n, p]));
    let done: { etag: string } | null;
    let previous: UpstreamObject | null;
    try {
      previous = await this.call((c) => c.head(target));
      const replacing = await this.judge(bucket, key, previous, precondition);
      const sidecar = pick(encodeObjectRecord({ ...fields, location }), SIDECAR_FIELDS);
      await this.call((c) => c.put(this.manifestEntry(bucket, up.id), manifestBody, manifestBody.length, { meta: encodeMeta(sidecar) }));
      const stored = manifest.parts.reduce((a, p) => a + partStoredLength(p), 0);
      const upstreamParts = manifest.parts.map((p) => ({ part: p.n, etag: decodePartRecord(byNumber.get(p.n)!.custom).upstreamEtag! }));
      done = await this.reindexed(bucket, key, fields.envelope && { etag: fields.etag, delta: stored - fields.size }, () =>
        this.conditionally(replacing, (r) => this.call((c) => c.completeMultipart(target, upstreamUploadOf(up), upstreamParts, r))),
      ).catch((e) => (precondition && goneUpstream(e) ? null : Promise.reject(e)));
      if (!done) throw precondition ? await this.lostRace(bucket, key, precondition, replacing) : new LayoutError('UpstreamFailed');
    } catch (e) {
      // The upstream did not complete it (if it did, its upload is gone and so is any retry): open again.
      await this.release(bucket, up.id).catch(() => {});
      throw e;
    }
    await this.dropSidecar(bucket, previous, up.id);
    await this.forget(bucket, up.id, parts);
    return storedRecord(fields, location, { http: up.http, uploaded: new Date(), storeEtag: done.etag });
  }

  async abort(bucket: string, up: UploadInfo): Promise<void> {
    const parts = await this.claimed(bucket, up, 'aborting', () => this.parts(bucket, up.id));
    await this.call((c) => c.abortMultipart(this.at(bucket, up.key), upstreamUploadOf(up)));
    await this.forget(bucket, up.id, parts);
  }

  async uploads(bucket: string): Promise<UploadInfo[]> {
    const dir = this.uploadEntry(bucket, '');
    const keys = (await this.all(dir)).map((o) => o.key);
    const heads = await mapLimit(keys, 8, (k) => this.call((up) => up.head(k)));
    return heads.flatMap((h, i) => (h && !claimOf(h.meta) ? [toUpload(keys[i].slice(dir.length), h)] : []));
  }

  // --- rotation ---

  async sealed(after: string | undefined, limit: number): Promise<{ items: Sealed[]; next?: string }> {
    const names = this.u.name === '*' ? (await this.buckets()).map((b) => b.name).sort() : [this.u.name];
    let [bucket, phase, last] = after ? after.split('\n') : [names[0], 'i/', ''];
    const items: Sealed[] = [];
    let scanned = 0;
    limit = Math.min(limit, SCAN_LIMIT);
    while (bucket !== undefined && scanned < limit) {
      const dir = this.hidden(bucket, phase);
      const page = await this.call((up) => up.list({ prefix: dir, startAfter: last ? dir + last : undefined, limit: limit - scanned }));
      for (const m of page.objects) {
        scanned++;
        last = m.key.slice(dir.length);
        const item =
          phase === 'i/'
            ? await this.sealedObject(bucket, unescapeKey(last.slice(0, last.lastIndexOf(' '))))
            : await this.sealedUpload(bucket, last);
        if (item) items.push(item);
      }
      if (!page.truncated) {
        [phase, last] = ['u/', ''];
        if (dir.endsWith('/u/')) [bucket, phase] = [names[names.indexOf(bucket) + 1], 'i/'];
      }
    }
    return { items, next: bucket === undefined ? undefined : [bucket, phase, last].join('\n') };
  }

  async rewrap(item: Sealed, env: Envelope): Promise<boolean> {
    const target = item.ref;
    const now = await this.call((up) => up.head(target));
    if (!now || now.etag !== item.version) return false;
    const done = await this.call((up) =>
      up.copy(target, target, { meta: withEnvelope(now.meta, env), http: now.http, ifMatch: item.version }),
    );
    return !!done;
  }

  /** Encoded as every other metadata value (a cursor may hold any key); a printable-ASCII value is stored, and read back, as it is. */
  async loadState(name: string): Promise<string | undefined> {
    const o = await this.call((up) => up.head(this.stateKey(name)));
    return o ? decodeStateEntry(decodeMeta(o.meta)) : undefined;
  }

  async saveState(name: string, value: string): Promise<void> {
    await this.call((up) => up.put(this.stateKey(name), null, 0, { meta: encodeMeta(encodeStateEntry(value)) }));
  }

  // --- helpers ---

  private answers(bucket: string): boolean {
    return this.u.name === '*' || bucket === this.u.name;
  }

  private base(bucket: string): string {
    return this.u.name === '*' ? this.u.prefix.replaceAll('{bucket}', bucket) : this.u.prefix;
  }

  private at(bucket: string, key: string): string {
    return this.base(bucket) + key;
  }

  private hidden(bucket: string, rest: string): string {
    return this.base(bucket) + HIDDEN + rest;
  }

  /** An upload in progress (with `id` '', where they all are). */
  private uploadEntry(bucket: string, id: string): string {
    return this.hidden(bucket, `u/${id}`);
  }

  /** A part's record (with `n` '', where the upload's part records are). */
  private partEntry(bucket: string, id: string, n: number | ''): string {
    return this.hidden(bucket, `p/${id}/${n === '' ? '' : String(n).padStart(5, '0')}`);
  }

  /** A multipart object's manifest, with the record fields known only at Complete. */
  private manifestEntry(bucket: string, upload: string): string {
    return this.hidden(bucket, `m/${upload}`);
  }

  /** Under "*", where gateway buckets begin; else the mapping's prefix. */
  private root(): string {
    return this.u.name === '*' ? this.u.prefix.slice(0, this.u.prefix.indexOf('{bucket}')) : this.u.prefix;
  }

  private stateKey(name: string): string {
    return `${this.root()}${HIDDEN}s/${name}`;
  }

  /** Under "*" a flat registry of buckets (found with one listing); else the bucket's own. */
  private settingsKey(bucket: string): string {
    return this.u.name === '*' ? `${this.root()}${HIDDEN}b/${bucket}` : `${this.u.prefix}${HIDDEN}bucket`;
  }

  private up(): Promise<Upstream> {
    this.client ??= this.secret().then((s) => {
      const i = s?.indexOf(':') ?? -1;
      if (!s || i <= 0) {
        this.client = undefined;
        throw new LayoutError('UpstreamUnconfigured', `The credentials for upstream ${this.u.name} are not configured.`);
      }
      const u = this.u;
      return new Upstream(
        {
          endpoint: u.endpoint,
          region: u.region,
          bucket: u.bucket,
          pathStyle: u.pathStyle,
          accessKeyId: s.slice(0, i),
          secretAccessKey: s.slice(i + 1),
        },
        { fetch: this.fetcher },
      );
    });
    return this.client;
  }

  /** Every upstream call goes through here, so every upstream failure becomes a LayoutError. */
  private async call<T>(f: (up: Upstream) => Promise<T>): Promise<T> {
    const up = await this.up();
    try {
      return await f(up);
    } catch (e) {
      throw upstreamFailure(this.name, e);
    }
  }

  private async toRecord(bucket: string, key: string, o: UpstreamObject): Promise<ObjectRecord> {
    const meta = decodeMeta(o.meta);
    const http = { ...o.http };
    const data = meta[FIELDS.object.data];
    if (data === undefined) {
      // Put there by someone else: served as it is, reported unencrypted.
      return storedRecord(
        { size: o.size, etag: o.etag, crc64: '', meta },
        { kind: 'self' },
        { http, uploaded: o.lastModified, storeEtag: o.etag },
      );
    }
    const ce = FIELDS.object.contentEncoding;
    if (ce in meta) http.contentEncoding = meta[ce] || undefined;
    let custom = meta;
    const location = decodeLocation(data);
    if (location.kind === 'multipart') {
      const side = await this.call((up) => up.head(this.manifestEntry(bucket, location.upload)));
      if (!side) throw new IntegrityError('the manifest of a multipart object is missing');
      custom = { ...meta, ...pick(decodeMeta(side.meta), SIDECAR_FIELDS) };
    }
    const rec = decodeObjectRecord({ key, size: o.size, etag: o.etag, uploaded: o.lastModified, custom, http });
    if (!rec) throw new IntegrityError('the object metadata is incomplete');
    return rec;
  }

  /**
   * Runs `op`, the request that changes what `key` is, with the key's listing index
   * kept true: the entry a sealed object is listed by (`next`) goes in first, so a
   * visible sealed object always has one; once `op` lands the key's other entries
   * go, and if it fails or is refused (null), the new one does.
   */
  private async reindexed<T>(
    bucket: string,
    key: string,
    next: { etag: string; delta: number } | undefined,
    op: () => Promise<T>,
  ): Promise<T> {
    const dir = this.hidden(bucket, 'i/');
    const old = (await this.all(`${dir}${escapeKey(key)} `)).map((o) => o.key);
    const entry = next && `${dir}${escapeKey(key)} ${next.etag}`;
    if (next && entry) await this.call((up) => up.put(entry, new Uint8Array(next.delta), next.delta));
    const settle = async (landed: boolean) => {
      const drop = landed ? old.filter((k) => k !== entry) : entry && !old.includes(entry) ? [entry] : [];
      if (drop.length) await this.call((up) => up.delete(drop));
    };
    let done: T;
    try {
      done = await op();
    } catch (e) {
      await settle(false);
      throw e;
    }
    await settle(!!done);
    return done;
  }

  /**
   * Runs a conditional write's precondition on the object as it is upstream now, and
   * returns what the upstream write must then demand of its destination: that very
   * object (its upstream ETag) or none. An upstream with S3's conditional writes makes
   * the check and the write one step; one that ignores the headers leaves a window
   * between this look and the write (docs/FORMAT.md, "Conditional writes").
   */
  private async judge(
    bucket: string,
    key: string,
    now: UpstreamObject | null,
    precondition: Precondition | undefined,
  ): Promise<Replacing | undefined> {
    if (!precondition) return undefined;
    await precondition(now && (await this.toRecord(bucket, key, now)));
    return now ? { etag: now.etag } : { absent: true };
  }

  /**
   * The upstream write `op`, with the destination conditions `judge` chose; sent again without
   * them to an upstream that does not implement them (501), so that it gets what an upstream
   * ignoring them gets: a write checked, not atomic.
   */
  private async conditionally<T>(replacing: Replacing | undefined, op: (r: Replacing | undefined) => Promise<T>): Promise<T> {
    try {
      return await op(replacing);
    } catch (e) {
      if (!replacing || !(e instanceof LayoutError && e.kind === 'UpstreamRefused' && e.detail.code === 'NotImplemented')) throw e;
      console.warn(JSON.stringify({ event: 'upstream-without-conditional-writes', layout: this.name }));
      return op(undefined);
    }
  }

  /**
   * The error for a conditional write whose upstream write was refused (the object changed
   * after `judge` looked): ConditionConflict (S3's 409) when the object it approved was
   * deleted meanwhile, else the precondition's own refusal if it no longer holds, else
   * ConditionConflict too ("try again").
   */
  private async lostRace(bucket: string, key: string, precondition: Precondition, approved: Replacing | undefined): Promise<unknown> {
    const now = await this.call((up) => up.head(this.at(bucket, key)));
    if (!now && approved && 'etag' in approved) return new LayoutError('ConditionConflict');
    try {
      await precondition(now && (await this.toRecord(bucket, key, now)));
    } catch (e) {
      return e;
    }
    return new LayoutError('ConditionConflict');
  }

  /** Index entries for the keys of one listing page (ending at `last`), by key. */
  private async indexed(
    bucket: string,
    prefix: string,
    delimiter: string | undefined,
    after: string | undefined,
    last: string,
  ): Promise<Map<string, Entry[]>> {
    const dir = this.hidden(bucket, 'i/');
    // A delimiter that could occur inside an entry's " <etag>" tail would fold entries away: list those flat.
    const folding = delimiter && /[^0-9a-f -]/.test(delimiter) ? escapeKey(delimiter) : undefined;
    const out = new Map<string, Entry[]>();
    let from = after !== undefined ? dir + escapeKey(after) : undefined;
    for (;;) {
      const r = await this.call((up) => up.list({ prefix: dir + escapeKey(prefix), delimiter: folding, startAfter: from, limit: 1000 }));
      let end = '';
      for (const m of r.objects) {
        const name = m.key.slice(dir.length);
        const i = name.lastIndexOf(' ');
        if (i < 0) continue;
        const key = unescapeKey(name.slice(0, i));
        out.set(key, [...(out.get(key) ?? []), { etag: name.slice(i + 1), delta: m.size }]);
        end = key;
      }
      const lastPrefix = r.prefixes[r.prefixes.length - 1];
      const lastObject = r.objects[r.objects.length - 1]?.key;
      if (!r.truncated || end >= last || (!lastObject && !lastPrefix)) return out;
      from = lastPrefix && (!lastObject || lastPrefix > lastObject) ? `${lastPrefix}\u{10FFFF}` : lastObject;
    }
  }

  /**
   * Claims an upload for Complete or Abort by rewriting its entry with `sb-state`, then runs
   * `then`; releases the claim if `then` throws. The upstream offers no conditional PUT
   * (and a zero-byte entry's ETag never changes), so this is check-then-write, not atomic:
   * two claims at the very same moment can both pass. What still holds then is the
   * upstream's own: one CompleteMultipartUpload (or Abort) of an upload wins and the
   * other gets NoSuchUpload, and a part sent after either fails upstream. What the claim
   * adds is that a part record written later is noticed (writePart) and that a second
   * Complete or Abort normally sees NoSuchUpload before it touches anything.
   */
  private async claimed<T>(bucket: string, up: UploadInfo, state: 'completing' | 'aborting', then: () => Promise<T>): Promise<T> {
    const ref = this.uploadEntry(bucket, up.id);
    const o = await this.call((c) => c.head(ref));
    if (!o || claimOf(o.meta)) throw noSuchUpload(up.id);
    // The metadata as stored (already encoded), plus the state.
    await this.call((c) => c.put(ref, null, 0, { meta: withClaim(o.meta, state), http: o.http }));
    try {
      return await then();
    } catch (e) {
      await this.release(bucket, up.id).catch(() => {});
      throw e;
    }
  }

  private async release(bucket: string, id: string): Promise<void> {
    const ref = this.uploadEntry(bucket, id);
    const o = await this.call((c) => c.head(ref));
    if (!o || !claimOf(o.meta)) return;
    await this.call((c) => c.put(ref, null, 0, { meta: withoutClaim(o.meta), http: o.http }));
  }

  /** Drops the manifest entry of the multipart object `old` was, unless it is upload `keep`'s. */
  private async dropSidecar(bucket: string, old: UpstreamObject | null, keep?: string): Promise<void> {
    const data = old?.meta[FIELDS.object.data];
    const location = data ? decodeLocation(data) : undefined;
    if (location?.kind === 'multipart' && location.upload !== keep)
      await this.call((up) => up.delete([this.manifestEntry(bucket, location.upload)]));
  }

  private async forget(bucket: string, id: string, parts: PartInfo[]): Promise<void> {
    await this.call((up) => up.delete([...parts.map((p) => this.partEntry(bucket, id, p.n)), this.uploadEntry(bucket, id)]));
  }

  private async all(prefix: string): Promise<{ key: string; size: number; lastModified: Date }[]> {
    const out: { key: string; size: number; lastModified: Date }[] = [];
    let token: string | undefined;
    do {
      const r = await this.call((up) => up.list({ prefix, token, limit: 1000 }));
      out.push(...r.objects);
      token = r.truncated ? r.token : undefined;
    } while (token);
    return out;
  }

  private async sealedObject(bucket: string, key: string): Promise<Sealed | null> {
    const o = await this.call((up) => up.head(this.at(bucket, key)));
    const data = o?.meta[FIELDS.object.data];
    if (!o || !data) return null;
    const location = decodeLocation(data);
    if (location.kind !== 'multipart') {
      const env = envelopeOf(o.meta);
      return env ? { ref: this.at(bucket, key), bucket, key, env, version: o.etag } : null;
    }
    const ref = this.manifestEntry(bucket, location.upload);
    const side = await this.call((up) => up.head(ref));
    const env = side && envelopeOf(side.meta);
    return side && env ? { ref, bucket, key, env, version: side.etag } : null;
  }

  private async sealedUpload(bucket: string, id: string): Promise<Sealed | null> {
    const ref = this.uploadEntry(bucket, id);
    const o = await this.call((up) => up.head(ref));
    const env = o && envelopeOf(o.meta);
    return o && env ? { ref, bucket, key: decodeURIComponent(decodeUploadEntry(o.meta).key), env, version: o.etag } : null;
  }
}

interface Entry {
  etag: string;
  delta: number;
}

/** The upstream's answer to an If-Match write whose object is gone (S3: 404 NoSuchKey). */
const goneUpstream = (e: unknown) => e instanceof LayoutError && e.kind === 'UpstreamRefused' && e.detail.code === 'NoSuchKey';

function toUpload(id: string, o: UpstreamObject): UploadInfo {
  const { [FIELDS.upload.contentEncoding]: ce, ...stored } = decodeMeta(o.meta);
  const { key, custom, upstreamUpload } = decodeUploadEntry(stored);
  const http = { ...o.http };
  if (ce !== undefined) http.contentEncoding = ce || undefined;
  return {
    id,
    key: decodeURIComponent(key),
    custom,
    http,
    initiated: o.lastModified,
    ...(upstreamUpload === undefined ? {} : { upstreamUpload }),
  };
}

/**
 * The upstream's id of an upload. An entry without one was not written by the gateway:
 * requests without an uploadId would address the object itself.
 */
function upstreamUploadOf(up: UploadInfo): string {
  if (!up.upstreamUpload) throw new IntegrityError('the upload entry names no upstream upload');
  return up.upstreamUpload;
}

async function mapLimit<T, R>(items: T[], n: number, f: (t: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(n, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await f(items[i]);
      }
    }),
  );
  return out;
}
