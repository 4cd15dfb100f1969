// DeleteObject and DeleteObjects.

import { httpRequestKeys } from '../../iam/request-keys';
import { NULL_VERSION } from '../../layout/types';
import { conditionKeysOf, refusalOf } from '../authorize';
import { type Ctx, layoutOf } from '../context';
import { checkKey, MAX_LIST_BODY, requireBucket, wholeBody } from '../objects';
import { hdr } from '../protocol/dialect';
import { S3Error, toS3Error } from '../protocol/errors';
import { parseVersionId } from '../protocol/version-id';
import { list, parseXml, text, xmlDocument, xmlResponse } from '../protocol/xml';

export async function deleteOne(ctx: Ctx): Promise<Response> {
  await requireBucket(ctx);
  const v = ctx.version;
  if (v === undefined || v === NULL_VERSION) {
    await layoutOf(ctx).delete(ctx.bucket, ctx.key);
    // No x-amz-version-id: S3 sends one only for a bucket that has (or had) versioning.
    return new Response(null, { status: 204 });
  }
  // A version this bucket does not hold: nothing to remove, and S3 answers success naming it.
  return new Response(null, { status: 204, headers: { [hdr(ctx.dialect, 'version-id')]: v } });
}

export async function deleteMany(ctx: Ctx): Promise<Response> {
  const doc = parseXml(await wholeBody(ctx, MAX_LIST_BODY, { bound: true }), 'Delete');
  const objects = list(doc, 'Object');
  if (objects.length > 1000) throw new S3Error('MalformedXML', 'The request must contain no more than 1000 keys.');
  const quiet = text(doc, 'Quiet') === 'true';
  const targets = objects.map((o) => {
    const key = text(o, 'Key');
    if (key === undefined || key === '') throw new S3Error('MalformedXML');
    return { key, version: text(o, 'VersionId') };
  });
  // Each key is judged on its own (s3:DeleteObject, or s3:DeleteObjectVersion naming a version);
  // a denied one comes back as an AccessDenied entry. When none is allowed, the bucket is not even
  // looked up: its existence is not revealed to someone with no right on any of its keys.
  const now = new Date();
  const context = { ...httpRequestKeys(ctx.req, ctx.url, now), ...conditionKeysOf(ctx, 'DeleteObjects') };
  const refusals = await Promise.all(
    targets.map(({ key, version }) =>
      refusalOf(layoutOf(ctx), {
        principal: ctx.principal,
        action: version === undefined ? 's3:DeleteObject' : 's3:DeleteObjectVersion',
        bucket: ctx.bucket,
        key,
        on: 'object',
        context,
      }),
    ),
  );
  if (!refusals.every(Boolean)) await requireBucket(ctx);
  // VersionId is echoed as sent, in the result and in errors alike.
  const deleted: { Key: string; VersionId?: string }[] = [];
  const errors: { Key: string; VersionId?: string; Code: string; Message: string }[] = [];
  for (const [i, { key, version }] of targets.entries()) {
    try {
      const refusal = refusals[i];
      if (refusal) throw refusal;
      checkKey(ctx, key);
      const v = version === undefined ? undefined : parseVersionId(version, ctx.dialect);
      // A version other than the null one does not exist here: nothing to remove (S3 reports it deleted).
      if (v === undefined || v === NULL_VERSION) await layoutOf(ctx).delete(ctx.bucket, key);
      if (!quiet) deleted.push({ Key: key, VersionId: version });
    } catch (e) {
      // Per-key errors are S3's own codes and words; anything else is logged, never echoed.
      const refusal = toS3Error(e);
      if (!refusal)
        console.error(
          JSON.stringify({
            event: 'delete-failure',
            requestId: ctx.requestId,
            bucket: ctx.bucket,
            key,
            error: String(e instanceof Error ? e.message : e),
          }),
        );
      const s3e = refusal ?? new S3Error('InternalError');
      errors.push({ Key: key, VersionId: version, Code: s3e.code, Message: s3e.message });
    }
  }
  return xmlResponse(xmlDocument('DeleteResult', { Deleted: deleted, Error: errors }));
}
