// The KMS data plane in workerd: Encrypt, Decrypt, ReEncrypt, GenerateDataKey(WithoutPlaintext),
// GenerateRandom; the CiphertextBlob bound to key, version and encryption context.

import { describe, expect, it } from 'vitest';
import { createKey, kms, kmsOk } from './helpers/kms';

const b64 = (b: Uint8Array) => btoa(String.fromCharCode(...b));
const unb64 = (s: string) => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
const text = (s: string) => b64(new TextEncoder().encode(s));
const keyArn = (id: string) => `arn:aws:kms:us-east-1:000000000000:key/${id}`;

describe('Encrypt and Decrypt', () => {
  it('round-trips with the same encryption context, finding the key from the blob', async () => {
    const id = await createKey();
    const ec = { app: 'billing', tenant: '7' };
    const enc = await kmsOk('Encrypt', { KeyId: id, Plaintext: text('hello'), EncryptionContext: ec });
    expect(enc.KeyId).toBe(keyArn(id));
    expect(enc.EncryptionAlgorithm).toBe('SYMMETRIC_DEFAULT');
    // Members in another order are the same context.
    const dec = await kmsOk('Decrypt', { CiphertextBlob: enc.CiphertextBlob, EncryptionContext: { tenant: '7', app: 'billing' } });
    expect(dec.KeyId).toBe(keyArn(id));
    expect(atob(dec.Plaintext)).toBe('hello');
    expect(atob((await kmsOk('Decrypt', { CiphertextBlob: enc.CiphertextBlob, KeyId: id, EncryptionContext: ec })).Plaintext)).toBe(
      'hello',
    );
  });

  it('refuses another context, no context, a tampered blob and a foreign blob with InvalidCiphertextException', async () => {
    const id = await createKey();
    const enc = await kmsOk('Encrypt', { KeyId: id, Plaintext: text('hello'), EncryptionContext: { a: '1' } });
    const invalid = async (input: object) => expect((await kms('Decrypt', input)).body.__type).toBe('InvalidCiphertextException');
    await invalid({ CiphertextBlob: enc.CiphertextBlob, EncryptionContext: { a: '2' } });
    await invalid({ CiphertextBlob: enc.CiphertextBlob });
    await invalid({ CiphertextBlob: enc.CiphertextBlob, EncryptionContext: { a: '1', b: '' } });
    const blob = unb64(enc.CiphertextBlob);
    for (const at of [0, 40, 50, blob.length - 1]) {
      const t = blob.slice();
      t[at] ^= 1;
      const r = await kms('Decrypt', { CiphertextBlob: b64(t), EncryptionContext: { a: '1' } });
      expect(['InvalidCiphertextException', 'NotFoundException']).toContain(r.body.__type);
    }
    await invalid({ CiphertextBlob: b64(new Uint8Array(80)) });
    // Bound to the key: the same bytes with another key's id in the header do not open.
    const other = await createKey();
    const moved = blob.slice();
    moved.set(new TextEncoder().encode(other), 1);
    await invalid({ CiphertextBlob: b64(moved), EncryptionContext: { a: '1' } });
    // A KeyId that is not the blob's key: IncorrectKeyException.
    expect((await kms('Decrypt', { CiphertextBlob: enc.CiphertextBlob, KeyId: other, EncryptionContext: { a: '1' } })).body.__type).toBe(
      'IncorrectKeyException',
    );
  });

  it('limits the plaintext to 1..4096 bytes', async () => {
    const id = await createKey();
    expect((await kms('Encrypt', { KeyId: id, Plaintext: b64(new Uint8Array(4097)) })).body.__type).toBe('ValidationException');
    await kmsOk('Encrypt', { KeyId: id, Plaintext: b64(new Uint8Array(4096)) });
  });

  it('still decrypts after rotation; refuses a disabled key (DisabledException) and one pending deletion (KMSInvalidStateException)', async () => {
    const id = await createKey();
    const enc = await kmsOk('Encrypt', { KeyId: id, Plaintext: text('v1') });
    await kmsOk('RotateKeyOnDemand', { KeyId: id });
    const enc2 = await kmsOk('Encrypt', { KeyId: id, Plaintext: text('v2') });
    expect(atob((await kmsOk('Decrypt', { CiphertextBlob: enc.CiphertextBlob })).Plaintext)).toBe('v1');
    expect(atob((await kmsOk('Decrypt', { CiphertextBlob: enc2.CiphertextBlob })).Plaintext)).toBe('v2');
    await kmsOk('DisableKey', { KeyId: id });
    expect((await kms('Encrypt', { KeyId: id, Plaintext: text('x') })).body.__type).toBe('DisabledException');
    expect((await kms('Decrypt', { CiphertextBlob: enc.CiphertextBlob })).body.__type).toBe('DisabledException');
    await kmsOk('EnableKey', { KeyId: id });
    await kmsOk('ScheduleKeyDeletion', { KeyId: id, PendingWindowInDays: 7 });
    expect((await kms('Decrypt', { CiphertextBlob: enc.CiphertextBlob })).body.__type).toBe('KMSInvalidStateException');
    expect((await kms('GenerateDataKey', { KeyId: id, KeySpec: 'AES_256' })).body.__type).toBe('KMSInvalidStateException');
  });
});

describe('ReEncrypt, GenerateDataKey, GenerateRandom', () => {
  it('ReEncrypt moves a ciphertext to another key and context', async () => {
    const a = await createKey();
    const b = await createKey();
    const enc = await kmsOk('Encrypt', { KeyId: a, Plaintext: text('moving'), EncryptionContext: { from: 'a' } });
    const re = await kmsOk('ReEncrypt', {
      CiphertextBlob: enc.CiphertextBlob,
      SourceEncryptionContext: { from: 'a' },
      DestinationKeyId: b,
      DestinationEncryptionContext: { to: 'b' },
    });
    expect(re.SourceKeyId).toBe(keyArn(a));
    expect(re.KeyId).toBe(keyArn(b));
    const dec = await kmsOk('Decrypt', { CiphertextBlob: re.CiphertextBlob, EncryptionContext: { to: 'b' } });
    expect(dec.KeyId).toBe(keyArn(b));
    expect(atob(dec.Plaintext)).toBe('moving');
    expect((await kms('ReEncrypt', { CiphertextBlob: enc.CiphertextBlob, DestinationKeyId: b })).body.__type).toBe(
      'InvalidCiphertextException',
    );
  });

  it('GenerateDataKey returns a key and its ciphertext (AES_256, AES_128, NumberOfBytes); WithoutPlaintext only the ciphertext', async () => {
    const id = await createKey();
    for (const [input, n] of [
      [{ KeySpec: 'AES_256' }, 32],
      [{ KeySpec: 'AES_128' }, 16],
      [{ NumberOfBytes: 7 }, 7],
    ] as const) {
      const g = await kmsOk('GenerateDataKey', { KeyId: id, ...input, EncryptionContext: { k: 'v' } });
      expect(unb64(g.Plaintext).length).toBe(n);
      const d = await kmsOk('Decrypt', { CiphertextBlob: g.CiphertextBlob, EncryptionContext: { k: 'v' } });
      expect(d.Plaintext).toBe(g.Plaintext);
    }
    const w = await kmsOk('GenerateDataKeyWithoutPlaintext', { KeyId: id, KeySpec: 'AES_256' });
    expect(w.Plaintext).toBeUndefined();
    expect(unb64((await kmsOk('Decrypt', { CiphertextBlob: w.CiphertextBlob })).Plaintext).length).toBe(32);
    expect((await kms('GenerateDataKey', { KeyId: id })).body.__type).toBe('ValidationException');
    expect((await kms('GenerateDataKey', { KeyId: id, KeySpec: 'AES_256', NumberOfBytes: 32 })).body.__type).toBe('ValidationException');
    expect((await kms('GenerateDataKey', { KeyId: id, KeySpec: 'RSA_2048' })).body.__type).toBe('ValidationException');
  });

  it('GenerateRandom gives 1..1024 random bytes', async () => {
    const a = unb64((await kmsOk('GenerateRandom', { NumberOfBytes: 1024 })).Plaintext);
    const b = unb64((await kmsOk('GenerateRandom', { NumberOfBytes: 1024 })).Plaintext);
    expect(a.length).toBe(1024);
    expect(b64(a)).not.toBe(b64(b));
    expect((await kms('GenerateRandom', { NumberOfBytes: 0 })).body.__type).toBe('ValidationException');
    expect((await kms('GenerateRandom', { NumberOfBytes: 1025 })).body.__type).toBe('ValidationException');
  });
});
