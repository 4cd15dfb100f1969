// POST Object: browser form uploads to POST /<bucket>, in both signature
// dialects. The request carries no Authorization header: it is authenticated
// by the signed policy in the form (SigV4 or COS q-signature), so src/app.ts
// sends it here before the normal authenticate(). There is still no anonymous
// access: a form without a valid signature is refused with 403.

import type { SecretLookup } from '../../auth/types';
import { deriveSigningKey } from '../../auth/sigv4';
import { MAX_COS_WINDOW_S } from '../../auth/cos';
import { digestHex, hmacHex, hmacKey, uriEncode } from '../../auth/canonical';
import { parseB64, timingSafeEqual } from '../../crypto/bytes';
import type { Ctx } from '../context';
import { userMetadata, type Dialect } from '../protocol/dialect';
import { S3Error } from '../protocol/errors';
import { readForm, type Form } from '../payload/form';
import { checkKey, httpMetaFrom, MAX_OBJECT_SIZE, writeObject } from '../objects';
import { writeMode } from '../write-mode';
import { parseSse, setSseHeaders, type FieldGetter } from '../protocol/sse-headers';
import { xmlDocument } from '../protocol/xml';

/** What a POST Object handler gets: a request context that is not yet authenticated. */
export type PostCtx = Omit<Ctx, 'auth' | 'dialect'>;

const SIGV4 = 'AWS4-HMAC-SHA256';
const AMZ_DATE = /^(\d{8})T\d{6}Z$/;
const MAX_SKEW_S = 15 * 60;

/** Whether a request is a POST Object form upload (decided before authentication). */
export function isPostObject(req: Request, url: URL): boolean {
  if (req.method !== 'POST') return false;
  if (!/^\s*multipart\/form-data\s*(;|$)/i.test(req.headers.get('content-type') ?? '')) return false;
  const q = url.searchParams;
  return !q.has('delete') && !q.has('uploads') && !q.has('uploadId');
}

const denied = (msg: string) => new S3Error('AccessDenied', msg);
const policyFailed = (msg: string) => denied(`Invalid according to Policy: ${msg}`);
const badPolicy = (msg: string) => new S3Error('InvalidPolicyDocument', `Invalid Policy: ${msg}`, { status: 400 });

/** Form fields by lowercased name; a name may appear once. */
function fieldMap(form: Form): Map<string, string> {
  const m = new Map<string, string>();
  for (const [name, value] of form.fields) {
    const k = name.toLowerCase();
    if (m.has(k)) throw new S3Error('InvalidArgument', `The form field ${name} appears more than once.`, { fields: { ArgumentName: name } });
    m.set(k, value);
  }
  return m;
}

/** Form fields that carry the signature itself and need no policy condition. */
const SIGNATURE_FIELDS: Record<Dialect, string[]> = {
  amz: ['x-amz-signature'],
  // The COS key time and access key are part of the signature material (q-sign-time is its alias).
  cos: ['q-signature', 'q-sign-algorithm', 'q-ak', 'q-key-time', 'q-sign-time'],
};

function decodePolicy(b64: string): Uint8Array {
  const bytes = parseB64(b64.replace(/\s+/g, ''), 'optional');
  if (!bytes) throw badPolicy('the policy field is not base64.');
  return bytes;
}

/** Verifies the form's signature over its policy; returns who signed it. */
async function verifyForm(f: Map<string, string>, dialect: Dialect, lookup: SecretLookup, policy: Uint8Array | undefined, now: Date) {
  const need = (name: string) => {
    const v = f.get(name);
    if (!v) throw denied(`Bucket POST must contain a field named '${name}'.`);
    return v;
  };
  const secretFor = async (ak: string) => {
    const s = await lookup(ak);
    if (s === undefined) throw new S3Error('InvalidAccessKeyId');
    return s;
  };

  if (dialect === 'cos') {
    const alg = need('q-sign-algorithm');
    if (alg !== 'sha1') throw new S3Error('InvalidArgument', 'q-sign-algorithm must be sha1.', { fields: { ArgumentName: 'q-sign-algorithm', ArgumentValue: alg } });
    const ak = need('q-ak');
    const keyTime = need('q-key-time');
    const sig = need('q-signature');
    need('policy');
    const m = /^(\d{1,12});(\d{1,12})$/.exec(keyTime);
    if (!m) throw new S3Error('InvalidArgument', 'q-key-time must be "<start>;<end>" in unix seconds.', { fields: { ArgumentName: 'q-key-time' } });
    if (Number(m[2]) - Number(m[1]) > MAX_COS_WINDOW_S) throw new S3Error('InvalidArgument', `q-key-time may span at most ${MAX_COS_WINDOW_S} seconds (7 days).`, { fields: { ArgumentName: 'q-key-time' } });
    const t = Math.floor(now.getTime() / 1000);
    if (t < Number(m[1]) - MAX_SKEW_S || t > Number(m[2])) throw denied('Request has expired');
    const secret = await secretFor(ak);
    const signKey = await hmacHex(await hmacKey(secret, 'SHA-1'), keyTime);
    const expected = await hmacHex(await hmacKey(signKey, 'SHA-1'), await digestHex('SHA-1', policy!));
    if (!timingSafeEqual(expected, sig.toLowerCase())) throw new S3Error('SignatureDoesNotMatch');
    return { accessKeyId: ak, region: undefined };
  }

  const alg = need('x-amz-algorithm');
  if (alg !== SIGV4) throw new S3Error('InvalidArgument', `x-amz-algorithm only supports "${SIGV4}"`, { fields: { ArgumentName: 'x-amz-algorithm', ArgumentValue: alg } });
  const cred = need('x-amz-credential');
  const date = need('x-amz-date');
  const sig = need('x-amz-signature');
  const policyB64 = need('policy');
  const parts = cred.split('/');
  if (parts.length < 5 || parts.at(-1) !== 'aws4_request' || parts.at(-2) !== 's3' || !/^\d{8}$/.test(parts.at(-4)!)) {
    throw new S3Error('InvalidArgument', 'x-amz-credential is malformed; expecting "<YOUR-AKID>/YYYYMMDD/REGION/s3/aws4_request".', { fields: { ArgumentName: 'x-amz-credential', ArgumentValue: cred } });
  }
  const [day, region] = parts.slice(-4);
  const ak = parts.slice(0, -4).join('/');
  const dm = AMZ_DATE.exec(date);
  if (!dm || dm[1] !== day) throw new S3Error('InvalidArgument', `x-amz-date must be in the form yyyyMMdd'T'HHmmss'Z' and on the day of the credential (${day}).`, { fields: { ArgumentName: 'x-amz-date', ArgumentValue: date } });
  const secret = await secretFor(ak);
  const expected = await hmacHex(await deriveSigningKey(secret, day, region, 's3'), policyB64);
  if (!timingSafeEqual(expected, sig.toLowerCase())) throw new S3Error('SignatureDoesNotMatch');
  return { accessKeyId: ak, region };
}

type Condition = { op: 'eq' | 'starts-with'; field: string; value: string; text: string } | { op: 'range'; min: number; max: number };

function parsePolicy(bytes: Uint8Array, now: Date): Condition[] {
  let doc: unknown;
  try {
    doc = JSON.parse(new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes));
  } catch {
    throw badPolicy('Invalid JSON.');
  }
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) throw badPolicy('Invalid JSON.');
  const { expiration, conditions } = doc as { expiration?: unknown; conditions?: unknown };
  if (expiration === undefined) throw badPolicy('Policy missing expiration.');
  const exp = typeof expiration === 'string' ? Date.parse(expiration) : NaN;
  if (Number.isNaN(exp)) throw badPolicy(`Invalid 'expiration' value: '${String(expiration)}'`);
  if (conditions === undefined) throw badPolicy('Policy missing conditions.');
  if (!Array.isArray(conditions)) throw badPolicy('Policy conditions must be a list.');
  if (now.getTime() > exp) throw policyFailed('Policy expired.');

  const str = (v: unknown) => (typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : undefined);
  const out: Condition[] = [];
  for (const c of conditions) {
    const invalid = () => badPolicy(`Invalid Condition: ${JSON.stringify(c)}`);
    if (Array.isArray(c)) {
      const op = typeof c[0] === 'string' ? c[0].toLowerCase() : '';
      if (op === 'content-length-range') {
        const [min, max] = [Number(c[1]), Number(c[2])];
        if (c.length !== 3 || !Number.isSafeInteger(min) || !Number.isSafeInteger(max) || min < 0 || max < min) throw invalid();
        out.push({ op: 'range', min, max });
        continue;
      }
      if ((op !== 'eq' && op !== 'starts-with') || c.length !== 3 || typeof c[1] !== 'string' || !c[1].startsWith('$')) throw invalid();
      const value = str(c[2]);
      if (value === undefined) throw invalid();
      out.push({ op, field: c[1].slice(1).toLowerCase(), value, text: `["${op}", "${c[1]}", ${JSON.stringify(value)}]` });
    } else if (c && typeof c === 'object') {
      const entries = Object.entries(c as Record<string, unknown>);
      if (!entries.length) throw invalid();
      for (const [k, v] of entries) {
        const value = str(v);
        if (value === undefined) throw invalid();
        out.push({ op: 'eq', field: k.toLowerCase(), value, text: `["eq", "$${k}", ${JSON.stringify(value)}]` });
      }
    } else throw invalid();
  }
  return out;
}

/** Checks every field condition and that every form field is covered by one. */
function checkConditions(conds: Condition[], values: Map<string, string>, formFields: Iterable<string>, exempt: string[]) {
  for (const c of conds) {
    if (c.op === 'range') continue;
    const v = values.get(c.field);
    let ok: boolean;
    if (v === undefined) ok = false;
    else if (c.op === 'eq') ok = v === c.value;
    // Content-Type may list several types; each must match.
    else if (c.field === 'content-type') ok = v.split(',').every((t) => t.trim().startsWith(c.value));
    else ok = v.startsWith(c.value);
    if (!ok) throw policyFailed(`Policy Condition failed: ${c.text}`);
  }
  const covered = new Set(conds.flatMap((c) => (c.op === 'range' ? [] : [c.field])));
  const extra = [...formFields].filter((n) => n !== 'policy' && n !== 'file' && !n.startsWith('x-ignore-') && !exempt.includes(n) && !covered.has(n));
  if (extra.length) throw policyFailed(`Extra input fields: ${extra.join(', ')}`);
}

function checkLength(conds: Condition[], length: number) {
  if (length > MAX_OBJECT_SIZE) throw new S3Error('EntityTooLarge', undefined, { fields: { ProposedSize: String(length), MaxSizeAllowed: String(MAX_OBJECT_SIZE) } });
  for (const c of conds) {
    if (c.op !== 'range') continue;
    if (length < c.min) throw new S3Error('EntityTooSmall', 'Your proposed upload is smaller than the minimum allowed size', { status: 400, fields: { ProposedSize: String(length), MinSizeAllowed: String(c.min) } });
    if (length > c.max) throw new S3Error('EntityTooLarge', undefined, { fields: { ProposedSize: String(length), MaxSizeAllowed: String(c.max) } });
  }
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
      throw new S3Error('InvalidArgument', `The value of the form field ${name} is not a valid header value.`, { fields: { ArgumentName: name } });
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
  return `${url.origin}${base}/${key.split('/').map((s) => uriEncode(s)).join('/')}`;
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
export async function postObject(base: PostCtx, lookup: SecretLookup, setDialect: (d: Dialect) => void, now = new Date()): Promise<Response> {
  if (!base.bucket || base.key) throw new S3Error('MethodNotAllowed', 'POST Object is addressed to the bucket, not to a key.');
  const h = base.req.headers;
  const form = await readForm(base.req.body, h.get('content-type'), h.get('content-length'));
  try {
    return await handle(base, form, lookup, setDialect, now);
  } catch (e) {
    await form.file.body.cancel().catch(() => {});
    throw e;
  }
}

async function handle(base: PostCtx, form: Form, lookup: SecretLookup, setDialect: (d: Dialect) => void, now: Date): Promise<Response> {
  const f = fieldMap(form);
  const cosSig = ['q-signature', 'q-sign-algorithm', 'q-ak', 'q-key-time'].some((n) => f.has(n));
  const amzSig = ['x-amz-signature', 'x-amz-algorithm', 'x-amz-credential'].some((n) => f.has(n));
  if (cosSig && amzSig) throw new S3Error('InvalidArgument', 'Only one auth mechanism allowed; a POST form is signed either with x-amz-* or with q-* fields.');
  const dialect: Dialect = cosSig ? 'cos' : 'amz';
  setDialect(dialect);
  // No anonymous uploads: an unsigned form is refused before anything else is looked at.
  if (!cosSig && !amzSig) throw denied('Access Denied');

  const policyField = f.get('policy');
  if (!policyField) throw denied("Bucket POST must contain a field named 'policy'.");
  const policyBytes = decodePolicy(policyField);
  const who = await verifyForm(f, dialect, lookup, policyBytes, now);
  const conds = parsePolicy(policyBytes, now);

  const rawKey = f.get('key');
  if (rawKey === undefined) {
    throw new S3Error('InvalidArgument', "Bucket POST must contain a field named 'key'.  If it is specified, please check the order of the fields.", { fields: { ArgumentName: 'key' } });
  }
  const key = rawKey.split('${filename}').join(form.file.filename);
  const formBucket = f.get('bucket');
  if (formBucket !== undefined && formBucket !== base.bucket) {
    throw new S3Error('InvalidArgument', 'The bucket field does not name the bucket the form is posted to.', { fields: { ArgumentName: 'bucket', ArgumentValue: formBucket } });
  }
  // Conditions see the bucket of the request and the key after ${filename} substitution.
  const values = new Map(f);
  values.set('bucket', base.bucket);
  values.set('key', key);
  if (dialect === 'cos' && !values.has('q-sign-time')) values.set('q-sign-time', f.get('q-key-time')!);
  checkConditions(conds, values, new Set([...f.keys(), 'bucket']), SIGNATURE_FIELDS[dialect]);
  checkLength(conds, form.file.length);
  checkKey(base, key);

  const get: FieldGetter = (s) => f.get(`x-amz-${s.toLowerCase()}`) ?? f.get(`x-cos-${s.toLowerCase()}`) ?? null;
  const sse = await parseSse(get, { dialect, secure: base.secure, config: base.config }, 'write');
  const ctx: Ctx = {
    ...base,
    key,
    dialect,
    auth: { accessKeyId: who.accessKeyId, dialect, method: dialect === 'cos' ? 'cos-post-policy' : 'sigv4-post-policy', payload: { kind: 'unsigned' }, region: who.region },
  };
  const { http, meta } = metadataFrom(f, form.file.contentType);
  // Also checks that the bucket exists and allows this mode (bucket default encryption).
  const mode = await writeMode(ctx, sse);
  const rec = await writeObject(ctx, { bucket: ctx.bucket, key, body: form.file.body, length: form.file.length, mode, sse, meta, http });

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
