// SSE-KMS: the data key is wrapped under the current version of a customer
// master key (CMK) held by the KMS Durable Object (src/kms/), with the object's
// identity and its encryption context bound into the wrap. The envelope records
// the CMK id (kid), its version (kver) and the context (ctx, base64 of the
// canonical JSON), so a GET needs no context and a rotated CMK still opens
// objects wrapped under its older versions.

import { fromB64, fromB64url, toB64, toB64url, utf8 } from '../crypto/bytes';
import type { Caller } from '../kms/authz';
import { canonicalContext as canonicalOf } from '../kms/data';
import type { Failure, UnwrapResult, WrapResult, WrapSubject } from '../kms/service';
import { IntegrityError, SseError } from './errors';
import type { Envelope, KeyMode, ObjectId, SseRequest, WrapFields } from './types';

/** What SSE-KMS needs from the KMS: the RPC surface of KmsStore. */
export interface KmsBackend {
  wrapDataKey(ref: string | undefined, subject: WrapSubject, dataKey: Uint8Array, caller?: Caller): Promise<WrapResult>;
  unwrapDataKey(
    kid: string,
    kver: string,
    subject: WrapSubject,
    wsalt: Uint8Array,
    wkey: Uint8Array,
    caller?: Caller,
  ): Promise<UnwrapResult>;
}

/** Canonical encryption context (the KMS data plane's, kms/data.ts). `{}` when there is none. */
export const canonicalContext = (c: Record<string, string> | undefined): string => canonicalOf(c ?? {});

/** The context bytes stay well inside the 2 KiB record metadata budget (base64 grows them by a third). */
export const MAX_CONTEXT_BYTES = 1024;

/** The SSE refusal for a CMK that cannot be used. */
export function kmsFailure(f: Failure): Error {
  switch (f.reason) {
    case 'NotFound':
      return new SseError('KmsKeyNotFound', f.message);
    case 'Disabled':
      return new SseError('KmsKeyDisabled', f.message);
    case 'InvalidState':
      return new SseError('KmsKeyInvalidState', f.message);
    case 'AccessDenied':
      return new SseError('KmsAccessDenied', f.message);
    case 'Integrity':
      return new IntegrityError(f.message);
    default:
      return new SseError('KmsUnavailable', f.message);
  }
}

/**
 * `caller` answers who the S3 request came from once it is authenticated: sealing then needs its
 * kms:GenerateDataKey and opening its kms:Decrypt on the CMK (through S3, as AWS judges them).
 * Undefined means the gateway itself acts (rotation, rewrap by the operator, scheduled runs).
 */
export function sseKms(kms: () => KmsBackend | undefined, caller: () => Caller | undefined = () => undefined): KeyMode {
  const backend = (): KmsBackend => {
    const b = kms();
    if (!b) throw new SseError('KmsUnavailable', 'SSE-KMS is not configured on this gateway (no KMS Durable Object binding).');
    return b;
  };
  return {
    async wrap(obj: ObjectId, dataKey: Uint8Array, req: SseRequest): Promise<WrapFields> {
      const context = canonicalContext(req.context);
      if (utf8(context).length > MAX_CONTEXT_BYTES) {
        throw new SseError('ContextTooLarge', `The encryption context must be at most ${MAX_CONTEXT_BYTES} bytes of JSON.`);
      }
      const r = await backend().wrapDataKey(req.kmsKeyId, { bucket: obj.bucket, key: obj.key, context }, dataKey, caller());
      if (!r.ok) throw kmsFailure(r);
      return {
        kid: r.kid,
        kver: r.kver,
        ...(context !== '{}' ? { ctx: toB64(utf8(context)) } : {}),
        wsalt: toB64url(r.wsalt),
        wkey: toB64url(r.wkey),
      };
    },
    async unwrap(obj: ObjectId, envelope: Envelope): Promise<Uint8Array> {
      if (!envelope.kid || !envelope.kver) throw new IntegrityError('SSE-KMS envelope without a CMK id and version');
      let context = '{}';
      if (envelope.ctx !== undefined) {
        try {
          context = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(fromB64(envelope.ctx));
        } catch {
          throw new IntegrityError('SSE-KMS envelope with a malformed context');
        }
      }
      const r = await backend().unwrapDataKey(
        envelope.kid,
        envelope.kver,
        { bucket: obj.bucket, key: obj.key, context },
        fromB64url(envelope.wsalt),
        fromB64url(envelope.wkey),
        caller(),
      );
      if (!r.ok) throw kmsFailure(r);
      return r.dataKey;
    },
  };
}
