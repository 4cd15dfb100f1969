// Conditional requests (If-Match, If-None-Match, If-Modified-Since,
// If-Unmodified-Since), for GET and HEAD and for a copy source; and conditional
// writes (If-None-Match: *, If-Match, COS's x-cos-forbid-overwrite) for PutObject,
// CompleteMultipartUpload and CopyObject's destination.

import type { ObjectRecord } from '../../layout/record';
import type { Precondition } from '../../layout/types';
import { S3Error } from './errors';

const etagMatches = (header: string, etag: string) =>
  header.split(',').some((t) => {
    const v = t.trim().replace(/^W\//, '');
    return v === '*' || v === `"${etag}"` || v === etag;
  });

export interface Conditions {
  ifMatch: string | null;
  ifNoneMatch: string | null;
  ifModifiedSince: string | null;
  ifUnmodifiedSince: string | null;
}

/**
 * RFC 9110 §13.2.2 order, as S3 applies it. Returns true for "not modified";
 * throws 412 for failed preconditions (and, for a copy source, for both kinds).
 */
export function checkConditions(rec: Pick<ObjectRecord, 'etag' | 'uploaded'>, c: Conditions, copy = false): boolean {
  const modified = Math.floor(rec.uploaded.getTime() / 1000) * 1000;
  const fail = (condition: string) => new S3Error('PreconditionFailed', undefined, { fields: { Condition: condition } });
  const date = (v: string | null) => (v === null ? NaN : Date.parse(v));
  if (c.ifMatch !== null) {
    if (!etagMatches(c.ifMatch, rec.etag)) throw fail(copy ? 'x-amz-copy-source-If-Match' : 'If-Match');
  } else if (modified > date(c.ifUnmodifiedSince)) throw fail(copy ? 'x-amz-copy-source-If-Unmodified-Since' : 'If-Unmodified-Since');
  let notModified = false;
  if (c.ifNoneMatch !== null) notModified = etagMatches(c.ifNoneMatch, rec.etag);
  else notModified = modified <= date(c.ifModifiedSince);
  if (notModified && copy) throw fail(c.ifNoneMatch !== null ? 'x-amz-copy-source-If-None-Match' : 'x-amz-copy-source-If-Modified-Since');
  return notModified;
}

/**
 * The precondition a write's headers set on the object it replaces, or undefined when
 * they set none. As S3 defines conditional writes: If-None-Match takes only "*" (any
 * other value, or If-None-Match together with If-Match, is 501 NotImplemented, as S3
 * answers); "*" refuses an existing object with 412. If-Match takes ETags (quoted or
 * not, "*" for any object): another ETag is 412, no object at all is 404 NoSuchKey.
 * COS's `x-cos-forbid-overwrite: true` refuses an existing object with COS's 409
 * FileAlreadyExists. The layout runs the result against the record it replaces.
 */
export function writePrecondition(h: Headers, key: string): Precondition | undefined {
  const ifNoneMatch = h.get('if-none-match');
  const ifMatch = h.get('if-match');
  const forbidOverwrite = h.get('x-cos-forbid-overwrite')?.trim().toLowerCase() === 'true';
  if (ifNoneMatch !== null && ifNoneMatch.trim() !== '*')
    throw new S3Error('NotImplemented', undefined, { fields: { Header: 'If-None-Match' } });
  if (ifNoneMatch !== null && ifMatch !== null) throw new S3Error('NotImplemented', undefined, { fields: { Header: 'If-Match' } });
  if (ifNoneMatch === null && ifMatch === null && !forbidOverwrite) return undefined;
  return (current) => {
    if (current && ifNoneMatch !== null) throw new S3Error('PreconditionFailed', undefined, { fields: { Condition: 'If-None-Match' } });
    if (current && forbidOverwrite) throw new S3Error('FileAlreadyExists');
    if (ifMatch === null) return;
    if (!current) throw new S3Error('NoSuchKey', undefined, { fields: { Key: key } });
    if (!etagMatches(ifMatch, current.etag)) throw new S3Error('PreconditionFailed', undefined, { fields: { Condition: 'If-Match' } });
  };
}
