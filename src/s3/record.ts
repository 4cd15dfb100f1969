// An object's record: the small metadata-only store entry that names its data
// object and carries sizes, checksums, the SSE envelope and user metadata.
// Writing the record last is what makes a PUT visible, so a half-written
// upload never shows.

import { decodeEnvelope, encodeEnvelope } from '../sse/envelope';
import type { Envelope } from '../sse/types';
import type { HttpMeta, StoredObject } from '../store/types';
import { S3Error } from './errors';

export const bucketKey = (bucket: string): string => `b/${bucket}`;
export const objectPrefix = (bucket: string): string => `o/${bucket}/`;
export const objectKey = (bucket: string, key: string): string => `o/${bucket}/${key}`;
export const dataKey = (id: string): string => `d/${id}`;

/** R2 keeps at most this many bytes of custom metadata (names plus values). */
export const METADATA_LIMIT = 2048;

export interface ObjectRecord {
  size: number;
  etag: string;
  crc64: string;
  data: string;
  envelope?: Envelope;
  meta: Record<string, string>;
  http: HttpMeta;
  uploaded: Date;
}

export function recordToCustom(r: Omit<ObjectRecord, 'uploaded' | 'http'>): Record<string, string> {
  const c: Record<string, string> = { 'sb-size': String(r.size), 'sb-etag': r.etag, 'sb-crc64': r.crc64, 'sb-data': r.data };
  if (r.envelope) c['sb-env'] = encodeEnvelope(r.envelope);
  for (const [k, v] of Object.entries(r.meta)) c[`m-${k}`] = v;
  let bytes = 0;
  for (const [k, v] of Object.entries(c)) bytes += new TextEncoder().encode(k + v).length;
  if (bytes > METADATA_LIMIT) throw new S3Error('MetadataTooLarge', `Your metadata headers exceed the maximum allowed metadata size (${METADATA_LIMIT} bytes including the encryption envelope).`);
  return c;
}

/** Null when the store entry is not an object record. Throws IntegrityError on a broken envelope. */
export function recordFromStored(o: StoredObject): ObjectRecord | null {
  const c = o.custom;
  if (c['sb-data'] === undefined || c['sb-size'] === undefined) return null;
  const meta: Record<string, string> = {};
  for (const [k, v] of Object.entries(c)) if (k.startsWith('m-')) meta[k.slice(2)] = v;
  return {
    size: Number(c['sb-size']),
    etag: c['sb-etag'] ?? '',
    crc64: c['sb-crc64'] ?? '',
    data: c['sb-data'],
    envelope: c['sb-env'] ? decodeEnvelope(c['sb-env']) : undefined,
    meta,
    http: o.http,
    uploaded: o.uploaded,
  };
}
