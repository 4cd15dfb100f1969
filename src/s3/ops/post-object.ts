// POST Object: browser form uploads to POST /<bucket>, in both signature
// dialects. The request carries no Authorization header: it is authenticated
// by the signed policy in the form (SigV4, SigV2 or COS q-signature), so src/app.ts
// sends it here before the normal authenticate(). There is still no anonymous
// access: a form without a valid signature is refused with 403.

import { uriEncode } from '../../auth/canonical';
import {
  checkPolicyConditions,
  checkPolicyLength,
  decodePolicy,
  isV2Form,
  type PolicyCondition,
  parsePolicy,
  verifyPolicySignature,
} from '../../auth/post-policy';
import type { Identities } from '../../iam/identities';
import { httpRequestKeys } from '../../iam/request-keys';
import { checkAclHeaders } from '../acl';
import { authorizeAccess, s3Keys } from '../authorize';
import { type Ctx, layoutOf } from '../context';
import { checkKey, httpMetaFrom, MAX_OBJECT_SIZE, writeObject } from '../objects';
import { type Form, readForm } from '../payload/form';
import { type Dialect, userMetadata } from '../protocol/dialect';
import { S3Error } from '../protocol/errors';
import { type FieldGetter, parseSse, setSseHeaders } from '../protocol/sse-headers';
import { checkStorageClass } from '../protocol/storage-class';
import { parseTagging } from '../protocol/tagging';
import { xmlDocument } from '../protocol/xml';
import { writeMode } from '../write-mode';

/** What a POST Object handler gets: a request context that is not yet authenticated. */
export type PostCtx = Omit<Ctx, 'auth' | 'dialect' | 'principal'>;

/** Whether a request is a POST Object form upload (decided before authentication). */
export function isPostObject(req: Request, url: URL): boolean {
  if (req.method !== 'POST') return false;
  if (!/^\s*multipart\/form-data\s*(;|$)/i.test(req.headers.get('content-type') ?? '')) return false;
  const q = url.searchParams;
  return !q.has('delete') && !q.has('uploads') && !q.has('uploadId');
}

/** Form fields by lowercased name; a name may appear once. */
function fieldMap(form: Form): Map<string, string> {
  const m = new Map<string, string>();
  for (const [name, value] of form.fields) {
    const k = name.toLowerCase();
    if (m.has(k))
      throw new S3Error('InvalidArgument', `The form field ${name} appears more than once.`, { fields: { ArgumentName: name } });
    m.set(k, value);
  }
  return m;
}

function checkLength(conds: PolicyCondition[], length: number) {
  if (length > MAX_OBJECT_SIZE)
    throw new S3Error('EntityTooLarge', undefined, { fields: { ProposedSize: String(length), MaxSizeAllowed: String(MAX_OBJECT_SIZE) } });
  checkPolicyLength(conds, length);
}

const META_FIELD = /^(content-type|content-encoding|content-disposition|content-language|cache-control|expires|x-(?:amz|cos)-meta-.+)$/;

/** The object's HTTP metadata and user metadata from the form, as PutObject reads them from headers. */
function metadataFrom(f: Map<string, string>, fileType: string | undefined) {
  const h = new Headers();
  for (const [name, value] of f) {
    if (!META_FIELD.test(name)) continue;
    try {
      h.set(name, value);
    } catch {
      throw new S3Error('InvalidArgument', `The value of the form field ${name} is not a valid header value.`, {
        fields: { ArgumentName: name },
      });
    }
  }
  if (!h.has('content-type') && fileType) {
    try {
      h.set('content-type', fileType);
    } catch {
      /* an unusable part Content-Type is dropped */
    }
  }
  return { http: httpMetaFrom(h), meta: userMetadata(h) };
}

/** Where the object is now, in the addressing style the client used. */
function objectUrl(url: URL, key: string): string {
  const base = url.pathname.replace(/\/+$/, '');
  return `${url.origin}${base}/${key
    .split('/')
    .map((s) => uriEncode(s))
    .join('/')}`;
}

function redirectTo(target: string, bucket: string, key: string, etag: string): string | undefined {
  // Only absolute http(s) URLs; anything else is ignored as S3 does with an unusable redirect.
  try {
    if (!/^https?:$/.test(new URL(target).protocol)) return undefined;
  } catch {
    return undefined;
  }
  const hash = target.indexOf('#');
  const [head, frag] = hash < 0 ? [target, ''] : [target.slice(0, hash), target.slice(hash)];
  const q = `bucket=${encodeURIComponent(bucket)}&key=${encodeURIComponent(key)}&etag=${encodeURIComponent(`"${etag}"`)}`;
  return `${head}${head.includes('?') ? (/[?&]$/.test(head) ? '' : '&') : '?'}${q}${frag}`;
}

/**
 * POST /<bucket> with a multipart/form-data body. `setDialect` tells the app
 * which dialect to answer in as soon as the form shows it (COS forms sign with q-*).
 */
export async function postObject(base: PostCtx, ids: Identities, setDialect: (d: Dialect) => void, now = new Date()): Promise<Response> {
  if (!base.bucket || base.key) throw new S3Error('MethodNotAllowed', 'POST Object is addressed to the bucket, not to a key.');
  const h = base.req.headers;
  const form = await readForm(base.req.body, h.get('content-type'), h.get('content-length'));
  try {
    return await handle(base, form, ids, setDialect, now);
  } catch (e) {
    await form.file.body.cancel().catch(() => {});
    throw e;
  }
}

async function handle(base: PostCtx, form: Form, ids: Identities, setDialect: (d: Dialect) => void, now: Date): Promise<Response> {
  const f = fieldMap(form);
  const cosSig = ['q-signature', 'q-sign-algorithm', 'q-ak', 'q-key-time'].some((n) => f.has(n));
  const v4Sig = ['x-amz-signature', 'x-amz-algorithm', 'x-amz-credential'].some((n) => f.has(n));
  const amzSig = v4Sig || isV2Form(f);
  if ((cosSig && amzSig) || (v4Sig && isV2Form(f)))
    throw new S3Error(
      'InvalidArgument',
      'Only one auth mechanism allowed; a POST form is signed with x-amz-* (SigV4), AWSAccessKeyId and signature (SigV2) or q-* (COS) fields.',
    );
  const dialect: Dialect = cosSig ? 'cos' : 'amz';
  setDialect(dialect);
  // No anonymous uploads: an unsigned form is refused before anything else is looked at.
  if (!cosSig && !amzSig) throw new S3Error('AccessDenied', 'Access Denied');

  const policyField = f.get('policy');
  if (!policyField) throw new S3Error('AccessDenied', "Bucket POST must contain a field named 'policy'.");
  const policyBytes = decodePolicy(policyField);
  const who = await verifyPolicySignature(f, dialect, (ak) => ids.secret(ak), policyBytes, now, base.config.sigV2);
  const conds = parsePolicy(policyBytes, now);

  const rawKey = f.get('key');
  if (rawKey === undefined) {
    throw new S3Error(
      'InvalidArgument',
      "Bucket POST must contain a field named 'key'.  If it is specified, please check the order of the fields.",
      { fields: { ArgumentName: 'key' } },
    );
  }
  // biome-ignore lint/suspicious/noTemplateCurlyInString: S3's literal ${filename} placeholder
  const key = rawKey.split('${filename}').join(form.file.filename);
  const formBucket = f.get('bucket');
  if (formBucket !== undefined && formBucket !== base.bucket) {
    // The policy was signed for the form's bucket, not this one: S3 answers 403 (ceph/s3-tests test_post_object_wrong_bucket).
    throw new S3Error('AccessDenied', 'Invalid according to Policy: the bucket field does not name the bucket the form is posted to.');
  }
  // Conditions see the bucket of the request and the key after ${filename} substitution.
  const values = new Map(f);
  values.set('bucket', base.bucket);
  values.set('key', key);
  if (dialect === 'cos' && !values.has('q-sign-time')) values.set('q-sign-time', f.get('q-key-time')!);
  checkPolicyConditions(conds, values, new Set([...f.keys(), 'bucket']), dialect);
  checkLength(conds, form.file.length);
  checkKey(base, key);
  // The form's `acl` (and x-amz-grant-* fields) may keep the object private; sharing is refused.
  checkAclHeaders((n) => f.get(n), { owners: [who.accessKeyId], object: true, form: true });

  const get: FieldGetter = (s) => f.get(`x-amz-${s.toLowerCase()}`) ?? f.get(`x-cos-${s.toLowerCase()}`) ?? null;
  checkStorageClass(get);
  // S3's `tagging` field is a Tagging document, not the URL-query form of the header.
  const tagging = f.get('tagging');
  const tags = tagging ? parseTagging(tagging) : undefined;
  const sse = await parseSse(get, { dialect, secure: base.secure, config: base.config }, 'write');
  const ctx: Ctx = {
    ...base,
    key,
    dialect,
    auth: {
      accessKeyId: who.accessKeyId,
      dialect,
      method: who.method,
      payload: { kind: 'unsigned' },
      region: who.region,
    },
    principal: await ids.principal(who.accessKeyId),
  };
  // The signer's permissions now, with the form's fields as the condition keys (its `acl` field is s3:x-amz-acl).
  const formField = (name: string) =>
    (name === 'x-amz-acl' ? f.get('acl') : (f.get(name) ?? f.get(name.replace(/^x-amz-/, 'x-cos-')))) ?? null;
  await authorizeAccess(layoutOf(ctx), {
    principal: ctx.principal,
    action: 's3:PutObject',
    bucket: ctx.bucket,
    key,
    on: 'object',
    context: { ...httpRequestKeys(ctx.req, ctx.url, now), ...s3Keys(formField, { method: who.method, post: true }) },
  });
  const { http, meta } = metadataFrom(f, form.file.contentType);
  // Also checks that the bucket exists and allows this mode (bucket default encryption).
  const mode = await writeMode(ctx, sse);
  const rec = await writeObject(ctx, {
    bucket: ctx.bucket,
    key,
    body: form.file.body,
    length: form.file.length,
    mode,
    sse,
    meta,
    tags,
    http,
  });

  const headers = new Headers({ etag: `"${rec.etag}"`, 'x-cos-hash-crc64ecma': rec.crc64 });
  setSseHeaders(headers, dialect, rec.envelope, sse);
  const redirect = f.get('success_action_redirect') || f.get('redirect');
  const location = redirect ? redirectTo(redirect, ctx.bucket, key, rec.etag) : undefined;
  if (location) {
    headers.set('location', location);
    return new Response(null, { status: 303, headers });
  }
  const where = objectUrl(ctx.url, key);
  headers.set('location', where);
  const status = f.get('success_action_status');
  if (status === '201') {
    headers.set('content-type', 'application/xml');
    const body = xmlDocument('PostResponse', { Location: where, Bucket: ctx.bucket, Key: key, ETag: `"${rec.etag}"` }, '');
    return new Response(body, { status: 201, headers });
  }
  return new Response(null, { status: status === '200' ? 200 : 204, headers });
}
