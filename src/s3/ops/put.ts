// PutObject.

import { keptAlgorithm, setChecksumHeaders } from '../checksums';
import type { Ctx } from '../context';
import { declaredLength, httpMetaFrom, requestBody, writeObject } from '../objects';
import type { PayloadInfo } from '../payload/chunked';
import { writePrecondition } from '../protocol/conditions';
import { userMetadata } from '../protocol/dialect';
import { S3Error } from '../protocol/errors';
import { requestField } from '../protocol/fields';
import { requestSse, setSseHeaders } from '../protocol/sse-headers';
import { checkStorageClass } from '../protocol/storage-class';
import { requestTags } from '../protocol/tagging';
import { writeMode } from '../write-mode';

/**
 * As COS documents, SSE cannot be chosen through a presigned URL's query string
 * (headers signed into the URL still work); such uploads get the default.
 */
function refuseQuerySse(url: URL) {
  for (const name of url.searchParams.keys()) {
    if (/^x-(amz|cos)-server-side-encryption/i.test(name)) {
      throw new S3Error(
        'InvalidArgument',
        'Server-side encryption cannot be requested in the query string of a presigned URL; send it as a header, or rely on the default encryption.',
        { fields: { ArgumentName: name } },
      );
    }
  }
}

export async function putObject(ctx: Ctx): Promise<Response> {
  refuseQuerySse(ctx.url);
  const h = ctx.req.headers;
  const precondition = writePrecondition(h, ctx.key);
  // Also from the query of a presigned URL, where SDKs put them.
  const fields = requestField(h, ctx.url, ctx.auth.method);
  checkStorageClass(fields);
  const tags = requestTags(fields, ctx.dialect);
  const sse = await requestSse(ctx, 'write');
  const length = declaredLength(h);
  const mode = await writeMode(ctx, sse);
  const info: PayloadInfo = { checksums: {} };
  const body = requestBody(ctx, info);
  const rec = await writeObject(ctx, {
    bucket: ctx.bucket,
    key: ctx.key,
    body,
    length,
    mode,
    sse,
    meta: userMetadata(h),
    tags,
    http: httpMetaFrom(h),
    precondition,
    checksum: { alg: keptAlgorithm(h, info.declared), info },
  });
  const headers = new Headers({ etag: `"${rec.etag}"`, 'x-cos-hash-crc64ecma': rec.crc64 });
  if (rec.checksum) setChecksumHeaders(headers, ctx.dialect, rec.checksum, rec.checksum.type);
  setSseHeaders(headers, ctx.dialect, rec.envelope, sse);
  return new Response(null, { status: 200, headers });
}
