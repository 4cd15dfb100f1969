import { adminSecretsStore } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { readSecret } from '../../src/secrets';
import { keyringFrom } from '../../src/sse/keyring';

type Secret = { get(): Promise<string> };
const bindings = env as unknown as { MASTER_KEYRING_SECRET: Secret; CREDENTIALS_SECRET: Secret };

describe('secrets', () => {
  it('reads the master keyring from the Secrets Store binding when no plain secret is set', async () => {
    const spec = 'k2:AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=,k1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=';
    const admin = adminSecretsStore(bindings.MASTER_KEYRING_SECRET);
    await admin.create(spec);
    const ring = keyringFrom(await readSecret(bindings.MASTER_KEYRING_SECRET, undefined));
    expect(ring.active.id).toBe('k2');
    expect(ring.ids()).toEqual(['k2', 'k1']);
  });

  it('prefers a plain secret, and yields nothing when neither exists', async () => {
    expect(await readSecret(bindings.CREDENTIALS_SECRET, 'AK:SK')).toBe('AK:SK');
    expect(await readSecret(bindings.CREDENTIALS_SECRET, undefined)).toBeUndefined();
  });

  it('refuses malformed keyrings', () => {
    for (const bad of ['', 'k1', 'k1:notbase64!', 'k1:AAAA', 'bad id:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=']) {
      expect(() => keyringFrom(bad)).toThrow();
    }
  });
});
