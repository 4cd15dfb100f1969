// Range header parsing (RFC 9110 byte ranges, one range as S3 supports).

import { S3Error } from './errors';

/** Inclusive plaintext range, or null to serve the whole object. */
export function parseRange(header: string | null, size: number): { start: number; end: number } | null {
  if (header === null) return null;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  // S3 ignores ranges it cannot parse, and multiple ranges, and serves the whole object.
  if (!m || (m[1] === '' && m[2] === '')) return null;
  let start: number, end: number;
  if (m[1] === '') {
    const n = Number(m[2]);
    if (n === 0) throw unsatisfiable(size);
    start = Math.max(0, size - n);
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
    if (m[2] !== '' && Number(m[2]) < start) return null;
  }
  if (start >= size || size === 0) throw unsatisfiable(size);
  return { start, end };
}

const unsatisfiable = (size: number) =>
  new S3Error('InvalidRange', undefined, { fields: { ActualObjectSize: String(size) }, headers: { 'content-range': `bytes */${size}` } });
