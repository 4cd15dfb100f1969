// Small byte, hex and HMAC helpers shared by the signature verifiers.

import { toHex, utf8 } from '../crypto/bytes';
import { S3Error } from '../s3/protocol/errors';

export const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

export async function digestHex(alg: 'SHA-256' | 'SHA-1', data: string | Uint8Array): Promise<string> {
  return toHex(await crypto.subtle.digest(alg, typeof data === 'string' ? utf8(data) : data));
}

export function hmacKey(key: string | ArrayBuffer | Uint8Array, hash: 'SHA-256' | 'SHA-1'): Promise<CryptoKey> {
  return crypto.subtle.importKey('raw', typeof key === 'string' ? utf8(key) : key, { name: 'HMAC', hash }, false, ['sign']);
}

export function hmac(key: CryptoKey, data: string): Promise<ArrayBuffer> {
  return crypto.subtle.sign('HMAC', key, utf8(data));
}

export async function hmacHex(key: CryptoKey, data: string): Promise<string> {
  return toHex(await hmac(key, data));
}

/**
 * The Accept-Encoding the client sent. Cloudflare's edge replaces that header before a Worker
 * sees it and keeps the client's own value in `request.cf.clientAcceptEncoding` (wrangler dev
 * does the same, with "" for a request that had none); a client that signed the header (rclone
 * does) signed its own value. Undefined where the runtime keeps no such value.
 */
export function clientAcceptEncoding(req: Request): string | undefined {
  const sent = (req as { cf?: { clientAcceptEncoding?: unknown } }).cf?.clientAcceptEncoding;
  return typeof sent === 'string' ? sent : undefined;
}

/** A request header's value as the client sent it (null: not sent). */
export function clientHeader(req: Request, name: string): string | null {
  if (name === 'accept-encoding') {
    const sent = clientAcceptEncoding(req);
    if (sent !== undefined) return sent === '' ? null : sent;
  }
  return req.headers.get(name);
}

const isHex = (c: number) => (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
const hexVal = (c: number) => (c <= 0x39 ? c - 0x30 : (c | 0x20) - 0x57);

/**
 * Percent-decodes to raw bytes. Malformed escapes stay literal rather than
 * failing, so a sloppy client gets SignatureDoesNotMatch, not a crash.
 */
export function unescapeBytes(s: string, plusIsSpace: boolean): Uint8Array {
  const src = utf8(s);
  const out = new Uint8Array(src.length);
  let n = 0;
  for (let i = 0; i < src.length; i++) {
    const c = src[i];
    if (c === 0x25 && i + 2 < src.length && isHex(src[i + 1]) && isHex(src[i + 2])) {
      out[n++] = (hexVal(src[i + 1]) << 4) | hexVal(src[i + 2]);
      i += 2;
    } else out[n++] = plusIsSpace && c === 0x2b ? 0x20 : c;
  }
  return out.subarray(0, n);
}

const HEX = '0123456789ABCDEF';
const unreserved = (c: number) =>
  (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x2e || c === 0x5f || c === 0x7e;

/** RFC 3986 encoding: unreserved bytes stay, everything else becomes %XX. Both SigV4 and COS use exactly this set. */
export function uriEncode(v: string | Uint8Array): string {
  const b = typeof v === 'string' ? utf8(v) : v;
  let out = '';
  for (let i = 0; i < b.length; i++) {
    const c = b[i];
    out += unreserved(c) ? String.fromCharCode(c) : `%${HEX[c >> 4]}${HEX[c & 15]}`;
  }
  return out;
}

/** Re-encodes a value however the client chose to escape it, so equivalent spellings sign alike. */
export const recode = (s: string, plusIsSpace: boolean): string => uriEncode(unescapeBytes(s, plusIsSpace));

/** Splits a raw query string into raw name/value pairs (no decoding). */
export function rawPairs(search: string): [string, string][] {
  const out: [string, string][] = [];
  for (const part of search.replace(/^\?/, '').split('&')) {
    if (!part) continue;
    const i = part.indexOf('=');
    out.push(i < 0 ? [part, ''] : [part.slice(0, i), part.slice(i + 1)]);
  }
  return out;
}

/**
 * Request headers that change what the gateway does (every x-amz-* and x-cos-* header:
 * copy source, SSE, metadata, checksums, decoded length; and Content-MD5), so a
 * signature must cover each one that is present. S3 refuses the same requests.
 */
export function unsignedHeaders(h: Headers, signed: Iterable<string>, exempt: readonly string[] = []): string[] {
  const covered = new Set([...signed].map((n) => n.toLowerCase()));
  const out: string[] = [];
  h.forEach((_, name) => {
    if ((name.startsWith('x-amz-') || name.startsWith('x-cos-') || name === 'content-md5') && !covered.has(name) && !exempt.includes(name))
      out.push(name);
  });
  return out;
}

/** Refuses a request carrying behaviour-changing headers its signature does not cover. */
export function requireSignedHeaders(h: Headers, signed: Iterable<string>, exempt: readonly string[] = []): void {
  const missing = unsignedHeaders(h, signed, exempt);
  if (missing.length) {
    throw new S3Error('AccessDenied', 'There were headers present in the request which were not signed', {
      fields: { HeadersNotSigned: missing.join(', ') },
    });
  }
}

/** Names that occur more than once among `pairs` (auth parameters must be given once). */
export function repeated(names: string[]): string | undefined {
  const seen = new Set<string>();
  for (const n of names) {
    if (seen.has(n)) return n;
    seen.add(n);
  }
  return undefined;
}
