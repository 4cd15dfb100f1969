// Parses the SSE headers (or POST form fields) of a request, once, into an
// SseRequest, and renders the SSE headers of a response.

import { fromB64, toB64 } from '../../crypto/bytes';
import type { Envelope, SseRequest } from '../../sse/types';
import type { Dialect } from '../../auth/types';
import { hdr } from './dialect';
import { S3Error } from './errors';

/** Reads one SSE field by its name without the x-amz-/x-cos- prefix. */
export type FieldGetter = (suffix: string) => string | null;

export const headerGetter = (h: Headers): FieldGetter => (s) => h.get(`x-amz-${s}`) ?? h.get(`x-cos-${s}`);

const bad = (msg: string, name?: string) => new S3Error('InvalidArgument', msg, name ? { fields: { ArgumentName: name } } : {});

export interface SseParseOptions {
  dialect: Dialect;
  /** 'write' accepts server-side-encryption; 'read' refuses it. */
  op: 'write' | 'read';
  secure: boolean;
  allowInsecureSseC: boolean;
  /** 'copy-source-' for the source side of a copy. */
  customerPrefix?: string;
}

export async function parseSse(get: FieldGetter, o: SseParseOptions): Promise<SseRequest> {
  const sse = o.customerPrefix ? null : get('server-side-encryption');
  const kmsKeyId = o.customerPrefix ? null : (get('server-side-encryption-aws-kms-key-id') ?? get('server-side-encryption-cos-kms-key-id'));
  const ctx = o.customerPrefix ? null : get('server-side-encryption-context');
  const cp = `${o.customerPrefix ?? ''}server-side-encryption-customer-`;
  const calg = get(`${cp}algorithm`);
  const ckey = get(`${cp}key`);
  const cmd5 = get(`${cp}key-MD5`) ?? get(`${cp}key-md5`);
  const req: SseRequest = {};

  if (sse !== null) {
    if (o.op === 'read') {
      throw o.dialect === 'cos'
        ? new S3Error('SSEHeaderNotAllowed', 'The server-side-encryption header is not allowed on this request.')
        : bad(`${hdr(o.dialect, 'server-side-encryption')} header is not supported for this operation.`, hdr(o.dialect, 'server-side-encryption'));
    }
    if (sse === 'AES256') req.mode = 'cos';
    else if (sse === 'aws:kms' || sse === 'cos/kms' || sse === 'aws:kms:dsse') req.mode = 'kms';
    else throw bad('The encryption method specified is not supported', hdr(o.dialect, 'server-side-encryption'));
  }
  if ((kmsKeyId !== null || ctx !== null) && req.mode !== 'kms') {
    throw bad('Server Side Encryption with KMS managed key requires HTTP header x-amz-server-side-encryption : aws:kms', hdr(o.dialect, 'server-side-encryption'));
  }
  if (kmsKeyId !== null) {
    if (!kmsKeyId.trim()) throw bad('The KMS key id must not be empty.', hdr(o.dialect, 'server-side-encryption-aws-kms-key-id'));
    req.kmsKeyId = kmsKeyId.trim();
  }
  if (ctx !== null) req.context = parseContext(ctx, o.dialect);

  if (calg !== null || ckey !== null || cmd5 !== null) {
    if (req.mode) throw bad('Server Side Encryption with Customer provided key is incompatible with the encryption method specified', hdr(o.dialect, 'server-side-encryption'));
    if (calg === null) throw bad('Requests specifying Server Side Encryption with Customer provided keys must provide a valid encryption algorithm.', hdr(o.dialect, `${cp}algorithm`));
    if (calg !== 'AES256') throw bad('The encryption algorithm specified is not valid.', hdr(o.dialect, `${cp}algorithm`));
    if (ckey === null) throw bad('Requests specifying Server Side Encryption with Customer provided keys must provide an appropriate secret key.', hdr(o.dialect, `${cp}key`));
    let key: Uint8Array;
    try {
      key = fromB64(ckey);
    } catch {
      key = new Uint8Array(0);
    }
    if (key.length !== 32) throw bad('The secret key was invalid for the specified algorithm.', hdr(o.dialect, `${cp}key`));
    if (cmd5 === null) throw bad('Requests specifying Server Side Encryption with Customer provided keys must provide the client calculated MD5 of the secret key.', hdr(o.dialect, `${cp}key-MD5`));
    const md5 = toB64(new Uint8Array(await crypto.subtle.digest('MD5', key)));
    if (md5 !== cmd5) throw bad('The calculated MD5 hash of the key did not match the hash that was provided.', hdr(o.dialect, `${cp}key-MD5`));
    if (!o.secure && !o.allowInsecureSseC) {
      throw new S3Error('InvalidRequest', 'Requests specifying Server Side Encryption with Customer provided keys must be made over a secure connection.');
    }
    req.mode = 'c';
    req.customerKey = key;
    req.customerKeyMD5 = md5;
  }
  return req;
}

function parseContext(b64: string, d: Dialect): Record<string, string> {
  const fail = () => bad('The encryption context must be base64 of a JSON object whose values are strings.', hdr(d, 'server-side-encryption-context'));
  let obj: unknown;
  try {
    obj = JSON.parse(new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(fromB64(b64)));
  } catch {
    throw fail();
  }
  if (!obj || typeof obj !== 'object' || Array.isArray(obj) || !Object.values(obj).every((v) => typeof v === 'string')) throw fail();
  return obj as Record<string, string>;
}

/** The SSE headers a response carries for an object in the request's dialect. */
export function sseHeaders(d: Dialect, env: Envelope | undefined, req: SseRequest): Record<string, string> {
  if (!env) return {};
  const h: Record<string, string> = {};
  if (env.mode === 'cos') h[hdr(d, 'server-side-encryption')] = 'AES256';
  else if (env.mode === 'kms') {
    h[hdr(d, 'server-side-encryption')] = d === 'cos' ? 'cos/kms' : 'aws:kms';
    h[hdr(d, d === 'cos' ? 'server-side-encryption-cos-kms-key-id' : 'server-side-encryption-aws-kms-key-id')] = env.kid ?? '';
    if (d === 'amz' && env.ctx) h['x-amz-server-side-encryption-context'] = env.ctx;
  } else {
    h[hdr(d, 'server-side-encryption-customer-algorithm')] = 'AES256';
    if (req.customerKeyMD5) h[hdr(d, 'server-side-encryption-customer-key-MD5')] = req.customerKeyMD5;
  }
  return h;
}
