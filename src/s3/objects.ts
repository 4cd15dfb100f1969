// Reading and writing objects, shared by the object handlers: the SSE calls over
// the bucket's layout (layout/), which alone knows how records and data are stored.

import { fromB64url, timingSafeEqual, toB64 } from '../crypto/bytes';
import {
  type ChecksumName,
  checkRecordBudget,
  decodeManifest,
  type ObjectPart,
  type ObjectRecord,
  type TagSet,
  uploadOf,
} from '../layout/record';
import { type BucketInfo, NULL_VERSION, type Precondition } from '../layout/types';
import { etagFor, IntegrityError, LengthError, type Mode, type SseRequest } from '../sse';
import type { HttpMeta } from '../store/types';
import { DEFAULT_CHECKSUM } from './checksums';
import { type Ctx, layoutOf } from './context';
import { readAtMost } from './payload/body';
import { CHECKSUM_ALGORITHMS, CHECKSUM_LENGTH } from './payload/checksum';
import { decodePayload, type PayloadInfo } from './payload/chunked';
import { hashTap } from './payload/hashing';
import { S3Error, toS3Error } from './protocol/errors';
import { noSuchVersion } from './protocol/version-id';

export const MAX_OBJECT_SIZE = 5 * 1024 ** 3;

/** The bucket (its default encryption lives in its settings); NoSuchBucket when it does not exist. */
export async function requireBucket(ctx: Ctx, bucket = ctx.bucket): Promise<BucketInfo> {
  const info = await layoutOf(ctx, bucket).bucket(bucket);
  if (!info) throw new S3Error('NoSuchBucket', undefined, { fields: { BucketName: bucket } });
  return info;
}

/** S3's own limit on key length, in UTF-8 bytes; a layout may allow less. */
export const MAX_KEY_BYTES = 1024;

/** Refuses a key no object can have here: empty, too long for S3 or for the bucket's layout. */
export function checkKey(ctx: Pick<Ctx, 'layouts' | 'bucket' | 'key'>, key = ctx.key, bucket = ctx.bucket): void {
  if (!key) throw new S3Error('InvalidArgument', 'An object key is required.');
  if (new TextEncoder().encode(key).length > MAX_KEY_BYTES) throw new S3Error('KeyTooLongError');
  ctx.layouts.of(bucket).checkKey(bucket, key);
}

/** The object's record, or NoSuchKey / NoSuchBucket. */
/**
 * The record of `key`, or of its version `version` when the request names one. Every
 * object is its null version (no bucket has versioning yet); any other id is a version
 * that does not exist.
 */
export async function loadRecord(ctx: Ctx, bucket = ctx.bucket, key = ctx.key, version?: string): Promise<ObjectRecord> {
  let rec: ObjectRecord | null = null;
  if (version === undefined || version === NULL_VERSION) {
    try {
      rec = await layoutOf(ctx, bucket).head(bucket, key);
    } catch (e) {
      throw integrityFailure(ctx, e, bucket, key);
    }
  }
  if (!rec) {
    await requireBucket(ctx, bucket);
    throw version === undefined ? new S3Error('NoSuchKey', undefined, { fields: { Key: key } }) : noSuchVersion(key, version);
  }
  return rec;
}

/** The object's record, or null when there is none (a conditional write's early look). */
export async function loadCurrent(ctx: Ctx, bucket: string, key: string): Promise<ObjectRecord | null> {
  try {
    return await layoutOf(ctx, bucket).head(bucket, key);
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
export function declaredLength(h: Headers): number {
  const v = h.get('x-amz-decoded-content-length') ?? h.get('content-length');
  if (v === null) throw new S3Error('MissingContentLength');
  if (!/^\d+$/.test(v)) throw new S3Error('InvalidArgument', 'Content-Length is not a valid number.');
  const n = Number(v);
  if (n > MAX_OBJECT_SIZE)
    throw new S3Error('EntityTooLarge', undefined, { fields: { ProposedSize: v, MaxSizeAllowed: String(MAX_OBJECT_SIZE) } });
  return n;
}

export const httpMetaFrom = (h: Headers): HttpMeta => ({
  contentType: h.get('content-type') ?? undefined,
  contentEncoding:
    h
      .get('content-encoding')
      ?.replace(/(^|,\s*)aws-chunked\s*(,\s*)?/, '$1')
      .replace(/,\s*$/, '') || undefined,
  contentDisposition: h.get('content-disposition') ?? undefined,
  contentLanguage: h.get('content-language') ?? undefined,
  cacheControl: h.get('cache-control') ?? undefined,
  expires: h.get('expires') ?? undefined,
});

export interface WriteInput {
  bucket: string;
  key: string;
  body: ReadableStream<Uint8Array>;
  length: number;
  mode: Mode | undefined;
  sse: SseRequest;
  meta: Record<string, string>;
  /** The object's tags (checked by the caller). */
  tags?: TagSet;
  http: HttpMeta;
  /** Replace the record only if it still has this store etag (copy onto itself, encrypt-in-place). */
  ifRecord?: string;
  /** A conditional write's precondition (writePrecondition), checked by the layout as it commits. */
  precondition?: Precondition;
  /**
   * The checksum the object keeps (default: CRC64NVME). When `info` (the request body's
   * PayloadInfo) shows the request carried one of `alg`, that verified value is kept;
   * otherwise it is computed here.
   */
  checksum?: { alg: ChecksumName; info?: PayloadInfo };
}

export const conflict = () =>
  new S3Error('OperationAborted', 'A conflicting write to this object happened at the same time. Please try again.', { status: 409 });

/**
 * Streams a plaintext body into a fresh data object (sealed when mode is set),
 * then writes the record that makes it visible, then drops the data it replaced.
 */
export async function writeObject(ctx: Ctx, w: WriteInput): Promise<ObjectRecord> {
  // A write bound to fail is refused before its body is taken; the layout checks again, atomically, as it commits.
  if (w.precondition) await w.precondition(await loadCurrent(ctx, w.bucket, w.key));
  const obj = { bucket: w.bucket, key: w.key };
  const alg = w.checksum?.alg ?? DEFAULT_CHECKSUM.alg;
  const given = w.checksum?.info?.declared?.includes(alg) ? w.checksum.info : undefined;
  const tap = hashTap(given ? undefined : alg);
  const sealing = w.mode ? await ctx.sealer.seal(obj, w.length, w.mode, w.sse) : undefined;
  // Check the metadata budget before any byte is stored.
  const probe = {
    size: w.length,
    etag: '0'.repeat(32),
    crc64: '18446744073709551615',
    checksum: { alg, type: 'FULL_OBJECT' as const, value: toB64(new Uint8Array(CHECKSUM_LENGTH[alg])) },
    envelope: sealing?.envelope,
    meta: w.meta,
    tags: w.tags,
  };
  checkRecordBudget(probe);

  let stream = w.body.pipeThrough(tap.stream);
  if (sealing) stream = stream.pipeThrough(sealing.transform);
  const finish = async () => {
    const { md5, crc64, checksum } = await tap.result();
    const value = given ? given.checksums[alg] : checksum;
    return { ...probe, etag: etagFor(sealing?.envelope, md5), crc64, checksum: value ? { ...probe.checksum, value } : undefined };
  };
  let rec: ObjectRecord | null;
  try {
    rec = await layoutOf(ctx, w.bucket).write(w.bucket, w.key, { stream, length: sealing ? sealing.storedLength : w.length }, finish, {
      http: w.http,
      ifRecord: w.ifRecord,
      precondition: w.precondition,
    });
  } catch (e) {
    throw uploadError(e);
  }
  if (!rec) throw conflict();
  return rec;
}

function uploadError(e: unknown): unknown {
  if (e instanceof LengthError)
    return new S3Error('IncompleteBody', e.got < e.expected ? undefined : 'The request body is longer than the declared content length.');
  const refusal = toS3Error(e);
  if (refusal) return refusal;
  if (e instanceof TypeError && /length/i.test(String(e.message))) return new S3Error('IncompleteBody');
  return e;
}

/** The plaintext body of an upload request, de-chunked and checked as it streams. */
export function requestBody(ctx: Ctx, info?: PayloadInfo, opts?: { objectChecksumHeaders?: boolean }): ReadableStream<Uint8Array> {
  return decodePayload(untilRead(ctx.req), ctx.auth.payload, ctx.req.headers, info, opts);
}

/** Caps on request bodies read whole, counted as the bytes arrive. */
export const MAX_CONFIG_BODY = 64 * 1024;
/** DeleteObjects (1,000 keys of up to 1,024 bytes) and CompleteMultipartUpload (10,000 parts). */
export const MAX_LIST_BODY = 2 * 1024 * 1024;

/**
 * A small request body (XML) read whole, and only once it has passed every check
 * the signature implies: the signed x-amz-content-sha256, chunk signatures,
 * Content-MD5 and x-amz-checksum-* (decodePayload). Nothing is acted on before that.
 * `bound` demands that an unsigned payload still carry a signed digest of the body
 * (S3 requires Content-MD5 or a checksum on DeleteObjects).
 */
export async function wholeBody(ctx: Ctx, max: number, opts: { bound?: boolean; objectChecksumHeaders?: boolean } = {}): Promise<string> {
  const h = ctx.req.headers;
  const digest = h.has('content-md5') || (!opts.objectChecksumHeaders && CHECKSUM_ALGORITHMS.some((a) => h.has(`x-amz-checksum-${a}`)));
  const signed = ctx.auth.payload.kind === 'sha256' || ctx.auth.payload.kind === 'chunked-signed';
  if (opts.bound && !signed && !digest) {
    throw new S3Error(
      'InvalidRequest',
      'Missing required header for this request: Content-MD5 (or an x-amz-checksum-* header), since the body is not signed.',
    );
  }
  const bytes = await readAtMost(
    requestBody(ctx, undefined, { objectChecksumHeaders: opts.objectChecksumHeaders }),
    max,
    () => new S3Error('MaxMessageLengthExceeded', `Your request was too big: this request's body may have at most ${max} bytes.`),
  );
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    throw new S3Error('MalformedXML', 'The request body is not valid UTF-8.');
  }
}

/** Bytes asked of the request body per read: the hashing and sealing stages work in chunks this size. */
const BODY_CHUNK = 256 * 1024;

/**
 * The request body, not touched until the first read. A write refused before it
 * needs its body (a disabled SSE-KMS key, metadata over budget) then answers
 * cleanly to a client still waiting on `Expect: 100-continue` (the aws CLI);
 * under `wrangler dev` a body that was started and abandoned turns into a 503.
 * A byte-stream body is read 256 KiB at a time rather than in the small pieces
 * the runtime hands out: each piece costs a trip through every stage after it.
 */
function untilRead(req: Request): ReadableStream<Uint8Array> {
  let reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  let byob: ReadableStreamBYOBReader | undefined;
  return new ReadableStream<Uint8Array>(
    {
      async pull(c) {
        if (!reader && !byob) {
          const body = req.body ?? emptyStream();
          try {
            byob = body.getReader({ mode: 'byob' });
          } catch {
            reader = body.getReader();
          }
          // When the client goes away the body errors; the reader's closed promise rejects with it.
          (byob ?? reader)!.closed.catch(() => {});
        }
        let r: ReadableStreamReadResult<Uint8Array>;
        try {
          r = byob ? await byob.readAtLeast(BODY_CHUNK, new Uint8Array(BODY_CHUNK)) : await reader!.read();
        } catch {
          // The client went away mid-body: an S3 error like any short body, errored rather than
          // thrown (a rejected pull is reported by the runtime as uncaught).
          return c.error(new S3Error('IncompleteBody'));
        }
        if (r.value?.length) c.enqueue(r.value);
        if (r.done) c.close();
      },
      cancel: (reason) => (byob ?? reader ?? req.body)?.cancel(reason),
    },
    { highWaterMark: 0 },
  );
}

export interface ObjectReader {
  /** True when read() hands back the store's own stream (unsealed, single part): nothing to check. */
  direct: boolean;
  /** Plaintext bytes [start, end] (end < start: none), authenticated as they stream. */
  read(start: number, end: number): Promise<ReadableStream<Uint8Array>>;
  /** Multipart objects: the plaintext range of part n and the part count. */
  part(n: number): Promise<{ start: number; end: number; count: number } | null>;
  /** Multipart objects: the parts as the manifest lists them; null for a single-stream object. */
  parts(): Promise<ObjectPart[] | null>;
}

/**
 * Checks that the caller may read the object (SSE-C key, key commitment)
 * without touching its data, and returns a reader for it.
 */
export async function openObject(ctx: Ctx, bucket: string, key: string, rec: ObjectRecord, sse: SseRequest): Promise<ObjectReader> {
  const obj = { bucket, key };
  const layout = layoutOf(ctx, bucket);
  const stored = async (
    range: { offset: number; length: number } | undefined,
    storedLength: number,
    part?: { parts: ObjectPart[]; index: number },
  ) => {
    const body = await layout.read(bucket, key, rec, range, part, storedLength);
    if (!body) throw missingData(ctx, bucket, key);
    return body;
  };
  const uploadId = uploadOf(rec);
  if (uploadId === undefined) {
    const opening = rec.envelope ? await ctx.sealer.open(obj, rec.size, rec.envelope, sse) : undefined;
    return {
      direct: !opening,
      part: async () => null,
      parts: async () => null,
      async read(start, end) {
        if (!opening) {
          if (end < start) return emptyStream();
          return stored({ offset: start, length: end - start + 1 }, rec.size);
        }
        const span = opening.span(start, Math.max(start, end));
        return opening.read(
          await stored({ offset: span.offset, length: span.length }, opening.storedLength),
          end >= start ? span : { ...span, take: 0 },
        );
      },
    };
  }

  const digest = fromB64url(rec.manifest ?? '');
  const opener = rec.envelope ? await ctx.sealer.openMultipart(obj, rec.envelope, sse, uploadId, rec.size, digest) : undefined;
  let manifest: Promise<{ parts: ObjectPart[]; offsets: number[] }> | undefined;
  const load = () =>
    (manifest ??= (async () => {
      const body = await layout.manifest(bucket, key, rec);
      if (!body) throw missingData(ctx, bucket, key);
      if (!timingSafeEqual(new Uint8Array(await crypto.subtle.digest('SHA-256', body)), digest))
        throw new IntegrityError('manifest digest mismatch');
      const m = decodeManifest(body);
      let offset = 0;
      const offsets = m.parts.map((p) => {
        const at = offset;
        offset += p.size;
        return at;
      });
      if (offset !== rec.size || m.upload !== uploadId) throw new IntegrityError('manifest does not match the record');
      return { parts: m.parts, offsets };
    })());

  const readPart = async (parts: ObjectPart[], index: number, start: number, end: number): Promise<ReadableStream<Uint8Array>> => {
    const p = parts[index];
    if (!opener) return inBatches(await stored({ offset: start, length: end - start + 1 }, p.size, { parts, index }), end - start + 1);
    const opening = await opener.part(p.n, p.size, { salt: p.salt ?? '', commit: p.commit ?? '' });
    const span = opening.span(start, end);
    return opening.read(await stored({ offset: span.offset, length: span.length }, opening.storedLength, { parts, index }), span);
  };

  return {
    direct: false,
    parts: async () => (await load()).parts,
    async part(n) {
      // partNumber counts the parts of the completed object from 1, as listed in its manifest.
      const { parts, offsets } = await load();
      const p = parts[n - 1];
      return p ? { start: offsets[n - 1], end: offsets[n - 1] + p.size - 1, count: parts.length } : null;
    },
    async read(start, end) {
      const { parts, offsets } = await load();
      const wanted = parts
        .map((_, i) => i)
        .filter((i) => parts[i].size > 0 && offsets[i] <= end && offsets[i] + parts[i].size - 1 >= start);
      let i = 0;
      let current: ReadableStreamDefaultReader<Uint8Array> | undefined;
      return new ReadableStream<Uint8Array>({
        async pull(ctl) {
          for (;;) {
            if (!current) {
              const index = wanted[i++];
              if (index === undefined) return ctl.close();
              const s = Math.max(start, offsets[index]) - offsets[index];
              const e = Math.min(end, offsets[index] + parts[index].size - 1) - offsets[index];
              current = (await readPart(parts, index, s, e)).getReader();
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

/** Bytes handed on per chunk when stored plaintext passes through JavaScript (checked, or joined from parts). */
const READ_CHUNK = 1 << 20;

/**
 * A store's byte stream read READ_CHUNK bytes at a time (BYOB readAtLeast) rather than in the
 * store's own pieces (4 KiB from local R2, a few KiB from fetch): each piece that passes through
 * JavaScript costs a trip through every stage after it, which made a checked unsealed 64 MiB GET
 * cost six times the CPU of a sealed one (docs/BENCHMARKS.md, "CPU across consecutive requests").
 * A stream that is not a byte stream is returned as it is. `length`, the bytes the body should
 * hold, keeps the buffers of a small object small; what the body really holds is for the caller to check.
 */
export function inBatches(
  body: ReadableStream<Uint8Array>,
  length = Number.POSITIVE_INFINITY,
  batch = READ_CHUNK,
): ReadableStream<Uint8Array> {
  let reader: ReadableStreamBYOBReader;
  try {
    reader = body.getReader({ mode: 'byob' });
  } catch {
    return body;
  }
  let left = length;
  return new ReadableStream<Uint8Array>(
    {
      async pull(ctl) {
        // Past the expected length, one byte is enough to see the end (or a byte too many, passed on).
        const size = Math.max(1, Math.min(batch, left));
        let r: ReadableStreamReadResult<Uint8Array>;
        try {
          r = await reader.readAtLeast(size, new Uint8Array(size));
        } catch (e) {
          // Errored rather than thrown: the consumer gets the store's failure as it is.
          return ctl.error(e);
        }
        if (r.value?.length) {
          left = Math.max(0, left - r.value.length);
          ctl.enqueue(r.value);
        }
        if (r.done) ctl.close();
      },
      cancel: (why) => reader.cancel(why),
    },
    { highWaterMark: 0 },
  );
}

function missingData(ctx: Ctx, bucket: string, key: string): S3Error {
  console.error(JSON.stringify({ event: 'data-missing', requestId: ctx.requestId, bucket, key }));
  return new S3Error('InternalError', 'The object data is missing from the store.');
}
