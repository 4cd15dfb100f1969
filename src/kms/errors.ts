// The KMS's one error type, shared by the service and the ciphertext format.

/** An AWS KMS JSON error: `{"__type": type, "message": message}`. */
export class KmsError extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}
