// How a bucket's objects, uploads and settings sit in a backing store. The
// handlers speak only this interface; two layouts implement it:
//   r2/         an R2 bucket of our own: a record entry per object plus data entries
//   proxy/      an existing S3-compatible bucket: ciphertext at the object's own key,
//               the envelope in its user metadata, bookkeeping under a hidden prefix

import type { Envelope } from '../sse/types';
import type { HttpMeta } from '../store/types';
import type { ObjectManifest, ObjectPart, ObjectRecord, PartFields, RecordFields } from './record';

export type { RecordFields };

export interface BucketInfo {
  name: string;
  created: Date;
  /** Bucket settings as stored (decodeBucketSettings; default encryption lives under `sse`). */
  custom: Record<string, string>;
}

export interface Listed {
  key: string;
  size: number;
  etag: string;
  uploaded: Date;
}

export interface Listing {
  objects: Listed[];
  prefixes: string[];
  truncated: boolean;
  cursor?: string;
}

/**
 * The id S3 gives the one version an object has in a bucket that never had versioning
 * (and the version a suspended bucket writes). Every object here is its null version today.
 */
export const NULL_VERSION = 'null';

/**
 * One version of an object in a version listing. Full versioning extends this (delete
 * markers, older versions with their own ids); today each key has exactly one: its
 * null version, which is the latest.
 */
export interface ListedVersion extends Listed {
  versionId: string;
  isLatest: boolean;
}

/** One page of a version listing: versions in key order (newest first within a key), and common prefixes. */
export interface VersionListing {
  versions: ListedVersion[];
  prefixes: string[];
  truncated: boolean;
  cursor?: string;
}

/** Where a version listing resumes: after every version of `key`, or after its version `versionId`. */
export interface VersionMarker {
  key: string;
  versionId?: string;
}

export interface UploadInfo {
  id: string;
  key: string;
  /** The upload's envelope and user metadata, as createUpload got them (decodeUploadCustom). */
  custom: Record<string, string>;
  http: HttpMeta;
  initiated: Date;
  /** Proxy: the upstream's own multipart upload id. */
  upstreamUpload?: string;
}

export interface PartInfo {
  n: number;
  /** The part's record as stored (decodePartRecord). */
  custom: Record<string, string>;
  uploaded: Date;
}

export interface Body {
  stream: ReadableStream<Uint8Array>;
  /** Bytes the store receives (ciphertext length when sealed). */
  length: number;
}

/** What Complete commits to: built from the parts listed once the upload is claimed. */
export interface Completion {
  /** The parts. */
  manifest: ObjectManifest;
  /** encodeManifest(manifest): the bytes stored and committed to. */
  manifestBody: Uint8Array;
  fields: RecordFields;
}

/**
 * A write's precondition on the object it replaces (null when there is none), as the
 * protocol layer states it (If-None-Match, If-Match): it throws to refuse the write. A
 * layout runs it on the very record its commit then replaces, and again after every
 * lost race, so a write never lands over an object the precondition did not approve.
 */
export type Precondition = (current: ObjectRecord | null) => void | Promise<void>;

/** A sealed record as rotation sees it. */
export interface Sealed {
  /** Opaque identity of the record, for logs and test hooks. */
  ref: string;
  bucket: string;
  key: string;
  env: Envelope;
  /** Store version the envelope was read from, for a conditional swap. */
  version: string;
}

export interface Layout {
  /** Short name for logs and admin output: "r2" or "proxy:<bucket>". */
  readonly name: string;
  /** Smallest non-final part the backing store accepts, when it imposes one. */
  readonly minPart?: number;

  bucket(name: string): Promise<BucketInfo | null>;
  /** Buckets this layout answers for, for ListBuckets. */
  buckets(): Promise<BucketInfo[]>;
  /** False when it already exists. */
  createBucket(name: string, owner: string): Promise<boolean>;
  /** False when it still holds objects or multipart uploads in progress (S3's BucketNotEmpty). */
  deleteBucket(name: string): Promise<boolean>;
  setBucketCustom(name: string, custom: Record<string, string>): Promise<void>;
  /**
   * A bucket setting too large for the bucket's own metadata (CORS rules past the record's
   * budget), kept as a small entry beside it; null when there is none. Gone with the bucket.
   */
  bucketDocument(bucket: string, name: string): Promise<string | null>;
  /** Stores such a setting, or with null removes it (a missing one is not an error). */
  setBucketDocument(bucket: string, name: string, text: string | null): Promise<void>;

  /**
   * Refuses a key this layout cannot hold, or not address exactly, before anything is
   * stored: KeyTooLongError past the store's real limit (its own prefixes included).
   */
  checkKey(bucket: string, key: string): void;

  head(bucket: string, key: string): Promise<ObjectRecord | null>;
  /**
   * Stores the body, then makes it visible with the record `finish` returns (called
   * once the body is stored); drops what it replaced. Null when `ifRecord` no longer
   * matches the current record. With `precondition`, the record replaced is one it approved;
   * ConditionConflict when that cannot be arranged (the approved object was deleted meanwhile).
   */
  write(
    bucket: string,
    key: string,
    body: Body,
    finish: () => Promise<RecordFields>,
    opts: { http: HttpMeta; ifRecord?: string; precondition?: Precondition },
  ): Promise<ObjectRecord | null>;
  /** Replaces the record (a new envelope or metadata) over the same data, if still at `ifRecord`. */
  swap(bucket: string, key: string, rec: ObjectRecord, ifRecord: string): Promise<ObjectRecord | null>;
  /** Deletes an object; a missing one is not an error. */
  delete(bucket: string, key: string): Promise<void>;
  /**
   * Stored bytes of a single-stream object, or of one part of a multipart object.
   * With `storedLength` (that stream's whole stored length), an entry of any other
   * length (bytes appended or cut) is an IntegrityError, even when only a range is read.
   */
  read(
    bucket: string,
    key: string,
    rec: ObjectRecord,
    range: { offset: number; length: number } | undefined,
    part?: { parts: ObjectPart[]; index: number },
    storedLength?: number,
  ): Promise<ReadableStream<Uint8Array> | null>;
  /** A multipart object's manifest bytes (as committed to by the record). */
  manifest(bucket: string, key: string, rec: ObjectRecord): Promise<Uint8Array | null>;
  list(bucket: string, o: { prefix: string; delimiter?: string; startAfter?: string; cursor?: string; limit: number }): Promise<Listing>;
  /**
   * One page of object versions after `after` (one listing page of the store, as `list`):
   * versions in key order, newest first within a key, with common prefixes.
   */
  versions(
    bucket: string,
    o: { prefix: string; delimiter?: string; after?: VersionMarker; cursor?: string; limit: number },
  ): Promise<VersionListing>;

  /** `custom`: encodeUploadCustom(envelope, meta). */
  createUpload(bucket: string, key: string, id: string, custom: Record<string, string>, http: HttpMeta): Promise<void>;
  /** An upload in progress; null once it is gone or claimed by a Complete or Abort. */
  upload(bucket: string, id: string): Promise<UploadInfo | null>;
  /**
   * Stores one part, then its record from `finish`; replaces an earlier attempt. Throws
   * NoSuchUpload, leaving neither data nor record behind, when the upload was completed
   * or aborted meanwhile (never deleting what a completed object uses).
   */
  writePart(bucket: string, up: UploadInfo, n: number, body: Body, finish: () => Promise<PartFields>): Promise<void>;
  parts(bucket: string, id: string): Promise<PartInfo[]>;
  /**
   * Claims the upload first (a second Complete or an Abort then gets NoSuchUpload, and a
   * part arriving later is refused), then lists its parts and has `build` choose from
   * them; makes the object visible, drops what it replaced and tidies the upload away.
   * When `build` or `precondition` (as in `write`) throws (InvalidPart, EntityTooSmall,
   * PreconditionFailed, ...) the claim is released and the upload stays open as it was.
   */
  complete(
    bucket: string,
    key: string,
    up: UploadInfo,
    build: (parts: PartInfo[]) => Promise<Completion>,
    precondition?: Precondition,
  ): Promise<ObjectRecord>;
  /** Claims the upload as `complete` does (NoSuchUpload when already claimed), then drops it and its parts. */
  abort(bucket: string, up: UploadInfo): Promise<void>;
  uploads(bucket: string): Promise<UploadInfo[]>;

  /**
   * Sealed records (objects and uploads in progress) after cursor `after`, scanning at
   * most `limit` entries; `next` resumes the scan and is absent once it is complete.
   */
  sealed(after: string | undefined, limit: number): Promise<{ items: Sealed[]; next?: string }>;
  /** Puts a re-wrapped envelope in place if the record is unchanged; false when it changed. */
  rewrap(item: Sealed, env: Envelope): Promise<boolean>;
  /** Small persistent state (the rotation cursor). */
  loadState(name: string): Promise<string | undefined>;
  saveState(name: string, value: string): Promise<void>;
}

/** Resolves a bucket name to the layout that holds it. */
export interface Layouts {
  of(bucket: string): Layout;
  all(): Layout[];
}
