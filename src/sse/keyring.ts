// The master keyring: several versions of the gateway's master key, one active.
// Secret format: "id:base64key[,id:base64key...]", the first entry active.
// It comes from the Secrets Store binding MASTER_KEYRING, or the plain
// Worker secret of the same name as the local fallback (see ../secrets.ts).

import { fromB64 } from '../crypto/bytes';

export interface MasterKey {
  id: string;
  key: Uint8Array;
}

export interface Keyring {
  active: MasterKey;
  get(id: string): MasterKey | undefined;
  ids(): string[];
}

export function parseKeyring(spec: string): Keyring {
  const keys = new Map<string, MasterKey>();
  let active: MasterKey | undefined;
  for (const entry of spec.split(/[,\s]+/).filter(Boolean)) {
    const i = entry.indexOf(':');
    const id = entry.slice(0, i);
    if (i <= 0 || !/^[A-Za-z0-9_-]{1,32}$/.test(id)) throw new Error('master keyring: entry without a valid id');
    let key: Uint8Array;
    try {
      key = fromB64(entry.slice(i + 1));
    } catch {
      throw new Error(`master keyring: key ${id} is not base64`);
    }
    if (key.length !== 32) throw new Error(`master keyring: key ${id} is not 32 bytes`);
    if (keys.has(id)) throw new Error(`master keyring: duplicate id ${id}`);
    const k = { id, key };
    keys.set(id, k);
    active ??= k;
  }
  if (!active) throw new Error('master keyring is empty');
  return { active, get: (id) => keys.get(id), ids: () => [...keys.keys()] };
}

let cached: { spec: string; ring: Keyring } | undefined;

/** Parses the keyring secret, reusing the parsed form while the secret is unchanged. */
export function keyringFrom(spec: string | undefined): Keyring {
  if (!spec) throw new Error('no master keyring configured (MASTER_KEYRING)');
  if (cached?.spec !== spec) cached = { spec, ring: parseKeyring(spec) };
  return cached.ring;
}
