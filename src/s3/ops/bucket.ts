// ListBuckets, CreateBucket, HeadBucket, DeleteBucket, GetBucketLocation.

import { forgetBucketPolicy } from '../bucket-policy';
import { type Ctx, layoutOf } from '../context';
import { forgetCorsRules } from '../cors';
import { MAX_CONFIG_BODY, requireBucket, wholeBody } from '../objects';
import { S3Error } from '../protocol/errors';
import { parseXml, xmlDocument, xmlResponse } from '../protocol/xml';

/** S3 bucket naming rules (which COS names, "name-appid", also satisfy). */
export function validBucketName(name: string): boolean {
  return (
    /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(name) &&
    !/\.\.|\.-|-\./.test(name) &&
    !/^\d+\.\d+\.\d+\.\d+$/.test(name) &&
    !name.startsWith('xn--') &&
    !name.endsWith('-s3alias')
  );
}

const owner = (ctx: Ctx) => ({ ID: ctx.auth.accessKeyId, DisplayName: ctx.auth.accessKeyId });

export async function listBuckets(ctx: Ctx): Promise<Response> {
  // Each layout's buckets, less any name that another layout answers for.
  const all = await Promise.all(ctx.layouts.all().map(async (l) => (await l.buckets()).filter((b) => ctx.layouts.of(b.name) === l)));
  const buckets = all
    .flat()
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .map((b) => ({ Name: b.name, CreationDate: b.created.toISOString() }));
  return xmlResponse(xmlDocument('ListAllMyBucketsResult', { Owner: owner(ctx), Buckets: { Bucket: buckets } }));
}

export async function createBucket(ctx: Ctx): Promise<Response> {
  if (!validBucketName(ctx.bucket)) throw new S3Error('InvalidBucketName', undefined, { fields: { BucketName: ctx.bucket } });
  const body = await wholeBody(ctx, MAX_CONFIG_BODY);
  if (body.trim()) parseXml(body, 'CreateBucketConfiguration');
  if (!(await layoutOf(ctx).createBucket(ctx.bucket, ctx.auth.accessKeyId)))
    throw new S3Error('BucketAlreadyOwnedByYou', undefined, { fields: { BucketName: ctx.bucket } });
  return new Response(null, { status: 200, headers: { location: `/${ctx.bucket}` } });
}

export async function headBucket(ctx: Ctx): Promise<Response> {
  await requireBucket(ctx);
  return new Response(null, { status: 200, headers: { 'x-amz-bucket-region': ctx.config.region } });
}

/** At most this many uploads in progress are aborted by one DeleteBucket; more and it is refused. */
export const MAX_UPLOADS_ABORTED_BY_DELETE = 100;

export async function deleteBucket(ctx: Ctx): Promise<Response> {
  await requireBucket(ctx);
  const layout = layoutOf(ctx);
  if (!(await layout.deleteBucket(ctx.bucket))) {
    // S3 deletes a bucket whose only content is uploads in progress (ceph/s3-tests' cleanup relies
    // on it): abort them, within a bounded amount of work per request, then try again.
    const notEmpty = (why?: string) => new S3Error('BucketNotEmpty', why, { fields: { BucketName: ctx.bucket } });
    if ((await layout.list(ctx.bucket, { prefix: '', limit: 1 })).objects.length) throw notEmpty();
    const open = await layout.uploads(ctx.bucket);
    if (open.length > MAX_UPLOADS_ABORTED_BY_DELETE) {
      throw notEmpty(
        `The bucket you tried to delete has ${open.length} multipart uploads in progress; abort them first (DeleteBucket aborts up to ${MAX_UPLOADS_ABORTED_BY_DELETE}).`,
      );
    }
    for (let i = 0; i < open.length; i += 8) await Promise.all(open.slice(i, i + 8).map((up) => layout.abort(ctx.bucket, up)));
    if (!(await layout.deleteBucket(ctx.bucket))) throw notEmpty();
  }
  forgetCorsRules(layoutOf(ctx), ctx.bucket);
  forgetBucketPolicy(layoutOf(ctx), ctx.bucket);
  return new Response(null, { status: 204 });
}

export async function bucketLocation(ctx: Ctx): Promise<Response> {
  await requireBucket(ctx);
  const region = ctx.config.region === 'us-east-1' ? '' : ctx.config.region;
  return xmlResponse(
    `<?xml version="1.0" encoding="UTF-8"?>\n<LocationConstraint xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${region}</LocationConstraint>`,
  );
}
