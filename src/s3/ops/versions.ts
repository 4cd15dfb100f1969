// ListObjectVersions (COS: GET Bucket Object versions) and GetBucketVersioning.
//
// No bucket here has versioning yet: every object is one version, its null version,
// the latest, and there are no delete markers. The listing is built on the layout's
// version listing (Layout.versions), so versions of their own slot in underneath.

import type { ListedVersion, VersionMarker } from '../../layout/types';
import { type Ctx, layoutOf } from '../context';
import { requireBucket } from '../objects';
import type { Dialect } from '../protocol/dialect';
import { S3Error } from '../protocol/errors';
import { encodingType, keyEncoder, maxKeys } from '../protocol/listing';
import { parseVersionId, versionIdOnWire } from '../protocol/version-id';
import { type Node, xmlDocument, xmlResponse } from '../protocol/xml';

/** A listing entry: a version of `key`, or (without one) the common prefix `key`. */
type Entry = { key: string; version?: ListedVersion };

/** What a version listing request asks for, its parameters checked. */
export interface VersionQuery {
  prefix: string;
  delimiter?: string;
  encoding?: 'url';
  maxKeys: number;
  keyMarker: string;
  versionIdMarker: string;
}

/**
 * The parameters, checked in the order S3 checks them (the first failure is the one
 * reported): max-keys, a version-id marker without a key marker, an empty or malformed
 * version-id marker, then encoding-type. COS sends an empty version-id-marker back when
 * the last page's NextVersionIdMarker was empty, so for COS "" is no marker.
 */
export function versionQuery(q: URLSearchParams, dialect: Dialect): VersionQuery {
  const limit = maxKeys(q);
  const keyMarker = q.get('key-marker') ?? '';
  const named = q.get('version-id-marker');
  if (named !== null && !keyMarker && (named !== '' || dialect === 'amz'))
    throw new S3Error('InvalidArgument', 'A version-id marker cannot be specified without a key marker.', {
      fields: { ArgumentName: 'version-id-marker', ArgumentValue: named },
    });
  if (named === '' && dialect === 'amz')
    throw new S3Error('InvalidArgument', 'A version-id marker cannot be empty.', {
      fields: { ArgumentName: 'version-id-marker', ArgumentValue: '' },
    });
  const versionIdMarker = (named && parseVersionId(named, dialect, 'version-id-marker')) || '';
  return {
    prefix: q.get('prefix') ?? '',
    delimiter: q.get('delimiter') || undefined,
    encoding: encodingType(q),
    maxKeys: limit,
    keyMarker,
    versionIdMarker,
  };
}

/**
 * Where the listing resumes. A key marker alone resumes after every version of that
 * key; a key marker that is itself a common prefix (as NextKeyMarker is when a page
 * ends on one) resumes after everything under it.
 */
export function resumeAfter(v: VersionQuery): VersionMarker | undefined {
  if (!v.keyMarker) return undefined;
  if (v.versionIdMarker) return { key: v.keyMarker, versionId: v.versionIdMarker };
  const { prefix, delimiter, keyMarker } = v;
  const commonPrefix = !!delimiter && keyMarker.length > prefix.length && keyMarker.startsWith(prefix) && keyMarker.endsWith(delimiter);
  return { key: commonPrefix ? `${keyMarker}\u{10FFFF}` : keyMarker };
}

export async function listObjectVersions(ctx: Ctx): Promise<Response> {
  const v = versionQuery(ctx.url.searchParams, ctx.dialect);
  await requireBucket(ctx);
  const { entries, truncated } = await collect(ctx, v);

  const enc = keyEncoder(v.encoding);
  const owner = { ID: ctx.auth.accessKeyId, DisplayName: ctx.auth.accessKeyId };
  const last = truncated ? entries[entries.length - 1] : undefined;
  const body: { [k: string]: Node } = {
    Name: ctx.bucket,
    Prefix: enc(v.prefix),
    KeyMarker: enc(v.keyMarker),
    VersionIdMarker: v.versionIdMarker,
    NextKeyMarker: last && enc(last.key),
    // A page ending on a common prefix resumes after the prefix: there is no version to name.
    NextVersionIdMarker: last?.version && versionIdOnWire(last.version.versionId, ctx.dialect),
    MaxKeys: v.maxKeys,
    Delimiter: v.delimiter && enc(v.delimiter),
    IsTruncated: truncated,
    EncodingType: v.encoding,
    Version: entries.flatMap((e) =>
      e.version
        ? [
            {
              Key: enc(e.key),
              VersionId: versionIdOnWire(e.version.versionId, ctx.dialect),
              IsLatest: e.version.isLatest,
              LastModified: e.version.uploaded.toISOString(),
              ETag: `"${e.version.etag}"`,
              Size: e.version.size,
              StorageClass: 'STANDARD',
              Owner: owner,
            },
          ]
        : [],
    ),
    CommonPrefixes: entries.filter((e) => !e.version).map((e) => ({ Prefix: enc(e.key) })),
  };
  return xmlResponse(xmlDocument('ListVersionsResult', body, ctx.dialect === 'cos' ? '' : undefined));
}

/** Up to maxKeys versions and common prefixes after the markers, in key order (newest first within a key). */
async function collect(ctx: Ctx, v: VersionQuery): Promise<{ entries: Entry[]; truncated: boolean }> {
  const entries: Entry[] = [];
  const after = resumeAfter(v);
  let cursor: string | undefined;
  let more = v.maxKeys > 0;
  while (more && entries.length <= v.maxKeys) {
    const r = await layoutOf(ctx).versions(ctx.bucket, { prefix: v.prefix, delimiter: v.delimiter, after, cursor, limit: 1000 });
    for (const version of r.versions) entries.push({ key: version.key, version });
    for (const p of r.prefixes) entries.push({ key: p });
    cursor = r.cursor;
    more = r.truncated && !!cursor;
  }
  // Stable: the versions of one key keep the layout's newest-first order.
  entries.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  // A common prefix can come again on the next store page; a version cannot.
  const unique = entries.filter((e, i) => e.version || i === 0 || entries[i - 1].version || e.key !== entries[i - 1].key);
  return { entries: unique.slice(0, v.maxKeys), truncated: unique.length > v.maxKeys || more };
}

/** A bucket that never had versioning answers an empty configuration (no Status), as S3 and COS do. */
export async function getBucketVersioning(ctx: Ctx): Promise<Response> {
  await requireBucket(ctx);
  return xmlResponse(xmlDocument('VersioningConfiguration', {}, ctx.dialect === 'cos' ? '' : undefined));
}
