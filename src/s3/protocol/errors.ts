// S3-style errors. Every failure a client can see is one of these, rendered as
// S3 or COS XML by the router. Messages never carry key material.

const CATALOGUE: Record<string, [number, string]> = {
  AccessDenied: [403, 'Access Denied'],
  AuthorizationHeaderMalformed: [400, 'The authorization header is malformed.'],
  AuthorizationQueryParametersError: [400, 'Query-string authentication parameters are malformed.'],
  BadDigest: [400, 'The Content-MD5 you specified did not match what we received.'],
  BucketAlreadyOwnedByYou: [409, 'Your previous request to create the named bucket succeeded and you already own it.'],
  BucketNotEmpty: [409, 'The bucket you tried to delete is not empty'],
  EntityTooLarge: [400, 'Your proposed upload exceeds the maximum allowed size'],
  IncompleteBody: [400, 'You did not provide the number of bytes specified by the Content-Length HTTP header.'],
  InternalError: [500, 'We encountered an internal error. Please try again.'],
  InvalidAccessKeyId: [403, 'The AWS Access Key Id you provided does not exist in our records.'],
  InvalidArgument: [400, 'Invalid Argument'],
  InvalidBucketName: [400, 'The specified bucket is not valid.'],
  InvalidDigest: [400, 'The Content-MD5 you specified is not valid.'],
  InvalidEncryptionAlgorithmError: [400, 'The encryption request you specified is not valid. The valid value is AES256.'],
  InvalidRange: [416, 'The requested range is not satisfiable'],
  InvalidRequest: [400, 'Invalid Request'],
  InvalidObjectState: [403, 'The operation is not valid for the object\'s state'],
  KeyTooLongError: [400, 'Your key is too long.'],
  MaxMessageLengthExceeded: [400, 'Your request was too big.'],
  MalformedXML: [400, 'The XML you provided was not well-formed or did not validate against our published schema.'],
  MetadataTooLarge: [400, 'Your metadata headers exceed the maximum allowed metadata size.'],
  MethodNotAllowed: [405, 'The specified method is not allowed against this resource.'],
  MissingContentLength: [411, 'You must provide the Content-Length HTTP header.'],
  MissingSecurityHeader: [400, 'Your request is missing a required header.'],
  NoSuchBucket: [404, 'The specified bucket does not exist'],
  NoSuchKey: [404, 'The specified key does not exist.'],
  NoSuchUpload: [404, 'The specified upload does not exist.'],
  NotImplemented: [501, 'A header you provided implies functionality that is not implemented.'],
  PreconditionFailed: [412, 'At least one of the pre-conditions you specified did not hold'],
  RequestTimeTooSkewed: [403, 'The difference between the request time and the current time is too large.'],
  ServiceUnavailable: [503, 'Please reduce your request rate.'],
  SignatureDoesNotMatch: [403, 'The request signature we calculated does not match the signature you provided. Check your key and signing method.'],
  SlowDown: [503, 'Please reduce your request rate.'],
  XAmzContentSHA256Mismatch: [400, 'The provided \'x-amz-content-sha256\' header does not match what was computed.'],
  InvalidChunkSizeError: [403, 'Only the last chunk is allowed to have a size less than 8192 bytes'],
  ExpiredToken: [400, 'The provided token has expired.'],
};

export class S3Error extends Error {
  readonly code: string;
  readonly status: number;
  /** Extra XML fields (e.g. ArgumentName) rendered inside <Error>. */
  readonly fields: Record<string, string>;
  /** HEAD responses and some 304/412 answers carry no body. */
  readonly headers: Record<string, string>;
  /** The code COS clients see when it differs from S3's (e.g. KmsKeyDisabled for KMS.DisabledException). */
  readonly cosCode?: string;

  constructor(code: string, message?: string, opts: { status?: number; fields?: Record<string, string>; headers?: Record<string, string>; cosCode?: string } = {}) {
    const known = CATALOGUE[code];
    super(message ?? known?.[1] ?? code);
    this.code = code;
    this.cosCode = opts.cosCode;
    this.status = opts.status ?? known?.[0] ?? 400;
    this.fields = opts.fields ?? {};
    this.headers = opts.headers ?? {};
  }
}

/** Whether `code` is one this gateway knows (and so can answer with). */
export const isKnownCode = (code: string): boolean => Object.hasOwn(CATALOGUE, code);

export const isS3Error = (e: unknown): e is S3Error => e instanceof S3Error;
