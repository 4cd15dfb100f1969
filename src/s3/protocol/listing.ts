// Query parameters every listing shares (ListObjects V1/V2, ListObjectVersions), and
// encoding-type=url as S3 applies it to the keys and prefixes in the answer.

import { S3Error } from './errors';

/** encoding-type: absent, or "url". */
export function encodingType(q: URLSearchParams): 'url' | undefined {
  const encoding = q.get('encoding-type');
  if (encoding !== null && encoding !== 'url')
    throw new S3Error('InvalidArgument', 'Invalid Encoding Method specified in Request', { fields: { ArgumentName: 'encoding-type' } });
  return encoding ?? undefined;
}

/** max-keys: a non-negative 32-bit integer (default 1000), capped at 1000 as S3 caps it. */
export function maxKeys(q: URLSearchParams): number {
  const mk = q.get('max-keys') ?? '1000';
  if (!/^\d+$/.test(mk) || Number(mk) > 2 ** 31 - 1)
    throw new S3Error('InvalidArgument', 'Provided max-keys not an integer or within integer range', {
      fields: { ArgumentName: 'max-keys' },
    });
  return Math.min(Number(mk), 1000);
}

/**
 * A key or prefix as the answer carries it under encoding-type=url: URL-encoded, slashes kept,
 * a space as "%20" (as S3 answers; ceph/s3-tests checks it), which decoders that take "+" for a
 * space read the same.
 */
export const keyEncoder =
  (encoding: 'url' | undefined) =>
  (s: string): string =>
    encoding ? encodeURIComponent(s).replace(/%2F/g, '/') : s;
