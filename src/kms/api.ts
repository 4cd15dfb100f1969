// The AWS KMS JSON protocol on the gateway's own endpoint: POST with
// `X-Amz-Target: TrentService.<Operation>` and an application/x-amz-json-1.1
// body, signed with SigV4 for service "kms". Replies and errors are AWS JSON,
// so `aws kms --endpoint-url ...` and @aws-sdk/client-kms work unchanged.

import { precheckSigV4, verifySigV4 } from '../auth/sigv4';
import type { Config } from '../config';
import { toHex } from '../crypto/bytes';
import type { Env } from '../env';
import type { Identities } from '../iam/identities';
import { readAtMost } from '../s3/payload/body';
import { S3Error } from '../s3/protocol/errors';
import type { Caller } from './authz';
import { kmsStub } from './durable';
import { KmsError } from './service';

const TARGET_PREFIX = 'TrentService.';
const MAX_BODY = 64 * 1024;

export const isKmsRequest = (req: Request): boolean => (req.headers.get('x-amz-target') ?? '').startsWith(TARGET_PREFIX);

const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/x-amz-json-1.1' } });

export const kmsErrorResponse = (e: KmsError): Response => {
  const r = json(e.status, { __type: e.type, message: e.message });
  r.headers.set('x-amzn-errortype', e.type);
  return r;
};

/** Authentication failures in the names AWS services use for them. */
function authError(e: S3Error): KmsError {
  switch (e.code) {
    case 'SignatureDoesNotMatch':
      return new KmsError('InvalidSignatureException', 'The request signature we calculated does not match the signature you provided.');
    case 'RequestTimeTooSkewed':
      return new KmsError('InvalidSignatureException', 'Signature expired: the request time is too far from the server time.');
    case 'InvalidAccessKeyId':
      return new KmsError('UnrecognizedClientException', 'The security token included in the request is invalid.');
    case 'AuthorizationHeaderMalformed':
      return new KmsError('IncompleteSignatureException', e.message);
    case 'XAmzContentSHA256Mismatch':
      return new KmsError('InvalidSignatureException', 'The body does not match the signed x-amz-content-sha256.');
    default:
      return new KmsError('AccessDeniedException', e.message);
  }
}

const tooLarge = () => new KmsError('ValidationException', `The request body is larger than ${MAX_BODY} bytes.`);

/** Runs a signature check, answering its failures in KMS's own error names. */
async function signed<T>(check: () => Promise<T>): Promise<T> {
  try {
    return await check();
  } catch (e) {
    throw e instanceof S3Error ? authError(e) : e;
  }
}

export async function kmsApi(req: Request, env: Env, config: Config, who: Identities): Promise<Response> {
  const lookup = (accessKeyId: string) => who.secret(accessKeyId);
  try {
    const op = req.headers.get('x-amz-target')!.slice(TARGET_PREFIX.length);
    if (req.method !== 'POST') throw new KmsError('UnknownOperationException', 'KMS operations are POST requests.');
    if (!(req.headers.get('authorization') ?? '').startsWith('AWS4-HMAC-SHA256')) {
      throw new KmsError(
        'MissingAuthenticationTokenException',
        'Missing Authentication Token: KMS requests must be signed with SigV4 (service "kms").',
      );
    }
    // Who is asking, and when, is checked before a single byte of the body is read.
    await signed(() => precheckSigV4(req, lookup, { service: 'kms' }));
    // Only a signed body is acted on: streaming and unsigned payloads are refused outright.
    const declared = req.headers.get('x-amz-content-sha256');
    if (declared !== null && !/^[0-9a-fA-F]{64}$/.test(declared)) {
      throw new KmsError(
        'InvalidSignatureException',
        'KMS requests must sign their body: x-amz-content-sha256, when sent, must be its SHA-256.',
      );
    }
    if (Number(req.headers.get('content-length') ?? 0) > MAX_BODY) throw tooLarge();
    const body = await readAtMost(req.body, MAX_BODY, tooLarge);
    const hash = toHex(await crypto.subtle.digest('SHA-256', body));
    const auth = await signed(() => verifySigV4(req, lookup, { service: 'kms', payloadHash: hash }));
    const text = new TextDecoder().decode(body);
    let input: unknown;
    try {
      input = text.trim() ? JSON.parse(text) : {};
    } catch {
      throw new KmsError('SerializationException', 'The request body is not valid JSON.');
    }
    if (!input || typeof input !== 'object' || Array.isArray(input))
      throw new KmsError('SerializationException', 'The request body must be a JSON object.');
    const stub = kmsStub(env);
    if (!stub) throw new KmsError('KMSInternalException', 'This gateway has no KMS Durable Object binding (KMS).', 500);
    // Every call is authorized as its signer (key policies, identity policies) inside the Durable Object.
    const caller: Caller = {
      principal: await who.principal(auth.accessKeyId),
      facts: {
        region: config.region,
        secure: new URL(req.url).protocol === 'https:',
        sourceIp: req.headers.get('cf-connecting-ip') ?? undefined,
      },
    };
    const reply = await stub.api(op, input as Record<string, unknown>, config.region, caller);
    if (!reply.ok) throw new KmsError(reply.type, reply.message, reply.status);
    return new Response(reply.json, { status: 200, headers: { 'content-type': 'application/x-amz-json-1.1' } });
  } catch (e) {
    if (e instanceof KmsError) return kmsErrorResponse(e);
    console.error(JSON.stringify({ event: 'kms-api-error', error: String(e instanceof Error ? e.message : e) }));
    return kmsErrorResponse(new KmsError('KMSInternalException', 'The KMS encountered an internal error.', 500));
  }
}
