// Version ids on the wire: ?versionId=, a copy source's ?versionId=, <VersionId> in
// DeleteObjects and the version-id-marker of a version listing. "null" names the
// version every object has in a bucket that never had versioning (all buckets here,
// for now). Another id is either malformed (S3's 400 InvalidArgument) or of the shape
// S3's own ids have, 32 URL-safe characters, and then names a version that does not
// exist here (404 NoSuchVersion on a read; a delete of it has nothing to remove).

import { NULL_VERSION } from '../../layout/types';
import { S3Error } from './errors';

export { NULL_VERSION };

const WELL_FORMED = /^[A-Za-z0-9._-]{32}$/;

/** The version id `raw` names, checked; `argument` is the parameter S3 names in the refusal. */
export function parseVersionId(raw: string, argument = 'versionId'): string {
  if (raw === '')
    throw new S3Error('InvalidArgument', 'Version id cannot be the empty string', {
      fields: { ArgumentName: argument, ArgumentValue: '' },
    });
  if (raw !== NULL_VERSION && !WELL_FORMED.test(raw))
    throw new S3Error('InvalidArgument', 'Invalid version id specified', { fields: { ArgumentName: argument, ArgumentValue: raw } });
  return raw;
}

/** The 404 for a version this bucket does not hold. */
export const noSuchVersion = (key: string, versionId: string): S3Error =>
  new S3Error('NoSuchVersion', undefined, { fields: { Key: key, VersionId: versionId } });
