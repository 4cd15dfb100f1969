// CopyObject and UploadPartCopy.
//
// The destination's encryption follows the request (or the gateway default),
// never the source's. A copy onto itself that only changes how the data key is
// wrapped (SSE-COS <-> SSE-KMS, SSE-C key A -> key B) re-wraps the data key and
// rewrites the record; everything else re-encrypts through the normal write path.

import { checkRecordBudget, type ObjectRecord } from '../../layout/record';
import { etagFor } from '../../sse';
import { checksumXml, DEFAULT_CHECKSUM, parseAlgorithm } from '../checksums';
import { type Ctx, layoutOf } from '../context';
import { copySource } from '../copy-source';
import { conflict, httpMetaFrom, writeObject } from '../objects';
import { writePrecondition } from '../protocol/conditions';
import { userMetadata } from '../protocol/dialect';
import { S3Error } from '../protocol/errors';
import { requestField } from '../protocol/fields';
import { requestSse, setSseHeaders } from '../protocol/sse-headers';
import { checkStorageClass } from '../protocol/storage-class';
import { requestTags } from '../protocol/tagging';
import { xmlDocument, xmlResponse } from '../protocol/xml';
import { writeMode } from '../write-mode';

export async function copyObject(ctx: Ctx): Promise<Response> {
  // If-None-Match / If-Match name the destination (x-amz-copy-source-if-* the source).
  const precondition = writePrecondition(ctx.req.headers, ctx.key);
  const src = await copySource(ctx);
  const h = ctx.req.headers;
  const directive = (h.get('x-amz-metadata-directive') ?? h.get('x-cos-metadata-directive') ?? 'COPY').toUpperCase();
  if (directive !== 'COPY' && directive !== 'REPLACE')
    throw new S3Error('InvalidArgument', 'Unknown metadata directive.', { fields: { ArgumentName: 'x-amz-metadata-directive' } });
  // The destination's tags: the source's (COPY, the default) or the request's own (REPLACE).
  const tagging = (h.get('x-amz-tagging-directive') ?? h.get('x-cos-tagging-directive') ?? 'COPY').toUpperCase();
  if (tagging !== 'COPY' && tagging !== 'REPLACE')
    throw new S3Error('InvalidArgument', 'Unknown tagging directive.', { fields: { ArgumentName: 'x-amz-tagging-directive' } });
  // Also from the query of a presigned URL, where SDKs put them.
  const fields = requestField(h, ctx.url, ctx.auth.method);
  checkStorageClass(fields);
  const tags = tagging === 'REPLACE' ? (requestTags(fields, ctx.dialect) ?? []) : src.rec.tags;
  const sse = await requestSse(ctx, 'write');
  const mode = await writeMode(ctx, sse);
  const meta = directive === 'REPLACE' ? userMetadata(h) : src.rec.meta;
  const http = directive === 'REPLACE' ? httpMetaFrom(h) : src.rec.http;

  const self = src.bucket === ctx.bucket && src.key === ctx.key;
  const explicitSse = sse.mode !== undefined;
  if (self && directive === 'COPY' && !explicitSse) {
    throw new S3Error(
      'InvalidRequest',
      "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.",
    );
  }

  // Onto itself the destination is the source: judged on the record read, which the write then replaces only if unchanged.
  if (self) await precondition?.(src.rec);
  let rec: ObjectRecord;
  const stored = src.rec.envelope;
  if (self && stored && mode && (stored.mode === 'c') === (mode === 'c')) {
    // Only the wrapping changes: the data, its segments and commitments stay as they are.
    const envelope = await ctx.sealer.rewrap({ bucket: ctx.bucket, key: ctx.key }, stored, src.sse, mode, sse);
    const etag = etagFor(envelope, src.rec.etag, Number(src.rec.etag.match(/-(\d+)$/)?.[1] ?? 0) || undefined);
    rec = { ...src.rec, envelope, etag, meta, tags, http };
    checkRecordBudget(rec, rec.location);
    // Swap the record only if it is still the one the envelope was read from.
    const swapped = await layoutOf(ctx).swap(ctx.bucket, ctx.key, rec, src.rec.storeEtag ?? '');
    if (!swapped) throw conflict();
    rec = swapped;
  } else {
    const body = await src.reader.read(0, src.rec.size - 1);
    rec = await writeObject(ctx, {
      bucket: ctx.bucket,
      key: ctx.key,
      body,
      length: src.rec.size,
      mode,
      sse,
      meta,
      tags,
      http,
      ifRecord: self ? src.rec.storeEtag : undefined,
      precondition,
      checksum: { alg: copyChecksum(h, src.rec) },
    });
  }
  const res = xmlResponse(
    xmlDocument('CopyObjectResult', {
      ETag: `"${rec.etag}"`,
      LastModified: rec.uploaded.toISOString(),
      ...checksumXml(rec.checksum, rec.checksum?.type),
    }),
  );
  setSseHeaders(res.headers, ctx.dialect, rec.envelope, sse);
  return res;
}

/**
 * The checksum a copy keeps, computed as it is written: x-amz-checksum-algorithm when
 * given, else the source's algorithm when its checksum is of the whole object (a
 * composite one describes parts the copy does not have), else CRC64NVME.
 */
function copyChecksum(h: Headers, source: ObjectRecord) {
  const asked = h.get('x-amz-checksum-algorithm') ?? h.get('x-cos-checksum-algorithm');
  if (asked !== null) return parseAlgorithm(asked);
  return source.checksum?.type === 'FULL_OBJECT' ? source.checksum.alg : DEFAULT_CHECKSUM.alg;
}
