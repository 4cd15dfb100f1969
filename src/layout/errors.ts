// What a layout can refuse, in its own terms. The S3 protocol layer maps each
// kind to an S3/COS error code in one place (src/s3/protocol/errors.ts `toS3Error`).

export type LayoutErrorKind =
  /** A concurrent write kept winning the compare-and-swap of one record. */
  | 'Conflict'
  /** A write with a precondition met a change it cannot be ordered after: the object it approved was deleted, or the swap kept losing. */
  | 'ConditionConflict'
  /** Another Complete or Abort has claimed the upload. */
  | 'UploadBusy'
  /** The upload is gone, finished, or never existed. detail.uploadId. */
  | 'NoSuchUpload'
  /** Longer than the store can hold. detail.maxBytes when known. */
  | 'KeyTooLong'
  /** A key this store cannot address exactly ("." / ".." segments on an upstream, or its hidden prefix). */
  | 'KeyUnstorable'
  /** The record (envelope and user metadata) is over the store's metadata budget. detail.limit. */
  | 'MetadataTooLarge'
  /** A bucket that exists by configuration and is not deleted through the gateway. */
  | 'BucketNotDeletable'
  /** The upstream's credentials are not configured. */
  | 'UpstreamUnconfigured'
  /** The upstream is unavailable or overloaded (retryable). */
  | 'UpstreamUnavailable'
  /** The upstream refused the gateway's credentials. */
  | 'UpstreamDenied'
  /** The upstream refused the request with an S3 error code the gateway knows. detail.code. */
  | 'UpstreamRefused'
  /** The upstream answered something unexpected. */
  | 'UpstreamFailed';

export class LayoutError extends Error {
  constructor(
    readonly kind: LayoutErrorKind,
    message?: string,
    readonly detail: Record<string, string> = {},
  ) {
    super(message ?? kind);
  }
}
