// The records the layouts keep, and their one codec. Every name stored in an entry's
// custom metadata (upstream: x-amz-meta-<name>) is defined here once; each record
// kind has a typed encode and a decode that refuses, as an IntegrityError, what no
// write of ours produces. docs/FORMAT.md is the contract for the stored bytes: the
// types here never change them (a typed field maps to the stored string at the
// boundary). Where the R2 layout puts its entries is in r2/entries.ts.

import { IntegrityError } from '../sse';
import { decodeEnvelope, encodeEnvelope } from '../sse/envelope';
import type { Envelope } from '../sse/types';
import type { HttpMeta, StoredObject } from '../store/types';
import { LayoutError } from './errors';

/** The envelope (JSON) of an object record or of an upload in progress. */
const ENVELOPE = 'sb-env';
/** Proxy layout: an object's or upload's Content-Encoding ('' when none), kept out of the upstream's own header. */
const CONTENT_ENCODING = 'sb-ce';
/** An object's or upload's tags (see encodeTags); absent when it has none. */
const TAGS = 'sb-tags';

/** Every stored field name, by the record that holds it. */
export const FIELDS = {
  /** An object record: `o/<bucket>/<key>` (R2); the object's own metadata and its `m/<upload>` entry (proxy). */
  object: {
    size: 'sb-size',
    etag: 'sb-etag',
    crc64: 'sb-crc64',
    /** The checksum kept for the object: see ObjectChecksum. */
    checksum: 'sb-cks',
    /** Where the data is: see ObjectLocation. */
    data: 'sb-data',
    manifest: 'sb-manifest',
    envelope: ENVELOPE,
    contentEncoding: CONTENT_ENCODING,
    tags: TAGS,
  },
  /** A DELETE's tombstone (R2): the `sb-data` of the record it replaced. */
  tombstone: { deleting: 'sb-deleting' },
  /** An upload in progress: `u/<bucket>/<uploadId>` (R2), `.sealbucket/u/<uploadId>` (proxy). */
  upload: {
    /** The object key (URI-encoded upstream). */
    key: 'key',
    envelope: ENVELOPE,
    /** "completing" or "aborting" once a Complete or Abort has claimed it; absent while it is open. */
    state: 'sb-state',
    /** Proxy: the upstream's own multipart upload id. */
    upstreamUpload: 'sb-up',
    contentEncoding: CONTENT_ENCODING,
    tags: TAGS,
    /** The checksum algorithm and type the upload was created with, "<alg>:<type>"; absent: the default. */
    checksum: 'sb-cka',
  },
  /** An uploaded part's record: `p/<uploadId>/<n>` (R2), `.sealbucket/p/<uploadId>/<n>` (proxy). */
  part: {
    size: 'size',
    etag: 'etag',
    crc64: 'crc64',
    /** The part's checksum, "<alg>:<base64>". */
    checksum: 'cks',
    salt: 'salt',
    commit: 'commit',
    /** Where the part's bytes are: see PartLocation. */
    data: 'data',
    /** Proxy: the upstream's ETag of the part, for its CompleteMultipartUpload. */
    upstreamEtag: 'sb-part-etag',
  },
  /** A data entry `d/<uuid>` (R2), for audits. */
  dataEntry: { object: 'object', upload: 'upload' },
  /** A bucket's settings: `b/<bucket>` (R2), `.sealbucket/bucket` or `.sealbucket/b/<bucket>` (proxy). */
  bucket: {
    owner: 'owner',
    sse: 'sse',
    /** CORS rules, JSON; or "doc" when they are too large and sit in the bucket's document `cors`. */
    cors: 'cors',
  },
  /** Small persistent state: `s/<name>` (R2), `.sealbucket/s/<name>` (proxy). */
  state: { value: 'state' },
} as const;

/** User metadata `x-amz-meta-<name>` / `x-cos-meta-<name>` is stored as `m-<name>` (object and upload records). */
export const USER_META_PREFIX = 'm-';

/** R2 keeps at most this many bytes of custom metadata (names plus values). */
export const METADATA_LIMIT = 2048;

/** A stored size: decimal digits, at most S3's 5 TiB object limit. */
const SIZE = /^(0|[1-9]\d{0,12})$/;
const MAX_SIZE = 5 * 1024 ** 4;
const validSize = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 && v <= MAX_SIZE;
const storedSize = (v: string | undefined): number | undefined =>
  v !== undefined && SIZE.test(v) && Number(v) <= MAX_SIZE ? Number(v) : undefined;

// --- where an object's data is ---

/** `sb-data` of a multipart object: this prefix, then the upload id. */
const MULTIPART_PREFIX = 'mp:';
/** `sb-data` of a proxy single-stream object: its data is the object itself. */
const SELF = '=';

/** Where an object's bytes are; stored as `sb-data`. */
export type ObjectLocation =
  /** R2: the data entry `d/<id>` (stored as the id, a UUID). */
  | { kind: 'entry'; id: string }
  /** Proxy: the upstream object itself (stored as "="). Also every object the gateway did not write. */
  | { kind: 'self' }
  /** Its parts, as the manifest lists them (stored as "mp:<upload>"). */
  | { kind: 'multipart'; upload: string };

export function encodeLocation(l: ObjectLocation): string {
  return l.kind === 'entry' ? l.id : l.kind === 'self' ? SELF : MULTIPART_PREFIX + l.upload;
}

/** Any stored `sb-data` string: every one maps to exactly one location and back. */
export function decodeLocation(s: string): ObjectLocation {
  if (s.startsWith(MULTIPART_PREFIX)) return { kind: 'multipart', upload: s.slice(MULTIPART_PREFIX.length) };
  return s === SELF ? { kind: 'self' } : { kind: 'entry', id: s };
}

export const isMultipart = (rec: { location: ObjectLocation }): boolean => rec.location.kind === 'multipart';
/** The upload a multipart object was completed from; undefined for a single-stream object. */
export const uploadOf = (rec: { location: ObjectLocation }): string | undefined =>
  rec.location.kind === 'multipart' ? rec.location.upload : undefined;

// --- checksums kept ---

/** The algorithms of S3's x-amz-checksum-* (lower case, as in the header names). */
export type ChecksumName = 'crc32' | 'crc32c' | 'crc64nvme' | 'sha1' | 'sha256';
const CHECKSUM_BYTES: Record<ChecksumName, number> = { crc32: 4, crc32c: 4, crc64nvme: 8, sha1: 20, sha256: 32 };
/** FULL_OBJECT: of the whole plaintext. COMPOSITE: of the parts' checksums, with "-<parts>" after it. */
export type ChecksumType = 'FULL_OBJECT' | 'COMPOSITE';

/** A checksum of the plaintext, as S3 reports it: `value` is base64 (composite: "<base64>-<parts>"). */
export interface ObjectChecksum {
  alg: ChecksumName;
  type: ChecksumType;
  value: string;
}

const isChecksumName = (s: string): s is ChecksumName => Object.hasOwn(CHECKSUM_BYTES, s);
/** Base64 of exactly the algorithm's digest length, padded. */
function validDigest(alg: ChecksumName, v: string): boolean {
  const n = CHECKSUM_BYTES[alg];
  const pad = (3 - (n % 3)) % 3;
  return v.length === Math.ceil(n / 3) * 4 && /^[A-Za-z0-9+/]+={0,2}$/.test(v) && v.length - v.replace(/=+$/, '').length === pad;
}

/** Stored as `<alg>:<F|C>:<value>` (sb-cks). */
export function encodeChecksum(c: ObjectChecksum): string {
  return `${c.alg}:${c.type === 'COMPOSITE' ? 'C' : 'F'}:${c.value}`;
}

/** A stored sb-cks; IntegrityError on anything encodeChecksum does not produce. */
export function decodeChecksum(s: string): ObjectChecksum {
  const [alg, t, value = '', extra] = s.split(':');
  const m = /^([^-]*)(?:-([1-9]\d{0,4}))?$/.exec(value);
  const ok =
    extra === undefined &&
    isChecksumName(alg) &&
    m &&
    validDigest(alg, m[1]) &&
    (t === 'C') === (m[2] !== undefined) &&
    (t === 'C' || t === 'F');
  if (!ok) throw new IntegrityError("the record's checksum is malformed");
  return { alg, type: t === 'C' ? 'COMPOSITE' : 'FULL_OBJECT', value };
}

/** A part's checksum: stored as `<alg>:<base64>` (part records and manifest parts). */
export interface PartChecksum {
  alg: ChecksumName;
  value: string;
}

export const encodePartChecksum = (c: PartChecksum): string => `${c.alg}:${c.value}`;

export function decodePartChecksum(s: string): PartChecksum {
  const [alg, value = '', extra] = s.split(':');
  if (extra !== undefined || !isChecksumName(alg) || !validDigest(alg, value)) throw new IntegrityError("a part's checksum is malformed");
  return { alg, value };
}

/** An upload's checksum setting, as CreateMultipartUpload asked for it: stored as `<alg>:<type>` (sb-cka). */
export interface UploadChecksum {
  alg: ChecksumName;
  type: ChecksumType;
}

function decodeUploadChecksum(s: string): UploadChecksum {
  const [alg, type, extra] = s.split(':');
  if (extra !== undefined || !isChecksumName(alg) || (type !== 'COMPOSITE' && type !== 'FULL_OBJECT'))
    throw new IntegrityError("the upload's checksum setting is malformed");
  return { alg, type };
}

/** The longest checksum a record can keep (SHA-256, composite of 10,000 parts), for budget checks. */
export const WIDEST_CHECKSUM: ObjectChecksum = { alg: 'sha256', type: 'COMPOSITE', value: `${'A'.repeat(43)}=-10000` };

// --- object records ---

/** What the handlers give a layout to store: the record less where the data is (the layout decides) and what the store decides. */
export interface RecordFields {
  size: number;
  etag: string;
  crc64: string;
  /** The checksum of the plaintext kept for S3's x-amz-checksum-*; absent on objects that predate it. */
  checksum?: ObjectChecksum;
  /** Multipart: base64url SHA-256 of the manifest. */
  manifest?: string;
  envelope?: Envelope;
  meta: Record<string, string>;
  /** Object tags (metadata, never sealed); absent or empty when it has none. */
  tags?: TagSet;
}

export interface ObjectRecord extends RecordFields {
  location: ObjectLocation;
  http: HttpMeta;
  uploaded: Date;
  /** The record's own store etag, for conditional swaps. */
  storeEtag?: string;
}

/** A record as a layout returns it once stored. */
export function storedRecord(
  fields: RecordFields,
  location: ObjectLocation,
  stored: { http: HttpMeta; uploaded: Date; storeEtag?: string },
): ObjectRecord {
  return { ...fields, location, ...stored };
}

/** An object record's custom metadata. Throws MetadataTooLarge past the store's budget. */
export function encodeObjectRecord(r: RecordFields & { location: ObjectLocation }): Record<string, string> {
  const F = FIELDS.object;
  const c: Record<string, string> = {
    [F.size]: String(r.size),
    [F.etag]: r.etag,
    [F.crc64]: r.crc64,
    [F.data]: encodeLocation(r.location),
  };
  if (r.checksum) c[F.checksum] = encodeChecksum(r.checksum);
  if (r.manifest) c[F.manifest] = r.manifest;
  if (r.envelope) c[F.envelope] = encodeEnvelope(r.envelope);
  if (r.tags?.length) c[F.tags] = encodeTags(r.tags);
  Object.assign(c, encodeUserMeta(r.meta));
  let bytes = 0;
  for (const [k, v] of Object.entries(c)) bytes += new TextEncoder().encode(k + v).length;
  if (bytes > METADATA_LIMIT) {
    throw new LayoutError(
      'MetadataTooLarge',
      `Your metadata headers exceed the maximum allowed metadata size (${METADATA_LIMIT} bytes including the encryption envelope).`,
      { limit: String(METADATA_LIMIT) },
    );
  }
  return c;
}

/**
 * Null when the store entry is not an object record. Throws IntegrityError on a
 * broken envelope or a field no write of ours produces (a size that is not a decimal).
 */
export function decodeObjectRecord(o: StoredObject): ObjectRecord | null {
  const F = FIELDS.object;
  const c = o.custom;
  if (c[F.data] === undefined || c[F.size] === undefined) return null;
  const size = storedSize(c[F.size]);
  if (size === undefined) throw new IntegrityError("the record's size is malformed");
  if (!c[F.data]) throw new IntegrityError('the record names no data');
  return {
    size,
    etag: c[F.etag] ?? '',
    crc64: c[F.crc64] ?? '',
    ...(c[F.checksum] ? { checksum: decodeChecksum(c[F.checksum]) } : {}),
    location: decodeLocation(c[F.data]),
    manifest: c[F.manifest],
    envelope: c[F.envelope] ? decodeEnvelope(c[F.envelope]) : undefined,
    meta: decodeUserMeta(c),
    ...(c[F.tags] ? { tags: decodeTags(c[F.tags]) } : {}),
    http: o.http,
    uploaded: o.uploaded,
    storeEtag: o.etag,
  };
}

/** The widest `sb-data` of a single-stream object: an R2 data entry id (a UUID). */
const WIDEST_SINGLE: ObjectLocation = { kind: 'entry', id: '00000000-0000-0000-0000-000000000000' };

/**
 * Throws MetadataTooLarge when the record would be over the store's metadata budget, before
 * anything is stored. Without `location`, as a single-stream object at its widest.
 */
export function checkRecordBudget(fields: RecordFields, location: ObjectLocation = WIDEST_SINGLE): void {
  encodeObjectRecord({ ...fields, location });
}

/**
 * At CreateMultipartUpload: throws MetadataTooLarge unless the record Complete writes for this
 * upload fits the budget at its widest (`maxSize`, 10,000 parts, the envelope's salt and commit).
 */
export function checkCompletionBudget(
  upload: string,
  envelope: Envelope | undefined,
  meta: Record<string, string>,
  maxSize: number,
  tags?: TagSet,
): void {
  const widest = {
    size: maxSize,
    etag: `${'0'.repeat(32)}-10000`,
    crc64: '',
    checksum: WIDEST_CHECKSUM,
    manifest: '0'.repeat(43),
    envelope: envelope && { ...envelope, salt: '0'.repeat(22), commit: '0'.repeat(43) },
    meta,
    tags,
  };
  checkRecordBudget(widest, { kind: 'multipart', upload });
}

/** A record entry's envelope (object record or upload), if sealed. Throws IntegrityError on a broken one. */
export function envelopeOf(custom: Record<string, string>): Envelope | undefined {
  const v = custom[ENVELOPE];
  return v ? decodeEnvelope(v) : undefined;
}

/** The same record entry with a re-wrapped envelope, every other field as stored. */
export const withEnvelope = (custom: Record<string, string>, env: Envelope): Record<string, string> => ({
  ...custom,
  [ENVELOPE]: encodeEnvelope(env),
});

/** An object's tags in the order given, as S3's TagSet lists them. */
export type TagSet = { key: string; value: string }[];

/** Tags as stored: JSON, `[["key","value"],…]`. */
export const encodeTags = (tags: TagSet): string => JSON.stringify(tags.map((t) => [t.key, t.value]));

/** Stored tags; IntegrityError on anything encodeTags does not produce. */
export function decodeTags(s: string): TagSet {
  let v: unknown;
  try {
    v = JSON.parse(s);
  } catch {
    throw new IntegrityError('the stored tags are not JSON');
  }
  const ok = Array.isArray(v) && v.every((p) => Array.isArray(p) && p.length === 2 && p.every((x) => typeof x === 'string'));
  if (!ok) throw new IntegrityError('the stored tags are malformed');
  return (v as [string, string][]).map(([key, value]) => ({ key, value }));
}

function encodeUserMeta(meta: Record<string, string>): Record<string, string> {
  const c: Record<string, string> = {};
  for (const [k, v] of Object.entries(meta)) c[USER_META_PREFIX + k] = v;
  return c;
}

function decodeUserMeta(custom: Record<string, string>): Record<string, string> {
  const meta: Record<string, string> = {};
  for (const [k, v] of Object.entries(custom)) if (k.startsWith(USER_META_PREFIX)) meta[k.slice(USER_META_PREFIX.length)] = v;
  return meta;
}

// --- tombstones (R2) ---

/** A tombstone's custom metadata: the `sb-data` of the record it replaced ('' when it had none). */
export const encodeTombstone = (replaced: string | undefined): Record<string, string> => ({ [FIELDS.tombstone.deleting]: replaced ?? '' });
/** The `sb-data` a tombstone replaced; undefined when the entry is not a tombstone. */
export const tombstoneOf = (custom: Record<string, string>): string | undefined => custom[FIELDS.tombstone.deleting];

// --- multipart manifests ---

/** Where a part's stored bytes are; stored as the manifest part's (and part record's) `data`. */
export type PartLocation =
  /** R2: its own data entry `d/<id>` (stored as the id, a UUID). */
  | { kind: 'entry'; id: string }
  /** Proxy: the next `storedLength` bytes of the upstream object, where parts lie end to end (stored as the decimal length). */
  | { kind: 'span'; storedLength: number };

export function encodePartLocation(l: PartLocation): string {
  return l.kind === 'entry' ? l.id : String(l.storedLength);
}

/** A stored part `data`: a decimal is a stored length (no data entry id is one: they are UUIDs), anything else an entry id. */
export function decodePartLocation(s: string): PartLocation {
  const n = storedSize(s);
  return n === undefined ? { kind: 'entry', id: s } : { kind: 'span', storedLength: n };
}

/** One part of a multipart object, as its manifest lists it. */
export interface ObjectPart {
  n: number;
  /** Plaintext size. */
  size: number;
  etag: string;
  /** The part's checksum (parts uploaded since checksums are kept). */
  checksum?: PartChecksum;
  /** Sealed parts: the part's stream salt and key commitment. */
  salt?: string;
  commit?: string;
  location: PartLocation;
}

/** The manifest of a multipart object: the record body (R2) or the `m/<upload>` entry's body (proxy). */
export interface ObjectManifest {
  upload: string;
  parts: ObjectPart[];
}

/**
 * The manifest's bytes: `{"v":1,"upload":…,"parts":[{"n","size","data","etag","cks","salt","commit"},…]}`
 * (cks when the part has a checksum, salt and commit when sealed).
 */
export function encodeManifest(m: ObjectManifest): Uint8Array {
  const parts = m.parts.map((p) => ({
    n: p.n,
    size: p.size,
    data: encodePartLocation(p.location),
    etag: p.etag,
    cks: p.checksum && encodePartChecksum(p.checksum),
    salt: p.salt,
    commit: p.commit,
  }));
  return new TextEncoder().encode(JSON.stringify({ v: 1, upload: m.upload, parts }));
}

/** A multipart object's manifest, checked field by field: anything else is an IntegrityError. */
export function decodeManifest(body: Uint8Array): ObjectManifest {
  const m = manifestJson(body);
  return {
    upload: m.upload,
    parts: m.parts.map(({ n, size, data, etag, cks, salt, commit }) => ({
      n,
      size,
      etag,
      ...(cks === undefined ? {} : { checksum: decodePartChecksum(cks) }),
      ...(salt === undefined ? {} : { salt }),
      ...(commit === undefined ? {} : { commit }),
      location: decodePartLocation(data),
    })),
  };
}

/** The manifest part for part `n` of a Complete, from its record. */
export function manifestPart(n: number, r: PartRecord): ObjectPart {
  return {
    n,
    size: r.size,
    etag: r.etag,
    ...(r.checksum ? { checksum: r.checksum } : {}),
    ...(r.salt ? { salt: r.salt, commit: r.commit } : {}),
    location: r.location,
  };
}

/** A part's data entry id (R2); undefined when the manifest part names none. */
export function partEntryOf(p: ObjectPart): string | undefined {
  return p.location.kind === 'entry' ? p.location.id : undefined;
}

/** A part's stored length (proxy); IntegrityError when the manifest part names none. */
export function partStoredLength(p: ObjectPart): number {
  if (p.location.kind !== 'span') throw new IntegrityError('the manifest part names no stored length');
  return p.location.storedLength;
}

/** The manifest as stored (JSON). */
interface ManifestJson {
  v: 1;
  upload: string;
  parts: { n: number; size: number; data: string; etag: string; cks?: string; salt?: string; commit?: string }[];
}

function manifestJson(body: Uint8Array): ManifestJson {
  let m: ManifestJson;
  try {
    m = JSON.parse(new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(body)) as ManifestJson;
  } catch {
    throw new IntegrityError('the manifest is not JSON');
  }
  const optional = (v: unknown) => v === undefined || typeof v === 'string';
  const ok =
    m &&
    m.v === 1 &&
    typeof m.upload === 'string' &&
    Array.isArray(m.parts) &&
    m.parts.every(
      (p) =>
        p &&
        Number.isInteger(p.n) &&
        validSize(p.size) &&
        typeof p.data === 'string' &&
        typeof p.etag === 'string' &&
        optional(p.cks) &&
        optional(p.salt) &&
        optional(p.commit),
    );
  if (!ok) throw new IntegrityError('the manifest is malformed');
  return m;
}

// --- part records ---

/** What UploadPart gives its layout to store with the part. */
export interface PartFields {
  /** Plaintext size. */
  size: number;
  etag: string;
  /** CRC-64 of the plaintext, unsigned decimal ('' in records that predate it). */
  crc64: string;
  /** The part's checksum (absent in records that predate it). */
  checksum?: PartChecksum;
  /** Sealed parts: the part's stream salt and key commitment. */
  salt?: string;
  commit?: string;
}

/** An uploaded part's record. */
export interface PartRecord extends PartFields {
  location: PartLocation;
  /** Proxy: the upstream's ETag of the part. */
  upstreamEtag?: string;
}

export function encodePartRecord(p: PartRecord): Record<string, string> {
  const F = FIELDS.part;
  const c: Record<string, string> = { [F.size]: String(p.size), [F.etag]: p.etag, [F.crc64]: p.crc64 };
  if (p.checksum) c[F.checksum] = encodePartChecksum(p.checksum);
  if (p.salt) Object.assign(c, { [F.salt]: p.salt, [F.commit]: p.commit });
  c[F.data] = encodePartLocation(p.location);
  if (p.upstreamEtag !== undefined) c[F.upstreamEtag] = p.upstreamEtag;
  return c;
}

/** A part record (PartInfo.custom), checked: anything no write of ours produces is an IntegrityError. */
export function decodePartRecord(custom: Record<string, string>): PartRecord {
  const F = FIELDS.part;
  const data = custom[F.data];
  if (!data) throw new IntegrityError('the part record names no data');
  const upstreamEtag = custom[F.upstreamEtag];
  return { ...decodePartFields(custom), location: decodePartLocation(data), ...(upstreamEtag === undefined ? {} : { upstreamEtag }) };
}

function decodePartFields(custom: Record<string, string>): PartFields {
  const F = FIELDS.part;
  const size = storedSize(custom[F.size]);
  if (size === undefined) throw new IntegrityError("the part record's size is malformed");
  const etag = custom[F.etag];
  if (etag === undefined) throw new IntegrityError('the part record has no ETag');
  const salt = custom[F.salt] || undefined;
  const commit = custom[F.commit] || undefined;
  if (!salt !== !commit) throw new IntegrityError('the part record has a salt without a commitment, or the reverse');
  const cks = custom[F.checksum];
  return {
    size,
    etag,
    crc64: custom[F.crc64] ?? '',
    ...(cks ? { checksum: decodePartChecksum(cks) } : {}),
    ...(salt ? { salt, commit } : {}),
  };
}

// --- uploads in progress ---

/** An upload's own fields, given at CreateMultipartUpload. */
export interface UploadFields {
  envelope?: Envelope;
  meta: Record<string, string>;
  /** The tags the completed object gets. */
  tags?: TagSet;
  /** The checksum the client asked for at CreateMultipartUpload; absent: the default (CRC64NVME, full object). */
  checksum?: UploadChecksum;
}

/** What CreateMultipartUpload hands its layout (`createUpload`'s custom): the envelope, user metadata, tags, checksum setting. */
export function encodeUploadCustom(
  envelope: Envelope | undefined,
  meta: Record<string, string>,
  tags?: TagSet,
  checksum?: UploadChecksum,
): Record<string, string> {
  const c: Record<string, string> = {};
  if (envelope) c[ENVELOPE] = encodeEnvelope(envelope);
  if (tags?.length) c[TAGS] = encodeTags(tags);
  if (checksum) c[FIELDS.upload.checksum] = `${checksum.alg}:${checksum.type}`;
  return Object.assign(c, encodeUserMeta(meta));
}

/** UploadInfo.custom, decoded. Throws IntegrityError on a broken envelope, broken tags or a broken checksum setting. */
export function decodeUploadCustom(custom: Record<string, string>): UploadFields {
  const cks = custom[FIELDS.upload.checksum];
  return {
    envelope: envelopeOf(custom),
    meta: decodeUserMeta(custom),
    ...(custom[TAGS] ? { tags: decodeTags(custom[TAGS]) } : {}),
    ...(cks ? { checksum: decodeUploadChecksum(cks) } : {}),
  };
}

export type UploadState = 'completing' | 'aborting';

/** An upload entry: the upload's custom (encodeUploadCustom), its key and what the layout keeps with it. */
export interface UploadEntry {
  /** As the layout stores it (URI-encoded upstream). */
  key: string;
  custom: Record<string, string>;
  /** Proxy: the upstream's multipart upload id. */
  upstreamUpload?: string;
}

export function encodeUploadEntry(u: UploadEntry): Record<string, string> {
  const c: Record<string, string> = { ...u.custom, [FIELDS.upload.key]: u.key };
  if (u.upstreamUpload !== undefined) c[FIELDS.upload.upstreamUpload] = u.upstreamUpload;
  return c;
}

/** An upload entry's fields, claimed or not (see claimOf). */
export function decodeUploadEntry(stored: Record<string, string>): UploadEntry {
  const { [FIELDS.upload.key]: key = '', [FIELDS.upload.state]: _, [FIELDS.upload.upstreamUpload]: upstreamUpload, ...custom } = stored;
  return { key, custom, ...(upstreamUpload === undefined ? {} : { upstreamUpload }) };
}

/** Who has claimed the upload ("completing" or "aborting"); undefined (or '') while it is open. */
export const claimOf = (stored: Record<string, string>): string | undefined => stored[FIELDS.upload.state];
/** The upload entry claimed for a Complete or an Abort, every other field as stored. */
export const withClaim = (stored: Record<string, string>, state: UploadState): Record<string, string> => ({
  ...stored,
  [FIELDS.upload.state]: state,
});
/** The upload entry open again, every other field as stored. */
export function withoutClaim(stored: Record<string, string>): Record<string, string> {
  const { [FIELDS.upload.state]: _, ...rest } = stored;
  return rest;
}

// --- data entries, buckets, state ---

/** A data entry's custom metadata (R2): whose data it is, for audits. */
export function dataEntryTags(bucket: string, key: string, upload?: string): Record<string, string> {
  const c: Record<string, string> = { [FIELDS.dataEntry.object]: `${bucket}/${key}` };
  if (upload !== undefined) c[FIELDS.dataEntry.upload] = upload;
  return c;
}

/** A bucket's settings. */
export interface BucketSettings {
  /** The access key id that created it. */
  owner?: string;
  /** Default encryption, JSON (the protocol layer's BucketEncryption). */
  sse?: string;
  /** CORS rules (the protocol layer's CorsRule[]), as FIELDS.bucket.cors holds them. */
  cors?: string;
}

export function encodeBucketSettings(s: BucketSettings): Record<string, string> {
  const c: Record<string, string> = {};
  if (s.owner !== undefined) c[FIELDS.bucket.owner] = s.owner;
  if (s.sse !== undefined) c[FIELDS.bucket.sse] = s.sse;
  if (s.cors !== undefined) c[FIELDS.bucket.cors] = s.cors;
  return c;
}

/** BucketInfo.custom, decoded. */
export function decodeBucketSettings(custom: Record<string, string>): BucketSettings {
  const { [FIELDS.bucket.owner]: owner, [FIELDS.bucket.sse]: sse, [FIELDS.bucket.cors]: cors } = custom;
  return { ...(owner === undefined ? {} : { owner }), ...(sse === undefined ? {} : { sse }), ...(cors === undefined ? {} : { cors }) };
}

export const encodeStateEntry = (value: string): Record<string, string> => ({ [FIELDS.state.value]: value });
export const decodeStateEntry = (custom: Record<string, string>): string | undefined => custom[FIELDS.state.value];
