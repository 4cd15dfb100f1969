// Reading and writing object records and their data, shared by the object
// handlers: one place that knows the record/data layout and the SSE calls.

import { IntegrityError, LengthError, opaqueEtag, type Mode, type SseRequest } from '../sse';
import type { HttpMeta, Store, StoredObject } from '../store/types';
import { equalBytes, fromB64url } from '../crypto/bytes';
import { decodePayload } from './chunked';
import type { Ctx } from './context';
import { S3Error } from './errors';
import { hashTap } from './hashing';
import { bucketEncryption } from './encryption';
import { bucketKey, dataKey, manifestBytes, MULTIPART_DATA, recordBody, objectKey, recordFromStored, recordToCustom, type Manifest, type ManifestPart, type ObjectRecord } from './record';

export const MAX_OBJECT_SIZE = 5 * 1024 ** 3;

/** The bucket's record (its default encryption lives there); NoSuchBucket when it does not exist. */
export async function requireBucket(store: Store, bucket: string): Promise<StoredObject> {
  const rec = await store.head(bucketKey(bucket));
  if (!rec) throw new S3Error('NoSuchBucket', undefined, { fields: { BucketName: bucket } });
  return rec;
}

/** The object's record, or NoSuchKey / NoSuchBucket. */
export async function loadRecord(ctx: Ctx, bucket = ctx.bucket, key = ctx.key): Promise<ObjectRecord> {
  const stored = await ctx.store.head(objectKey(bucket, key));
  const rec = stored ? parseRecord(ctx, stored, bucket, key) : null;
  if (!rec) {
    await requireBucket(ctx.store, bucket);
    throw new S3Error('NoSuchKey', undefined, { fields: { Key: key } });
  }
  return rec;
}

function parseRecord(ctx: Ctx, stored: Parameters<typeof recordFromStored>[0], bucket: string, key: string): ObjectRecord | null {
  try {
    return recordFromStored(stored);
  } catch (e) {
    throw integrityFailure(ctx, e, bucket, key);
  }
}

/** Logs an integrity failure (never key material) and returns the client's error. */
export function integrityFailure(ctx: Ctx, e: unknown, bucket = ctx.bucket, key = ctx.key): unknown {
  if (!(e instanceof IntegrityError)) return e;
  console.error(JSON.stringify({ event: 'integrity-failure', requestId: ctx.requestId, bucket, key, reason: e.message }));
  return new S3Error('InternalError', 'The stored object failed an integrity check and cannot be served.');
}

/** The declared plaintext length of an upload. */
export function plainLength(h: Headers): number {
  const v = h.get('x-amz-decoded-content-length') ?? h.get('content-length');
  if (v === null) throw new S3Error('MissingContentLength');
  if (!/^\d+$/.test(v)) throw new S3Error('InvalidArgument', 'Content-Length is not a valid number.');
  const n = Number(v);
  if (n > MAX_OBJECT_SIZE) throw new S3Error('EntityTooLarge', undefined, { fields: { ProposedSize: v, MaxSizeAllowed: String(MAX_OBJECT_SIZE) } });
  return n;
}

export const httpMetaFrom = (h: Headers): HttpMeta => ({
  contentType: h.get('content-type') ?? undefined,
  contentEncoding: h.get('content-encoding')?.replace(/(^|,\s*)aws-chunked\s*(,\s*)?/, '$1').replace(/,\s*$/, '') || undefined,
  contentDisposition: h.get('content-disposition') ?? undefined,
  contentLanguage: h.get('content-language') ?? undefined,
  cacheControl: h.get('cache-control') ?? undefined,
  expires: h.get('expires') ?? undefined,
});

/**
 * The mode a write uses: what the request asked for, else the bucket's default
 * encryption, else the gateway default. Also checks that the bucket exists and
 * that the mode is not one the bucket blocks.
 */
export async function writeMode(ctx: Ctx, sse: SseRequest, bucket = ctx.bucket): Promise<Mode | undefined> {
  const cfg = bucketEncryption((await requireBucket(ctx.store, bucket)).custom);
  const m = sse.mode ?? cfg?.mode ?? ctx.config.defaultSse;
  const blocked = m === 'c' ? 'SSE-C' : m === 'none' ? 'NONE' : undefined;
  if (blocked && cfg?.blocked.includes(blocked)) {
    throw new S3Error('AccessDenied', `This bucket blocks ${blocked === 'NONE' ? 'unencrypted writes' : 'SSE-C'} (BlockedEncryptionTypes).`);
  }
  // A write that names no encryption takes the bucket default's CMK with its mode;
  // one that asks for SSE-KMS without a key id gets the default CMK (as S3 does).
  if (m === 'kms' && sse.mode === undefined && cfg?.kmsKeyId && sse.kmsKeyId === undefined) sse.kmsKeyId = cfg.kmsKeyId;
  return m === 'none' ? undefined : m;
}

export interface WriteInput {
  bucket: string;
  key: string;
  body: ReadableStream<Uint8Array>;
  length: number;
  mode: Mode | undefined;
  sse: SseRequest;
  meta: Record<string, string>;
  http: HttpMeta;
  /** Replace the record only if it still has this store etag (copy onto itself, encrypt-in-place). */
  ifRecord?: string;
}

export const conflict = () => new S3Error('OperationAborted', 'A conflicting write to this object happened at the same time. Please try again.', { status: 409 });

/**
 * Streams a plaintext body into a fresh data object (sealed when mode is set),
 * then writes the record that makes it visible, then drops the data it replaced.
 */
export async function writeObject(ctx: Ctx, w: WriteInput): Promise<ObjectRecord> {
  const obj = { bucket: w.bucket, key: w.key };
  const tap = hashTap();
  const sealing = w.mode ? await ctx.sse.seal(obj, w.length, w.mode, w.sse) : undefined;
  // Check the metadata budget before any byte is stored.
  const probe = { size: w.length, etag: '0'.repeat(32), crc64: '18446744073709551615', data: crypto.randomUUID(), envelope: sealing?.envelope, meta: w.meta };
  recordToCustom(probe);

  let stream = w.body.pipeThrough(tap.stream);
  if (sealing) stream = stream.pipeThrough(sealing.transform);
  const previous = ctx.store.head(objectKey(w.bucket, w.key));
  try {
    await ctx.store.put(dataKey(probe.data), stream, sealing ? sealing.storedLength : w.length, { custom: { object: `${w.bucket}/${w.key}` } });
  } catch (e) {
    throw uploadError(e);
  }
  const { md5, crc64 } = await tap.result();
  const rec = { ...probe, etag: sealing?.envelope.mode === 'c' ? opaqueEtag(sealing.envelope) : md5, crc64 };
  const body = recordBody();
  const stored = await ctx.store.put(objectKey(w.bucket, w.key), body, body.length, { custom: recordToCustom(rec), http: w.http, ifEtag: w.ifRecord });
  if (!stored) {
    await ctx.store.delete([dataKey(rec.data)]);
    throw conflict();
  }
  await dropReplaced(ctx.store, await previous.catch(() => null), rec.data);
  return { ...rec, http: w.http, uploaded: stored.uploaded, storeEtag: stored.etag };
}

function uploadError(e: unknown): unknown {
  if (e instanceof LengthError) return new S3Error('IncompleteBody', e.got < e.expected ? undefined : 'The request body is longer than the declared content length.');
  if (e instanceof S3Error) return e;
  if (e instanceof TypeError && /length/i.test(String(e.message))) return new S3Error('IncompleteBody');
  return e;
}

/** The plaintext body of an upload request, de-chunked and checked as it streams. */
export function requestBody(ctx: Ctx): ReadableStream<Uint8Array> {
  return decodePayload(untilRead(ctx.req), ctx.auth.payload, ctx.req.headers);
}

/**
 * The request body, not touched until the first read. A write refused before it
 * needs its body (a disabled SSE-KMS key, metadata over budget) then answers
 * cleanly to a client still waiting on `Expect: 100-continue` (the aws CLI);
 * under `wrangler dev` a body that was started and abandoned turns into a 503.
 */
function untilRead(req: Request): ReadableStream<Uint8Array> {
  let reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  return new ReadableStream<Uint8Array>(
    {
      async pull(c) {
        reader ??= (req.body ?? emptyStream()).getReader();
        const r = await reader.read();
        if (r.done) c.close();
        else c.enqueue(r.value);
      },
      cancel: (reason) => (reader ?? req.body)?.cancel(reason),
    },
    { highWaterMark: 0 },
  );
}

/** Deletes an object's record and then its data; a missing key is not an error. */
export async function deleteObject(store: Store, bucket: string, key: string): Promise<void> {
  const got = await store.get(objectKey(bucket, key));
  if (!got) return;
  const data = await dataKeysOf(got.object.custom['sb-data'], got.body);
  await store.delete([objectKey(bucket, key)]);
  await store.delete(data);
}

/** The data entries an object record points to (one, or one per part). */
async function dataKeysOf(data: string | undefined, body: ReadableStream<Uint8Array> | null): Promise<string[]> {
  if (!data) {
    await body?.cancel();
    return [];
  }
  if (!data.startsWith(MULTIPART_DATA)) {
    await body?.cancel();
    return [dataKey(data)];
  }
  try {
    const m = JSON.parse(new TextDecoder().decode(manifestBytes(new Uint8Array(await new Response(body).arrayBuffer())))) as Manifest;
    return m.parts.map((p) => dataKey(p.data));
  } catch {
    return [];
  }
}

/** Drops the data an overwritten record pointed to. */
export async function dropReplaced(store: Store, old: StoredObject | null, keep: string): Promise<void> {
  const data = old?.custom['sb-data'];
  if (!data || data === keep) return;
  if (!data.startsWith(MULTIPART_DATA)) return store.delete([dataKey(data)]);
  const got = await store.get(old!.key);
  // Only if the record still names the same upload: a newer write may have replaced it since.
  if (got && got.object.custom['sb-data'] === data) await store.delete(await dataKeysOf(data, got.body));
  else await got?.body.cancel();
}

export interface ObjectReader {
  /** True when read() hands back the store's own stream (unsealed, single part): nothing to check. */
  direct: boolean;
  /** Plaintext bytes [start, end] (end < start: none), authenticated as they stream. */
  read(start: number, end: number): Promise<ReadableStream<Uint8Array>>;
  /** Multipart objects: the plaintext range of part n and the part count. */
  part(n: number): Promise<{ start: number; end: number; count: number } | null>;
}

/**
 * Checks that the caller may read the object (SSE-C key, key commitment)
 * without touching its data, and returns a reader for it.
 */
export async function openObject(ctx: Ctx, bucket: string, key: string, rec: ObjectRecord, sse: SseRequest): Promise<ObjectReader> {
  const obj = { bucket, key };
  const store = ctx.store;
  if (!rec.data.startsWith(MULTIPART_DATA)) {
    const opening = rec.envelope ? await ctx.sse.open(obj, rec.size, rec.envelope, sse) : undefined;
    return {
      direct: !opening,
      part: async () => null,
      async read(start, end) {
        if (!opening) {
          const got = await store.get(dataKey(rec.data), end >= start ? { offset: start, length: end - start + 1 } : undefined);
          if (!got) throw missingData(ctx, bucket, key);
          return end >= start ? got.body : (await got.body.cancel(), emptyStream());
        }
        const span = opening.span(start, Math.max(start, end));
        const got = await store.get(dataKey(rec.data), { offset: span.offset, length: span.length });
        if (!got) throw missingData(ctx, bucket, key);
        return got.body.pipeThrough(opening.decrypt(end >= start ? span : { ...span, take: 0 }));
      },
    };
  }

  const uploadId = rec.data.slice(MULTIPART_DATA.length);
  const digest = fromB64url(rec.manifest ?? '');
  const opener = rec.envelope ? await ctx.sse.openMultipart(obj, rec.envelope, sse, uploadId, rec.size, digest) : undefined;
  let manifest: Promise<{ parts: (ManifestPart & { offset: number })[] }> | undefined;
  const load = () =>
    (manifest ??= (async () => {
      const got = await store.get(objectKey(bucket, key));
      if (!got) throw missingData(ctx, bucket, key);
      const body = manifestBytes(new Uint8Array(await new Response(got.body).arrayBuffer()));
      if (!equalBytes(new Uint8Array(await crypto.subtle.digest('SHA-256', body)), digest)) throw new IntegrityError('manifest digest mismatch');
      const m = JSON.parse(new TextDecoder().decode(body)) as Manifest;
      let offset = 0;
      const parts = m.parts.map((p) => ({ ...p, offset: (offset += p.size) - p.size }));
      if (offset !== rec.size || m.upload !== uploadId) throw new IntegrityError('manifest does not match the record');
      return { parts };
    })());

  const readPart = async (p: ManifestPart, start: number, end: number): Promise<ReadableStream<Uint8Array>> => {
    if (!opener) {
      const got = await store.get(dataKey(p.data), { offset: start, length: end - start + 1 });
      if (!got) throw missingData(ctx, bucket, key);
      return got.body;
    }
    const opening = await opener.part(p.n, p.size, { salt: p.salt ?? '', commit: p.commit ?? '' });
    const span = opening.span(start, end);
    const got = await store.get(dataKey(p.data), { offset: span.offset, length: span.length });
    if (!got) throw missingData(ctx, bucket, key);
    return got.body.pipeThrough(opening.decrypt(span));
  };

  return {
    direct: false,
    async part(n) {
      // partNumber counts the parts of the completed object from 1, as listed in its manifest.
      const { parts } = await load();
      const p = parts[n - 1];
      return p ? { start: p.offset, end: p.offset + p.size - 1, count: parts.length } : null;
    },
    async read(start, end) {
      const { parts } = await load();
      const wanted = parts.filter((p) => p.size > 0 && p.offset <= end && p.offset + p.size - 1 >= start);
      let i = 0;
      let current: ReadableStreamDefaultReader<Uint8Array> | undefined;
      return new ReadableStream<Uint8Array>({
        async pull(ctl) {
          for (;;) {
            if (!current) {
              const p = wanted[i++];
              if (!p) return ctl.close();
              const s = Math.max(start, p.offset) - p.offset;
              const e = Math.min(end, p.offset + p.size - 1) - p.offset;
              current = (await readPart(p, s, e)).getReader();
            }
            const r = await current.read();
            if (!r.done) return ctl.enqueue(r.value);
            current = undefined;
          }
        },
        cancel: (reason) => current?.cancel(reason),
      });
    },
  };
}

const emptyStream = () => new ReadableStream<Uint8Array>({ start: (c) => c.close() });

function missingData(ctx: Ctx, bucket: string, key: string): S3Error {
  console.error(JSON.stringify({ event: 'data-missing', requestId: ctx.requestId, bucket, key }));
  return new S3Error('InternalError', 'The object data is missing from the store.');
}
