// Server-side encryption. Key hierarchy (docs/FORMAT.md has the bytes):
//
//   dataKey    = random(32)                                  per object
//   stream     = HKDF(dataKey, salt, "segments" || bucket,key,size,seg)
//                -> segmentKey(32) || commitment(32) || noncePrefix(7)
//   SSE-COS:  wrapped = AES-GCM(HKDF(master[kid], wsalt, "wrap" || "sse-cos",kid,bucket,key), dataKey)
//   SSE-C:    wrapped = AES-GCM(HKDF(customerKey, wsalt, "wrap" || "sse-c",bucket,key), dataKey)
//             kmac    = HMAC(customerKey, "sse-c check" || ksalt)
//   SSE-KMS:  wrapped = AES-GCM(HKDF(cmk[kver], wsalt, "wrap" || "sse-kms",kid,kver,bucket,key,context), dataKey)
//
// Handlers see only seal() and open(); the primitives stay below this line.

import { equalBytes, fields, fromB64url, randomBytes, toB64url, toHex } from '../crypto/bytes';
import { cipherLength, decryptStream, deriveStream, encryptStream, IntegrityError, segmentSpan, type SegmentSpan } from '../crypto/stream';
import type { Envelope, KeyMode, Mode, ObjectId, SseRequest } from './types';

export type { Envelope, Mode, ObjectId, SseRequest } from './types';
export { IntegrityError, LengthError } from '../crypto/stream';

const streamContext = (obj: ObjectId, plainLen: number, seg: number): Uint8Array => fields('object', obj.bucket, obj.key, plainLen, seg);

export interface Sealing {
  envelope: Envelope;
  storedLength: number;
  transform: TransformStream<Uint8Array, Uint8Array>;
}

export interface Opening {
  /** Ciphertext bytes and trimming for plaintext bytes [start, end]. */
  span(start: number, end: number): SegmentSpan;
  decrypt(span: SegmentSpan): TransformStream<Uint8Array, Uint8Array>;
}

/**
 * The ETag of an SSE-C object: S3 does not reveal the plaintext MD5 of objects
 * the server cannot read, so it is drawn from the key commitment instead.
 */
export const opaqueEtag = (env: Envelope): string => toHex(fromB64url(env.commit).subarray(0, 16));

export class Sse {
  constructor(private modes: Partial<Record<Mode, KeyMode>>, private segmentSize: number) {}

  private mode(m: Mode): KeyMode {
    const km = this.modes[m];
    if (!km) throw new IntegrityError(`encryption mode ${m} is not available`);
    return km;
  }

  /** Seals a new object of plainLen bytes in the given mode. */
  async seal(obj: ObjectId, plainLen: number, mode: Mode, req: SseRequest): Promise<Sealing> {
    const seg = this.segmentSize;
    const dataKey = randomBytes(32);
    const salt = randomBytes(16);
    const wrap = await this.mode(mode).wrap(obj, dataKey, req);
    const { key, commitment } = await deriveStream(dataKey, salt, streamContext(obj, plainLen, seg));
    const envelope: Envelope = { v: 1, mode, seg, salt: toB64url(salt), commit: toB64url(commitment), ...wrap };
    return { envelope, storedLength: cipherLength(plainLen, seg), transform: encryptStream(key, plainLen, seg) };
  }

  /** Recovers an object's data key (checking the mode's credentials) and its key commitment. */
  async open(obj: ObjectId, plainLen: number, env: Envelope, req: SseRequest): Promise<Opening> {
    const dataKey = await this.mode(env.mode).unwrap(obj, env, req);
    const { key, commitment } = await deriveStream(dataKey, fromB64url(env.salt), streamContext(obj, plainLen, env.seg));
    if (!equalBytes(commitment, fromB64url(env.commit))) throw new IntegrityError('key commitment mismatch');
    return {
      span: (start, end) => segmentSpan(plainLen, env.seg, start, end),
      decrypt: (span) => decryptStream(key, plainLen, env.seg, span),
    };
  }

  /** Wraps the same data key afresh (rotation, re-keying by copy); the data is untouched. */
  async rewrap(obj: ObjectId, env: Envelope, from: SseRequest, mode: Mode, to: SseRequest): Promise<Envelope> {
    const dataKey = await this.mode(env.mode).unwrap(obj, env, from);
    const wrap = await this.mode(mode).wrap(obj, dataKey, to);
    return { v: 1, mode, seg: env.seg, salt: env.salt, commit: env.commit, ...wrap };
  }
}
