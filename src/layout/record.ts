// An object's record: the small metadata-only store entry that names its data
// object and carries sizes, checksums, the SSE envelope and user metadata.
// Writing the record last is what makes a PUT visible, so a half-written
// upload never shows.

import { decodeEnvelope, encodeEnvelope } from '../sse/envelope';
import type { Envelope } from '../sse/types';
import type { HttpMeta, StoredObject } from '../store/types';
import { IntegrityError } from '../sse';
import { LayoutError } from './errors';

export const bucketKey = (bucket: string): string => `b/${bucket}`;
export const objectPrefix = (bucket: string): string => `o/${bucket}/`;
export const objectKey = (bucket: string, key: string): string => `o/${bucket}/${key}`;
export const dataKey = (id: string): string => `d/${id}`;
export const uploadKey = (bucket: string, uploadId: string): string => `u/${bucket}/${uploadId}`;
export const uploadPrefix = (bucket: string): string => `u/${bucket}/`;
export const partPrefix = (uploadId: string): string => `p/${uploadId}/`;
export const partKey = (uploadId: string, part: number): string => `p/${uploadId}/${String(part).padStart(5, '0')}`;

/** `sb-data` of a multipart object: its parts are listed in the record's body. */
export const MULTIPART_DATA = 'mp:';

/**
 * A record's body: a fresh random line, so every write of a record has its own
 * store etag (conditional swaps rely on it), then the manifest of a multipart object.
 */
export function recordBody(manifest: Uint8Array = new Uint8Array(0)): Uint8Array {
  const nonce = new TextEncoder().encode(crypto.randomUUID().replace(/-/g, '') + '\n');
  const out = new Uint8Array(nonce.length + manifest.length);
  out.set(nonce);
  out.set(manifest, nonce.length);
  return out;
}

/** The manifest bytes of a record body (empty for single-stream objects). */
export function manifestBytes(body: Uint8Array): Uint8Array {
  const nl = body.indexOf(10);
  return nl < 0 ? new Uint8Array(0) : body.subarray(nl + 1);
}

/** The body of a multipart object's record. */
export interface Manifest {
  v: 1;
  upload: string;
  parts: ManifestPart[];
}
export interface ManifestPart {
  n: number;
  size: number;
  data: string;
  etag: string;
  salt?: string;
  commit?: string;
}

/** A multipart object's manifest, checked field by field: anything else is an IntegrityError. */
export function parseManifest(body: Uint8Array): Manifest {
  let m: Manifest;
  try {
    m = JSON.parse(new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(body)) as Manifest;
  } catch {
    throw new IntegrityError('the manifest is not JSON');
  }
  const ok =
    m && m.v === 1 && typeof m.upload === 'string' && Array.isArray(m.parts) &&
    m.parts.every((p) => p && Number.isInteger(p.n) && validSize(p.size) && typeof p.data === 'string' && typeof p.etag === 'string');
  if (!ok) throw new IntegrityError('the manifest is malformed');
  return m;
}

/** R2 keeps at most this many bytes of custom metadata (names plus values). */
export const METADATA_LIMIT = 2048;

export interface ObjectRecord {
  size: number;
  etag: string;
  crc64: string;
  /** A data uuid, or MULTIPART_DATA + upload id. */
  data: string;
  /** Multipart: base64url SHA-256 of the manifest (the record body). */
  manifest?: string;
  envelope?: Envelope;
  meta: Record<string, string>;
  http: HttpMeta;
  uploaded: Date;
  /** The record's own store etag, for conditional swaps. */
  storeEtag?: string;
}

export function recordToCustom(r: Omit<ObjectRecord, 'uploaded' | 'http' | 'storeEtag'>): Record<string, string> {
  const c: Record<string, string> = { 'sb-size': String(r.size), 'sb-etag': r.etag, 'sb-crc64': r.crc64, 'sb-data': r.data };
  if (r.manifest) c['sb-manifest'] = r.manifest;
  if (r.envelope) c['sb-env'] = encodeEnvelope(r.envelope);
  for (const [k, v] of Object.entries(r.meta)) c[`m-${k}`] = v;
  let bytes = 0;
  for (const [k, v] of Object.entries(c)) bytes += new TextEncoder().encode(k + v).length;
  if (bytes > METADATA_LIMIT) {
    throw new LayoutError('MetadataTooLarge', `Your metadata headers exceed the maximum allowed metadata size (${METADATA_LIMIT} bytes including the encryption envelope).`, { limit: String(METADATA_LIMIT) });
  }
  return c;
}

/** A stored size: decimal digits, at most S3's 5 TiB object limit. */
const SIZE = /^(0|[1-9]\d{0,12})$/;
const MAX_SIZE = 5 * 1024 ** 4;
const validSize = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 && v <= MAX_SIZE;

/**
 * Null when the store entry is not an object record. Throws IntegrityError on a
 * broken envelope or a field no write of ours produces (a size that is not a decimal).
 */
export function recordFromStored(o: StoredObject): ObjectRecord | null {
  const c = o.custom;
  if (c['sb-data'] === undefined || c['sb-size'] === undefined) return null;
  if (!SIZE.test(c['sb-size']) || Number(c['sb-size']) > MAX_SIZE) throw new IntegrityError('the record\'s size is malformed');
  if (!c['sb-data']) throw new IntegrityError('the record names no data');
  const meta: Record<string, string> = {};
  for (const [k, v] of Object.entries(c)) if (k.startsWith('m-')) meta[k.slice(2)] = v;
  return {
    size: Number(c['sb-size']),
    etag: c['sb-etag'] ?? '',
    crc64: c['sb-crc64'] ?? '',
    data: c['sb-data'],
    manifest: c['sb-manifest'],
    envelope: c['sb-env'] ? decodeEnvelope(c['sb-env']) : undefined,
    meta,
    http: o.http,
    uploaded: o.uploaded,
    storeEtag: o.etag,
  };
}
