// Addressing (path style and virtual-hosted) and dispatch to the handlers.

import { checkAclHeaders } from './acl';
import type { Ctx } from './context';
import { checkKey } from './objects';
import { getBucketAcl, getObjectAcl, putBucketAcl, putObjectAcl } from './ops/acl';
import { getObjectAttributes } from './ops/attributes';
import { bucketLocation, createBucket, deleteBucket, headBucket, listBuckets } from './ops/bucket';
import { deleteBucketEncryption, getBucketEncryption, putBucketEncryption } from './ops/bucket-encryption';
import { copyObject } from './ops/copy';
import { deleteBucketCors, getBucketCors, putBucketCors } from './ops/cors';
import { deleteMany, deleteOne } from './ops/delete';
import { getObject } from './ops/get';
import { listObjects } from './ops/list';
import { abortUpload, completeUpload, createUpload, listParts, listUploads, uploadPart } from './ops/multipart';
import { putObject } from './ops/put';
import { objectTagging } from './ops/tagging';
import { getBucketVersioning, listObjectVersions } from './ops/versions';
import { S3Error } from './protocol/errors';
import { parseVersionId } from './protocol/version-id';

/** Bucket and key of a request, from the Host (virtual-hosted) or the path. */
export function address(url: URL, host: string, baseDomains: string[]): { bucket: string; key: string } {
  const path = decodePath(url.pathname);
  const bucket = hostBucket(host, baseDomains);
  if (bucket !== undefined) return { bucket, key: path.slice(1) };
  const i = path.indexOf('/', 1);
  return i < 0 ? { bucket: path.slice(1), key: '' } : { bucket: path.slice(1, i), key: path.slice(i + 1) };
}

/** The bucket a virtual-hosted Host names ("<bucket>.<base>"), if it names one. */
export function hostBucket(host: string, baseDomains: string[]): string | undefined {
  const hostname = host.replace(/:\d+$/, '').toLowerCase();
  const base = baseDomains.find((b) => hostname.endsWith(`.${b}`));
  return base === undefined ? undefined : hostname.slice(0, -base.length - 1);
}

function decodePath(p: string): string {
  try {
    return decodeURIComponent(p);
  } catch {
    throw new S3Error('InvalidURI', "Couldn't parse the specified URI.", { status: 400 });
  }
}

// Subresources we do not serve yet: answer 501 rather than misreading them as plain object calls.
const UNSUPPORTED = [
  'policy',
  'lifecycle',
  'tagging',
  'website',
  'logging',
  'notification',
  'replication',
  'object-lock',
  'retention',
  'legal-hold',
  'torrent',
  'restore',
  'select',
  'accelerate',
  'requestPayment',
  'inventory',
  'metrics',
  'analytics',
  'intelligent-tiering',
  'ownershipControls',
  'publicAccessBlock',
];

export async function dispatch(ctx: Ctx): Promise<Response> {
  const m = ctx.req.method;
  const q = ctx.url.searchParams;
  // Object tagging is served (below); bucket tagging is not.
  const sub = UNSUPPORTED.find((s) => q.has(s) && !(s === 'tagging' && ctx.key));
  if (sub) throw new S3Error('NotImplemented', `The ${sub} subresource is not implemented by this gateway.`);
  if (!ctx.bucket) {
    if (m === 'GET') return listBuckets(ctx);
    throw new S3Error('MethodNotAllowed');
  }
  if (!ctx.key) {
    if (q.has('versioning')) {
      if (m === 'GET') return getBucketVersioning(ctx);
      // Turning versioning on is the next step (every version its own sealed record); until then it stays off.
      if (m === 'PUT') throw new S3Error('NotImplemented', 'The versioning subresource cannot be changed on this gateway yet.');
      throw new S3Error('MethodNotAllowed');
    }
    if (q.has('versions')) {
      if (m === 'GET') return listObjectVersions(ctx);
      throw new S3Error('MethodNotAllowed');
    }
    if (q.has('cors')) {
      if (m === 'GET') return getBucketCors(ctx);
      if (m === 'PUT') return putBucketCors(ctx);
      if (m === 'DELETE') return deleteBucketCors(ctx);
      throw new S3Error('MethodNotAllowed');
    }
    if (q.has('acl')) {
      if (m === 'GET') return getBucketAcl(ctx);
      if (m === 'PUT') return putBucketAcl(ctx);
      throw new S3Error('MethodNotAllowed');
    }
    if (q.has('encryption')) {
      if (m === 'GET') return getBucketEncryption(ctx);
      if (m === 'PUT') return putBucketEncryption(ctx);
      if (m === 'DELETE') return deleteBucketEncryption(ctx);
      throw new S3Error('MethodNotAllowed');
    }
    if (m === 'PUT') {
      refuseSharing(ctx, false);
      return createBucket(ctx);
    }
    if (m === 'HEAD') return headBucket(ctx);
    if (m === 'DELETE') return deleteBucket(ctx);
    if (m === 'POST' && q.has('delete')) return deleteMany(ctx);
    if (m === 'GET' && q.has('location')) return bucketLocation(ctx);
    if (m === 'GET' && q.has('uploads')) return listUploads(ctx);
    if (m === 'GET') return listObjects(ctx);
    throw new S3Error('MethodNotAllowed');
  }
  // versions and versioning are bucket subresources: on an object they name nothing we serve.
  const bucketSub = ['versions', 'versioning'].find((s) => q.has(s));
  if (bucketSub) throw new S3Error('NotImplemented', `The ${bucketSub} subresource is not implemented by this gateway.`);
  // Every object operation: a key no object can have here is refused before anything is read or stored.
  checkKey(ctx);
  if (q.has('cors')) throw new S3Error('NotImplemented', 'The cors subresource belongs to a bucket, not to an object.');
  if (q.has('acl')) {
    if (m === 'GET') return getObjectAcl(ctx);
    if (m === 'PUT') return putObjectAcl(ctx);
    throw new S3Error('MethodNotAllowed');
  }
  const version = q.get('versionId');
  if (version !== null && (m === 'GET' || m === 'HEAD' || m === 'DELETE') && !q.has('uploadId'))
    ctx.version = parseVersionId(version, ctx.dialect);
  const copy = ctx.req.headers.has('x-amz-copy-source') || ctx.req.headers.has('x-cos-copy-source');
  if (q.has('uploadId')) {
    if (m === 'PUT') return uploadPart(ctx, copy);
    if (m === 'POST') return completeUpload(ctx);
    if (m === 'DELETE') return abortUpload(ctx);
    if (m === 'GET') return listParts(ctx);
    throw new S3Error('MethodNotAllowed');
  }
  if ((m === 'POST' && q.has('uploads')) || m === 'PUT') refuseSharing(ctx, true);
  if (m === 'POST' && q.has('uploads')) return createUpload(ctx);
  if (q.has('tagging')) return objectTagging(ctx);
  if (m === 'PUT') return copy ? copyObject(ctx) : putObject(ctx);
  if (m === 'GET' && q.has('attributes')) return getObjectAttributes(ctx);
  if (m === 'GET') return getObject(ctx, false);
  if (m === 'HEAD') return getObject(ctx, true);
  if (m === 'DELETE') return deleteOne(ctx);
  throw new S3Error('MethodNotAllowed');
}

/**
 * A write (PutObject, CopyObject, CreateMultipartUpload, CreateBucket) may name an ACL that
 * keeps what it writes to its writer (private, bucket-owner-*); one that shares is refused
 * before anything is read or stored.
 */
function refuseSharing(ctx: Ctx, object: boolean): void {
  checkAclHeaders((n) => ctx.req.headers.get(n), { owners: [ctx.auth.accessKeyId], object });
}
