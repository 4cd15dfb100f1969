// HKDF-SHA256 and AES-GCM key wrapping on WebCrypto.

import { concat, utf8 } from './bytes';

export async function hkdf(ikm: Uint8Array, salt: Uint8Array, info: Uint8Array, length: number): Promise<Uint8Array> {
  const base = await crypto.subtle.importKey('raw', ikm, 'HKDF', false, ['deriveBits']);
  return new Uint8Array(await crypto.subtle.deriveBits({ name: 'HKDF', hash: 'SHA-256', salt, info }, base, length * 8));
}

export async function hmacSha256(key: Uint8Array, msg: Uint8Array): Promise<Uint8Array> {
  const k = await crypto.subtle.importKey('raw', key, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  return new Uint8Array(await crypto.subtle.sign('HMAC', k, msg));
}

const ZERO_IV = new Uint8Array(12);
const WRAP_LABEL = utf8('sealbucket/v1 wrap');

/**
 * Wraps a 32-byte data key. The wrapping key is derived afresh from the
 * key-encryption secret and a random salt, so the fixed IV never repeats
 * under one key; `info` binds the wrap to the object it belongs to.
 */
export async function wrapKey(kek: Uint8Array, salt: Uint8Array, info: Uint8Array, dataKey: Uint8Array): Promise<Uint8Array> {
  const k = await gcmKey(await hkdf(kek, salt, concat(WRAP_LABEL, info), 32), ['encrypt']);
  return new Uint8Array(await crypto.subtle.encrypt({ name: 'AES-GCM', iv: ZERO_IV }, k, dataKey));
}

/** Returns null when the wrap does not open under this kek and info. */
export async function unwrapKey(kek: Uint8Array, salt: Uint8Array, info: Uint8Array, wrapped: Uint8Array): Promise<Uint8Array | null> {
  const k = await gcmKey(await hkdf(kek, salt, concat(WRAP_LABEL, info), 32), ['decrypt']);
  try {
    return new Uint8Array(await crypto.subtle.decrypt({ name: 'AES-GCM', iv: ZERO_IV }, k, wrapped));
  } catch {
    return null;
  }
}

export const gcmKey = (raw: Uint8Array, usages: ('encrypt' | 'decrypt')[]): Promise<CryptoKey> =>
  crypto.subtle.importKey('raw', raw, 'AES-GCM', false, usages);
