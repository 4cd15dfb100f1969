// What sealing and opening can refuse, in SSE terms. The S3 protocol layer maps
// each kind to an S3/COS error code in one place (src/s3/protocol/errors.ts `toS3Error`).
// Damaged or foreign data is not one of these: it is an IntegrityError, which a client
// only ever sees as a 500 InternalError (and the operator in the log).

export { IntegrityError, LengthError } from '../crypto/stream';

export type SseErrorKind =
  /** An SSE-C object, and the request carries no customer key. */
  | 'CustomerKeyRequired'
  /** The customer key is not the one the object was stored with. */
  | 'CustomerKeyMismatch'
  /** SSE-KMS: the CMK does not exist (or is pending deletion past use). */
  | 'KmsKeyNotFound'
  | 'KmsKeyDisabled'
  | 'KmsKeyInvalidState'
  /** SSE-KMS: the KMS failed, or is not configured on this gateway. */
  | 'KmsUnavailable'
  /** SSE-KMS: the caller may not use the CMK (key policy / identity policy); the message is the KMS's. */
  | 'KmsAccessDenied'
  /** SSE-KMS: the encryption context is over the record budget. detail.limit. */
  | 'ContextTooLarge';

export class SseError extends Error {
  constructor(
    readonly kind: SseErrorKind,
    message?: string,
    readonly detail: Record<string, string> = {},
  ) {
    super(message ?? kind);
  }
}
