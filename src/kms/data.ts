// The KMS data plane's CiphertextBlob (Encrypt, GenerateDataKey*, ReEncrypt): our own format,
// bound to the key id, the key version and the encryption context. docs/FORMAT.md has the bytes.

import { concat, fields } from '../crypto/bytes';
import { KmsError } from './errors';

const FORMAT = 0x01;
const ID_BYTES = 36; // a key id is a lowercase UUID
const HEADER = 1 + ID_BYTES + 4 + 16;
const TAG = 16;

/** The encryption context of a request: an object of string values (absent is {}). */
export function encryptionContext(v: unknown): Record<string, string> {
  if (v === undefined || v === null) return {};
  if (typeof v !== 'object' || Array.isArray(v))
    throw new KmsError('SerializationException', 'EncryptionContext must be a map of strings.');
  for (const x of Object.values(v))
    if (typeof x !== 'string') throw new KmsError('SerializationException', 'EncryptionContext values must be strings.');
  return v as Record<string, string>;
}

/** Canonical context: members sorted by name (UTF-16 order), compact JSON; `{}` when there is none. */
export function canonicalContext(c: Record<string, string>): string {
  const entries = Object.entries(c).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`).join(',')}}`;
}

export const dataWrapInfo = (keyId: string, ver: number, ec: Record<string, string>): Uint8Array =>
  fields('kms-data', keyId, String(ver), canonicalContext(ec));

/** 0x01 | key id (36 ASCII bytes) | version (uint32 big-endian) | salt (16) | AES-GCM ciphertext and tag. */
export function encodeCiphertext(keyId: string, ver: number, salt: Uint8Array, sealed: Uint8Array): Uint8Array {
  const head = new Uint8Array(HEADER);
  head[0] = FORMAT;
  head.set(new TextEncoder().encode(keyId), 1);
  new DataView(head.buffer).setUint32(1 + ID_BYTES, ver);
  head.set(salt, 1 + ID_BYTES + 4);
  return concat(head, sealed);
}

export function decodeCiphertext(b: Uint8Array): { keyId: string; ver: number; salt: Uint8Array; sealed: Uint8Array } | undefined {
  if (b.length < HEADER + TAG || b[0] !== FORMAT) return undefined;
  const keyId = new TextDecoder().decode(b.subarray(1, 1 + ID_BYTES));
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(keyId)) return undefined;
  const ver = new DataView(b.buffer, b.byteOffset).getUint32(1 + ID_BYTES);
  if (ver < 1) return undefined;
  return { keyId, ver, salt: b.slice(1 + ID_BYTES + 4, HEADER), sealed: b.slice(HEADER) };
}
