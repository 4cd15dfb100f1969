// Record fields as upstream user metadata (x-amz-meta-*): header-safe values, and the
// Content-Encoding kept out of the upstream's own header.

import { fromB64, toB64, utf8 } from '../../crypto/bytes';
import type { HttpMeta } from '../../store/types';
import { FIELDS } from '../record';

/** Content-Encoding stays in metadata: an upstream (or fetch) must never try to decode ciphertext. */
export const storedHttp = (h: HttpMeta): HttpMeta => ({ ...h, contentEncoding: undefined });
/** Metadata to store, with the Content-Encoding that storedHttp leaves out. Object and upload entries alike. */
export const stamped = (m: Record<string, string>, h: HttpMeta) =>
  encodeMeta({ ...m, [FIELDS.object.contentEncoding]: h.contentEncoding ?? '' });

export const pick = (m: Record<string, string>, keys: string[]) => Object.fromEntries(Object.entries(m).filter(([k]) => keys.includes(k)));
export const omit = (m: Record<string, string>, keys: string[]) => Object.fromEntries(Object.entries(m).filter(([k]) => !keys.includes(k)));
export const sameRecord = (a: Record<string, string>, b: Record<string, string>) =>
  JSON.stringify(Object.entries(a).sort()) === JSON.stringify(Object.entries(b).sort());
export const sameHttp = (a: HttpMeta, b: HttpMeta) => sameRecord(clean(a), clean(b));
const clean = (h: HttpMeta): Record<string, string> => Object.fromEntries(Object.entries(h).filter(([, v]) => v !== undefined && v !== ''));

/** Metadata values travel as header values: anything but printable ASCII goes RFC 2047-encoded, as S3 itself returns it. */
export function encodeMeta(m: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(m).map(([k, v]) => [k, /^[\x20-\x7e]*$/.test(v) && !v.startsWith('=?') ? v : `=?UTF-8?B?${toB64(utf8(v))}?=`]),
  );
}

export function decodeMeta(m: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(m).map(([k, v]) => {
      const b = /^=\?UTF-8\?B\?([A-Za-z0-9+/=]*)\?=$/i.exec(v);
      return [k, b ? new TextDecoder().decode(fromB64(b[1])) : v];
    }),
  );
}
