// The SSE part of the protocol, in one place: parses a request's SSE headers (or POST
// form fields), once, into an SseRequest; the SSE-C rule of which requests must carry
// the customer key; and the SSE headers of a response.

import type { Dialect } from '../../auth/types';
import { fromB64, toB64 } from '../../crypto/bytes';
import { type Envelope, SseError, type SseRequest } from '../../sse';
import { hdr } from './dialect';
import { S3Error } from './errors';

/** Reads one SSE field by its name without the x-amz-/x-cos- prefix. */
export type FieldGetter = (suffix: string) => string | null;

export const headerGetter =
  (h: Headers): FieldGetter =>
  (s) =>
    h.get(`x-amz-${s}`) ?? h.get(`x-cos-${s}`);

const bad = (msg: string, name?: string) => new S3Error('InvalidArgument', msg, name ? { fields: { ArgumentName: name } } : {});

/**
 * What the SSE fields are for: 'write' names the encryption of what is stored (any
 * mode); 'read' only opens (SSE-C key, no server-side-encryption header);
 * 'copy-source' is the source side of a copy (its x-amz-copy-source-…-customer-* fields).
 */
export type SseUse = 'write' | 'read' | 'copy-source';

/** Where a request arrived: its dialect, whether over TLS, and whether SSE-C may come over plain HTTP. */
export interface SseSetting {
  dialect: Dialect;
  secure: boolean;
  config: { sseCAllowHttp: boolean };
}

/** The SSE fields of a request's headers, for `use`. */
export const requestSse = (r: SseSetting & { req: Request }, use: SseUse): Promise<SseRequest> =>
  parseSse(headerGetter(r.req.headers), r, use);

export async function parseSse(get: FieldGetter, at: SseSetting, use: SseUse): Promise<SseRequest> {
  const { dialect } = at;
  const source = use === 'copy-source';
  const sse = source ? null : get('server-side-encryption');
  const kmsKeyId = source ? null : (get('server-side-encryption-aws-kms-key-id') ?? get('server-side-encryption-cos-kms-key-id'));
  const context = source ? null : get('server-side-encryption-context');
  const cp = `${source ? 'copy-source-' : ''}server-side-encryption-customer-`;
  const calg = get(`${cp}algorithm`);
  const ckey = get(`${cp}key`);
  const cmd5 = get(`${cp}key-MD5`) ?? get(`${cp}key-md5`);
  const req: SseRequest = {};

  if (sse !== null) {
    if (use !== 'write') {
      throw dialect === 'cos'
        ? new S3Error('SSEHeaderNotAllowed', 'The server-side-encryption header is not allowed on this request.')
        : bad(
            `${hdr(dialect, 'server-side-encryption')} header is not supported for this operation.`,
            hdr(dialect, 'server-side-encryption'),
          );
    }
    if (sse === 'AES256') req.mode = 'cos';
    else if (sse === 'aws:kms' || sse === 'cos/kms' || sse === 'aws:kms:dsse') req.mode = 'kms';
    else throw bad('The encryption method specified is not supported', hdr(dialect, 'server-side-encryption'));
  }
  if ((kmsKeyId !== null || context !== null) && req.mode !== 'kms') {
    throw bad(
      'Server Side Encryption with KMS managed key requires HTTP header x-amz-server-side-encryption : aws:kms',
      hdr(dialect, 'server-side-encryption'),
    );
  }
  if (kmsKeyId !== null) {
    if (!kmsKeyId.trim()) throw bad('The KMS key id must not be empty.', hdr(dialect, 'server-side-encryption-aws-kms-key-id'));
    req.kmsKeyId = kmsKeyId.trim();
  }
  if (context !== null) req.context = parseContext(context, dialect);

  if (calg !== null || ckey !== null || cmd5 !== null) {
    if (req.mode)
      throw bad(
        'Server Side Encryption with Customer provided key is incompatible with the encryption method specified',
        hdr(dialect, 'server-side-encryption'),
      );
    if (calg === null)
      throw bad(
        'Requests specifying Server Side Encryption with Customer provided keys must provide a valid encryption algorithm.',
        hdr(dialect, `${cp}algorithm`),
      );
    if (calg !== 'AES256') throw bad('The encryption algorithm specified is not valid.', hdr(dialect, `${cp}algorithm`));
    if (ckey === null)
      throw bad(
        'Requests specifying Server Side Encryption with Customer provided keys must provide an appropriate secret key.',
        hdr(dialect, `${cp}key`),
      );
    let key: Uint8Array;
    try {
      key = fromB64(ckey);
    } catch {
      key = new Uint8Array(0);
    }
    if (key.length !== 32) throw bad('The secret key was invalid for the specified algorithm.', hdr(dialect, `${cp}key`));
    if (cmd5 === null)
      throw bad(
        'Requests specifying Server Side Encryption with Customer provided keys must provide the client calculated MD5 of the secret key.',
        hdr(dialect, `${cp}key-MD5`),
      );
    const md5 = toB64(new Uint8Array(await crypto.subtle.digest('MD5', key)));
    if (md5 !== cmd5)
      throw bad('The calculated MD5 hash of the key did not match the hash that was provided.', hdr(dialect, `${cp}key-MD5`));
    if (!at.secure && !at.config.sseCAllowHttp) {
      throw new S3Error(
        'InvalidRequest',
        'Requests specifying Server Side Encryption with Customer provided keys must be made over a secure connection.',
      );
    }
    req.mode = 'c';
    req.customerKey = key;
    req.customerKeyMD5 = md5;
  }
  return req;
}

function parseContext(b64: string, d: Dialect): Record<string, string> {
  const fail = () =>
    bad('The encryption context must be base64 of a JSON object whose values are strings.', hdr(d, 'server-side-encryption-context'));
  let obj: unknown;
  try {
    obj = JSON.parse(new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(fromB64(b64)));
  } catch {
    throw fail();
  }
  if (!obj || typeof obj !== 'object' || Array.isArray(obj) || !Object.values(obj).every((v) => typeof v === 'string')) throw fail();
  return obj as Record<string, string>;
}

/** Sets the SSE headers a response carries for what `envelope` sealed, in the request's dialect. */
export function setSseHeaders(h: Headers, d: Dialect, envelope: Envelope | undefined, req: SseRequest): void {
  if (!envelope) return;
  if (envelope.mode === 'cos') h.set(hdr(d, 'server-side-encryption'), 'AES256');
  else if (envelope.mode === 'kms') {
    h.set(hdr(d, 'server-side-encryption'), d === 'cos' ? 'cos/kms' : 'aws:kms');
    h.set(hdr(d, d === 'cos' ? 'server-side-encryption-cos-kms-key-id' : 'server-side-encryption-aws-kms-key-id'), envelope.kid ?? '');
    if (d === 'amz' && envelope.ctx) h.set('x-amz-server-side-encryption-context', envelope.ctx);
  } else {
    h.set(hdr(d, 'server-side-encryption-customer-algorithm'), 'AES256');
    if (req.customerKeyMD5) h.set(hdr(d, 'server-side-encryption-customer-key-MD5'), req.customerKeyMD5);
  }
}

/** What a request touches that may have been sealed with a customer key. */
export type CustomerKeyAt = 'object' | 'copy-source' | 'upload-part' | 'complete';

/** S3's words when the key is missing, when one is sent that is not wanted, and when it is the wrong one. */
const CUSTOMER_KEY_RULES: Record<CustomerKeyAt, { missing: () => Error; unwanted?: string; wrong?: string }> = {
  object: {
    missing: () => new SseError('CustomerKeyRequired'),
    unwanted: 'The encryption parameters are not applicable to this object.',
  },
  'copy-source': {
    missing: () =>
      new S3Error(
        'InvalidRequest',
        'The source object of the COPY operation is encrypted with SSE-C; the copy-source SSE-C parameters must be provided.',
      ),
    unwanted: 'The source object of the COPY operation is not encrypted with SSE-C.',
  },
  'upload-part': {
    missing: () =>
      new S3Error(
        'InvalidRequest',
        'The multipart upload initiate requested encryption. Subsequent part requests must include the appropriate encryption parameters.',
      ),
    unwanted: 'The multipart upload initiate did not request SSE-C. Subsequent part requests must not include SSE-C encryption parameters.',
    wrong: 'The provided encryption parameters did not match the ones used originally.',
  },
  complete: {
    missing: () =>
      new S3Error(
        'InvalidRequest',
        'The multipart upload initiate requested encryption. Completing it requires the same SSE-C parameters.',
      ),
    wrong: 'The provided encryption parameters did not match the ones used originally.',
  },
};

/**
 * The SSE-C rule: a request carries a customer key exactly when what it touches was
 * sealed with one (S3 refuses both the missing and the unwanted key, in its own words).
 * Whether it is the right key is checked where the key is used (SseError
 * CustomerKeyMismatch); `wrongCustomerKey` gives that failure its words for `at`.
 */
export function requireCustomerKeyFit(at: CustomerKeyAt, stored: Envelope | undefined, req: SseRequest): void {
  const rule = CUSTOMER_KEY_RULES[at];
  const sealedC = stored?.mode === 'c';
  if (sealedC && req.mode !== 'c') throw rule.missing();
  if (!sealedC && req.mode === 'c' && rule.unwanted) throw new S3Error('InvalidRequest', rule.unwanted);
}

/** A wrong customer key at `at`, in S3's words there (a multipart upload answers InvalidRequest, not AccessDenied). */
export function wrongCustomerKey(at: CustomerKeyAt, e: unknown): unknown {
  const words = CUSTOMER_KEY_RULES[at].wrong;
  return words && e instanceof SseError && e.kind === 'CustomerKeyMismatch' ? new S3Error('InvalidRequest', words) : e;
}
