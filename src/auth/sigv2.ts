// AWS Signature Version 2 (HMAC-SHA1), header (`Authorization: AWS AKID:sig`) and presigned query
// (AWSAccessKeyId, Expires, Signature), as the S3 developer guide's "Signing and authenticating REST
// requests" defines them. Clients still default to it: boto3 and the aws CLI v1 presign with it in
// us-east-1, s3cmd --signature-v2 signs every request with it.
//
// V2 signs much less than V4: no body hash, no region or service scope, only the x-amz-* headers,
// Content-MD5 and Content-Type, and of the query only the sub-resources below. So what V2 cannot
// sign but would change what a request does is refused: x-cos-* headers, query parameters that are
// neither a signed sub-resource nor a listing filter, and x-amz-* query parameters.

import { timingSafeEqual, toB64 } from '../crypto/bytes';
import { S3Error } from '../s3/protocol/errors';
import { hmac, hmacKey, rawPairs, requireSignedHeaders, unescapeBytes } from './canonical';
import { payloadKind } from './sigv4';
import type { Auth, Payload, SecretLookup } from './types';

/** Query parameters that enter the CanonicalizedResource: botocore's HmacV1Auth list, the developer guide's, and `delete`. */
const SUBRESOURCES = new Set([
  'accelerate',
  'acl',
  'analytics',
  'cors',
  'defaultObjectAcl',
  'delete',
  'inventory',
  'lifecycle',
  'location',
  'logging',
  'metrics',
  'notification',
  'object-lock',
  'partNumber',
  'policy',
  'replication',
  'requestPayment',
  'response-cache-control',
  'response-content-disposition',
  'response-content-encoding',
  'response-content-language',
  'response-content-type',
  'response-expires',
  'restore',
  'select',
  'select-type',
  'storageClass',
  'tagging',
  'torrent',
  'uploadId',
  'uploads',
  'versionId',
  'versioning',
  'versions',
  'website',
]);

/**
 * Query parameters V2 leaves unsigned that only page or filter a listing (S3 leaves them unsigned
 * too), the signature's own parameters, and the SDKs' informational `x-id`. Any other unsigned
 * parameter could turn a signed request into another operation (`?encryption` makes DeleteBucket
 * DeleteBucketEncryption), so it is refused.
 */
const UNSIGNED_OK = new Set([
  'AWSAccessKeyId',
  'Expires',
  'Signature',
  'x-id',
  'prefix',
  'delimiter',
  'marker',
  'max-keys',
  'list-type',
  'continuation-token',
  'start-after',
  'fetch-owner',
  'encoding-type',
  'key-marker',
  'upload-id-marker',
  'version-id-marker',
  'max-uploads',
  'max-parts',
  'part-number-marker',
]);

const MAX_SKEW_MS = 15 * 60 * 1000;
/** The longest a presigned URL may still live: a week, as SigV4's X-Amz-Expires cap (S3 sets none for V2). */
const MAX_EXPIRES_S = 604800;
const AMZ_DATE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;

export interface SigV2Options {
  now?: Date;
  /** The bucket a virtual-hosted Host names: V2 signs it as the resource's first path segment. */
  hostBucket?: string;
}

/** base64(HMAC-SHA1(secret, text)): a V2 request signature, and a V2 POST form's signature over its base64 policy. */
export async function signV2(secret: string, text: string): Promise<string> {
  return toB64(new Uint8Array(await hmac(await hmacKey(secret, 'SHA-1'), text)));
}

/** Percent-decodes as the handlers read the query (URLSearchParams: `+` is a space), so what is signed is what is applied. */
const decode = (s: string) => new TextDecoder().decode(unescapeBytes(s, true));

/**
 * CanonicalizedResource: [/bucket of a virtual host] + the path as sent + [?sub-resources sorted by
 * name, `name` or `name=value`, values decoded]. Names are matched decoded, as the handlers read them.
 * A path-style request to a bucket itself ("/bucket") is also accepted as "/bucket/": botocore signs
 * that form (S3's resource for a bucket) while sending the shorter path. Both name the same bucket.
 */
export function canonicalResourcesV2(url: URL, hostBucket?: string): string[] {
  const subs = url.search
    .slice(1)
    .split('&')
    .map((part) => {
      const i = part.indexOf('=');
      const name = decode(i < 0 ? part : part.slice(0, i));
      return [name, i < 0 ? name : `${name}=${decode(part.slice(i + 1))}`];
    })
    .filter(([name]) => SUBRESOURCES.has(name))
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([, text]) => text);
  const query = subs.length ? `?${subs.join('&')}` : '';
  const path = (hostBucket ? `/${hostBucket}` : '') + url.pathname;
  const paths = !hostBucket && /^\/[^/]+$/.test(path) ? [path, `${path}/`] : [path];
  return paths.map((p) => p + query);
}

/** CanonicalizedAmzHeaders: every x-amz-* header, lowercased, sorted by name, value trimmed, each line ending in \n. */
function amzHeaderLines(h: Headers, skip?: string): string {
  const names: string[] = [];
  h.forEach((_, name) => {
    if (name.startsWith('x-amz-') && name !== skip) names.push(name);
  });
  // By name, not by line: "x-amz-…-key" sorts before "x-amz-…-key-md5", though "key:" > "key-" as text.
  return names
    .sort()
    .map((name) => `${name}:${h.get(name)!.trim()}\n`)
    .join('');
}

/** StringToSign = VERB \n Content-MD5 \n Content-Type \n Date \n CanonicalizedAmzHeaders CanonicalizedResource, once per accepted resource. */
export function stringsToSignV2(req: Request, url: URL, date: string, hostBucket?: string, skipAmz?: string): string[] {
  const h = req.headers;
  const head = `${req.method.toUpperCase()}\n${h.get('content-md5')?.trim() ?? ''}\n${h.get('content-type')?.trim() ?? ''}\n${date}\n${amzHeaderLines(h, skipAmz)}`;
  return canonicalResourcesV2(url, hostBucket).map((resource) => head + resource);
}

async function secretFor(lookup: SecretLookup, accessKeyId: string): Promise<string> {
  const secret = await lookup(accessKeyId);
  if (secret === undefined) throw new S3Error('InvalidAccessKeyId');
  return secret;
}

/** Refuses query parameters the V2 signature did not cover and that could change what the request does. */
function requireSignedQuery(url: URL) {
  const unsigned = [...new Set(rawPairs(url.search).map(([k]) => decode(k)))].filter((k) => !SUBRESOURCES.has(k) && !UNSIGNED_OK.has(k));
  if (unsigned.length) {
    throw new S3Error('AccessDenied', 'There were query parameters present in the request which were not signed', {
      fields: { ParametersNotSigned: unsigned.join(', ') },
    });
  }
}

/** The payload a V2 request declares: V2 signs no body, but a signed x-amz-content-sha256 is still honoured. */
function payloadOf(h: Headers): Payload {
  const hash = h.get('x-amz-content-sha256');
  if (hash == null) return { kind: 'unsigned' };
  const kind = payloadKind(hash);
  if (kind === 'sha256') return { kind, hex: hash.toLowerCase() };
  if (kind === 'chunked-signed')
    throw new S3Error(
      'InvalidRequest',
      'Signed aws-chunked payloads (STREAMING-AWS4-HMAC-SHA256-PAYLOAD) need a Signature Version 4 request.',
    );
  return { kind };
}

/** Checks `signature` against each accepted StringToSign, all of them compared in constant time. */
async function check(secret: string, signature: string, candidates: string[]) {
  let ok = false;
  for (const text of candidates) if (timingSafeEqual(await signV2(secret, text), signature)) ok = true;
  if (!ok) throw new S3Error('SignatureDoesNotMatch');
}

const parseTime = (s: string): number => {
  const m = AMZ_DATE.exec(s);
  return m ? Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]) : Date.parse(s);
};

/** Verifies `Authorization: AWS <AccessKeyId>:<Signature>`. */
export async function verifySigV2(req: Request, lookup: SecretLookup, opts: SigV2Options = {}): Promise<Auth> {
  const url = new URL(req.url);
  const h = req.headers;
  const authz = (h.get('authorization') ?? '').slice('AWS '.length).trim();
  const colon = authz.lastIndexOf(':');
  // One key id and one base64 signature: two Authorization headers arrive joined by ", " and are refused here.
  if (colon <= 0 || !/^[^\s:,]+$/.test(authz.slice(0, colon)) || !/^[A-Za-z0-9+/]+={0,2}$/.test(authz.slice(colon + 1))) {
    throw new S3Error('InvalidArgument', 'AWS authorization header is invalid.  Expected AwsAccessKeyId:signature', {
      fields: { ArgumentName: 'Authorization', ArgumentValue: h.get('authorization') ?? '' },
    });
  }
  const accessKeyId = authz.slice(0, colon);
  const signature = authz.slice(colon + 1);

  // x-amz-date wins over Date (for clients that cannot set Date); the time window is the only replay bound V2 has.
  const amzDate = h.get('x-amz-date');
  const raw = amzDate ?? h.get('date');
  const time = raw == null ? NaN : parseTime(raw);
  if (Number.isNaN(time))
    throw new S3Error('AccessDenied', 'AWS authentication requires a valid Date or x-amz-date header', { status: 403 });
  const now = (opts.now ?? new Date()).getTime();
  if (Math.abs(now - time) > MAX_SKEW_MS) {
    throw new S3Error('RequestTimeTooSkewed', undefined, {
      fields: { RequestTime: raw!, ServerTime: new Date(now).toISOString(), MaxAllowedSkewMilliseconds: String(MAX_SKEW_MS) },
    });
  }
  requireSignedQuery(url);
  const payload = payloadOf(h);

  const secret = await secretFor(lookup, accessKeyId);
  // With x-amz-date the guide's rule is an empty Date line and x-amz-date among the amz headers (boto2,
  // s3cmd); its DELETE example instead puts x-amz-date's value on the Date line. Both bind the same values.
  const candidates =
    amzDate == null
      ? stringsToSignV2(req, url, h.get('date')!, opts.hostBucket)
      : [...stringsToSignV2(req, url, '', opts.hostBucket), ...stringsToSignV2(req, url, amzDate, opts.hostBucket, 'x-amz-date')];
  await check(secret, signature, candidates);
  // Every x-amz-* header and Content-MD5 are in the StringToSign; what remains (x-cos-*) V2 cannot sign.
  requireSignedHeaders(h, signedNames(h));
  return { accessKeyId, dialect: 'amz', method: 'sigv2', payload };
}

function signedNames(h: Headers): string[] {
  const names = ['content-md5'];
  h.forEach((_, name) => {
    if (name.startsWith('x-amz-')) names.push(name);
  });
  return names;
}

/** Verifies a V2 presigned URL (`AWSAccessKeyId`, `Expires`, `Signature` in the query); Expires stands in for Date. */
export async function verifyPresignedV2(req: Request, lookup: SecretLookup, opts: SigV2Options = {}): Promise<Auth> {
  const url = new URL(req.url);
  // The Signature is base64: a literal `+` in it is a plus, never a space.
  const pairs = rawPairs(url.search).map(([k, v]) => [decode(k), new TextDecoder().decode(unescapeBytes(v, false))] as const);
  const auth = new Map<string, string[]>();
  for (const [k, v] of pairs) if (k === 'AWSAccessKeyId' || k === 'Expires' || k === 'Signature') auth.set(k, [...(auth.get(k) ?? []), v]);
  const one = (name: string) => {
    const v = auth.get(name);
    if (!v?.[0])
      throw new S3Error('AccessDenied', 'Query-string authentication requires the Signature, Expires and AWSAccessKeyId parameters');
    // A second value would leave it open which one was checked.
    if (v.length > 1) throw new S3Error('AccessDenied', `The query parameter ${name} appears more than once.`);
    return v[0];
  };
  const accessKeyId = one('AWSAccessKeyId');
  const signature = one('Signature');
  const expiresRaw = one('Expires');
  if (!/^\d{1,12}$/.test(expiresRaw)) throw new S3Error('AccessDenied', `Invalid date (should be seconds since epoch): ${expiresRaw}`);
  const expires = Number(expiresRaw) * 1000;
  const now = (opts.now ?? new Date()).getTime();
  if (now > expires)
    throw new S3Error('AccessDenied', 'Request has expired', {
      fields: { Expires: new Date(expires).toISOString(), ServerTime: new Date(now).toISOString() },
    });
  if (expires - now > MAX_EXPIRES_S * 1000 + MAX_SKEW_MS)
    throw new S3Error('AccessDenied', `A Signature Version 2 presigned URL may expire at most ${MAX_EXPIRES_S} seconds (7 days) from now.`);
  // botocore moves x-amz-* headers into a V2 URL's query; the gateway takes them only as headers, so a
  // signed-but-ignored SSE or SSE-C parameter is refused rather than silently dropped.
  const amzParams = [...new Set(pairs.map(([k]) => k.toLowerCase()).filter((k) => k.startsWith('x-amz-')))];
  if (amzParams.length) {
    throw new S3Error(
      'InvalidRequest',
      `Signature Version 2 presigned URLs cannot carry x-amz-* query parameters here (${amzParams.join(', ')}); presign with Signature Version 4, which sends them as signed headers.`,
    );
  }
  requireSignedQuery(url);
  const payload = payloadOf(req.headers);

  const secret = await secretFor(lookup, accessKeyId);
  await check(secret, signature, stringsToSignV2(req, url, expiresRaw, opts.hostBucket));
  requireSignedHeaders(req.headers, signedNames(req.headers));
  return { accessKeyId, dialect: 'amz', method: 'sigv2-presigned', payload };
}
