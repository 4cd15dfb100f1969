// Addressing (path style and virtual-hosted) and dispatch to the handlers.

import { checkAclHeaders } from './acl';
import { authorize, type Operation } from './authorize';
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
import { deleteBucketPolicy, getBucketPolicy, getBucketPolicyStatus, putBucketPolicy } from './ops/policy';
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

/** An S3 request resolved: the operation it is (for authorization) and the handler that serves it. */
export interface Route {
  op: Operation;
  run: () => Promise<Response>;
}

/** Resolves, authorizes (before any body is read or anything stored), then serves. */
export async function dispatch(ctx: Ctx): Promise<Response> {
  const { op, run } = route(ctx);
  await authorize(ctx, op);
  return run();
}

const refuse = (): never => {
  throw new S3Error('MethodNotAllowed');
};

/** The operation a request names, without doing it. Throws for what no operation serves. */
export function route(ctx: Ctx): Route {
  const m = ctx.req.method;
  const q = ctx.url.searchParams;
  const to = (op: Operation, run: () => Promise<Response>): Route => ({ op, run });
  // Object tagging is served (below); bucket tagging is not.
  const sub = UNSUPPORTED.find((s) => q.has(s) && !(s === 'tagging' && ctx.key));
  if (sub) throw new S3Error('NotImplemented', `The ${sub} subresource is not implemented by this gateway.`);
  if (!ctx.bucket) {
    if (m === 'GET') return to('ListBuckets', () => listBuckets(ctx));
    return refuse();
  }
  if (!ctx.key) {
    if (q.has('versioning')) {
      if (m === 'GET') return to('GetBucketVersioning', () => getBucketVersioning(ctx));
      // Turning versioning on is the next step (every version its own sealed record); until then it stays off.
      if (m === 'PUT')
        return to('PutBucketVersioning', () => {
          throw new S3Error('NotImplemented', 'The versioning subresource cannot be changed on this gateway yet.');
        });
      return refuse();
    }
    if (q.has('versions')) {
      if (m === 'GET') return to('ListObjectVersions', () => listObjectVersions(ctx));
      return refuse();
    }
    if (q.has('cors')) {
      if (m === 'GET') return to('GetBucketCors', () => getBucketCors(ctx));
      if (m === 'PUT') return to('PutBucketCors', () => putBucketCors(ctx));
      if (m === 'DELETE') return to('DeleteBucketCors', () => deleteBucketCors(ctx));
      return refuse();
    }
    if (q.has('acl')) {
      if (m === 'GET') return to('GetBucketAcl', () => getBucketAcl(ctx));
      if (m === 'PUT') return to('PutBucketAcl', () => putBucketAcl(ctx));
      return refuse();
    }
    if (q.has('encryption')) {
      if (m === 'GET') return to('GetBucketEncryption', () => getBucketEncryption(ctx));
      if (m === 'PUT') return to('PutBucketEncryption', () => putBucketEncryption(ctx));
      if (m === 'DELETE') return to('DeleteBucketEncryption', () => deleteBucketEncryption(ctx));
      return refuse();
    }
    if (q.has('policyStatus')) {
      if (m === 'GET') return to('GetBucketPolicyStatus', () => getBucketPolicyStatus(ctx));
      return refuse();
    }
    if (q.has('policy')) {
      if (m === 'GET') return to('GetBucketPolicy', () => getBucketPolicy(ctx));
      if (m === 'PUT') return to('PutBucketPolicy', () => putBucketPolicy(ctx));
      if (m === 'DELETE') return to('DeleteBucketPolicy', () => deleteBucketPolicy(ctx));
      return refuse();
    }
    if (m === 'PUT') {
      refuseSharing(ctx, false);
      return to('CreateBucket', () => createBucket(ctx));
    }
    if (m === 'HEAD') return to('HeadBucket', () => headBucket(ctx));
    if (m === 'DELETE') return to('DeleteBucket', () => deleteBucket(ctx));
    if (m === 'POST' && q.has('delete')) return to('DeleteObjects', () => deleteMany(ctx));
    if (m === 'GET' && q.has('location')) return to('GetBucketLocation', () => bucketLocation(ctx));
    if (m === 'GET' && q.has('uploads')) return to('ListMultipartUploads', () => listUploads(ctx));
    if (m === 'GET') return to('ListObjects', () => listObjects(ctx));
    return refuse();
  }
  // versions and versioning are bucket subresources: on an object they name nothing we serve.
  const bucketSub = ['versions', 'versioning', 'policy', 'policyStatus'].find((s) => q.has(s));
  if (bucketSub) throw new S3Error('NotImplemented', `The ${bucketSub} subresource is not implemented by this gateway.`);
  // Every object operation: a key no object can have here is refused before anything is read or stored.
  checkKey(ctx);
  if (q.has('cors')) throw new S3Error('NotImplemented', 'The cors subresource belongs to a bucket, not to an object.');
  if (q.has('acl')) {
    if (m === 'GET') return to('GetObjectAcl', () => getObjectAcl(ctx));
    if (m === 'PUT') return to('PutObjectAcl', () => putObjectAcl(ctx));
    return refuse();
  }
  const version = q.get('versionId');
  if (version !== null && (m === 'GET' || m === 'HEAD' || m === 'DELETE') && !q.has('uploadId'))
    ctx.version = parseVersionId(version, ctx.dialect);
  const copy = ctx.req.headers.has('x-amz-copy-source') || ctx.req.headers.has('x-cos-copy-source');
  if (q.has('uploadId')) {
    if (m === 'PUT') return to(copy ? 'UploadPartCopy' : 'UploadPart', () => uploadPart(ctx, copy));
    if (m === 'POST') return to('CompleteMultipartUpload', () => completeUpload(ctx));
    if (m === 'DELETE') return to('AbortMultipartUpload', () => abortUpload(ctx));
    if (m === 'GET') return to('ListParts', () => listParts(ctx));
    return refuse();
  }
  if ((m === 'POST' && q.has('uploads')) || m === 'PUT') refuseSharing(ctx, true);
  if (m === 'POST' && q.has('uploads')) return to('CreateMultipartUpload', () => createUpload(ctx));
  if (q.has('tagging')) {
    const op = m === 'GET' ? 'GetObjectTagging' : m === 'PUT' ? 'PutObjectTagging' : m === 'DELETE' ? 'DeleteObjectTagging' : undefined;
    // Other methods are refused by the handler, which knows the subresource's rules.
    return to(op ?? 'GetObjectTagging', () => objectTagging(ctx));
  }
  if (m === 'PUT') return copy ? to('CopyObject', () => copyObject(ctx)) : to('PutObject', () => putObject(ctx));
  if (m === 'GET' && q.has('attributes')) return to('GetObjectAttributes', () => getObjectAttributes(ctx));
  if (m === 'GET') return to('GetObject', () => getObject(ctx, false));
  if (m === 'HEAD') return to('HeadObject', () => getObject(ctx, true));
  if (m === 'DELETE') return to('DeleteObject', () => deleteOne(ctx));
  return refuse();
}

/**
 * A write (PutObject, CopyObject, CreateMultipartUpload, CreateBucket) may name an ACL that
 * keeps what it writes to its writer (private, bucket-owner-*); one that shares is refused
 * before anything is read or stored.
 */
function refuseSharing(ctx: Ctx, object: boolean): void {
  checkAclHeaders((n) => ctx.req.headers.get(n), { owners: [ctx.auth.accessKeyId], object });
}
