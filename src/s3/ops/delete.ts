// DeleteObject and DeleteObjects.

import { type Ctx, layoutOf } from '../context';
import { checkKey, MAX_LIST_BODY, requireBucket, wholeBody } from '../objects';
import { S3Error, toS3Error } from '../protocol/errors';
import { list, parseXml, text, xmlDocument, xmlResponse } from '../protocol/xml';

export async function deleteOne(ctx: Ctx): Promise<Response> {
  await requireBucket(ctx);
  await layoutOf(ctx).delete(ctx.bucket, ctx.key);
  return new Response(null, { status: 204 });
}

export async function deleteMany(ctx: Ctx): Promise<Response> {
  await requireBucket(ctx);
  const doc = parseXml(await wholeBody(ctx, MAX_LIST_BODY, { bound: true }), 'Delete');
  const objects = list(doc, 'Object');
  if (objects.length > 1000) throw new S3Error('MalformedXML', 'The request must contain no more than 1000 keys.');
  const quiet = text(doc, 'Quiet') === 'true';
  const keys = objects.map((o) => {
    const k = text(o, 'Key');
    if (k === undefined || k === '') throw new S3Error('MalformedXML');
    return k;
  });
  const deleted: { Key: string }[] = [];
  const errors: { Key: string; Code: string; Message: string }[] = [];
  for (const key of keys) {
    try {
      checkKey(ctx, key);
      await layoutOf(ctx).delete(ctx.bucket, key);
      if (!quiet) deleted.push({ Key: key });
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
      errors.push({ Key: key, Code: s3e.code, Message: s3e.message });
    }
  }
  return xmlResponse(xmlDocument('DeleteResult', { Deleted: deleted, Error: errors }));
}
