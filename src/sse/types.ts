// Types shared by the SSE modes.

export type Mode = 'cos' | 'kms' | 'c';

/** The encryption a request asked for, parsed once from its headers or form fields. */
export interface SseRequest {
  /** Explicit choice; undefined when the request named none (defaults apply). */
  mode?: Mode | 'none';
  /** SSE-C: the validated 32-byte customer key and the MD5 the client sent (base64). */
  customerKey?: Uint8Array;
  customerKeyMD5?: string;
  /** SSE-KMS: the requested CMK and encryption context. */
  kmsKeyId?: string;
  context?: Record<string, string>;
}

export interface ObjectId {
  bucket: string;
  key: string;
}

/**
 * What is stored beside each sealed object (docs/FORMAT.md). `seg`, `salt`
 * and `commit` describe the data stream; the rest says how the data key is wrapped.
 */
export interface Envelope {
  v: 1;
  mode: Mode;
  seg: number;
  salt: string;
  commit: string;
  wsalt: string;
  wkey: string;
  /** SSE-COS: master key version. SSE-KMS: CMK id. */
  kid?: string;
  /** SSE-KMS: CMK version and the encryption context (base64 JSON). */
  kver?: string;
  ctx?: string;
  /** SSE-C: salt and HMAC that recognise the customer key. */
  ksalt?: string;
  kmac?: string;
  /**
   * SSE-C upload in progress: the manifest key, wrapped under master key version `mkid`, so a
   * Complete without the customer's key can still commit the manifest (Sealer.initUpload).
   */
  mkid?: string;
  mwsalt?: string;
  mwkey?: string;
  /** "1": `commit` of this multipart object is derived from the manifest key, not the data key. */
  mk?: '1';
}

export type WrapFields = Omit<Envelope, 'v' | 'mode' | 'seg' | 'salt' | 'commit'>;

/** One SSE mode: how a per-object data key is wrapped and recovered. */
export interface KeyMode {
  wrap(obj: ObjectId, dataKey: Uint8Array, req: SseRequest): Promise<WrapFields>;
  /** Recovers the data key, or throws the S3 error a client should see. */
  unwrap(obj: ObjectId, envelope: Envelope, req: SseRequest): Promise<Uint8Array>;
}
