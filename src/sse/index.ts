// Server-side encryption. Key hierarchy (docs/FORMAT.md has the bytes):
//
//   dataKey    = random(32)                                  per object
//   stream     = HKDF(dataKey, salt, "segments" || bucket,key,size,seg)
//                -> segmentKey(32) || commitment(32) || noncePrefix(7)
//   SSE-COS:  wrapped = AES-GCM(HKDF(master[kid], wsalt, "wrap" || "sse-cos",kid,bucket,key), dataKey)
//   SSE-C:    wrapped = AES-GCM(HKDF(customerKey, wsalt, "wrap" || "sse-c",bucket,key), dataKey)
//             kmac    = HMAC(key = ksalt, "sse-c check" || customerKey)
//   SSE-KMS:  wrapped = AES-GCM(HKDF(cmk[kver], wsalt, "wrap" || "sse-kms",kid,kver,bucket,key,context), dataKey)
//   multipart: commit  = HKDF(dataKey, salt, "manifest" || bucket,key,uploadId,size,seg,SHA-256(manifest))
//              (SSE-C: HKDF(manifestKey, ...), manifestKey = HKDF(dataKey, "manifest key" || bucket,key),
//               held wrapped under the master key while the upload is open)
//
// Handlers see only seal() and open(); the primitives stay below this line. Refusals
// are SseError kinds (./errors.ts), never S3 codes.

import { concat, fields, fromB64url, randomBytes, timingSafeEqual, toB64url, toHex, utf8 } from '../crypto/bytes';
import { hkdf, hmacSha256 } from '../crypto/kdf';
import { cipherLength, decryptBody, deriveStream, encryptStream, IntegrityError, type SegmentSpan, segmentSpan } from '../crypto/stream';
import type { Envelope, KeyMode, Mode, ObjectId, SseRequest } from './types';

export { IntegrityError, LengthError, SseError } from './errors';
export type { Envelope, Mode, ObjectId, SseRequest } from './types';

const streamContext = (obj: ObjectId, plainLen: number, seg: number): Uint8Array => fields('object', obj.bucket, obj.key, plainLen, seg);
const partContext = (obj: ObjectId, uploadId: string, part: number, plainLen: number, seg: number): Uint8Array =>
  fields('part', obj.bucket, obj.key, uploadId, part, plainLen, seg);
const MANIFEST_LABEL = utf8('sealbucket/v1 manifest');
const MANIFEST_KEY_LABEL = utf8('sealbucket/v1 manifest key');
const PART_ETAG_LABEL = utf8('sealbucket/v1 part etag');
/** One-way from the data key: whoever holds it can commit a manifest, not read a byte. */
const manifestKeyOf = (dataKey: Uint8Array, obj: ObjectId) =>
  hkdf(dataKey, new Uint8Array(0), concat(MANIFEST_KEY_LABEL, fields('manifest key', obj.bucket, obj.key)), 32);

/** One sealed part of a multipart upload, as the part record keeps it. */
export interface SealedPart {
  salt: string;
  commit: string;
}

export interface Sealing {
  envelope: Envelope;
  storedLength: number;
  transform: TransformStream<Uint8Array, Uint8Array>;
}

export interface Opening {
  /** The stream's whole stored length: a stored entry of any other length has been tampered with. */
  storedLength: number;
  /** Ciphertext bytes and trimming for plaintext bytes [start, end]. */
  span(start: number, end: number): SegmentSpan;
  /** The plaintext of `stored` (the span's ciphertext bytes), authenticated as it streams. */
  read(stored: ReadableStream<Uint8Array>, span: SegmentSpan): ReadableStream<Uint8Array>;
}

/**
 * The ETag of a stored object or part: `plain` (the plaintext MD5, or for a multipart
 * object the MD5 of its parts' MD5s with "-<parts>"), except under SSE-C. S3 does not
 * reveal the plaintext MD5 of an object the server cannot read, so an SSE-C ETag is
 * drawn from the key commitment instead (with "-<parts>" for a multipart object).
 */
export function etagFor(envelope: Envelope | undefined, plain: string, parts?: number): string {
  if (envelope?.mode !== 'c') return plain;
  const opaque = toHex(fromB64url(envelope.commit).subarray(0, 16));
  return parts ? `${opaque}-${parts}` : opaque;
}

export class Sealer {
  constructor(
    private modes: Partial<Record<Mode, KeyMode>>,
    private segmentSize: number,
    /** The gateway's own wrap for an SSE-C upload's manifest key (without it, Complete needs the customer's key). */
    private custody?: KeyMode,
  ) {}

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
  async open(obj: ObjectId, plainLen: number, envelope: Envelope, req: SseRequest): Promise<Opening> {
    const dataKey = await this.mode(envelope.mode).unwrap(obj, envelope, req);
    const { key, commitment } = await deriveStream(dataKey, fromB64url(envelope.salt), streamContext(obj, plainLen, envelope.seg));
    if (!timingSafeEqual(commitment, fromB64url(envelope.commit))) throw new IntegrityError('key commitment mismatch');
    return {
      storedLength: cipherLength(plainLen, envelope.seg),
      span: (start, end) => segmentSpan(plainLen, envelope.seg, start, end),
      read: (stored, span) => decryptBody(key, plainLen, envelope.seg, span, stored),
    };
  }

  // Multipart: the upload gets one data key at initiation; each part is its own
  // stream under it with a fresh salt (so a retried part never reuses a key and
  // nonce), bound to its upload id and part number. Completion commits to the
  // data key and the exact manifest of parts in one HKDF output.

  /** The envelope of a new upload: the wrapped data key, no stream yet. */
  async initUpload(obj: ObjectId, mode: Mode, req: SseRequest): Promise<Envelope> {
    const dataKey = randomBytes(32);
    const wrap = await this.mode(mode).wrap(obj, dataKey, req);
    const envelope: Envelope = { v: 1, mode, seg: this.segmentSize, salt: '', commit: '', ...wrap };
    // S3 completes an SSE-C upload without the customer's key (Tencent's SDK and s3transfer 0.6
    // send none), so the gateway keeps the manifest key until then: enough to commit the list of
    // parts, nothing to decrypt them with.
    if (mode === 'c' && this.custody) {
      const held = await this.custody.wrap(obj, await manifestKeyOf(dataKey, obj), {});
      Object.assign(envelope, { mkid: held.kid, mwsalt: held.wsalt, mwkey: held.wkey });
    }
    return envelope;
  }

  /** Whether Complete may go ahead without the customer's key (the gateway holds the manifest key). */
  completesWithoutKey = (upload: Envelope): boolean => upload.mode === 'c' && upload.mkid !== undefined && this.custody !== undefined;

  /** The key a multipart object's `commit` is derived from. */
  private async commitKey(obj: ObjectId, envelope: Envelope, dataKey: Uint8Array): Promise<Uint8Array> {
    return envelope.mk === '1' || envelope.mkid !== undefined ? manifestKeyOf(dataKey, obj) : dataKey;
  }

  async sealPart(
    obj: ObjectId,
    upload: Envelope,
    req: SseRequest,
    uploadId: string,
    part: number,
    plainLen: number,
  ): Promise<
    SealedPart & { storedLength: number; transform: TransformStream<Uint8Array, Uint8Array>; etag(md5Hex: string): Promise<string> }
  > {
    const dataKey = await this.mode(upload.mode).unwrap(obj, upload, req);
    const salt = randomBytes(16);
    const { key, commitment } = await deriveStream(dataKey, salt, partContext(obj, uploadId, part, plainLen, upload.seg));
    return {
      salt: toB64url(salt),
      commit: toB64url(commitment),
      storedLength: cipherLength(plainLen, upload.seg),
      transform: encryptStream(key, plainLen, upload.seg),
      // The part's ETag: its plaintext MD5, except under SSE-C (see etagFor), where it is that MD5
      // keyed by the data key, so a part sent again with the same bytes keeps its ETag, as in S3
      // (clients complete with the ETag of the first attempt) and still reveals nothing.
      etag: async (md5Hex) => {
        if (upload.mode !== 'c') return md5Hex;
        const etagKey = await hkdf(
          dataKey,
          new Uint8Array(0),
          concat(PART_ETAG_LABEL, fields('part etag', obj.bucket, obj.key, uploadId, part)),
          32,
        );
        return toHex((await hmacSha256(etagKey, utf8(md5Hex))).subarray(0, 16));
      },
    };
  }

  /** The completed object's envelope: `commit` now covers the data key and the manifest digest. */
  async completeUpload(
    obj: ObjectId,
    upload: Envelope,
    req: SseRequest,
    uploadId: string,
    size: number,
    manifestDigest: Uint8Array,
  ): Promise<Envelope> {
    const { mkid, mwsalt, mwkey, ...kept } = upload;
    let key: Uint8Array;
    if (req.customerKey || !this.completesWithoutKey(upload)) {
      key = await this.commitKey(obj, upload, await this.mode(upload.mode).unwrap(obj, upload, req));
    } else {
      const held = { ...upload, kid: mkid, wsalt: mwsalt ?? '', wkey: mwkey ?? '' };
      key = await this.custody!.unwrap(obj, held, {});
    }
    const salt = randomBytes(16);
    const commit = await manifestCommitment(key, salt, obj, uploadId, size, upload.seg, manifestDigest);
    return { ...kept, ...(mkid !== undefined ? { mk: '1' as const } : {}), salt: toB64url(salt), commit: toB64url(commit) };
  }

  /** Opens a multipart object after checking its manifest; parts are opened one by one. */
  async openMultipart(obj: ObjectId, envelope: Envelope, req: SseRequest, uploadId: string, size: number, manifestDigest: Uint8Array) {
    const dataKey = await this.mode(envelope.mode).unwrap(obj, envelope, req);
    const commitKey = await this.commitKey(obj, envelope, dataKey);
    const commit = await manifestCommitment(commitKey, fromB64url(envelope.salt), obj, uploadId, size, envelope.seg, manifestDigest);
    if (!timingSafeEqual(commit, fromB64url(envelope.commit))) throw new IntegrityError('manifest or key commitment mismatch');
    return {
      part: async (part: number, plainLen: number, sealed: SealedPart): Promise<Opening> => {
        const { key, commitment } = await deriveStream(
          dataKey,
          fromB64url(sealed.salt),
          partContext(obj, uploadId, part, plainLen, envelope.seg),
        );
        if (!timingSafeEqual(commitment, fromB64url(sealed.commit))) throw new IntegrityError(`part ${part} commitment mismatch`);
        return {
          storedLength: cipherLength(plainLen, envelope.seg),
          span: (start, end) => segmentSpan(plainLen, envelope.seg, start, end),
          read: (stored, span) => decryptBody(key, plainLen, envelope.seg, span, stored),
        };
      },
    };
  }

  /** Wraps the same data key afresh (rotation, re-keying by copy); the data is untouched. */
  async rewrap(obj: ObjectId, envelope: Envelope, from: SseRequest, mode: Mode, to: SseRequest): Promise<Envelope> {
    const dataKey = await this.mode(envelope.mode).unwrap(obj, envelope, from);
    const wrap = await this.mode(mode).wrap(obj, dataKey, to);
    const mk = envelope.mk ? { mk: envelope.mk } : {};
    return { v: 1, mode, seg: envelope.seg, salt: envelope.salt, commit: envelope.commit, ...mk, ...wrap };
  }
}

const manifestCommitment = (
  commitKey: Uint8Array,
  salt: Uint8Array,
  obj: ObjectId,
  uploadId: string,
  size: number,
  seg: number,
  digest: Uint8Array,
) => hkdf(commitKey, salt, concat(MANIFEST_LABEL, fields('multipart', obj.bucket, obj.key, uploadId, size, seg, digest)), 32);
