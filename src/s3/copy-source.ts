// The source of CopyObject and UploadPartCopy: x-amz-copy-source / x-cos-copy-source
// resolved to a bucket and key, its conditions checked, and opened with its SSE-C key.

import { httpRequestKeys } from '../iam/request-keys';
import type { ObjectRecord } from '../layout/record';
import type { SseRequest } from '../sse';
import { authorizeAccess, conditionKeysOf } from './authorize';
import type { Ctx } from './context';
import { checkKey, integrityFailure, loadRecord, type ObjectReader, openObject } from './objects';
import { checkConditions } from './protocol/conditions';
import { S3Error } from './protocol/errors';
import { requestSse, requireCustomerKeyFit } from './protocol/sse-headers';
import { parseVersionId } from './protocol/version-id';

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
    throw new S3Error('InvalidArgument', 'Copy Source must mention the source bucket and key: sourcebucket/sourcekey', {
      fields: { ArgumentName: 'x-amz-copy-source' },
    });
  }
  // COS clients send "<bucket>.cos.<region>.myqcloud.com/<key>"; keep the bucket label.
  const i = path.indexOf('/');
  if (i <= 0 || i === path.length - 1) {
    throw new S3Error('InvalidArgument', 'Copy Source must mention the source bucket and key: sourcebucket/sourcekey', {
      fields: { ArgumentName: 'x-amz-copy-source' },
    });
  }
  const host = path.slice(0, i);
  const bucket = ctx.config.baseDomains.reduce(
    (b, base) => (b.endsWith(`.${base}`) ? b.slice(0, -base.length - 1) : b),
    host.split('.cos.')[0],
  );
  const key = path.slice(i + 1);
  const named = new URLSearchParams(query).get('versionId');
  const version = named === null ? undefined : parseVersionId(named, ctx.dialect);
  const sse = await requestSse(ctx, 'copy-source');
  checkKey(ctx, key, bucket);
  // Copying reads the source: s3:GetObject (or s3:GetObjectVersion) on it, under its own bucket's policy.
  await authorizeAccess(ctx.layouts.of(bucket), {
    principal: ctx.principal,
    action: version === undefined ? 's3:GetObject' : 's3:GetObjectVersion',
    bucket,
    key,
    on: 'object',
    context: { ...httpRequestKeys(ctx.req, ctx.url), ...conditionKeysOf(ctx, 'GetObject') },
  });
  const rec = await loadRecord(ctx, bucket, key, version);
  const h = ctx.req.headers;
  const get = (s: string) => h.get(`x-amz-copy-source-${s}`) ?? h.get(`x-cos-copy-source-${s}`);
  checkConditions(
    rec,
    {
      ifMatch: get('if-match'),
      ifNoneMatch: get('if-none-match'),
      ifModifiedSince: get('if-modified-since'),
      ifUnmodifiedSince: get('if-unmodified-since'),
    },
    true,
  );
  requireCustomerKeyFit('copy-source', rec.envelope, sse);
  let reader: ObjectReader;
  try {
    reader = await openObject(ctx, bucket, key, rec, sse);
  } catch (e) {
    throw integrityFailure(ctx, e, bucket, key);
  }
  return { bucket, key, rec, sse, reader };
}
