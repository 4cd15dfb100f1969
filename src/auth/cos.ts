// Tencent COS request signatures (q-sign-algorithm=sha1), from the
// Authorization header or from presigned query parameters.

import { timingSafeEqual } from '../crypto/bytes';
import { S3Error } from '../s3/protocol/errors';
import {
  clientHeader,
  digestHex,
  hmacHex,
  hmacKey,
  rawPairs,
  recode,
  repeated,
  requireSignedHeaders,
  unescapeBytes,
  uriEncode,
} from './canonical';
import type { Auth, SecretLookup } from './types';

const Q_PARAMS = ['q-sign-algorithm', 'q-ak', 'q-sign-time', 'q-key-time', 'q-header-list', 'q-url-param-list', 'q-signature'] as const;
type Fields = Record<(typeof Q_PARAMS)[number], string>;
const MAX_SKEW_S = 15 * 60;
/** The longest q-key-time / q-sign-time window accepted: a week, as SigV4 caps presigned URLs. */
export const MAX_COS_WINDOW_S = 7 * 24 * 3600;
const decoder = new TextDecoder();
const decode = (s: string, plusIsSpace: boolean) => decoder.decode(unescapeBytes(s, plusIsSpace));

function parseFields(pairs: [string, string][], presigned: boolean): Fields {
  const bad = (m: string) => new S3Error(presigned ? 'AuthorizationQueryParametersError' : 'AuthorizationHeaderMalformed', m);
  const twice = repeated(pairs.map(([k]) => k).filter((k) => (Q_PARAMS as readonly string[]).includes(k)));
  if (twice) throw bad(`${twice} appears more than once.`);
  const got: Record<string, string> = {};
  for (const [k, v] of pairs) got[k] = v;
  for (const name of Q_PARAMS) if (got[name] === undefined) throw bad(`COS signature is missing ${name}.`);
  if (got['q-sign-algorithm'] !== 'sha1') throw bad('q-sign-algorithm must be sha1.');
  if (!got['q-ak'] || !got['q-signature']) throw bad('q-ak and q-signature must not be empty.');
  return got as Fields;
}

function window(value: string, presigned: boolean): [number, number] {
  const bad = (m: string) => new S3Error(presigned ? 'AuthorizationQueryParametersError' : 'AuthorizationHeaderMalformed', m);
  const m = /^(\d{1,12});(\d{1,12})$/.exec(value);
  if (!m) throw bad('q-sign-time and q-key-time must be "<start>;<end>" in unix seconds.');
  const [start, end] = [Number(m[1]), Number(m[2])];
  if (end - start > MAX_COS_WINDOW_S) throw bad(`q-sign-time and q-key-time may span at most ${MAX_COS_WINDOW_S} seconds (7 days).`);
  return [start, end];
}

/** Lowercased, encoded name → encoded value, as COS builds HttpParameters and HttpHeaders. */
function signedPart(list: string, values: Map<string, string>): string {
  if (!list) return '';
  return list
    .split(';')
    .map((listed) => {
      const name = listed.toLowerCase();
      const v = values.get(name);
      if (v === undefined) throw new S3Error('SignatureDoesNotMatch', `The signed ${name} is missing from the request.`);
      return `${name}=${v}`;
    })
    .join('&');
}

/** Verifies a COS signature carried in the Authorization header or, when `presigned`, in the query. */
export async function verifyCos(req: Request, lookup: SecretLookup, now = new Date(), presigned = false): Promise<Auth> {
  const url = new URL(req.url);
  const query = rawPairs(url.search).map(([k, v]): [string, string] => [decode(k, true), decode(v, true)]);
  const f = presigned
    ? parseFields(query, true)
    : parseFields(
        (req.headers.get('authorization') ?? '').split('&').map((p): [string, string] => {
          const i = p.indexOf('=');
          return i < 0 ? [p, ''] : [p.slice(0, i), p.slice(i + 1)];
        }),
        false,
      );

  // Both windows must hold; start may be up to 15 minutes ahead of our clock.
  const t = Math.floor(now.getTime() / 1000);
  for (const w of [f['q-key-time'], f['q-sign-time']]) {
    const [start, end] = window(w, presigned);
    if (t < start - MAX_SKEW_S || t > end) throw new S3Error('AccessDenied', 'Request has expired');
  }

  // The q-* pairs of a presigned URL are the signature itself, not signed parameters.
  const params = new Map<string, string>();
  for (const [k, v] of rawPairs(url.search)) {
    const name = recode(k, true).toLowerCase();
    if (presigned && (Q_PARAMS as readonly string[]).includes(name)) continue;
    if (!params.has(name)) params.set(name, recode(v, true));
  }
  const headers = new Map<string, string>();
  req.headers.forEach((v, k) => {
    headers.set(uriEncode(k.toLowerCase()), uriEncode(v.trim()));
  });
  if (!headers.has('host')) headers.set('host', uriEncode(url.host));
  const acceptEncoding = clientHeader(req, 'accept-encoding');
  if (acceptEncoding === null) headers.delete('accept-encoding');
  else headers.set('accept-encoding', uriEncode(acceptEncoding.trim()));
  // The runtime drops "Content-Length: 0" from bodiless requests that COS SDKs sign (HEAD, GET).
  if (!headers.has('content-length') && req.body === null) headers.set('content-length', '0');

  const path = decode(url.pathname, false) || '/';
  const secret = await lookup(f['q-ak']);
  if (secret === undefined) throw new S3Error('InvalidAccessKeyId');
  // COS feeds the hex text of SignKey, not its bytes, into the second HMAC.
  const signKey = await hmacHex(await hmacKey(secret, 'SHA-1'), f['q-key-time']);
  const signatureOver = async (signed: Map<string, string>) => {
    const httpString = [
      req.method.toLowerCase(),
      path,
      signedPart(f['q-url-param-list'], params),
      signedPart(f['q-header-list'], signed),
      '',
    ].join('\n');
    const stringToSign = ['sha1', f['q-key-time'], await digestHex('SHA-1', httpString), ''].join('\n');
    return hmacHex(await hmacKey(signKey, 'SHA-1'), stringToSign);
  };
  const given = f['q-signature'].toLowerCase();
  let matches = timingSafeEqual(await signatureOver(headers), given);
  // Tencent's Python SDK signs the host without its port (it assumes 80/443), so a signature over
  // "127.0.0.1" must hold for a request sent to "127.0.0.1:8787". The port never selects a bucket.
  const host = headers.get('host') ?? '';
  const portless = host.replace(/%3A\d+$/i, '');
  if (!matches && portless !== host) matches = timingSafeEqual(await signatureOver(new Map(headers).set('host', portless)), given);
  if (!matches) throw new S3Error('SignatureDoesNotMatch');
  // Every query parameter (a subresource, response-*, versionId, partNumber, uploadId...) and every
  // behaviour-changing header must be covered: COS lets the client pick what it signs.
  const signedParams = new Set(f['q-url-param-list'] ? f['q-url-param-list'].split(';').map((n) => n.toLowerCase()) : []);
  const unsignedParams = [...params.keys()].filter((n) => !signedParams.has(n));
  if (unsignedParams.length) {
    throw new S3Error('AccessDenied', 'There were query parameters present in the request which were not signed', {
      fields: { ParametersNotSigned: unsignedParams.join(', ') },
    });
  }
  requireSignedHeaders(req.headers, f['q-header-list'] ? f['q-header-list'].split(';') : []);

  return { accessKeyId: f['q-ak'], dialect: 'cos', method: presigned ? 'cos-presigned' : 'cos', payload: { kind: 'unsigned' } };
}
