// Bucket policies: PUT / GET / DELETE /<bucket>?policy and GET /<bucket>?policyStatus.
// The policy is judged for every request in ../authorize.ts; it is kept by ../bucket-policy.ts.

import { loadBucketPolicyText, MAX_BUCKET_POLICY_BYTES, parseBucketPolicy, saveBucketPolicy } from '../bucket-policy';
import { type Ctx, layoutOf } from '../context';
import { requireBucket, wholeBody } from '../objects';
import { S3Error } from '../protocol/errors';
import { xmlDocument, xmlResponse } from '../protocol/xml';

export async function putBucketPolicy(ctx: Ctx): Promise<Response> {
  await requireBucket(ctx);
  const text = await wholeBody(ctx, MAX_BUCKET_POLICY_BYTES, { bound: true });
  parseBucketPolicy(text, ctx.bucket);
  await saveBucketPolicy(layoutOf(ctx), ctx.bucket, text);
  return new Response(null, { status: 204 });
}

/** The JSON exactly as it was put. */
export async function getBucketPolicy(ctx: Ctx): Promise<Response> {
  await requireBucket(ctx);
  const text = await loadBucketPolicyText(layoutOf(ctx), ctx.bucket);
  if (text === null)
    throw new S3Error('NoSuchBucketPolicy', undefined, { fields: ctx.dialect === 'cos' ? {} : { BucketName: ctx.bucket } });
  return new Response(text, { status: 200, headers: { 'content-type': 'application/json' } });
}

/** 204 whether or not there was a policy, as S3 answers. */
export async function deleteBucketPolicy(ctx: Ctx): Promise<Response> {
  await requireBucket(ctx);
  await saveBucketPolicy(layoutOf(ctx), ctx.bucket, null);
  return new Response(null, { status: 204 });
}

/**
 * Never public: every request here is signed by a principal of this deployment, so even
 * "Principal": "*" grants nothing to anonymous callers (README: Users and policies).
 */
export async function getBucketPolicyStatus(ctx: Ctx): Promise<Response> {
  await requireBucket(ctx);
  return xmlResponse(xmlDocument('PolicyStatus', { IsPublic: 'false' }));
}
