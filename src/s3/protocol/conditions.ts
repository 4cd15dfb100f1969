// Conditional requests (If-Match, If-None-Match, If-Modified-Since,
// If-Unmodified-Since), for GET and HEAD and for a copy source.

import type { ObjectRecord } from '../../layout/record';
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
