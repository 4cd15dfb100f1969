// Authorization of S3 requests: which IAM action an operation is (as AWS's "Amazon S3 API
// operations and the policy actions" lists them), on which resource ARN, with which condition
// keys; then the decision of the bucket policy and the principal's identity policies
// (iam/policy.ts decide), and S3's AccessDenied. Runs after authentication and before a
// handler reads any body or stores anything.

import { decide, judge } from '../iam/policy';
import { httpRequestKeys } from '../iam/request-keys';
import type { AuthzRequest, PolicyDocument } from '../iam/types';
import { decodeUploadCustom } from '../layout/record';
import type { Layout } from '../layout/types';
import { cachedBucketPolicy } from './bucket-policy';
import type { Ctx } from './context';
import { S3Error } from './protocol/errors';

/** What the router calls each request it serves; one name per S3 API operation. */
export type Operation =
  | 'ListBuckets'
  | 'CreateBucket'
  | 'HeadBucket'
  | 'DeleteBucket'
  | 'GetBucketLocation'
  | 'ListObjects'
  | 'ListObjectVersions'
  | 'ListMultipartUploads'
  | 'GetBucketVersioning'
  | 'PutBucketVersioning'
  | 'GetBucketCors'
  | 'PutBucketCors'
  | 'DeleteBucketCors'
  | 'GetBucketAcl'
  | 'PutBucketAcl'
  | 'GetBucketEncryption'
  | 'PutBucketEncryption'
  | 'DeleteBucketEncryption'
  | 'GetBucketPolicy'
  | 'PutBucketPolicy'
  | 'DeleteBucketPolicy'
  | 'GetBucketPolicyStatus'
  | 'DeleteObjects'
  | 'GetObject'
  | 'HeadObject'
  | 'PutObject'
  | 'CopyObject'
  | 'DeleteObject'
  | 'GetObjectAttributes'
  | 'GetObjectAcl'
  | 'PutObjectAcl'
  | 'GetObjectTagging'
  | 'PutObjectTagging'
  | 'DeleteObjectTagging'
  | 'CreateMultipartUpload'
  | 'UploadPart'
  | 'UploadPartCopy'
  | 'CompleteMultipartUpload'
  | 'AbortMultipartUpload'
  | 'ListParts';

interface ActionRule {
  action: string;
  /** The action when the request names a version (?versionId=), where S3 has a separate one. */
  versioned?: string;
  on: 'account' | 'bucket' | 'object';
}

const obj = (action: string, versioned?: string): ActionRule => ({ action, versioned, on: 'object' });
const bkt = (action: string): ActionRule => ({ action, on: 'bucket' });

/**
 * Operation -> IAM action. DeleteObjects is judged per key by its handler (s3:DeleteObject each);
 * CopyObject and UploadPartCopy also need s3:GetObject on the source (copy-source.ts).
 */
export const ACTIONS: Record<Operation, ActionRule | 'per-key'> = {
  ListBuckets: { action: 's3:ListAllMyBuckets', on: 'account' },
  CreateBucket: bkt('s3:CreateBucket'),
  HeadBucket: bkt('s3:ListBucket'),
  DeleteBucket: bkt('s3:DeleteBucket'),
  GetBucketLocation: bkt('s3:GetBucketLocation'),
  ListObjects: bkt('s3:ListBucket'),
  ListObjectVersions: bkt('s3:ListBucketVersions'),
  ListMultipartUploads: bkt('s3:ListBucketMultipartUploads'),
  GetBucketVersioning: bkt('s3:GetBucketVersioning'),
  PutBucketVersioning: bkt('s3:PutBucketVersioning'),
  GetBucketCors: bkt('s3:GetBucketCORS'),
  PutBucketCors: bkt('s3:PutBucketCORS'),
  DeleteBucketCors: bkt('s3:PutBucketCORS'),
  GetBucketAcl: bkt('s3:GetBucketAcl'),
  PutBucketAcl: bkt('s3:PutBucketAcl'),
  GetBucketEncryption: bkt('s3:GetEncryptionConfiguration'),
  PutBucketEncryption: bkt('s3:PutEncryptionConfiguration'),
  DeleteBucketEncryption: bkt('s3:PutEncryptionConfiguration'),
  GetBucketPolicy: bkt('s3:GetBucketPolicy'),
  PutBucketPolicy: bkt('s3:PutBucketPolicy'),
  DeleteBucketPolicy: bkt('s3:DeleteBucketPolicy'),
  GetBucketPolicyStatus: bkt('s3:GetBucketPolicyStatus'),
  DeleteObjects: 'per-key',
  GetObject: obj('s3:GetObject', 's3:GetObjectVersion'),
  HeadObject: obj('s3:GetObject', 's3:GetObjectVersion'),
  PutObject: obj('s3:PutObject'),
  CopyObject: obj('s3:PutObject'),
  DeleteObject: obj('s3:DeleteObject', 's3:DeleteObjectVersion'),
  GetObjectAttributes: obj('s3:GetObjectAttributes', 's3:GetObjectVersionAttributes'),
  GetObjectAcl: obj('s3:GetObjectAcl', 's3:GetObjectVersionAcl'),
  PutObjectAcl: obj('s3:PutObjectAcl', 's3:PutObjectVersionAcl'),
  GetObjectTagging: obj('s3:GetObjectTagging', 's3:GetObjectVersionTagging'),
  PutObjectTagging: obj('s3:PutObjectTagging', 's3:PutObjectVersionTagging'),
  DeleteObjectTagging: obj('s3:DeleteObjectTagging', 's3:DeleteObjectVersionTagging'),
  CreateMultipartUpload: obj('s3:PutObject'),
  UploadPart: obj('s3:PutObject'),
  UploadPartCopy: obj('s3:PutObject'),
  CompleteMultipartUpload: obj('s3:PutObject'),
  AbortMultipartUpload: obj('s3:AbortMultipartUpload'),
  ListParts: obj('s3:ListMultipartUploadParts'),
};

export const bucketArn = (bucket: string) => `arn:aws:s3:::${bucket}`;
export const objectArn = (bucket: string, key: string) => `arn:aws:s3:::${bucket}/${key}`;

/** Reads a request value: a header (x-amz-* or COS's x-cos-*), or the same name as a presigned URL's query parameter. */
export type FieldReader = (amzName: string) => string | null;

export function requestFields(req: Request, url: URL): FieldReader {
  return (name) => {
    const cos = name.replace(/^x-amz-/, 'x-cos-');
    const q = url.searchParams;
    return req.headers.get(name) ?? req.headers.get(cos) ?? q.get(name) ?? q.get(cos);
  };
}

/** The authentication method's condition keys: s3:authType and s3:signatureversion. */
function signatureKeys(method: string, post: boolean): Record<string, string[] | undefined> {
  const authType = post ? 'POST' : method.includes('presigned') ? 'REST-QUERY-STRING' : 'REST-HEADER';
  const version = method.startsWith('sigv4') ? 'AWS4-HMAC-SHA256' : method.startsWith('sigv2') ? 'AWS' : undefined;
  return { 's3:authType': [authType], 's3:signatureversion': version ? [version] : undefined };
}

const one = (v: string | null | undefined): string[] | undefined => (v === null || v === undefined ? undefined : [v]);

/** COS names SSE-KMS "cos/kms"; policies speak S3's "aws:kms". */
const sseValue = (v: string | null) => (v === null ? undefined : v.toLowerCase() === 'cos/kms' ? 'aws:kms' : v);

/**
 * The S3 condition keys of a request whose values `get` reads (headers, a presigned query, or a
 * POST form's fields). Absent values stay undefined, which Null and ...IfExists see.
 */
export function s3Keys(
  get: FieldReader,
  opts: { method: string; post?: boolean; list?: URLSearchParams },
): Record<string, string[] | undefined> {
  const keys: Record<string, string[] | undefined> = {
    ...signatureKeys(opts.method, !!opts.post),
    's3:x-amz-server-side-encryption': one(sseValue(get('x-amz-server-side-encryption'))),
    's3:x-amz-server-side-encryption-aws-kms-key-id': one(
      get('x-amz-server-side-encryption-aws-kms-key-id') ?? get('x-cos-server-side-encryption-cos-kms-key-id'),
    ),
    's3:x-amz-server-side-encryption-customer-algorithm': one(get('x-amz-server-side-encryption-customer-algorithm')),
    's3:x-amz-acl': one(get('x-amz-acl')),
    's3:x-amz-copy-source': one(get('x-amz-copy-source')),
    's3:x-amz-metadata-directive': one(get('x-amz-metadata-directive')),
    's3:x-amz-storage-class': one(get('x-amz-storage-class')),
    's3:x-amz-content-sha256': one(get('x-amz-content-sha256')),
    ...tagKeys('s3:RequestObjectTag', requestTagPairs(get('x-amz-tagging'))),
  };
  if (opts.list) {
    keys['s3:prefix'] = one(opts.list.get('prefix'));
    keys['s3:delimiter'] = one(opts.list.get('delimiter'));
    keys['s3:max-keys'] = one(opts.list.get('max-keys'));
  }
  return keys;
}

/**
 * The tags an x-amz-tagging value (`k=v&…`, URL-encoded) names, read leniently: one that does not
 * parse names none here, and its write is refused by the handler with S3's own error.
 */
function requestTagPairs(header: string | null): [string, string][] | undefined {
  if (header === null) return undefined;
  try {
    return header
      .split('&')
      .filter(Boolean)
      .map((pair) => {
        const eq = pair.indexOf('=');
        const dec = (x: string) => decodeURIComponent(x.replace(/\+/g, ' '));
        return [dec(eq < 0 ? pair : pair.slice(0, eq)), eq < 0 ? '' : dec(pair.slice(eq + 1))];
      });
  } catch {
    return undefined;
  }
}

/** `<prefix>/<key>` for each tag, and `<prefix>Keys` (s3:RequestObjectTagKeys) listing them. */
function tagKeys(prefix: string, tags: [string, string][] | undefined): Record<string, string[] | undefined> {
  if (!tags) return {};
  const keys: Record<string, string[] | undefined> = Object.fromEntries(tags.map(([k, v]) => [`${prefix}/${k}`, [v]]));
  if (prefix === 's3:RequestObjectTag') keys['s3:RequestObjectTagKeys'] = tags.map(([k]) => k);
  return keys;
}

/** Operations on an object that exists, whose tags S3 offers to policies as s3:ExistingObjectTag/<key>. */
const EXISTING_TAG_OPS: ReadonlySet<Operation> = new Set([
  'GetObject',
  'HeadObject',
  'GetObjectAcl',
  'PutObjectAcl',
  'GetObjectTagging',
  'PutObjectTagging',
  'DeleteObjectTagging',
  'GetObjectAttributes',
]);

/** Per policy document, which condition-key names it mentions (a key lookup that costs a store read is made only then). */
const mentioned = new WeakMap<PolicyDocument, Map<string, boolean>>();
function mentions(doc: PolicyDocument, key: string): boolean {
  const seen = mentioned.get(doc) ?? new Map<string, boolean>();
  mentioned.set(doc, seen);
  const known = seen.get(key);
  if (known !== undefined) return known;
  const found = JSON.stringify(doc).toLowerCase().includes(key);
  seen.set(key, found);
  return found;
}

/** Whether the identity policies or the bucket policy in play mention a condition key (lower-case name). */
async function policiesMention(ctx: Ctx, key: string): Promise<boolean> {
  const identity = ctx.principal.kind === 'user' ? ctx.principal.policies : [];
  const bucket = await cachedBucketPolicy(ctx.layouts.of(ctx.bucket), ctx.bucket);
  return [...identity, bucket].some((d) => d !== undefined && mentions(d, key));
}

/** s3:ExistingObjectTag/<key> of the object a request names, when some policy in play asks for them. */
async function existingTagKeys(ctx: Ctx, op: Operation): Promise<Record<string, string[] | undefined>> {
  if (!EXISTING_TAG_OPS.has(op)) return {};
  if (!(await policiesMention(ctx, 's3:existingobjecttag'))) return {};
  const rec = await ctx.layouts
    .of(ctx.bucket)
    .head(ctx.bucket, ctx.key)
    .catch(() => null);
  return tagKeys(
    's3:ExistingObjectTag',
    rec?.tags?.map((t) => [t.key, t.value]),
  );
}

const SSE_OF_MODE = { cos: 'AES256', kms: 'aws:kms' } as const;

/**
 * UploadPart and CompleteMultipartUpload carry no SSE header (only CreateMultipartUpload does;
 * SSE-C parts repeat the customer headers): like S3, they are judged with the upload's own
 * encryption, so a policy that demands SSE lets the parts of a sealed upload through, while an
 * unsealed upload was already refused at CreateMultipartUpload.
 */
async function uploadSse(layout: Layout, bucket: string, key: string, id: string | null): Promise<string | undefined> {
  if (!id || !/^[0-9a-f]{32}$/.test(id)) return undefined;
  const info = await layout.upload(bucket, id);
  if (!info || info.key !== key) return undefined;
  const mode = decodeUploadCustom(info.custom).envelope?.mode;
  return mode && mode !== 'c' ? SSE_OF_MODE[mode] : undefined;
}

/** One S3 authorization question, decided; throws AccessDenied when not allowed. */
export async function authorizeAccess(
  layout: Layout,
  req: Omit<AuthzRequest, 'resource'> & { bucket: string; key?: string; on: 'account' | 'bucket' | 'object' },
): Promise<void> {
  const refusal = await refusalOf(layout, req);
  if (refusal) throw refusal;
}

/** The AccessDenied a request gets, or undefined when it is allowed. */
export async function refusalOf(
  layout: Layout,
  req: Omit<AuthzRequest, 'resource'> & { bucket: string; key?: string; on: 'account' | 'bucket' | 'object' },
): Promise<S3Error | undefined> {
  const resource = req.on === 'account' ? '*' : req.on === 'bucket' ? bucketArn(req.bucket) : objectArn(req.bucket, req.key ?? '');
  const authz: AuthzRequest = { principal: req.principal, action: req.action, resource, context: req.context };
  // Root is never denied Put/Get/DeleteBucketPolicy (decide's ROOT_NEVER_DENIED): its way out of a lock-out.
  const policy = req.on === 'account' ? undefined : await cachedBucketPolicy(layout, req.bucket);
  const decision = decide(authz, policy);
  if (decision === 'Allow') return undefined;
  const where =
    decision === 'ImplicitDeny'
      ? `because no identity-based policy allows the ${req.action} action`
      : policy && judge(policy, authz) === 'deny'
        ? 'with an explicit deny in a resource-based policy'
        : 'with an explicit deny in an identity-based policy';
  return new S3Error(
    'AccessDenied',
    `User: ${req.principal.arn} is not authorized to perform: ${req.action} on resource: "${resource}" ${where}`,
  );
}

/** Authorizes the operation the router resolved `ctx` to, before its handler runs. */
export async function authorize(ctx: Ctx, op: Operation, now = new Date()): Promise<void> {
  const rule = ACTIONS[op];
  if (rule === 'per-key') return;
  const q = ctx.url.searchParams;
  const context = {
    ...httpRequestKeys(ctx.req, ctx.url, now),
    ...conditionKeysOf(ctx, op),
    ...(await existingTagKeys(ctx, op)),
  };
  // Only read the upload's record here (its handler reads it again) when some policy asks about SSE.
  const partOfUpload = op === 'UploadPart' || op === 'UploadPartCopy' || op === 'CompleteMultipartUpload';
  if (partOfUpload && (await policiesMention(ctx, 's3:x-amz-server-side-encryption')))
    context['s3:x-amz-server-side-encryption'] = one(await uploadSse(ctx.layouts.of(ctx.bucket), ctx.bucket, ctx.key, q.get('uploadId')));
  // A request that names a version (?versionId=) is its version action, where S3 has one.
  const action = q.has('versionId') && !q.has('uploadId') && rule.versioned ? rule.versioned : rule.action;
  await authorizeAccess(ctx.layouts.of(ctx.bucket), {
    principal: ctx.principal,
    action,
    bucket: ctx.bucket,
    key: ctx.key,
    on: rule.on,
    context,
  });
}

/** The S3 condition keys of a request the router resolved to `op`. */
export function conditionKeysOf(ctx: Ctx, op: Operation): Record<string, string[] | undefined> {
  const list = op === 'ListObjects' || op === 'ListObjectVersions' || op === 'ListMultipartUploads';
  return s3Keys(requestFields(ctx.req, ctx.url), { method: ctx.auth.method, list: list ? ctx.url.searchParams : undefined });
}
