// Version ids on the wire: ?versionId=, a copy source's ?versionId=, <VersionId> in
// DeleteObjects and the version-id-marker of a version listing. "null" names the
// version every object has in a bucket that never had versioning (all buckets here,
// for now). Another id is either malformed (S3's 400 InvalidArgument) or of the shape
// S3's own ids have, 32 URL-safe characters, and then names a version that does not
// exist here (404 NoSuchVersion on a read; a delete of it has nothing to remove).
//
// COS writes that version's id as "" where S3 writes "null" (its listing shows an empty
// VersionId for objects of a bucket that never had versioning, and a client sends the
// empty id back), so in the COS dialect "" names it too.

import { NULL_VERSION } from '../../layout/types';
import type { Dialect } from './dialect';
import { S3Error } from './errors';

export { NULL_VERSION };

const WELL_FORMED = /^[A-Za-z0-9._-]{32}$/;

/**
 * The version id `raw` names, checked: NULL_VERSION, a well-formed id, or undefined when
 * it names none (COS's ""). `argument` is the parameter S3 names in the refusal.
 */
export function parseVersionId(raw: string, dialect: Dialect, argument = 'versionId'): string | undefined {
  if (raw === '') {
    if (dialect === 'cos') return undefined;
    throw new S3Error('InvalidArgument', 'Version id cannot be the empty string', {
      fields: { ArgumentName: argument, ArgumentValue: '' },
    });
  }
  if (raw !== NULL_VERSION && !WELL_FORMED.test(raw))
    throw new S3Error('InvalidArgument', 'Invalid version id specified', { fields: { ArgumentName: argument, ArgumentValue: raw } });
  return raw;
}

/** A version id as the answer writes it: COS writes the null version of a never-versioned bucket as "". */
export const versionIdOnWire = (id: string, dialect: Dialect): string => (dialect === 'cos' && id === NULL_VERSION ? '' : id);

/** The 404 for a version this bucket does not hold. */
export const noSuchVersion = (key: string, versionId: string): S3Error =>
  new S3Error('NoSuchVersion', undefined, { fields: { Key: key, VersionId: versionId } });
