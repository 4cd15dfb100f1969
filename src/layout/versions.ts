// Version listings for layouts that keep one version per key: every object is its
// null version, the latest. Full versioning replaces this with listings of the
// versions each layout stores.

import { type Listing, NULL_VERSION, type VersionListing, type VersionMarker } from './types';

/**
 * Where the object listing starts for a version listing resuming after `after`. With one
 * version per key, resuming after any version of a key (the null one, or an id that key
 * does not have) resumes after the key.
 */
export const nullVersionsAfter = (after: VersionMarker | undefined): string | undefined => after?.key || undefined;

/** An object listing page as its null versions. */
export const asNullVersions = (page: Listing): VersionListing => ({
  versions: page.objects.map((o) => ({ ...o, versionId: NULL_VERSION, isLatest: true })),
  prefixes: page.prefixes,
  truncated: page.truncated,
  cursor: page.cursor,
});
