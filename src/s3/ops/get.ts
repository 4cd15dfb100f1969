// GetObject and HeadObject.

import { isMultipart, type ObjectRecord } from '../../layout/record';
import type { SseRequest } from '../../sse';
import { checksumModeEnabled, setChecksumHeaders, verifiedStream } from '../checksums';
import type { Ctx } from '../context';
import { inBatches, integrityFailure, loadRecord, type ObjectReader, openObject } from '../objects';
import { checkConditions } from '../protocol/conditions';
import { hdr } from '../protocol/dialect';
import { S3Error } from '../protocol/errors';
import { parseRange } from '../protocol/range';
import { requestSse, requireCustomerKeyFit, setSseHeaders } from '../protocol/sse-headers';

const OVERRIDES: [string, string][] = [
  ['response-content-type', 'content-type'],
  ['response-content-language', 'content-language'],
  ['response-expires', 'expires'],
  ['response-cache-control', 'cache-control'],
  ['response-content-disposition', 'content-disposition'],
  ['response-content-encoding', 'content-encoding'],
];

export async function getObject(ctx: Ctx, head: boolean): Promise<Response> {
  const sse = await requestSse(ctx, 'read');
  const rec = await loadRecord(ctx, ctx.bucket, ctx.key, ctx.version);
  requireCustomerKeyFit('object', rec.envelope, sse);

  const headers = objectHeaders(ctx, rec, sse);
  const notModified = preconditions(ctx.req.headers, rec);
  if (notModified) return notModified;
  for (const [q, h] of OVERRIDES) {
    const v = ctx.url.searchParams.get(q);
    if (v !== null) headers.set(h, v);
  }

  let reader: ObjectReader;
  try {
    reader = await openObject(ctx, ctx.bucket, ctx.key, rec, sse);
  } catch (e) {
    throw integrityFailure(ctx, e);
  }

  let range = parseRange(ctx.req.headers.get('range'), rec.size);
  const partNumber = ctx.url.searchParams.get('partNumber');
  if (partNumber !== null) {
    const n = Number(partNumber);
    if (!/^\d+$/.test(partNumber) || n < 1 || n > 10000)
      throw new S3Error('InvalidArgument', 'Part number must be an integer between 1 and 10000, inclusive', {
        fields: { ArgumentName: 'partNumber' },
      });
    const part = await reader.part(n).catch((e) => Promise.reject(integrityFailure(ctx, e)));
    if (part) {
      headers.set('x-amz-mp-parts-count', String(part.count));
      range = { start: part.start, end: part.end };
      // A part of a composite object has a checksum of its own; a full-object checksum covers no single part.
      if (checksumModeEnabled(ctx.req.headers) && rec.checksum?.type === 'COMPOSITE') {
        const listed = (await reader.parts().catch((e) => Promise.reject(integrityFailure(ctx, e))))?.[n - 1]?.checksum;
        if (listed?.alg === rec.checksum.alg) setChecksumHeaders(headers, ctx.dialect, listed, 'COMPOSITE');
      }
    } else if (n !== 1 || isMultipart(rec))
      throw new S3Error('InvalidPartNumber', 'The requested partnumber is not satisfiable', { status: 416 });
  }
  // The object's checksum describes the whole object: a range gets none (as in S3), and a whole read is checked against it.
  const whole = range ? undefined : rec.checksum;
  if (whole && checksumModeEnabled(ctx.req.headers)) setChecksumHeaders(headers, ctx.dialect, whole, whole.type);
  const start = range?.start ?? 0;
  const end = range?.end ?? rec.size - 1;
  const length = end - start + 1;
  headers.set('content-length', String(length));
  if (range) headers.set('content-range', `bytes ${start}-${end}/${rec.size}`);
  const status = range ? 206 : 200;
  if (head) return new Response(null, { status, headers });
  // An unsealed single object: R2's own body already has its length, and there is nothing to verify.
  if (reader.direct && !whole) {
    try {
      return new Response(length ? await reader.read(start, end) : null, { status, headers });
    } catch (e) {
      throw integrityFailure(ctx, e);
    }
  }

  let body: ReadableStream<Uint8Array> | null;
  try {
    // Authenticate the first read (up to READ_BATCH of segments) before committing to a status line.
    let src = await reader.read(start, end);
    if (whole)
      src = verifiedStream(
        // The store's own stream comes in small pieces; the check and the response take them in large ones.
        reader.direct ? inBatches(src, length) : src,
        whole,
        length,
        (await reader.parts())?.map((p) => p.size),
      );
    body = await primed(src, length, (e) => integrityFailure(ctx, e));
  } catch (e) {
    throw integrityFailure(ctx, e);
  }
  return new Response(body, { status, headers });
}

export function objectHeaders(ctx: Ctx, rec: ObjectRecord, sse: SseRequest): Headers {
  const h = new Headers();
  h.set('etag', `"${rec.etag}"`);
  h.set('last-modified', rec.uploaded.toUTCString());
  h.set('accept-ranges', 'bytes');
  h.set('content-type', rec.http.contentType ?? 'application/octet-stream');
  if (rec.http.contentEncoding) h.set('content-encoding', rec.http.contentEncoding);
  if (rec.http.contentDisposition) h.set('content-disposition', rec.http.contentDisposition);
  if (rec.http.contentLanguage) h.set('content-language', rec.http.contentLanguage);
  if (rec.http.cacheControl) h.set('cache-control', rec.http.cacheControl);
  if (rec.http.expires) h.set('expires', rec.http.expires);
  for (const [k, v] of Object.entries(rec.meta)) h.set(hdr(ctx.dialect, `meta-${k}`), v);
  if (rec.tags?.length) h.set(hdr(ctx.dialect, 'tagging-count'), String(rec.tags.length));
  setSseHeaders(h, ctx.dialect, rec.envelope, sse);
  if (rec.crc64) h.set('x-cos-hash-crc64ecma', rec.crc64);
  return h;
}

function preconditions(h: Headers, rec: ObjectRecord): Response | null {
  const c = {
    ifMatch: h.get('if-match'),
    ifNoneMatch: h.get('if-none-match'),
    ifModifiedSince: h.get('if-modified-since'),
    ifUnmodifiedSince: h.get('if-unmodified-since'),
  };
  if (!checkConditions(rec, c)) return null;
  return new Response(null, { status: 304, headers: { etag: `"${rec.etag}"`, 'last-modified': rec.uploaded.toUTCString() } });
}

/**
 * `src` behind a FixedLengthStream of `length` bytes (null when empty), which
 * keeps Content-Length on the wire and cuts short a body that falls short. The
 * first chunk is read before returning, so a failure there becomes an error
 * response; later failures abort the body and are logged via onError. One
 * reader and one writer carry every chunk: no stream layer in between (each hop
 * per chunk costs workerd CPU), and no lock handed over with a write in flight.
 */
async function primed(
  src: ReadableStream<Uint8Array>,
  length: number,
  onError: (e: unknown) => unknown,
): Promise<ReadableStream<Uint8Array> | null> {
  const reader = src.getReader();
  const first = await reader.read();
  if (!length) {
    reader.releaseLock();
    return null;
  }
  const fixed = new FixedLengthStream(length);
  const writer = fixed.writable.getWriter();
  (async () => {
    let r = first;
    try {
      for (; !r.done; r = await reader.read()) {
        // A write fails only when the client has gone: nothing to report, just stop reading.
        if (
          !(await writer.write(r.value).then(
            () => true,
            () => false,
          ))
        )
          return void (await reader.cancel().catch(() => {}));
      }
      await writer.close();
    } catch (e) {
      // A read failed (integrity, or the store): log it and abort the body. The runtime reports an
      // aborted response body as an exception of its own; the client sees the connection cut.
      onError(e);
      await Promise.allSettled([writer.abort(e), reader.cancel(e)]);
    }
  })();
  return fixed.readable;
}
