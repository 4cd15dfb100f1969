// Bucket CORS configuration: PUT / GET / DELETE /<bucket>?cors, in S3's form
// (COS uses the same document). The rules are evaluated in app.ts, for preflights
// and for the headers of actual responses (../cors.ts).

import { type Ctx, layoutOf } from '../context';
import { loadCorsRules, parseCorsConfiguration, renderCorsRules, saveCorsRules } from '../cors';
import { MAX_CONFIG_BODY, requireBucket, wholeBody } from '../objects';
import { S3Error } from '../protocol/errors';
import { xmlDocument, xmlResponse } from '../protocol/xml';

export async function getBucketCors(ctx: Ctx): Promise<Response> {
  const rules = await loadCorsRules(layoutOf(ctx), await requireBucket(ctx));
  if (!rules) throw new S3Error('NoSuchCORSConfiguration', undefined, { fields: ctx.dialect === 'cos' ? {} : { BucketName: ctx.bucket } });
  return xmlResponse(xmlDocument('CORSConfiguration', { CORSRule: renderCorsRules(rules) }, ctx.dialect === 'cos' ? '' : undefined));
}

export async function putBucketCors(ctx: Ctx): Promise<Response> {
  const info = await requireBucket(ctx);
  // S3 requires Content-MD5 or a checksum here (botocore always sends one) when the body is not signed.
  const rules = parseCorsConfiguration(await wholeBody(ctx, MAX_CONFIG_BODY, { bound: true }));
  await saveCorsRules(layoutOf(ctx), info, rules);
  return new Response(null, { status: 200 });
}

/** 204 whether or not there was a configuration, as S3 answers. */
export async function deleteBucketCors(ctx: Ctx): Promise<Response> {
  const info = await requireBucket(ctx);
  await saveCorsRules(layoutOf(ctx), info, undefined);
  return new Response(null, { status: 204 });
}
