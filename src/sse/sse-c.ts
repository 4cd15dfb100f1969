// SSE-C: the customer's key wraps the data key and is never stored. A salted
// HMAC of it recognises the right key before anything is decrypted.

import { concat, fields, fromB64url, randomBytes, timingSafeEqual, toB64url, utf8 } from '../crypto/bytes';
import { hmacSha256, unwrapKey, wrapKey } from '../crypto/kdf';
import { IntegrityError, SseError } from './errors';
import type { Envelope, KeyMode, ObjectId, SseRequest, WrapFields } from './types';

const CHECK_LABEL = utf8('sealbucket/v1 sse-c check');
const wrapInfo = (obj: ObjectId): Uint8Array => fields('sse-c', obj.bucket, obj.key);
const keyCheck = (ksalt: Uint8Array, key: Uint8Array) => hmacSha256(ksalt, concat(CHECK_LABEL, key));

export const sseC: KeyMode = {
  async wrap(obj: ObjectId, dataKey: Uint8Array, req: SseRequest): Promise<WrapFields> {
    if (!req.customerKey) throw new SseError('CustomerKeyRequired');
    const wsalt = randomBytes(16);
    const ksalt = randomBytes(16);
    return {
      wsalt: toB64url(wsalt),
      wkey: toB64url(await wrapKey(req.customerKey, wsalt, wrapInfo(obj), dataKey)),
      ksalt: toB64url(ksalt),
      kmac: toB64url(await keyCheck(ksalt, req.customerKey)),
    };
  },
  async unwrap(obj: ObjectId, envelope: Envelope, req: SseRequest): Promise<Uint8Array> {
    if (!req.customerKey) throw new SseError('CustomerKeyRequired');
    if (!envelope.ksalt || !envelope.kmac) throw new IntegrityError('SSE-C envelope without key check');
    const mac = await keyCheck(fromB64url(envelope.ksalt), req.customerKey);
    if (!timingSafeEqual(mac, fromB64url(envelope.kmac))) throw new SseError('CustomerKeyMismatch');
    const dk = await unwrapKey(req.customerKey, fromB64url(envelope.wsalt), wrapInfo(obj), fromB64url(envelope.wkey));
    if (!dk) throw new IntegrityError('data key does not unwrap for this object');
    return dk;
  },
};
