// S3 and COS name the same headers x-amz-* and x-cos-*. Requests may use
// either; responses answer in the dialect of the request.

import type { Dialect } from '../../auth/types';

export type { Dialect } from '../../auth/types';

export const hdr = (d: Dialect, suffix: string): string => `x-${d === 'cos' ? 'cos' : 'amz'}-${suffix}`;

/** The dialect implied by the request's signature scheme, before it is verified. */
export function sniffDialect(req: Request, url: URL): Dialect {
  const a = req.headers.get('authorization') ?? '';
  return a.startsWith('q-sign-algorithm=') || url.searchParams.has('q-signature') || url.searchParams.has('q-sign-algorithm')
    ? 'cos'
    : 'amz';
}

/** User metadata from x-amz-meta-* / x-cos-meta-*, names lowercased. */
export function userMetadata(h: Headers): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of h) {
    const m = /^x-(?:amz|cos)-meta-(.+)$/.exec(k);
    if (m) out[m[1]] = v;
  }
  return out;
}
