// Request fields that S3 takes from a header or, in a presigned URL, from the query string:
// SDK presigners move x-amz-* headers (x-amz-tagging, x-amz-storage-class, ...) into the
// query, where S3 reads them as if they were headers.

import type { FieldGetter } from './sse-headers';

/**
 * x-amz-<suffix> / x-cos-<suffix> from the headers; for a SigV4-presigned URL (whose
 * whole query string is signed) also from the query. Other requests' query strings
 * are not read: a COS signature covers only the parameters it lists.
 */
export function requestField(h: Headers, url: URL, authMethod: string): FieldGetter {
  const signedQuery = authMethod === 'sigv4-presigned';
  return (s) => h.get(`x-amz-${s}`) ?? h.get(`x-cos-${s}`) ?? (signedQuery ? url.searchParams.get(`x-amz-${s}`) : null);
}
