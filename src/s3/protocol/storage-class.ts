// Storage classes. Every object here is stored one way, reported as S3's and COS's
// STANDARD; a request for any other class is refused rather than silently dropped
// (a client asking for STANDARD_IA or ARCHIVE expects the price and retrieval rules
// that go with it, and would not get them).

import { S3Error } from './errors';
import type { FieldGetter } from './sse-headers';

/** The one class objects are stored in, as listings report it. */
export const STORAGE_CLASS = 'STANDARD';

/**
 * Refuses x-amz-storage-class / x-cos-storage-class (or POST Object's field) unless it
 * names STANDARD: InvalidStorageClass, as S3 answers a class it cannot store.
 */
export function checkStorageClass(get: FieldGetter): void {
  const requested = get('storage-class');
  if (requested === null || requested === STORAGE_CLASS) return;
  throw new S3Error('InvalidStorageClass', undefined, { fields: { StorageClassRequested: requested } });
}
