// CopyObject and UploadPartCopy.
//
// The destination's encryption follows the request (or the gateway default),
// never the source's. A copy onto itself that only changes how the data key is
// wrapped (SSE-COS <-> SSE-KMS, SSE-C key A -> key B) re-wraps the data key and
// rewrites the record; everything else re-encrypts through the normal write path.

import type { SseRequest } from '../../sse/types';
import { layoutOf, type Ctx } from '../context';
import { userMetadata } from '../protocol/dialect';
import { S3Error } from '../protocol/errors';
import { checkConditions } from './get';
import { checkKey, conflict, httpMetaFrom, integrityFailure, loadRecord, openObject, writeObject, type ObjectReader } from '../objects';
import { writeMode } from '../write-mode';
import { recordToCustom, type ObjectRecord } from '../../layout/record';
import { requestSse, requireCustomerKeyFit, setSseHeaders } from '../protocol/sse-headers';
import { xmlDocument, xmlResponse } from '../protocol/xml';
import { etagFor } from '../../sse';

export interface CopySource {
  bucket: string;
  key: string;
  rec: ObjectRecord;
  sse: SseRequest;
  reader: ObjectReader;
}

/** Resolves x-amz-copy-source / x-cos-copy-source, checks its conditions and SSE-C key. */
export async function copySource(ctx: Ctx): Promise<CopySource> {
  const raw = ctx.req.headers.get('x-amz-copy-source') ?? ctx.req.headers.get('x-cos-copy-source') ?? '';
  const [pathPart, query = ''] = raw.split('?', 2);
  let path: string;
  try {
    path = decodeURIComponent(pathPart).replace(/^\//, '');
  } catch {
    throw new S3Error('InvalidArgument', 'Copy Source must mention the source bucket and key: sourcebucket/sourcekey', { fields: { ArgumentName: 'x-amz-copy-source' } });
  }
  // COS clients send "<bucket>.cos.<region>.myqcloud.com/<key>"; keep the bucket label.
  const i = path.indexOf('/');
  if (i <= 0 || i === path.length - 1) {
    throw new S3Error('InvalidArgument', 'Copy Source must mention the source bucket and key: sourcebucket/sourcekey', { fields: { ArgumentName: 'x-amz-copy-source' } });
  }
  const host = path.slice(0, i);
  const bucket = ctx.config.baseDomains.reduce((b, base) => (b.endsWith(`.${base}`) ? b.slice(0, -base.length - 1) : b), host.split('.cos.')[0]);
  const key = path.slice(i + 1);
  const version = new URLSearchParams(query).get('versionId');
  if (version !== null && version !== 'null') {
    throw new S3Error('InvalidArgument', 'This gateway does not keep object versions, so a copy source cannot name a versionId.', { fields: { ArgumentName: 'versionId' } });
  }
  const sse = await requestSse(ctx, 'copy-source');
  checkKey(ctx, key, bucket);
  const rec = await loadRecord(ctx, bucket, key);
  const h = ctx.req.headers;
  const get = (s: string) => h.get(`x-amz-copy-source-${s}`) ?? h.get(`x-cos-copy-source-${s}`);
  checkConditions(rec, { ifMatch: get('if-match'), ifNoneMatch: get('if-none-match'), ifModifiedSince: get('if-modified-since'), ifUnmodifiedSince: get('if-unmodified-since') }, true);
  requireCustomerKeyFit('copy-source', rec.envelope, sse);
  let reader: ObjectReader;
  try {
    reader = await openObject(ctx, bucket, key, rec, sse);
  } catch (e) {
    throw integrityFailure(ctx, e, bucket, key);
  }
  return { bucket, key, rec, sse, reader };
}

export async function copyObject(ctx: Ctx): Promise<Response> {
  const src = await copySource(ctx);
  const h = ctx.req.headers;
  const directive = (h.get('x-amz-metadata-directive') ?? h.get('x-cos-metadata-directive') ?? 'COPY').toUpperCase();
  if (directive !== 'COPY' && directive !== 'REPLACE') throw new S3Error('InvalidArgument', 'Unknown metadata directive.', { fields: { ArgumentName: 'x-amz-metadata-directive' } });
  const sse = await requestSse(ctx, 'write');
  const mode = await writeMode(ctx, sse);
  const meta = directive === 'REPLACE' ? userMetadata(h) : src.rec.meta;
  const http = directive === 'REPLACE' ? httpMetaFrom(h) : src.rec.http;

  const self = src.bucket === ctx.bucket && src.key === ctx.key;
  const explicitSse = sse.mode !== undefined;
  if (self && directive === 'COPY' && !explicitSse) {
    throw new S3Error('InvalidRequest', "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.");
  }

  let rec: ObjectRecord;
  const env = src.rec.envelope;
  if (self && env && mode && (env.mode === 'c') === (mode === 'c')) {
    // Only the wrapping changes: the data, its segments and commitments stay as they are.
    const envelope = await ctx.sse.rewrap({ bucket: ctx.bucket, key: ctx.key }, env, src.sse, mode, sse);
    const etag = etagFor(envelope, src.rec.etag, Number(src.rec.etag.match(/-(\d+)$/)?.[1] ?? 0) || undefined);
    rec = { ...src.rec, envelope, etag, meta, http };
    recordToCustom(rec);
    // Swap the record only if it is still the one the envelope was read from.
    const swapped = await layoutOf(ctx).swap(ctx.bucket, ctx.key, rec, src.rec.storeEtag ?? '');
    if (!swapped) throw conflict();
    rec = swapped;
  } else {
    const body = await src.reader.read(0, src.rec.size - 1);
    rec = await writeObject(ctx, { bucket: ctx.bucket, key: ctx.key, body, length: src.rec.size, mode, sse, meta, http, ifRecord: self ? src.rec.storeEtag : undefined });
  }
  const res = xmlResponse(xmlDocument('CopyObjectResult', { ETag: `"${rec.etag}"`, LastModified: rec.uploaded.toISOString() }));
  setSseHeaders(res.headers, ctx.dialect, rec.envelope, sse);
  return res;
}
