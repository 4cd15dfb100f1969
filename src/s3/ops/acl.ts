// GET / PUT /<bucket>?acl and /<bucket>/<key>?acl. The only ACL there is is the
// owner's FULL_CONTROL (../acl.ts says why); a PUT that keeps it is accepted and
// changes nothing, one that shares is refused.

import { decodeBucketSettings } from '../../layout/record';
import type { BucketInfo } from '../../layout/types';
import { checkAclBody, checkAclHeaders, ownerOnlyPolicy } from '../acl';
import type { Ctx } from '../context';
import { loadRecord, MAX_CONFIG_BODY, requireBucket, wholeBody } from '../objects';
import { S3Error } from '../protocol/errors';
import { xmlResponse } from '../protocol/xml';

/** Who owns the bucket: the key that created it; a bucket the gateway did not create (an upstream's) is the requester's. */
const ownerOf = (ctx: Ctx, info: BucketInfo) => decodeBucketSettings(info.custom).owner ?? ctx.auth.accessKeyId;

export async function getBucketAcl(ctx: Ctx): Promise<Response> {
  return xmlResponse(ownerOnlyPolicy(ownerOf(ctx, await requireBucket(ctx)), ctx.dialect === 'cos'));
}

export async function getObjectAcl(ctx: Ctx): Promise<Response> {
  const [info] = await Promise.all([requireBucket(ctx), loadRecord(ctx)]);
  return xmlResponse(ownerOnlyPolicy(ownerOf(ctx, info), ctx.dialect === 'cos'));
}

export async function putBucketAcl(ctx: Ctx): Promise<Response> {
  await putAcl(ctx, await requireBucket(ctx), false);
  return new Response(null, { status: 200 });
}

export async function putObjectAcl(ctx: Ctx): Promise<Response> {
  const [info] = await Promise.all([requireBucket(ctx), loadRecord(ctx)]);
  await putAcl(ctx, info, true);
  return new Response(null, { status: 200 });
}

async function putAcl(ctx: Ctx, info: BucketInfo, object: boolean): Promise<void> {
  const owners = [ownerOf(ctx, info), ctx.auth.accessKeyId];
  const inHeaders = checkAclHeaders((n) => ctx.req.headers.get(n), { owners, object });
  const body = await wholeBody(ctx, MAX_CONFIG_BODY);
  if (inHeaders) {
    if (body.trim()) throw new S3Error('UnexpectedContent');
    return;
  }
  if (!body.trim())
    throw new S3Error('MissingSecurityHeader', 'Your request was missing a required header', {
      fields: { MissingHeaderName: ctx.dialect === 'cos' ? 'x-cos-acl' : 'x-amz-acl' },
    });
  checkAclBody(body, owners);
}
