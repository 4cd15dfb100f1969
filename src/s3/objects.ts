// Reading and writing object records and their data, shared by the object
// handlers: one place that knows the record/data layout and the SSE calls.

import { IntegrityError, LengthError, opaqueEtag, type Mode, type SseRequest } from '../sse';
import type { HttpMeta, Store } from '../store/types';
import { decodePayload } from './chunked';
import type { Ctx } from './context';
import { S3Error } from './errors';
import { hashTap } from './hashing';
import { bucketKey, dataKey, objectKey, recordFromStored, recordToCustom, type ObjectRecord } from './record';

export const MAX_OBJECT_SIZE = 5 * 1024 ** 3;

export async function requireBucket(store: Store, bucket: string): Promise<void> {
  if (!(await store.head(bucketKey(bucket)))) throw new S3Error('NoSuchBucket', undefined, { fields: { BucketName: bucket } });
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

/** The mode a write uses: what the request asked for, else the gateway default. */
export function writeMode(ctx: Ctx, sse: SseRequest): Mode | undefined {
  const m = sse.mode ?? ctx.config.defaultSse;
  if (m === 'kms') throw new S3Error('NotImplemented', 'SSE-KMS is not available on this gateway yet.');
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
}

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
  const stored = await ctx.store.put(objectKey(w.bucket, w.key), null, 0, { custom: recordToCustom(rec), http: w.http });
  const old = await previous.catch(() => null);
  const oldData = old?.custom['sb-data'];
  if (oldData && oldData !== rec.data) await ctx.store.delete([dataKey(oldData)]);
  return { ...rec, http: w.http, uploaded: stored.uploaded };
}

function uploadError(e: unknown): unknown {
  if (e instanceof LengthError) return new S3Error('IncompleteBody', e.got < e.expected ? undefined : 'The request body is longer than the declared content length.');
  if (e instanceof S3Error) return e;
  if (e instanceof TypeError && /length/i.test(String(e.message))) return new S3Error('IncompleteBody');
  return e;
}

/** The plaintext body of an upload request, de-chunked and checked as it streams. */
export function requestBody(ctx: Ctx): ReadableStream<Uint8Array> {
  const body = ctx.req.body ?? new ReadableStream({ start: (c) => c.close() });
  return decodePayload(body, ctx.auth.payload, ctx.req.headers);
}

/** Deletes an object's record and then its data; a missing key is not an error. */
export async function deleteObject(store: Store, bucket: string, key: string): Promise<void> {
  const rec = await store.head(objectKey(bucket, key));
  if (!rec) return;
  await store.delete([objectKey(bucket, key)]);
  const data = rec.custom['sb-data'];
  if (data) await store.delete([dataKey(data)]);
}
