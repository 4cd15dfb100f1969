// Where the R2 layout keeps each kind of entry in its store, and what a record
// entry's body holds (docs/FORMAT.md, "Store layout"). The fields of the entries
// are in ../record.ts.

/** `b/<bucket>`: a bucket exists (its settings in custom metadata). */
export const BUCKET_ROOT = 'b/';
/** `o/<bucket>/<key>`: an object record (or a DELETE's tombstone). */
export const OBJECT_ROOT = 'o/';
/** `d/<uuid>`: an object's data stream, or one part's. */
export const DATA_ROOT = 'd/';
/** `u/<bucket>/<uploadId>`: a multipart upload in progress. */
export const UPLOAD_ROOT = 'u/';
/** `p/<uploadId>/<part, 5 digits>`: an uploaded part's record. */
export const PART_ROOT = 'p/';
/** `s/<name>`: small persistent state (the rotation cursor). */
export const STATE_ROOT = 's/';
/** `c/<bucket>/<name>`: a bucket setting too large for `b/<bucket>`'s metadata (its body is the setting). */
export const DOCUMENT_ROOT = 'c/';

export const bucketKey = (bucket: string): string => `${BUCKET_ROOT}${bucket}`;
export const objectPrefix = (bucket: string): string => `${OBJECT_ROOT}${bucket}/`;
export const objectKey = (bucket: string, key: string): string => `${OBJECT_ROOT}${bucket}/${key}`;
export const dataKey = (id: string): string => `${DATA_ROOT}${id}`;
export const uploadKey = (bucket: string, uploadId: string): string => `${UPLOAD_ROOT}${bucket}/${uploadId}`;
export const uploadPrefix = (bucket: string): string => `${UPLOAD_ROOT}${bucket}/`;
export const partPrefix = (uploadId: string): string => `${PART_ROOT}${uploadId}/`;
export const partKey = (uploadId: string, part: number): string => `${PART_ROOT}${uploadId}/${String(part).padStart(5, '0')}`;
export const stateKey = (name: string): string => `${STATE_ROOT}${name}`;
export const documentPrefix = (bucket: string): string => `${DOCUMENT_ROOT}${bucket}/`;
export const documentKey = (bucket: string, name: string): string => `${DOCUMENT_ROOT}${bucket}/${name}`;

/**
 * A record's body: a fresh random line, so every write of a record has its own
 * store etag (conditional swaps rely on it), then the manifest of a multipart object.
 */
export function recordBody(manifest: Uint8Array = new Uint8Array(0)): Uint8Array {
  const nonce = new TextEncoder().encode(`${crypto.randomUUID().replace(/-/g, '')}\n`);
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
