// Byte helpers shared by the crypto and SSE layers.

export const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

export function concat(...parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Unambiguous encoding of a list of fields: each is u32-BE length then bytes. */
export function fields(...items: (string | Uint8Array | number)[]): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const it of items) {
    let b: Uint8Array;
    if (typeof it === 'number') {
      b = new Uint8Array(8);
      new DataView(b.buffer).setBigUint64(0, BigInt(it));
    } else b = typeof it === 'string' ? utf8(it) : it;
    const len = new Uint8Array(4);
    new DataView(len.buffer).setUint32(0, b.length);
    parts.push(len, b);
  }
  return concat(...parts);
}

export function toHex(b: Uint8Array | ArrayBuffer): string {
  const a = b instanceof Uint8Array ? b : new Uint8Array(b);
  let s = '';
  for (const x of a) s += x.toString(16).padStart(2, '0');
  return s;
}

export function fromHex(s: string): Uint8Array {
  if (s.length % 2 || /[^0-9a-f]/i.test(s)) throw new Error('bad hex');
  const out = new Uint8Array(s.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(s.slice(2 * i, 2 * i + 2), 16);
  return out;
}

export function toB64(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i += 0x8000) s += String.fromCharCode(...b.subarray(i, i + 0x8000));
  return btoa(s);
}

const PADDED_B64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const LOOSE_B64 = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * base64 (standard alphabet) to bytes; undefined when malformed. Padding is required
 * unless `padding` is 'optional' (browsers' form policies arrive either way).
 */
export function parseB64(s: string, padding: 'required' | 'optional' = 'required'): Uint8Array | undefined {
  if (padding === 'required' ? !PADDED_B64.test(s) : !LOOSE_B64.test(s) || s.length % 4 === 1) return undefined;
  let bin: string;
  try {
    bin = atob(s);
  } catch {
    return undefined;
  }
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** Strict base64 (standard alphabet, padded); throws on anything else. */
export function fromB64(s: string): Uint8Array {
  const b = parseB64(s);
  if (!b) throw new Error('bad base64');
  return b;
}

export const toB64url = (b: Uint8Array): string => toB64(b).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');

export function fromB64url(s: string): Uint8Array {
  const t = s.replace(/-/g, '+').replace(/_/g, '/');
  return fromB64(t + '='.repeat((4 - (t.length % 4)) % 4));
}

/**
 * Constant-time equality for secrets and values derived from them (signatures, MACs,
 * commitments): the loop runs over the whole input whatever differs. Lengths are
 * public (every value of one kind has the same length), so only the contents are hidden.
 */
export function timingSafeEqual(a: string | Uint8Array, b: string | Uint8Array): boolean {
  if (a.length !== b.length) return false;
  const at = (x: string | Uint8Array, i: number) => (typeof x === 'string' ? x.charCodeAt(i) : x[i]);
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= at(a, i) ^ at(b, i);
  return diff === 0;
}

export const randomBytes = (n: number): Uint8Array => crypto.getRandomValues(new Uint8Array(n));
