// AWS Signature Version 4 verification, header and presigned-query forms.
// The service is a parameter because the KMS endpoint reuses this with 'kms'.

import { timingSafeEqual } from '../crypto/bytes';
import { S3Error } from '../s3/protocol/errors';
import {
  clientHeader,
  digestHex,
  EMPTY_SHA256,
  hmac,
  hmacHex,
  hmacKey,
  rawPairs,
  recode,
  repeated,
  requireSignedHeaders,
} from './canonical';
import type { Auth, Payload, SecretLookup } from './types';

export interface SigV4Options {
  /** Credential scope service; 's3' unless the KMS endpoint says otherwise. */
  service?: string;
  now?: Date;
  /**
   * The body's SHA-256 (hex), computed by a caller that reads small bodies whole
   * (KMS): signed in place of x-amz-content-sha256, which such clients may omit.
   */
  payloadHash?: string;
}

const ALGORITHM = 'AWS4-HMAC-SHA256';
const MAX_SKEW_MS = 15 * 60 * 1000;
const MAX_EXPIRES = 604800;
const AMZ_DATE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;
const HEX64 = /^[0-9a-fA-F]{64}$/;

/** Derives the SigV4 signing key (kSigning) for one day, region and service. */
export async function deriveSigningKey(secret: string, date: string, region: string, service: string): Promise<CryptoKey> {
  let k: ArrayBuffer = await hmac(await hmacKey(`AWS4${secret}`, 'SHA-256'), date);
  for (const part of [region, service, 'aws4_request']) k = await hmac(await hmacKey(k, 'SHA-256'), part);
  return hmacKey(k, 'SHA-256');
}

/**
 * S3 canonical URI: each segment encoded exactly once. Segments are decoded
 * first so clients that escape `~`, `$` or spaces differently still agree;
 * `%2F` inside a segment stays encoded because decoding happens per segment.
 */
export function canonicalUri(pathname: string): string {
  return (
    pathname
      .split('/')
      .map((seg) => recode(seg, false))
      .join('/') || '/'
  );
}

/** Canonical query: names and values re-encoded, sorted by name then value. */
export function canonicalQuery(search: string, omit?: string): string {
  return rawPairs(search)
    .map(([k, v]): [string, string] => [recode(k, true), recode(v, true)])
    .filter(([k]) => k !== omit)
    .sort(([a, x], [b, y]) => (a < b ? -1 : a > b ? 1 : x < y ? -1 : x > y ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
}

/** A lowercase HTTP token (RFC 9110): anything else names no header a request can carry. */
const isHeaderName = (n: string) => /^[!#$%&'*+.^_`|~0-9a-z-]+$/.test(n);

export function canonicalRequest(req: Request, url: URL, signedHeaders: string[], payloadHash: string, omitQuery?: string): string {
  if (!signedHeaders.every(isHeaderName)) throw new S3Error('AuthorizationHeaderMalformed', 'SignedHeaders is malformed.');
  const headers = signedHeaders
    .map((name) => {
      const raw = clientHeader(req, name) ?? (name === 'host' ? url.host : '');
      return `${name}:${raw.trim().replace(/\s+/g, ' ')}\n`;
    })
    .join('');
  return [
    req.method.toUpperCase(),
    canonicalUri(url.pathname),
    canonicalQuery(url.search, omitQuery),
    headers,
    signedHeaders.join(';'),
    payloadHash,
  ].join('\n');
}

const parseAmzDate = (s: string): number | undefined => {
  const m = AMZ_DATE.exec(s);
  return m ? Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]) : undefined;
};
const toAmzDate = (ms: number) => new Date(ms).toISOString().replace(/[:-]|\.\d{3}/g, '');

interface Parsed {
  accessKeyId: string;
  date: string;
  region: string;
  signedHeaders: string[];
  signature: string;
  datetime: string;
  time: number;
}

function parseCredential(cred: string, service: string, bad: (m: string) => S3Error) {
  const parts = cred.split('/');
  if (parts.length < 5 || parts.at(-1) !== 'aws4_request')
    throw bad('Credential is malformed; expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".');
  const [date, region, svc] = parts.slice(-4);
  if (!/^\d{8}$/.test(date)) throw bad(`Invalid credential date "${date}". This date is not the same as X-Amz-Date: "${date}".`);
  if (svc !== service) throw bad(`Credential should be scoped to correct service: '${service}'.`);
  return { accessKeyId: parts.slice(0, -4).join('/'), date, region };
}

function parseSignedHeaders(list: string, bad: (m: string) => S3Error): string[] {
  const names = list.split(';');
  if (!names.every(isHeaderName)) throw bad('SignedHeaders is malformed.');
  // S3 refuses signatures that do not bind the host.
  if (!names.includes('host')) throw bad('SignedHeaders must include host.');
  return names;
}

function parseHeaderAuth(req: Request, service: string): Parsed {
  const bad = (m: string) => new S3Error('AuthorizationHeaderMalformed', `The authorization header is malformed; ${m}`);
  const header = req.headers.get('authorization') ?? '';
  if (!header.startsWith(`${ALGORITHM} `)) throw bad(`the authorization header requires "${ALGORITHM}".`);
  const fields: Record<string, string> = {};
  for (const part of header.slice(ALGORITHM.length).split(',')) {
    const i = part.indexOf('=');
    if (i <= 0) continue;
    const name = part.slice(0, i).trim();
    // A second Credential or Signature would leave it open which one was checked.
    if (Object.hasOwn(fields, name)) throw bad(`${name} appears more than once.`);
    fields[name] = part.slice(i + 1).trim();
  }
  const { Credential, SignedHeaders, Signature } = fields;
  if (!Credential || !SignedHeaders || !Signature) throw bad('it must contain Credential, SignedHeaders and Signature.');
  const cred = parseCredential(Credential, service, bad);

  // x-amz-date wins over Date; either way the string to sign carries the basic ISO form.
  const amz = req.headers.get('x-amz-date');
  const httpDate = req.headers.get('date');
  const time = amz != null ? parseAmzDate(amz) : httpDate != null ? Date.parse(httpDate) : undefined;
  if (time === undefined || Number.isNaN(time)) {
    throw new S3Error('AccessDenied', 'AWS authentication requires a valid Date or x-amz-date header', { status: 403 });
  }
  const datetime = toAmzDate(time);
  if (datetime.slice(0, 8) !== cred.date)
    throw bad(`Invalid credential date "${cred.date}". This date is not the same as X-Amz-Date: "${datetime.slice(0, 8)}".`);
  return { ...cred, signedHeaders: parseSignedHeaders(SignedHeaders, bad), signature: Signature, datetime, time };
}

function parseQueryAuth(url: URL, service: string): Parsed & { expires: number; payloadHash: string } {
  const bad = (m: string) => new S3Error('AuthorizationQueryParametersError', m);
  const q = url.searchParams;
  const twice = repeated([...q.keys()].filter((k) => k.toLowerCase().startsWith('x-amz-')));
  if (twice) throw bad(`The query parameter ${twice} appears more than once.`);
  const get = (name: string) => {
    const v = q.get(name);
    if (!v)
      throw bad(
        `Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.`,
      );
    return v;
  };
  if (get('X-Amz-Algorithm') !== ALGORITHM) throw bad(`X-Amz-Algorithm only supports "${ALGORITHM}"`);
  const cred = parseCredential(get('X-Amz-Credential'), service, bad);
  const datetime = get('X-Amz-Date');
  const time = parseAmzDate(datetime);
  if (time === undefined) throw bad("X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\"");
  if (datetime.slice(0, 8) !== cred.date)
    throw bad(`Invalid credential date "${cred.date}". This date is not the same as X-Amz-Date: "${datetime.slice(0, 8)}".`);
  const expiresRaw = get('X-Amz-Expires');
  const expires = /^\d{1,7}$/.test(expiresRaw) ? Number(expiresRaw) : NaN;
  if (!(expires >= 1)) throw bad('X-Amz-Expires should be a number greater than 0');
  if (expires > MAX_EXPIRES) throw bad('X-Amz-Expires must be less than a week (in seconds) that is 604800');
  return {
    ...cred,
    signedHeaders: parseSignedHeaders(get('X-Amz-SignedHeaders'), bad),
    signature: get('X-Amz-Signature'),
    datetime,
    time,
    expires,
    // S3 presigned URLs never sign the body unless the client put a hash in the query; other services'
    // (IAM, STS: botocore's SigV4QueryAuth) sign the hash of the empty body a presigned GET carries.
    payloadHash: q.get('X-Amz-Content-Sha256') ?? (service === 's3' ? 'UNSIGNED-PAYLOAD' : EMPTY_SHA256),
  };
}

async function secretFor(lookup: SecretLookup, accessKeyId: string): Promise<string> {
  const secret = await lookup(accessKeyId);
  if (secret === undefined) throw new S3Error('InvalidAccessKeyId');
  return secret;
}

async function check(p: Parsed, secret: string, service: string, canonical: string) {
  const scope = `${p.date}/${p.region}/${service}/aws4_request`;
  const key = await deriveSigningKey(secret, p.date, p.region, service);
  const stringToSign = [ALGORITHM, p.datetime, scope, await digestHex('SHA-256', canonical)].join('\n');
  if (!timingSafeEqual(await hmacHex(key, stringToSign), p.signature)) throw new S3Error('SignatureDoesNotMatch');
  return { key, scope };
}

/** Maps an x-amz-content-sha256 value to how the body must be read; signing details are filled in later. */
export function payloadKind(hash: string): Payload['kind'] {
  if (hash === 'UNSIGNED-PAYLOAD') return 'unsigned';
  if (HEX64.test(hash)) return 'sha256';
  if (hash === 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD' || hash === 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER') return 'chunked-signed';
  if (hash === 'STREAMING-UNSIGNED-PAYLOAD-TRAILER') return 'chunked-unsigned-trailer';
  throw new S3Error(
    'InvalidArgument',
    'x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER, STREAMING-AWS4-HMAC-SHA256-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER or a valid sha256 value.',
    {
      fields: { ArgumentName: 'x-amz-content-sha256', ArgumentValue: hash },
    },
  );
}

/**
 * The checks of a header-signed request that need no body: form, date, scope and a
 * known access key. Callers that must read a body before verifying (KMS) run these
 * first, so an unknown caller never gets a body read.
 */
export async function precheckSigV4(req: Request, lookup: SecretLookup, opts: SigV4Options = {}): Promise<void> {
  const service = opts.service ?? 's3';
  const p = parseHeaderAuth(req, service);
  checkSkew(p, (opts.now ?? new Date()).getTime());
  await secretFor(lookup, p.accessKeyId);
}

function checkSkew(p: Parsed, now: number) {
  if (Math.abs(now - p.time) > MAX_SKEW_MS) {
    throw new S3Error('RequestTimeTooSkewed', undefined, {
      fields: { RequestTime: p.datetime, ServerTime: toAmzDate(now), MaxAllowedSkewMilliseconds: String(MAX_SKEW_MS) },
    });
  }
}

/** Headers a header-signed request may carry unsigned: their values are bound by the scheme itself. */
const BOUND_BY_SCHEME = ['x-amz-date', 'x-amz-content-sha256'];

/** Verifies `Authorization: AWS4-HMAC-SHA256 ...`. */
export async function verifySigV4(req: Request, lookup: SecretLookup, opts: SigV4Options = {}): Promise<Auth> {
  const service = opts.service ?? 's3';
  const url = new URL(req.url);
  const p = parseHeaderAuth(req, service);
  checkSkew(p, (opts.now ?? new Date()).getTime());

  const sent = req.headers.get('x-amz-content-sha256');
  // Services other than S3 sign the body hash without sending it; a bodyless request's is the empty hash.
  const hash = sent ?? opts.payloadHash ?? (service !== 's3' && req.body === null ? EMPTY_SHA256 : undefined);
  if (hash == null) throw new S3Error('InvalidRequest', 'Missing required header for this request: x-amz-content-sha256');
  // A body hash the caller computed must be the one the client declared, when it declared one.
  if (sent != null && opts.payloadHash !== undefined && sent.toLowerCase() !== opts.payloadHash) {
    throw new S3Error('XAmzContentSHA256Mismatch', undefined, {
      fields: { ClientComputedContentSHA256: sent, S3ComputedContentSHA256: opts.payloadHash },
    });
  }
  const kind = payloadKind(hash);
  const secret = await secretFor(lookup, p.accessKeyId);
  const { key, scope } = await check(p, secret, service, canonicalRequest(req, url, p.signedHeaders, hash));
  requireSignedHeaders(req.headers, p.signedHeaders, BOUND_BY_SCHEME);

  const payload: Payload =
    kind === 'chunked-signed'
      ? { kind, signingKey: key, scope, datetime: p.datetime, seed: p.signature.toLowerCase(), trailer: hash.endsWith('-TRAILER') }
      : kind === 'sha256'
        ? { kind, hex: hash.toLowerCase() }
        : { kind };
  return { accessKeyId: p.accessKeyId, dialect: 'amz', method: 'sigv4', payload, region: p.region };
}

/** Verifies a presigned URL (`X-Amz-Signature` in the query). */
export async function verifyPresignedV4(req: Request, lookup: SecretLookup, opts: SigV4Options = {}): Promise<Auth> {
  const service = opts.service ?? 's3';
  const now = (opts.now ?? new Date()).getTime();
  const url = new URL(req.url);
  const p = parseQueryAuth(url, service);
  if (p.time - now > MAX_SKEW_MS) throw new S3Error('AccessDenied', 'Request is not valid yet');
  if (now > p.time + p.expires * 1000)
    throw new S3Error('AccessDenied', 'Request has expired', { fields: { Expires: new Date(p.time + p.expires * 1000).toISOString() } });

  const kind = payloadKind(p.payloadHash);
  if (kind !== 'unsigned' && kind !== 'sha256')
    throw new S3Error('AuthorizationQueryParametersError', 'Presigned requests cannot use streaming payloads.');
  const secret = await secretFor(lookup, p.accessKeyId);
  await check(p, secret, service, canonicalRequest(req, url, p.signedHeaders, p.payloadHash, 'X-Amz-Signature'));
  requireSignedHeaders(req.headers, p.signedHeaders);
  const payload: Payload = kind === 'sha256' ? { kind, hex: p.payloadHash.toLowerCase() } : { kind };
  return { accessKeyId: p.accessKeyId, dialect: 'amz', method: 'sigv4-presigned', payload, region: p.region };
}
