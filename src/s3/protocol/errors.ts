// S3-style errors. Every failure a client can see is one of these, rendered as
// S3 or COS XML by the router. Messages never carry key material. The lower layers
// refuse in their own terms (SseError, LayoutError); `toS3Error` is the one place
// those become S3 and COS codes.

import { LayoutError } from '../../layout/errors';
import { SseError } from '../../sse/errors';

const CATALOGUE: Record<string, [number, string]> = {
  AccessDenied: [403, 'Access Denied'],
  // A preflight S3 refuses (the code is S3's wire answer, though its error table does not list it).
  AccessForbidden: [403, 'CORSResponse: This CORS request is not allowed.'],
  AccessControlListNotSupported: [400, 'The bucket does not allow ACLs'],
  BadRequest: [400, 'Bad Request'],
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
  InvalidStorageClass: [400, 'The storage class you specified is not valid'],
  InvalidTag: [400, 'The tag provided was not a valid tag.'],
  InvalidObjectState: [403, "The operation is not valid for the object's state"],
  KeyTooLongError: [400, 'Your key is too long.'],
  MaxMessageLengthExceeded: [400, 'Your request was too big.'],
  MalformedACLError: [400, 'The XML you provided was not well-formed or did not validate against our published schema.'],
  MalformedPolicy: [400, "Policies must be valid JSON and the first byte must be '{'"],
  MalformedXML: [400, 'The XML you provided was not well-formed or did not validate against our published schema.'],
  MetadataTooLarge: [400, 'Your metadata headers exceed the maximum allowed metadata size.'],
  MethodNotAllowed: [405, 'The specified method is not allowed against this resource.'],
  MissingContentLength: [411, 'You must provide the Content-Length HTTP header.'],
  MissingSecurityHeader: [400, 'Your request is missing a required header.'],
  MissingRequestBodyError: [400, 'Request Body is empty'],
  NoSuchBucket: [404, 'The specified bucket does not exist'],
  NoSuchBucketPolicy: [404, 'The bucket policy does not exist'],
  NoSuchCORSConfiguration: [404, 'The CORS configuration does not exist'],
  NoSuchKey: [404, 'The specified key does not exist.'],
  NoSuchUpload: [404, 'The specified upload does not exist.'],
  NoSuchVersion: [404, 'The specified version does not exist.'],
  NotImplemented: [501, 'A header you provided implies functionality that is not implemented.'],
  PreconditionFailed: [412, 'At least one of the pre-conditions you specified did not hold'],
  RequestTimeTooSkewed: [403, 'The difference between the request time and the current time is too large.'],
  ServiceUnavailable: [503, 'Please reduce your request rate.'],
  SignatureDoesNotMatch: [
    403,
    'The request signature we calculated does not match the signature you provided. Check your key and signing method.',
  ],
  SlowDown: [503, 'Please reduce your request rate.'],
  XAmzContentSHA256Mismatch: [400, "The provided 'x-amz-content-sha256' header does not match what was computed."],
  InvalidChunkSizeError: [403, 'Only the last chunk is allowed to have a size less than 8192 bytes'],
  ExpiredToken: [400, 'The provided token has expired.'],
  EntityTooSmall: [400, 'Your proposed upload is smaller than the minimum allowed object size.'],
  InvalidPart: [
    400,
    "One or more of the specified parts could not be found. The part may not have been uploaded, or the specified entity tag may not match the part's entity tag.",
  ],
  InvalidPartNumber: [416, 'The requested partnumber is not satisfiable'],
  InvalidPartOrder: [400, 'The list of parts was not in ascending order. Parts must be ordered by part number.'],
  InvalidPolicyDocument: [400, 'The content of the form does not meet the conditions specified in the policy document.'],
  InvalidURI: [400, "Couldn't parse the specified URI."],
  MalformedPOSTRequest: [400, 'The body of your POST request is not well-formed multipart/form-data.'],
  MaxPostPreDataLengthExceeded: [400, 'Your POST request fields preceding the upload file were too large.'],
  NoSuchEncryptionConfiguration: [404, 'The server side encryption configuration was not found.'],
  ServerSideEncryptionConfigurationNotFoundError: [404, 'The server side encryption configuration was not found'],
  OperationAborted: [409, 'A conflicting conditional operation is currently in progress against this resource. Try again.'],
  UnexpectedContent: [400, 'This request does not support content'],
  // Conditional writes (If-None-Match, If-Match): a concurrent change the write cannot be ordered after.
  ConditionalRequestConflict: [
    409,
    'A conflicting operation occurred. If using PutObject you can retry the request. If using multipart upload you should initiate another CreateMultipartUpload request and re-upload each part.',
  ],
  // COS: a write with x-cos-forbid-overwrite: true onto an existing object.
  FileAlreadyExists: [409, 'The object already exists and x-cos-forbid-overwrite forbids overwriting it.'],
  SSEHeaderNotAllowed: [400, 'Server-side encryption headers are not allowed for this request.'],
  // SSE-KMS failures, as S3 names them (COS clients get their own codes via cosCode).
  'KMS.NotFoundException': [400, 'The specified KMS key does not exist.'],
  'KMS.DisabledException': [400, 'The specified KMS key is disabled.'],
  'KMS.KMSInvalidStateException': [400, 'The specified KMS key is not in a valid state for this request.'],
  'KMS.KMSInternalException': [500, 'The KMS failed to process the request.'],
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

  constructor(
    code: string,
    message?: string,
    opts: { status?: number; fields?: Record<string, string>; headers?: Record<string, string>; cosCode?: string } = {},
  ) {
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

/** The text S3 answers a read of an SSE-C object without the key with. */
export const NEEDS_KEY =
  'The object was stored using a form of Server Side Encryption. The correct parameters must be provided to retrieve the object.';

/** The S3 error a client sees for `e`, or undefined when `e` is not a refusal (a bug or a broken store). */
export function toS3Error(e: unknown): S3Error | undefined {
  if (e instanceof S3Error) return e;
  if (e instanceof SseError) return fromSse(e);
  if (e instanceof LayoutError) return fromLayout(e);
  return undefined;
}

function fromSse(e: SseError): S3Error {
  switch (e.kind) {
    case 'CustomerKeyRequired':
      return new S3Error('InvalidRequest', NEEDS_KEY);
    case 'CustomerKeyMismatch':
      return new S3Error('AccessDenied', 'Access Denied: the SSE-C key does not match the one the object was stored with.');
    case 'KmsKeyNotFound':
      return new S3Error('KMS.NotFoundException', e.message, { status: 400, cosCode: 'KmsKeyNotExist' });
    case 'KmsKeyDisabled':
      return new S3Error('KMS.DisabledException', e.message, { status: 400, cosCode: 'KmsKeyDisabled' });
    case 'KmsKeyInvalidState':
      return new S3Error('KMS.KMSInvalidStateException', e.message, { status: 400, cosCode: 'KmsException' });
    case 'KmsUnavailable':
      return new S3Error('KMS.KMSInternalException', e.message, { status: 500, cosCode: 'KmsInternalException' });
    case 'KmsAccessDenied':
      // S3 answers a caller without kms:GenerateDataKey / kms:Decrypt on the key with AccessDenied and KMS's message.
      return new S3Error('AccessDenied', e.message);
    case 'ContextTooLarge':
      return new S3Error('InvalidArgument', e.message, { fields: { ArgumentName: 'x-amz-server-side-encryption-context' } });
  }
}

function fromLayout(e: LayoutError): S3Error {
  const d = e.detail;
  switch (e.kind) {
    case 'Conflict':
      return new S3Error('OperationAborted', 'A conflicting write to this object happened at the same time. Please try again.');
    case 'ConditionConflict':
      return new S3Error('ConditionalRequestConflict');
    case 'UploadBusy':
      return new S3Error('OperationAborted', 'The upload is being completed or aborted. Please try again.');
    case 'NoSuchUpload':
      return new S3Error('NoSuchUpload', undefined, { fields: d.uploadId ? { UploadId: d.uploadId } : {} });
    case 'KeyTooLong':
      return new S3Error('KeyTooLongError', undefined, { fields: d.maxBytes ? { MaxSizeAllowed: d.maxBytes } : {} });
    case 'KeyUnstorable':
      return new S3Error('InvalidArgument', e.message, { fields: { ArgumentName: 'key' } });
    case 'MetadataTooLarge':
      return new S3Error('MetadataTooLarge', e.message);
    case 'BucketNotDeletable':
      return new S3Error('MethodNotAllowed', e.message);
    case 'UpstreamUnconfigured':
      return new S3Error('InternalError', e.message);
    case 'UpstreamUnavailable':
      return new S3Error('SlowDown', 'The upstream store is unavailable or overloaded; please try again.');
    case 'UpstreamDenied':
      return new S3Error('AccessDenied', 'The upstream store refused the gateway.');
    case 'UpstreamRefused':
      return d.code && isKnownCode(d.code)
        ? new S3Error(d.code)
        : new S3Error('InternalError', 'The upstream store answered unexpectedly.');
    case 'UpstreamFailed':
      return new S3Error('InternalError', 'The upstream store answered unexpectedly.');
  }
}
