// @ts-check
// sealbucket console: the gateway's S3 and KMS APIs, signed in the browser with aws4fetch.
// Credentials live only in the Gateway object (and sessionStorage if the user asked).
// Served as written: types are JSDoc only (tsconfig.console.json checks them).
import { AwsClient } from './aws4fetch.js';

/** @typedef {{ accessKeyId: string, secretAccessKey: string, region?: string }} Credentials */
/** @typedef {{ name: string, created: string }} BucketSummary */
/**
 * A bucket's default encryption: 'cos' (SSE-COS), 'kms' (SSE-KMS; keyId '' is the gateway's
 * default KMS key) or null (none set: the gateway default applies).
 * @typedef {{ mode: 'cos' | 'kms' | null, keyId: string }} BucketEncryption
 */
/** @typedef {{ key: string, size: number, lastModified: string, etag: string }} ObjectSummary */
/**
 * One page of a folder: its subfolders (full prefixes), its objects, and the continuation
 * token of the next page ('' on the last).
 * @typedef {{ folders: string[], objects: ObjectSummary[], next: string }} ObjectListing
 */
/**
 * How an object is sealed; `error` says why it cannot be read now (SSE-C without the key, or a
 * KMS key that cannot be used).
 * @typedef {{ mode: 'SSE-COS' | 'SSE-KMS' | 'SSE-C' | 'none', keyId?: string, error?: ApiError }} Encryption
 */
/**
 * A HEAD's headers (absent when only the reason it failed is known) and the object's sealing.
 * @typedef {{ headers?: Headers, enc: Encryption }} ObjectHead
 */
/**
 * Query parameters; null and undefined ones are left out.
 * @typedef {Record<string, string | null | undefined>} Query
 */
/**
 * @typedef {object} S3Options
 * @property {Query} [query]
 * @property {Record<string, string>} [headers]
 * @property {BodyInit | null} [body]
 * @property {string} [action] what the user was doing, for explain()
 * @property {number[]} [ok] statuses besides 2xx that are returned rather than thrown
 */
/**
 * A KMS key's metadata (DescribeKey), as far as the console reads it; dates are epoch seconds.
 * @typedef {{ KeyId: string, Arn?: string, KeyState?: string, Origin?: string, Description?: string, CreationDate?: number, DeletionDate?: number }} KeyMetadata
 */
/**
 * A key with its aliases and yearly rotation (null: not applicable to its state, or unknown).
 * @typedef {KeyMetadata & { aliases: string[], rotation: boolean | null }} KeyDetail
 */
/**
 * The operator endpoint's report: object counts per master key version and per other sealing
 * ("master:<id>", "kms:<key id>", "sse-c", "unencrypted").
 * @typedef {{ active: string, versions: Record<string, number>, usage: Record<string, number>, missingVersions?: string[] }} Keyring
 */

/**
 * Who signed in: the ARN STS names, and the user name ('root' for the account's root; '' when
 * the gateway could not say, i.e. it answered GetCallerIdentity with "not implemented").
 * @typedef {{ arn: string, name: string, root: boolean }} Caller
 */
/** @typedef {{ UserName: string, UserId: string, Arn: string, CreateDate: string }} IamUser */
/** @typedef {{ UserName: string, AccessKeyId: string, Status: string, CreateDate: string }} AccessKeyMeta */
/** @typedef {{ PolicyName: string, PolicyArn: string }} AttachedPolicy */

export const MiB = 1024 * 1024;
/** Files above this go up as multipart uploads, in parts of PART_SIZE (S3's minimum is 5 MiB). */
export const MULTIPART_THRESHOLD = 8 * MiB;
export const PART_SIZE = 5 * MiB;
const PART_CONCURRENCY = 3;

/** An API failure, with the words a person should see. */
export class ApiError extends Error {
  /**
   * @param {number} status the HTTP status (0: no answer)
   * @param {string} code
   * @param {string} detail
   * @param {string} [friendly]
   */
  constructor(status, code, detail, friendly) {
    super(friendly || detail || code);
    this.status = status;
    this.code = code;
    this.detail = detail;
  }
}

const READ = 'read';

/** What an AccessDenied stopped, by the `action` of the call: "You are not allowed to ...". */
const ALLOWED_TO = /** @type {Record<string, string>} */ ({
  read: 'read this object',
  write: 'upload or change objects here',
  create: 'create this',
  delete: 'delete this',
  list: 'list the buckets',
  'list-objects': 'list the objects of this bucket',
  admin: 'see the keyring status',
  users: 'manage users',
  policy: 'read or change this bucket policy',
  keys: 'use the key service',
  kms: 'use the key service',
});

/**
 * Error codes (S3, COS and KMS) in words. `action` says what the user was doing:
 * 'read' (opening an object), 'write' (uploading or re-encrypting), 'signin', or another.
 * @param {string} code
 * @param {number} [status]
 * @param {string} [detail]
 * @param {string} [action]
 * @returns {string}
 */
export function explain(code, status = 0, detail, action) {
  const key = String(code || '');
  switch (key) {
    case 'KMS.DisabledException':
    case 'KmsKeyDisabled':
    case 'DisabledException':
      return action === READ
        ? 'This key is disabled; enable it in Keys to read this object.'
        : 'This key is disabled; enable it in Keys to use it.';
    case 'KMS.NotFoundException':
    case 'KmsKeyNotExist':
    case 'NotFoundException':
      return action === READ
        ? 'The KMS key of this object no longer exists, so the object cannot be read.'
        : 'That KMS key or alias does not exist.';
    case 'KMS.KMSInvalidStateException':
    case 'KMSInvalidStateException':
    case 'KmsException':
      return action === READ
        ? 'The KMS key of this object cannot be used in its current state (for example, it is pending deletion); cancel the deletion in Keys to read this object.'
        : 'That KMS key cannot be used in its current state (for example, it is pending deletion or has no key material).';
    case 'KMS.KMSInternalException':
    case 'KmsInternalException':
    case 'KMSInternalException':
      return 'The key service had an internal problem; try again in a moment.';
    case 'AlreadyExistsException':
      return 'An alias with that name already exists; choose another.';
    case 'NotAuthorizedException':
      return 'Alias names beginning with alias/aws/ are reserved; choose another.';
    case 'ValidationException':
    case 'SerializationException':
      return `The key service refused the request: ${detail || 'invalid input'}.`;
    case 'UnsupportedOperationException':
      return `The key service does not support that: ${detail || 'unsupported operation'}.`;
    case 'SignatureDoesNotMatch':
    case 'InvalidSignatureException':
    case 'IncompleteSignatureException':
    case 'IncompleteSignature':
      return 'The secret access key does not match this access key ID. Check both and sign in again.';
    case 'InvalidAccessKeyId':
    case 'InvalidClientTokenId':
    case 'UnrecognizedClientException':
      return 'The gateway does not know this access key ID.';
    case 'RequestTimeTooSkewed':
      return "This computer's clock is more than 15 minutes off; correct it and try again.";
    case 'AccessDenied':
    case 'AccessDeniedException':
    case 'MissingAuthenticationTokenException':
      if (action === 'signin') return 'The gateway refused these credentials.';
      return action && ALLOWED_TO[action]
        ? `You are not allowed to ${ALLOWED_TO[action]}.`
        : 'You are not allowed to do this with your credentials.';
    case 'NoSuchBucketPolicy':
      return 'This bucket has no policy.';
    case 'MalformedPolicy':
    case 'MalformedPolicyDocument':
      return detail ? `The gateway refused the policy: ${detail}` : 'The gateway refused the policy as malformed.';
    case 'NoSuchEntity':
      return detail || 'That user, key or policy does not exist.';
    case 'EntityAlreadyExists':
      return detail || 'That name is taken already.';
    case 'DeleteConflict':
      return detail || 'Remove its access keys and policies first.';
    case 'LimitExceeded':
      return detail || 'A limit was reached.';
    case 'InvalidAction':
      return 'This gateway does not offer that operation.';
    case 'NoSuchBucket':
      return 'That bucket does not exist (it may have just been deleted).';
    case 'NoSuchKey':
      return 'That object does not exist (it may have just been deleted).';
    case 'BucketNotEmpty':
      return 'This bucket still holds objects; delete them first, then delete the bucket.';
    case 'BucketAlreadyOwnedByYou':
    case 'BucketAlreadyExists':
      return 'A bucket with that name already exists.';
    case 'InvalidBucketName':
      return 'Bucket names are 3 to 63 characters of lowercase letters, digits, dots and hyphens, beginning and ending with a letter or digit.';
    case 'KeyTooLongError':
      return 'That object name is too long (the limit is 1024 bytes).';
    case 'EntityTooLarge':
      return 'That file is larger than the gateway accepts in one request.';
    case 'EntityTooSmall':
      return 'An upload part was smaller than 5 MiB.';
    case 'NoSuchUpload':
      return 'The upload was cancelled or expired; start it again.';
    case 'SSE-C':
      return 'This object is encrypted with a customer-provided key (SSE-C); the console cannot read or change it without that key.';
    case 'InvalidRequest':
    case 'InvalidArgument':
      return detail ? `The gateway refused the request: ${detail}` : 'The gateway refused the request as invalid.';
    case 'IntegrityError':
    case 'InvalidCiphertextException':
      return 'The stored data failed its integrity check; it may have been tampered with.';
    case 'PreconditionFailed':
      return 'The object changed while you were working on it; reload and try again.';
    case 'SlowDown':
    case 'ServiceUnavailable':
    case 'ThrottlingException':
      return 'The gateway is busy; try again in a moment.';
    case 'InternalError':
      return 'The gateway had an internal error; try again.';
    case 'NetworkError':
      return 'Could not reach the gateway; check the connection and try again.';
    case 'MethodNotAllowed':
      return 'The gateway does not allow that operation here.';
    case 'NotImplemented':
    case 'UnknownOperationException':
      return 'This gateway does not offer that operation.';
    default:
      if (status === 403) return 'The gateway refused this request with your credentials.';
      if (status >= 500) return 'The gateway had a problem answering; try again.';
      return detail ? `The request failed: ${detail}` : `The request failed (HTTP ${status || 'error'}).`;
  }
}

// ---------------------------------------------------------------- XML

/** @param {string} text @returns {Document | null} */
export function parseXml(text) {
  const doc = new DOMParser().parseFromString(text, 'application/xml');
  if (doc.getElementsByTagName('parsererror').length) return null;
  return doc;
}
/** @param {Element | null | undefined} el @param {string} tag @returns {Element[]} */
const children = (el, tag) => (el ? [...el.children].filter((c) => c.localName === tag) : []);
/** @param {Element | null | undefined} el @param {string} tag */
const child = (el, tag) => children(el, tag)[0];
/** @param {Element | null | undefined} el @param {string} tag */
const textOf = (el, tag) => child(el, tag)?.textContent ?? '';
/** @param {string} s */
const escXml = (s) =>
  String(s).replace(
    /[<>&'"]/g,
    (c) => /** @type {Record<string, string>} */ ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c],
  );

/**
 * The S3/COS <Error> of a failed response, as an ApiError.
 * @param {Response} res
 * @param {string} [action]
 * @param {string} [bodyText] the body, when it has been read already
 * @returns {Promise<ApiError>}
 */
async function s3Failure(res, action, bodyText) {
  const text = bodyText ?? (await res.text().catch(() => ''));
  const doc = text ? parseXml(text) : null;
  const err = doc?.documentElement?.localName === 'Error' ? doc.documentElement : null;
  const code = err ? textOf(err, 'Code') : res.status === 403 ? 'AccessDenied' : `HTTP${res.status}`;
  const detail = err ? textOf(err, 'Message') : '';
  return new ApiError(res.status, code, detail, explain(code, res.status, detail, action));
}

// ---------------------------------------------------------------- paths

/** @param {string} key */
export const encodeKey = (key) => key.split('/').map(encodeURIComponent).join('/');

/** @param {string} bucket @param {string} key */
function objectPath(bucket, key) {
  let p = '/';
  if (bucket) p += encodeURIComponent(bucket);
  if (key) p += `/${encodeKey(key)}`;
  return p;
}

/**
 * SSE request headers for a mode: 'cos' (SSE-COS, AES256) or 'kms' with a key id.
 * @param {string} mode
 * @param {string} [keyId]
 * @returns {Record<string, string>}
 */
export function sseHeaders(mode, keyId) {
  if (mode === 'kms') {
    /** @type {Record<string, string>} */
    const h = { 'x-amz-server-side-encryption': 'aws:kms' };
    if (keyId) h['x-amz-server-side-encryption-aws-kms-key-id'] = keyId;
    return h;
  }
  if (mode === 'cos') return { 'x-amz-server-side-encryption': 'AES256' };
  return {};
}

/**
 * How an object is sealed, from a HEAD's headers.
 * @param {Headers} h
 * @returns {Encryption}
 */
export function encryptionFromHeaders(h) {
  const sse = h.get('x-amz-server-side-encryption') ?? h.get('x-cos-server-side-encryption');
  if (sse === 'AES256') return { mode: 'SSE-COS' };
  if (sse === 'aws:kms' || sse === 'cos/kms' || sse === 'aws:kms:dsse') {
    return {
      mode: 'SSE-KMS',
      keyId: h.get('x-amz-server-side-encryption-aws-kms-key-id') ?? h.get('x-cos-server-side-encryption-cos-kms-key-id') ?? '',
    };
  }
  if (h.get('x-amz-server-side-encryption-customer-algorithm')) return { mode: 'SSE-C' };
  return { mode: 'none' };
}

/** Codes meaning "this gateway has no such operation" (then sign-in falls back to ListBuckets). */
const NOT_IMPLEMENTED = new Set(['NotImplemented', 'InvalidAction', 'UnknownOperationException', 'MethodNotAllowed', 'HTTP404', 'HTTP501']);

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i;

// ---------------------------------------------------------------- the gateway

export class Gateway {
  /** @param {Credentials} credentials @param {string} [origin] */
  constructor({ accessKeyId, secretAccessKey, region }, origin = location.origin) {
    this.accessKeyId = accessKeyId;
    this.origin = origin;
    const common = { accessKeyId, secretAccessKey, region: region || 'us-east-1', retries: 0 };
    this.s3c = new AwsClient({ ...common, service: 's3' });
    this.kmsc = new AwsClient({ ...common, service: 'kms' });
    this.iamc = new AwsClient({ ...common, service: 'iam' });
    this.stsc = new AwsClient({ ...common, service: 'sts' });
  }

  /** @param {string} bucket @param {string} key @param {Query} [query] */
  url(bucket, key, query) {
    const u = new URL(objectPath(bucket, key), this.origin);
    for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined && v !== null) u.searchParams.set(k, v);
    return u.toString();
  }

  // Every call bypasses the HTTP cache: it keys on the URL alone, so a HEAD could otherwise be
  // answered with a stale entry from before a change of encryption.

  /**
   * One signed S3 call; throws ApiError unless the status is 2xx (or listed in `ok`).
   * @param {string} method
   * @param {string} bucket
   * @param {string} key
   * @param {S3Options} [options]
   * @returns {Promise<Response>}
   */
  async s3(method, bucket, key, { query, headers, body, action, ok = [] } = {}) {
    const req = await this.s3c.sign(this.url(bucket, key, query), { method, headers, body: body ?? null });
    let res;
    try {
      res = await fetch(req, { cache: 'no-store' });
    } catch (/** @type {any} */ e) {
      throw new ApiError(0, 'NetworkError', String(e?.message ?? e), explain('NetworkError', 0, '', action));
    }
    if (res.ok || ok.includes(res.status)) return res;
    throw await s3Failure(res, action);
  }

  /**
   * One TrentService call (AWS KMS JSON protocol, SigV4 service "kms"); returns the parsed reply.
   * @param {string} op
   * @param {Record<string, unknown>} [input]
   * @param {string} [action]
   * @returns {Promise<any>} the reply's shape is the operation's
   */
  async kms(op, input = {}, action = 'keys') {
    const req = await this.kmsc.sign(`${this.origin}/`, {
      method: 'POST',
      headers: { 'x-amz-target': `TrentService.${op}`, 'content-type': 'application/x-amz-json-1.1' },
      body: JSON.stringify(input),
    });
    let res;
    try {
      res = await fetch(req, { cache: 'no-store' });
    } catch (/** @type {any} */ e) {
      throw new ApiError(0, 'NetworkError', String(e?.message ?? e), explain('NetworkError', 0, '', action));
    }
    const text = await res.text();
    /** @type {any} */
    let json = {};
    try {
      json = text ? JSON.parse(text) : {};
    } catch {
      // An S3 XML error (the gateway did not route this to the KMS API at all).
      if (!res.ok) throw await s3Failure(res, action, text);
    }
    if (res.ok) return json;
    const type = /** @type {string} */ (
      String(json.__type ?? res.headers.get('x-amzn-errortype') ?? `HTTP${res.status}`)
        .split('#')
        .pop()
    ).split(':')[0];
    const detail = json.message ?? json.Message ?? '';
    throw new ApiError(res.status, type, detail, explain(type, res.status, detail, action));
  }

  /**
   * One IAM (or STS) query call: a signed POST form; returns the <{op}Result> element.
   * @param {string} op
   * @param {Record<string, string>} [params]
   * @param {string} [action]
   * @param {'iam' | 'sts'} [service]
   * @returns {Promise<Element | undefined>}
   */
  async iam(op, params = {}, action = 'users', service = 'iam') {
    const body = new URLSearchParams({ Action: op, Version: service === 'sts' ? '2011-06-15' : '2010-05-08', ...params });
    const client = service === 'sts' ? this.stsc : this.iamc;
    const req = await client.sign(`${this.origin}/`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
      body: body.toString(),
    });
    let res;
    try {
      res = await fetch(req, { cache: 'no-store' });
    } catch (/** @type {any} */ e) {
      throw new ApiError(0, 'NetworkError', String(e?.message ?? e), explain('NetworkError', 0, '', action));
    }
    const text = await res.text();
    const doc = text ? parseXml(text) : null;
    if (res.ok && doc) return child(doc.documentElement, `${op}Result`);
    // IAM's <ErrorResponse><Error>; an S3 <Error> if the gateway did not route this to IAM.
    const root = doc?.documentElement;
    const err = root?.localName === 'Error' ? root : child(root, 'Error');
    const code = err ? textOf(err, 'Code') : res.status === 403 ? 'AccessDenied' : `HTTP${res.status}`;
    const detail = err ? textOf(err, 'Message') : '';
    throw new ApiError(res.status, code, detail, explain(code, res.status, detail, action));
  }

  /**
   * Who these credentials are (STS GetCallerIdentity); a gateway that does not implement it is
   * asked ListBuckets instead, which at least proves the key.
   * @returns {Promise<Caller>}
   */
  async whoAmI() {
    try {
      const r = await this.iam('GetCallerIdentity', {}, 'signin', 'sts');
      const arn = textOf(r, 'Arn');
      const root = /:root$/.test(arn);
      return { arn, root, name: root ? 'root' : arn.split('/').pop() || arn };
    } catch (e) {
      if (!(e instanceof ApiError) || !NOT_IMPLEMENTED.has(e.code)) throw e;
    }
    await this.listBuckets('signin');
    return { arn: '', name: '', root: false };
  }

  /** @returns {Promise<IamUser[]>} every user (IAM pages ListUsers with Marker) */
  async listUsers() {
    /** @type {IamUser[]} */
    const out = [];
    let marker = '';
    do {
      const r = await this.iam('ListUsers', marker ? { Marker: marker } : {});
      for (const m of children(child(r, 'Users'), 'member'))
        out.push({
          UserName: textOf(m, 'UserName'),
          UserId: textOf(m, 'UserId'),
          Arn: textOf(m, 'Arn'),
          CreateDate: textOf(m, 'CreateDate'),
        });
      marker = textOf(r, 'IsTruncated') === 'true' ? textOf(r, 'Marker') : '';
    } while (marker);
    return out;
  }

  /** @param {string} userName */
  createUser(userName) {
    return this.iam('CreateUser', { UserName: userName });
  }

  /** @param {string} userName */
  deleteUser(userName) {
    return this.iam('DeleteUser', { UserName: userName });
  }

  /** @param {string} userName @returns {Promise<AccessKeyMeta[]>} */
  async listAccessKeys(userName) {
    const r = await this.iam('ListAccessKeys', { UserName: userName });
    return children(child(r, 'AccessKeyMetadata'), 'member').map((m) => ({
      UserName: textOf(m, 'UserName'),
      AccessKeyId: textOf(m, 'AccessKeyId'),
      Status: textOf(m, 'Status'),
      CreateDate: textOf(m, 'CreateDate'),
    }));
  }

  /**
   * A new key; its secret is in this answer only.
   * @param {string} userName
   * @returns {Promise<{ AccessKeyId: string, SecretAccessKey: string }>}
   */
  async createAccessKey(userName) {
    const r = await this.iam('CreateAccessKey', { UserName: userName });
    const k = child(r, 'AccessKey');
    return { AccessKeyId: textOf(k, 'AccessKeyId'), SecretAccessKey: textOf(k, 'SecretAccessKey') };
  }

  /** @param {string} userName @param {string} accessKeyId @param {'Active' | 'Inactive'} status */
  updateAccessKey(userName, accessKeyId, status) {
    return this.iam('UpdateAccessKey', { UserName: userName, AccessKeyId: accessKeyId, Status: status });
  }

  /** @param {string} userName @param {string} accessKeyId */
  deleteAccessKey(userName, accessKeyId) {
    return this.iam('DeleteAccessKey', { UserName: userName, AccessKeyId: accessKeyId });
  }

  /** @param {string} userName @returns {Promise<string[]>} the inline policies' names */
  async listUserPolicies(userName) {
    const r = await this.iam('ListUserPolicies', { UserName: userName });
    return children(child(r, 'PolicyNames'), 'member').map((m) => m.textContent ?? '');
  }

  /** @param {string} userName @param {string} policyName @returns {Promise<string>} the JSON */
  async getUserPolicy(userName, policyName) {
    const r = await this.iam('GetUserPolicy', { UserName: userName, PolicyName: policyName });
    // IAM gives the document URL-encoded (RFC 3986), as boto3 and the CLI decode it.
    const doc = textOf(r, 'PolicyDocument');
    try {
      return decodeURIComponent(doc);
    } catch {
      return doc;
    }
  }

  /** @param {string} userName @param {string} policyName @param {string} document JSON */
  putUserPolicy(userName, policyName, document) {
    return this.iam('PutUserPolicy', { UserName: userName, PolicyName: policyName, PolicyDocument: document });
  }

  /** @param {string} userName @param {string} policyName */
  deleteUserPolicy(userName, policyName) {
    return this.iam('DeleteUserPolicy', { UserName: userName, PolicyName: policyName });
  }

  /** @param {string} userName @returns {Promise<AttachedPolicy[]>} */
  async listAttachedUserPolicies(userName) {
    const r = await this.iam('ListAttachedUserPolicies', { UserName: userName });
    return children(child(r, 'AttachedPolicies'), 'member').map((m) => ({
      PolicyName: textOf(m, 'PolicyName'),
      PolicyArn: textOf(m, 'PolicyArn'),
    }));
  }

  /** @param {string} userName @param {string} policyArn */
  detachUserPolicy(userName, policyArn) {
    return this.iam('DetachUserPolicy', { UserName: userName, PolicyArn: policyArn });
  }

  // ------------------------------------------------------------ bucket policy

  /** @param {string} bucket @returns {Promise<string>} the policy JSON ('' when there is none) */
  async bucketPolicy(bucket) {
    const res = await this.s3('GET', bucket, '', { query: { policy: '' }, ok: [404], action: 'policy' });
    if (res.status !== 404) return await res.text();
    const err = await s3Failure(res, 'policy');
    if (err.code === 'NoSuchBucketPolicy') return '';
    throw err;
  }

  /**
   * The body is signed (its SHA-256 in x-amz-content-sha256): S3 wants an integrity check on a
   * policy, and a signed payload is one (Content-MD5 is not in WebCrypto).
   * @param {string} bucket @param {string} policy JSON
   */
  async putBucketPolicy(bucket, policy) {
    const hash = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(policy));
    const hex = [...new Uint8Array(hash)].map((b) => b.toString(16).padStart(2, '0')).join('');
    return this.s3('PUT', bucket, '', {
      query: { policy: '' },
      body: policy,
      headers: { 'content-type': 'application/json', 'x-amz-content-sha256': hex },
      action: 'policy',
    });
  }

  /** @param {string} bucket */
  deleteBucketPolicy(bucket) {
    return this.s3('DELETE', bucket, '', { query: { policy: '' }, action: 'policy' });
  }

  // ------------------------------------------------------------ buckets

  /** @param {string} [action] @returns {Promise<BucketSummary[]>} */
  async listBuckets(action = 'list') {
    const doc = parseXml(await (await this.s3('GET', '', '', { action })).text());
    const buckets = doc ? children(child(doc.documentElement, 'Buckets'), 'Bucket') : [];
    return buckets.map((b) => ({ name: textOf(b, 'Name'), created: textOf(b, 'CreationDate') }));
  }

  /** @param {string} name */
  createBucket(name) {
    return this.s3('PUT', name, '', { action: 'create' });
  }

  /** @param {string} name */
  deleteBucket(name) {
    return this.s3('DELETE', name, '', { action: 'delete' });
  }

  /** @param {string} name @returns {Promise<BucketEncryption>} */
  async bucketEncryption(name) {
    const res = await this.s3('GET', name, '', { query: { encryption: '' }, ok: [404] });
    const text = await res.text();
    if (res.status === 404) {
      const doc = parseXml(text);
      const code = doc ? textOf(doc.documentElement, 'Code') : '';
      if (code === 'NoSuchBucket') throw new ApiError(404, code, '', explain(code, 404));
      return { mode: null, keyId: '' };
    }
    const doc = parseXml(text);
    const apply = child(child(doc?.documentElement, 'Rule'), 'ApplyServerSideEncryptionByDefault');
    const alg = textOf(apply, 'SSEAlgorithm');
    return { mode: alg === 'AES256' ? 'cos' : alg ? 'kms' : null, keyId: textOf(apply, 'KMSMasterKeyID') };
  }

  /**
   * @param {string} name
   * @param {string | null} mode 'cos', 'kms', or '' or null to remove the default
   * @param {string} [keyId]
   */
  setBucketEncryption(name, mode, keyId) {
    if (!mode) return this.s3('DELETE', name, '', { query: { encryption: '' }, action: 'write' });
    const alg = mode === 'kms' ? 'aws:kms' : 'AES256';
    const kid = mode === 'kms' && keyId ? `<KMSMasterKeyID>${escXml(keyId)}</KMSMasterKeyID>` : '';
    const body = `<?xml version="1.0" encoding="UTF-8"?><ServerSideEncryptionConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Rule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>${alg}</SSEAlgorithm>${kid}</ApplyServerSideEncryptionByDefault></Rule></ServerSideEncryptionConfiguration>`;
    return this.s3('PUT', name, '', { query: { encryption: '' }, body, headers: { 'content-type': 'application/xml' }, action: 'write' });
  }

  // ------------------------------------------------------------ objects

  /**
   * One page of ListObjectsV2 with delimiter "/".
   * @param {string} bucket
   * @param {string} prefix
   * @param {string} [token]
   * @param {number} [maxKeys]
   * @returns {Promise<ObjectListing>}
   */
  async listObjects(bucket, prefix, token, maxKeys = 50) {
    /** @type {Query} */
    const query = { 'list-type': '2', delimiter: '/', prefix, 'max-keys': String(maxKeys), 'encoding-type': 'url' };
    if (token) query['continuation-token'] = token;
    const doc = parseXml(await (await this.s3('GET', bucket, '', { query, action: 'list-objects' })).text());
    const root = doc?.documentElement;
    const dec = (/** @type {string} */ s) => decodeURIComponent(s.replace(/\+/g, ' '));
    return {
      folders: children(root, 'CommonPrefixes').map((p) => dec(textOf(p, 'Prefix'))),
      objects: children(root, 'Contents').map((c) => ({
        key: dec(textOf(c, 'Key')),
        size: Number(textOf(c, 'Size')),
        lastModified: textOf(c, 'LastModified'),
        etag: textOf(c, 'ETag'),
      })),
      next: textOf(root, 'IsTruncated') === 'true' ? textOf(root, 'NextContinuationToken') : '',
    };
  }

  /**
   * HEAD an object. A HEAD error has no body, so a 400 is asked again as a one-byte GET to learn
   * why: SSE-C without the key, or a KMS key that cannot be used.
   * @param {string} bucket
   * @param {string} key
   * @returns {Promise<ObjectHead>}
   */
  async headObject(bucket, key) {
    const res = await this.s3('HEAD', bucket, key, { ok: [400, 403], action: READ });
    if (res.ok) return { headers: res.headers, enc: encryptionFromHeaders(res.headers) };
    const probe = await this.s3('GET', bucket, key, { headers: { range: 'bytes=0-0' }, ok: [400, 403, 500], action: READ });
    if (probe.ok) {
      await probe.body?.cancel();
      return { headers: probe.headers, enc: encryptionFromHeaders(probe.headers) };
    }
    const err = await s3Failure(probe, READ);
    if (err.code === 'InvalidRequest' && /SSE-C|customer|Server Side Encryption|encryption key/i.test(err.detail)) {
      return { enc: { mode: 'SSE-C', error: new ApiError(400, 'SSE-C', err.detail, explain('SSE-C')) } };
    }
    if (/^KMS\.|^Kms/.test(err.code)) return { enc: { mode: 'SSE-KMS', keyId: UUID.exec(err.detail)?.[0] ?? '', error: err } };
    throw err;
  }

  /**
   * Checks the object can be decrypted now (a one-byte GET) before the browser downloads it.
   * @param {string} bucket
   * @param {string} key
   */
  async probeRead(bucket, key) {
    const res = await this.s3('GET', bucket, key, { headers: { range: 'bytes=0-0' }, action: READ });
    await res.body?.cancel();
  }

  /**
   * A short-lived presigned GET that makes the browser save the object under its own name.
   * @param {string} bucket
   * @param {string} key
   * @param {number} [seconds]
   */
  async downloadUrl(bucket, key, seconds = 300) {
    const name = key.split('/').pop() || 'download';
    const disposition = `attachment; filename="${name.replace(/[^\x20-\x7e]|["\\]/g, '_')}"; filename*=UTF-8''${encodeURIComponent(name)}`;
    const url = this.url(bucket, key, { 'X-Amz-Expires': String(seconds), 'response-content-disposition': disposition });
    return (await this.s3c.sign(url, { method: 'GET', aws: { signQuery: true } })).url;
  }

  /** @param {string} bucket @param {string} key */
  deleteObject(bucket, key) {
    return this.s3('DELETE', bucket, key, { action: 'delete' });
  }

  /**
   * "Change encryption": CopyObject onto itself with the new SSE headers (metadata kept).
   * @param {string} bucket
   * @param {string} key
   * @param {string} mode 'cos' or 'kms' (sseHeaders)
   * @param {string} [keyId]
   */
  async changeEncryption(bucket, key, mode, keyId) {
    const headers = {
      'x-amz-copy-source': `/${encodeURIComponent(bucket)}/${encodeKey(key)}`,
      'x-amz-metadata-directive': 'COPY',
      ...sseHeaders(mode, keyId),
    };
    const res = await this.s3('PUT', bucket, key, { headers, action: 'write' });
    const text = await res.text();
    // A copy can fail after the 200 status line: S3 then sends <Error> in the body.
    if (/<Error>/.test(text)) throw await s3Failure(new Response(text, { status: 500 }), 'write', text);
  }

  /**
   * Signs a request and sends it with XMLHttpRequest, which reports upload progress.
   * @param {string} method
   * @param {string} bucket
   * @param {string} key
   * @param {{ query?: Query, headers?: Record<string, string>, body: Blob, onProgress?: (loaded: number) => void }} options
   * @returns {Promise<{ status: number, text: string, etag: string | null }>}
   */
  async xhr(method, bucket, key, { query, headers, body, onProgress }) {
    const req = await this.s3c.sign(this.url(bucket, key, query), { method, headers, body: null });
    return new Promise((resolve, reject) => {
      const x = new XMLHttpRequest();
      x.open(method, req.url);
      req.headers.forEach((v, k) => {
        if (k !== 'host' && k !== 'content-length') x.setRequestHeader(k, v);
      });
      if (onProgress) x.upload.onprogress = (e) => onProgress(e.loaded);
      x.onload = async () => {
        if (x.status >= 200 && x.status < 300) resolve({ status: x.status, text: x.responseText, etag: x.getResponseHeader('etag') });
        else reject(await s3Failure(new Response(x.responseText || null, { status: x.status }), 'write', x.responseText));
      };
      x.onerror = () => reject(new ApiError(0, 'NetworkError', '', explain('NetworkError')));
      x.onabort = () => reject(new ApiError(0, 'NetworkError', 'aborted', 'The upload was cancelled.'));
      x.send(body);
    });
  }

  /**
   * Uploads a File/Blob, as multipart above MULTIPART_THRESHOLD. onProgress(bytesSent, total).
   * @param {string} bucket
   * @param {string} key
   * @param {Blob} file
   * @param {string} mode 'cos' or 'kms' (sseHeaders)
   * @param {string} [keyId]
   * @param {(sent: number, total: number) => void} [onProgress]
   */
  async upload(bucket, key, file, mode, keyId, onProgress) {
    const type = file.type || 'application/octet-stream';
    const sse = sseHeaders(mode, keyId);
    if (file.size <= MULTIPART_THRESHOLD) {
      await this.xhr('PUT', bucket, key, {
        headers: { 'content-type': type, ...sse },
        body: file,
        onProgress: (n) => onProgress?.(n, file.size),
      });
      onProgress?.(file.size, file.size);
      return;
    }
    const created = await this.s3('POST', bucket, key, {
      query: { uploads: '' },
      headers: { 'content-type': type, ...sse },
      action: 'write',
    });
    const uploadId = textOf(parseXml(await created.text())?.documentElement, 'UploadId');
    if (!uploadId) throw new ApiError(500, 'InternalError', 'no UploadId', explain('InternalError'));
    const count = Math.ceil(file.size / PART_SIZE);
    const sent = new Array(count).fill(0);
    const etags = new Array(count);
    const report = () =>
      onProgress?.(
        sent.reduce((a, b) => a + b, 0),
        file.size,
      );
    let next = 0;
    const worker = async () => {
      while (next < count) {
        const i = next++;
        const part = file.slice(i * PART_SIZE, Math.min(file.size, (i + 1) * PART_SIZE));
        const r = await this.xhr('PUT', bucket, key, {
          query: { partNumber: String(i + 1), uploadId },
          body: part,
          onProgress: (n) => {
            sent[i] = n;
            report();
          },
        });
        sent[i] = part.size;
        etags[i] = r.etag;
        report();
      }
    };
    try {
      await Promise.all(Array.from({ length: Math.min(PART_CONCURRENCY, count) }, worker));
      const body =
        '<CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/">' +
        etags.map((e, i) => `<Part><PartNumber>${i + 1}</PartNumber><ETag>${escXml(e ?? '')}</ETag></Part>`).join('') +
        '</CompleteMultipartUpload>';
      const done = await this.s3('POST', bucket, key, {
        query: { uploadId },
        body,
        headers: { 'content-type': 'application/xml' },
        action: 'write',
      });
      const text = await done.text();
      if (/<Error>/.test(text)) throw await s3Failure(new Response(text, { status: 500 }), 'write', text);
    } catch (e) {
      await this.s3('DELETE', bucket, key, { query: { uploadId }, ok: [404] }).catch(() => {});
      throw e;
    }
  }

  // ------------------------------------------------------------ master key (operator endpoint)

  /** @returns {Promise<Keyring>} */
  async keyring() {
    const r = await this.s3c.sign(new URL('/-/admin/keyring', this.origin).toString(), { method: 'GET' });
    let got;
    try {
      got = await fetch(r, { cache: 'no-store' });
    } catch {
      throw new ApiError(0, 'NetworkError', '', explain('NetworkError'));
    }
    if (!got.ok) throw await s3Failure(got, 'admin');
    return got.json();
  }

  // ------------------------------------------------------------ KMS

  async listKeys() {
    /** @type {{ KeyId: string, KeyArn?: string }[]} */
    const keys = [];
    /** @type {string | undefined} */
    let marker;
    do {
      const r = await this.kms('ListKeys', marker ? { Marker: marker, Limit: 100 } : { Limit: 100 });
      keys.push(...(r.Keys ?? []));
      marker = r.Truncated ? r.NextMarker : undefined;
    } while (marker);
    return keys;
  }

  async listAliases() {
    /** @type {{ AliasName: string, AliasArn?: string, TargetKeyId?: string }[]} */
    const out = [];
    /** @type {string | undefined} */
    let marker;
    do {
      const r = await this.kms('ListAliases', marker ? { Marker: marker, Limit: 100 } : { Limit: 100 });
      out.push(...(r.Aliases ?? []));
      marker = r.Truncated ? r.NextMarker : undefined;
    } while (marker);
    return out;
  }

  /**
   * Every key with its metadata, aliases and rotation status.
   * @returns {Promise<KeyDetail[]>}
   */
  async keyDetails() {
    const [keys, aliases] = await Promise.all([this.listKeys(), this.listAliases()]);
    /** @type {Map<string, string[]>} */
    const byKey = new Map();
    for (const a of aliases) if (a.TargetKeyId) byKey.set(a.TargetKeyId, [...(byKey.get(a.TargetKeyId) ?? []), a.AliasName]);
    const details = await mapLimit(keys, 4, async (k) => {
      /** @type {KeyMetadata} */
      const meta = (await this.kms('DescribeKey', { KeyId: k.KeyId })).KeyMetadata ?? { KeyId: k.KeyId };
      let rotation = null;
      if (meta.KeyState === 'Enabled' || meta.KeyState === 'Disabled') {
        rotation = await this.kms('GetKeyRotationStatus', { KeyId: k.KeyId }).then(
          (r) => !!r.KeyRotationEnabled,
          () => null,
        );
      }
      return { ...meta, aliases: byKey.get(k.KeyId) ?? [], rotation };
    });
    return details.sort((a, b) => String(a.CreationDate ?? '').localeCompare(String(b.CreationDate ?? '')) || 0);
  }
}

/**
 * Runs fn over items with at most `limit` calls in flight; keeps the order.
 * @template T, R
 * @param {readonly T[]} items
 * @param {number} limit
 * @param {(item: T, index: number) => Promise<R>} fn
 * @returns {Promise<R[]>}
 */
export async function mapLimit(items, limit, fn) {
  const out = new Array(items.length);
  let next = 0;
  const run = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, run));
  return out;
}
