// The KMS JSON API (TrentService.*) in workerd: key lifecycle, aliases,
// rotation, the import flow, and the AWS JSON errors.
import { describe, expect, it } from 'vitest';
import { createKey, kms, kmsDump, kmsOk, kmsSigner, kmsSql } from './helpers/kms';
import { ORIGIN, worker } from './helpers/s3';

const b64 = (b: Uint8Array) => btoa(String.fromCharCode(...b));
const unb64 = (s: string) => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
const hexOf = (b: Uint8Array) => [...b].map((x) => x.toString(16).padStart(2, '0')).join('');

async function expectKmsError(op: string, input: object, type: string, status = 400) {
  const r = await kms(op, input);
  expect(r.status, JSON.stringify(r.body)).toBe(status);
  expect(r.body.__type).toBe(type);
  expect(typeof r.body.message).toBe('string');
  return r.body.message as string;
}

/** Wraps material for ImportKeyMaterial with the public key from GetParametersForImport (RSAES_OAEP_SHA_256). */
async function wrapForImport(publicKeyB64: string, material: Uint8Array, hash = 'SHA-256'): Promise<string> {
  const pub = await crypto.subtle.importKey('spki', unb64(publicKeyB64), { name: 'RSA-OAEP', hash }, false, ['encrypt']);
  return b64(new Uint8Array(await crypto.subtle.encrypt({ name: 'RSA-OAEP' }, pub, material)));
}

async function importMaterial(keyId: string, material: Uint8Array, extra: object = {}) {
  const p = await kmsOk('GetParametersForImport', { KeyId: keyId, WrappingAlgorithm: 'RSAES_OAEP_SHA_256', WrappingKeySpec: 'RSA_2048' });
  return kms('ImportKeyMaterial', {
    KeyId: keyId,
    ImportToken: p.ImportToken,
    EncryptedKeyMaterial: await wrapForImport(p.PublicKey, material),
    ...extra,
  });
}

const state = async (keyId: string) => (await kmsOk('DescribeKey', { KeyId: keyId })).KeyMetadata.KeyState;

describe('the protocol', () => {
  it('answers AWS JSON with the x-amz-json-1.1 content type', async () => {
    const req = await kmsSigner.sign(`${ORIGIN}/`, {
      method: 'POST',
      body: '{}',
      headers: { 'x-amz-target': 'TrentService.ListKeys', 'content-type': 'application/x-amz-json-1.1' },
    });
    const r = await worker(req);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('application/x-amz-json-1.1');
    expect(await r.json()).toMatchObject({ Keys: expect.any(Array), Truncated: false });
  });

  it('refuses unsigned, wrongly signed, S3-scoped and malformed requests as JSON errors', async () => {
    const target = { 'x-amz-target': 'TrentService.ListKeys', 'content-type': 'application/x-amz-json-1.1' };
    const unsigned = await worker(new Request(`${ORIGIN}/`, { method: 'POST', body: '{}', headers: target }));
    expect(unsigned.status).toBe(400);
    expect(((await unsigned.json()) as { __type: string }).__type).toBe('MissingAuthenticationTokenException');

    const signed = await kmsSigner.sign(`${ORIGIN}/`, { method: 'POST', body: '{}', headers: target });
    const tampered = new Request(signed.url, { method: 'POST', headers: signed.headers, body: '{"Limit":1}' });
    const bad = await worker(tampered);
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { __type: string }).__type).toBe('InvalidSignatureException');

    const { AwsClient } = await import('aws4fetch');
    const s3Scoped = new AwsClient({
      accessKeyId: 'AKIDTESTGATEWAY',
      secretAccessKey: 'test-secret-key-0123456789abcdef',
      service: 's3',
      region: 'us-east-1',
    });
    const wrongService = await worker(await s3Scoped.sign(`${ORIGIN}/`, { method: 'POST', body: '{}', headers: target }));
    expect(((await wrongService.json()) as { __type: string }).__type).toBe('IncompleteSignatureException');

    const unknownAk = new AwsClient({ accessKeyId: 'AKIDNOBODY', secretAccessKey: 'x', service: 'kms', region: 'us-east-1' });
    expect(
      (
        (await (await worker(await unknownAk.sign(`${ORIGIN}/`, { method: 'POST', body: '{}', headers: target }))).json()) as {
          __type: string;
        }
      ).__type,
    ).toBe('UnrecognizedClientException');

    const notJson = await worker(await kmsSigner.sign(`${ORIGIN}/`, { method: 'POST', body: '{nope', headers: target }));
    expect(((await notJson.json()) as { __type: string }).__type).toBe('SerializationException');

    await expectKmsError('Frobnicate', {}, 'UnknownOperationException');
  });
});

describe('CreateKey, DescribeKey, ListKeys', () => {
  it('creates symmetric keys with full metadata and finds them by id, ARN, alias and alias ARN', async () => {
    const created = await kmsOk('CreateKey', { Description: 'orders' });
    const m = created.KeyMetadata;
    expect(m).toMatchObject({
      AWSAccountId: '000000000000',
      Arn: `arn:aws:kms:us-east-1:000000000000:key/${m.KeyId}`,
      Enabled: true,
      Description: 'orders',
      KeyUsage: 'ENCRYPT_DECRYPT',
      KeyState: 'Enabled',
      Origin: 'AWS_KMS',
      KeyManager: 'CUSTOMER',
      KeySpec: 'SYMMETRIC_DEFAULT',
      CustomerMasterKeySpec: 'SYMMETRIC_DEFAULT',
      EncryptionAlgorithms: ['SYMMETRIC_DEFAULT'],
      MultiRegion: false,
    });
    expect(m.KeyId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(Math.abs(m.CreationDate - Date.now() / 1000)).toBeLessThan(60);

    await kmsOk('CreateAlias', { AliasName: 'alias/orders', TargetKeyId: m.KeyId });
    for (const ref of [
      m.KeyId,
      m.KeyId.toUpperCase(),
      m.Arn,
      'alias/orders',
      'arn:aws:kms:us-east-1:000000000000:alias/orders',
      'arn:aws:kms:eu-west-1:111122223333:alias/orders',
    ]) {
      expect((await kmsOk('DescribeKey', { KeyId: ref })).KeyMetadata.KeyId, ref).toBe(m.KeyId);
    }
  });

  it('refuses what it does not hold: asymmetric keys, HMAC keys, CloudHSM, multi-Region', async () => {
    await expectKmsError('CreateKey', { KeySpec: 'RSA_2048', KeyUsage: 'ENCRYPT_DECRYPT' }, 'UnsupportedOperationException');
    await expectKmsError('CreateKey', { KeyUsage: 'GENERATE_VERIFY_MAC' }, 'UnsupportedOperationException');
    await expectKmsError('CreateKey', { Origin: 'AWS_CLOUDHSM' }, 'UnsupportedOperationException');
    await expectKmsError('CreateKey', { Origin: 'SOMEWHERE' }, 'ValidationException');
    await expectKmsError('CreateKey', { MultiRegion: true }, 'UnsupportedOperationException');
  });

  it('answers NotFoundException for unknown keys and aliases in every form', async () => {
    for (const ref of [
      '00000000-0000-4000-8000-000000000000',
      'arn:aws:kms:us-east-1:000000000000:key/00000000-0000-4000-8000-000000000000',
      'alias/none',
      'not a key id',
    ]) {
      await expectKmsError('DescribeKey', { KeyId: ref }, 'NotFoundException');
    }
    await expectKmsError('DescribeKey', {}, 'ValidationException');
  });

  it('pages through ListKeys with Limit and Marker', async () => {
    const ids = new Set([await createKey(), await createKey(), await createKey()]);
    const seen: string[] = [];
    let marker: string | undefined;
    for (let i = 0; i < 50; i++) {
      const page = await kmsOk('ListKeys', { Limit: 2, ...(marker ? { Marker: marker } : {}) });
      expect(page.Keys.length).toBeLessThanOrEqual(2);
      for (const k of page.Keys) {
        expect(k.KeyArn).toBe(`arn:aws:kms:us-east-1:000000000000:key/${k.KeyId}`);
        seen.push(k.KeyId);
      }
      if (!page.Truncated) break;
      marker = page.NextMarker;
    }
    for (const id of ids) expect(seen).toContain(id);
    expect(new Set(seen).size).toBe(seen.length);
    await expectKmsError('ListKeys', { Limit: 0 }, 'ValidationException');
  });
});

describe('aliases', () => {
  it('creates, lists (also per key), re-points and deletes aliases', async () => {
    const a = await createKey();
    const b = await createKey();
    await kmsOk('CreateAlias', { AliasName: 'alias/team/a', TargetKeyId: a });
    await kmsOk('CreateAlias', { AliasName: 'alias/team/b', TargetKeyId: `arn:aws:kms:us-east-1:000000000000:key/${b}` });
    const all = (await kmsOk('ListAliases')).Aliases;
    expect(all).toContainEqual(
      expect.objectContaining({ AliasName: 'alias/team/a', TargetKeyId: a, AliasArn: 'arn:aws:kms:us-east-1:000000000000:alias/team/a' }),
    );
    const forB = (await kmsOk('ListAliases', { KeyId: b })).Aliases;
    expect(forB.map((x: { AliasName: string }) => x.AliasName)).toEqual(['alias/team/b']);

    await expectKmsError('CreateAlias', { AliasName: 'alias/team/a', TargetKeyId: b }, 'AlreadyExistsException');
    await kmsOk('UpdateAlias', { AliasName: 'alias/team/a', TargetKeyId: b });
    expect((await kmsOk('DescribeKey', { KeyId: 'alias/team/a' })).KeyMetadata.KeyId).toBe(b);

    await kmsOk('DeleteAlias', { AliasName: 'alias/team/a' });
    await expectKmsError('DescribeKey', { KeyId: 'alias/team/a' }, 'NotFoundException');
    await expectKmsError('DeleteAlias', { AliasName: 'alias/team/a' }, 'NotFoundException');
  });

  it('validates alias names and targets', async () => {
    const k = await createKey();
    await expectKmsError('CreateAlias', { AliasName: 'team-a', TargetKeyId: k }, 'ValidationException');
    await expectKmsError('CreateAlias', { AliasName: 'alias/has space', TargetKeyId: k }, 'ValidationException');
    await expectKmsError('CreateAlias', { AliasName: 'alias/aws/s3', TargetKeyId: k }, 'NotAuthorizedException');
    await expectKmsError('CreateAlias', { AliasName: 'alias/sealbucket/default', TargetKeyId: k }, 'NotAuthorizedException');
    await kmsOk('CreateAlias', { AliasName: 'alias/target-test', TargetKeyId: k });
    await expectKmsError('CreateAlias', { AliasName: 'alias/of-alias', TargetKeyId: 'alias/target-test' }, 'ValidationException');
    await expectKmsError(
      'CreateAlias',
      { AliasName: 'alias/nothing', TargetKeyId: '00000000-0000-4000-8000-000000000000' },
      'NotFoundException',
    );
    await expectKmsError('ListAliases', { KeyId: 'alias/nowhere' }, 'NotFoundException');
  });
});

describe('key states', () => {
  it('disables and enables', async () => {
    const k = await createKey();
    await kmsOk('DisableKey', { KeyId: k });
    const m = (await kmsOk('DescribeKey', { KeyId: k })).KeyMetadata;
    expect(m).toMatchObject({ KeyState: 'Disabled', Enabled: false });
    await kmsOk('DisableKey', { KeyId: k }); // idempotent
    await kmsOk('EnableKey', { KeyId: k });
    expect(await state(k)).toBe('Enabled');
    await expectKmsError('EnableKey', { KeyId: '00000000-0000-4000-8000-000000000000' }, 'NotFoundException');
  });

  it('schedules deletion in 7-30 days, refuses other changes meanwhile, cancels to Disabled', async () => {
    const k = await createKey();
    await kmsOk('CreateAlias', { AliasName: 'alias/doomed', TargetKeyId: k });
    await expectKmsError('ScheduleKeyDeletion', { KeyId: k, PendingWindowInDays: 6 }, 'ValidationException');
    await expectKmsError('ScheduleKeyDeletion', { KeyId: k, PendingWindowInDays: 31 }, 'ValidationException');
    const s = await kmsOk('ScheduleKeyDeletion', { KeyId: 'alias/doomed', PendingWindowInDays: 7 });
    expect(s).toMatchObject({ KeyId: `arn:aws:kms:us-east-1:000000000000:key/${k}`, KeyState: 'PendingDeletion', PendingWindowInDays: 7 });
    expect(Math.abs(s.DeletionDate - (Date.now() / 1000 + 7 * 86400))).toBeLessThan(60);
    const m = (await kmsOk('DescribeKey', { KeyId: k })).KeyMetadata;
    expect(m).toMatchObject({ KeyState: 'PendingDeletion', Enabled: false, DeletionDate: s.DeletionDate });

    await expectKmsError('ScheduleKeyDeletion', { KeyId: k }, 'KMSInvalidStateException');
    await expectKmsError('EnableKey', { KeyId: k }, 'KMSInvalidStateException');
    await expectKmsError('DisableKey', { KeyId: k }, 'KMSInvalidStateException');
    await expectKmsError('RotateKeyOnDemand', { KeyId: k }, 'KMSInvalidStateException');
    await expectKmsError('CreateAlias', { AliasName: 'alias/doomed-2', TargetKeyId: k }, 'KMSInvalidStateException');

    expect(await kmsOk('CancelKeyDeletion', { KeyId: k })).toEqual({ KeyId: `arn:aws:kms:us-east-1:000000000000:key/${k}` });
    expect(await state(k)).toBe('Disabled');
    await expectKmsError('CancelKeyDeletion', { KeyId: k }, 'KMSInvalidStateException');
    await kmsOk('EnableKey', { KeyId: k });
    expect(await state(k)).toBe('Enabled');
  });

  it('deletes the key, its versions and aliases once the waiting period is over', async () => {
    const k = await createKey();
    await kmsOk('CreateAlias', { AliasName: 'alias/gone-soon', TargetKeyId: k });
    await kmsOk('ScheduleKeyDeletion', { KeyId: k, PendingWindowInDays: 30 });
    // Let the waiting period pass.
    await kmsSql((sql) => sql.exec('UPDATE keys SET deletion_date = ? WHERE id = ?', Date.now() / 1000 - 1, k));
    await expectKmsError('DescribeKey', { KeyId: k }, 'NotFoundException');
    await expectKmsError('DescribeKey', { KeyId: 'alias/gone-soon' }, 'NotFoundException');
    expect(await kmsSql((sql) => sql.exec('SELECT COUNT(*) AS n FROM versions WHERE key_id = ?', k).one().n)).toBe(0);
  });
});

describe('rotation', () => {
  it('enables automatic rotation, reports it, rotates on demand and lists rotations', async () => {
    const k = await createKey();
    expect(await kmsOk('GetKeyRotationStatus', { KeyId: k })).toMatchObject({ KeyRotationEnabled: false });
    await expectKmsError('EnableKeyRotation', { KeyId: k, RotationPeriodInDays: 30 }, 'ValidationException');
    await kmsOk('EnableKeyRotation', { KeyId: k, RotationPeriodInDays: 90 });
    const st = await kmsOk('GetKeyRotationStatus', { KeyId: k });
    expect(st).toMatchObject({ KeyRotationEnabled: true, RotationPeriodInDays: 90, KeyId: `arn:aws:kms:us-east-1:000000000000:key/${k}` });
    expect(Math.abs(st.NextRotationDate - (Date.now() / 1000 + 90 * 86400))).toBeLessThan(60);

    expect(await kmsOk('RotateKeyOnDemand', { KeyId: k })).toEqual({ KeyId: `arn:aws:kms:us-east-1:000000000000:key/${k}` });
    await kmsOk('RotateKeyOnDemand', { KeyId: k });
    const rotations = (await kmsOk('ListKeyRotations', { KeyId: k })).Rotations;
    expect(rotations.map((r: { RotationType: string }) => r.RotationType)).toEqual(['ON_DEMAND', 'ON_DEMAND']);
    expect((await kmsOk('GetKeyRotationStatus', { KeyId: k })).OnDemandRotationStartDate).toEqual(expect.any(Number));
    expect(await kmsSql((sql) => sql.exec('SELECT current_version AS v FROM keys WHERE id = ?', k).one().v)).toBe(3);

    await kmsOk('DisableKeyRotation', { KeyId: k });
    expect((await kmsOk('GetKeyRotationStatus', { KeyId: k })).KeyRotationEnabled).toBe(false);
    await kmsOk('DisableKey', { KeyId: k });
    await expectKmsError('RotateKeyOnDemand', { KeyId: k }, 'DisabledException');
    await expectKmsError('EnableKeyRotation', { KeyId: k }, 'DisabledException');
  });
});

describe('imported key material', () => {
  it('runs the whole flow: PendingImport, import, delete, re-import of the same material only', async () => {
    const created = (await kmsOk('CreateKey', { Origin: 'EXTERNAL', Description: 'byok' })).KeyMetadata;
    expect(created).toMatchObject({ Origin: 'EXTERNAL', KeyState: 'PendingImport', Enabled: false });
    const k = created.KeyId;

    const p = await kmsOk('GetParametersForImport', { KeyId: k, WrappingAlgorithm: 'RSAES_OAEP_SHA_256', WrappingKeySpec: 'RSA_2048' });
    expect(p.KeyId).toBe(`arn:aws:kms:us-east-1:000000000000:key/${k}`);
    expect(Math.abs(p.ParametersValidTo - (Date.now() / 1000 + 86400))).toBeLessThan(60);
    const spki = unb64(p.PublicKey);
    expect(spki[0]).toBe(0x30); // DER SEQUENCE
    expect(unb64(p.ImportToken).length).toBeGreaterThanOrEqual(32);

    const material = crypto.getRandomValues(new Uint8Array(32));
    const wrapped = await wrapForImport(p.PublicKey, material);
    // Wrong token, garbage ciphertext, wrong length, bad expiry settings.
    const other = await kmsOk('CreateKey', { Origin: 'EXTERNAL' });
    const otherP = await kmsOk('GetParametersForImport', {
      KeyId: other.KeyMetadata.KeyId,
      WrappingAlgorithm: 'RSAES_OAEP_SHA_256',
      WrappingKeySpec: 'RSA_2048',
    });
    await expectKmsError(
      'ImportKeyMaterial',
      { KeyId: k, ImportToken: otherP.ImportToken, EncryptedKeyMaterial: wrapped },
      'InvalidImportTokenException',
    );
    await expectKmsError(
      'ImportKeyMaterial',
      { KeyId: k, ImportToken: p.ImportToken, EncryptedKeyMaterial: b64(new Uint8Array(256).fill(7)) },
      'InvalidCiphertextException',
    );
    await expectKmsError(
      'ImportKeyMaterial',
      { KeyId: k, ImportToken: p.ImportToken, EncryptedKeyMaterial: await wrapForImport(p.PublicKey, new Uint8Array(16)) },
      'IncorrectKeyMaterialException',
    );
    await expectKmsError(
      'ImportKeyMaterial',
      { KeyId: k, ImportToken: p.ImportToken, EncryptedKeyMaterial: wrapped, ExpirationModel: 'KEY_MATERIAL_EXPIRES' },
      'ValidationException',
    );
    await expectKmsError(
      'ImportKeyMaterial',
      { KeyId: k, ImportToken: p.ImportToken, EncryptedKeyMaterial: wrapped, ValidTo: Date.now() / 1000 - 10 },
      'ValidationException',
    );
    expect(await state(k)).toBe('PendingImport');

    await kmsOk('ImportKeyMaterial', {
      KeyId: k,
      ImportToken: p.ImportToken,
      EncryptedKeyMaterial: wrapped,
      ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE',
    });
    expect((await kmsOk('DescribeKey', { KeyId: k })).KeyMetadata).toMatchObject({
      KeyState: 'Enabled',
      Enabled: true,
      ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE',
    });

    await kmsOk('DeleteImportedKeyMaterial', { KeyId: k });
    expect(await state(k)).toBe('PendingImport');
    await expectKmsError('EnableKey', { KeyId: k }, 'KMSInvalidStateException');

    // Other material is refused; the same material comes back (here through fresh parameters and 4096-bit RSA).
    expect((await importMaterial(k, crypto.getRandomValues(new Uint8Array(32)))).body.__type).toBe('IncorrectKeyMaterialException');
    const p2 = await kmsOk('GetParametersForImport', { KeyId: k, WrappingAlgorithm: 'RSAES_OAEP_SHA_256', WrappingKeySpec: 'RSA_4096' });
    expect(unb64(p2.PublicKey).length).toBeGreaterThan(500);
    await kmsOk('ImportKeyMaterial', {
      KeyId: k,
      ImportToken: p2.ImportToken,
      EncryptedKeyMaterial: await wrapForImport(p2.PublicKey, material),
    });
    expect(await state(k)).toBe('Enabled');

    // The material never appears in what the KMS stores, in any encoding.
    const dump = await kmsDump();
    for (const enc of [hexOf(material), b64(material), b64(material).replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_')])
      expect(dump).not.toContain(enc);
  });

  it('expires material at ValidTo, and imports again after that', async () => {
    const k = (await kmsOk('CreateKey', { Origin: 'EXTERNAL' })).KeyMetadata.KeyId;
    const material = crypto.getRandomValues(new Uint8Array(32));
    const validTo = Math.floor(Date.now() / 1000) + 3600;
    expect((await importMaterial(k, material, { ExpirationModel: 'KEY_MATERIAL_EXPIRES', ValidTo: validTo })).status).toBe(200);
    expect((await kmsOk('DescribeKey', { KeyId: k })).KeyMetadata).toMatchObject({
      KeyState: 'Enabled',
      ExpirationModel: 'KEY_MATERIAL_EXPIRES',
      ValidTo: validTo,
    });
    await kmsSql((sql) => sql.exec('UPDATE keys SET valid_to = ? WHERE id = ?', Date.now() / 1000 - 1, k));
    expect(await state(k)).toBe('PendingImport');
    expect((await importMaterial(k, material)).status).toBe(200);
    expect(await state(k)).toBe('Enabled');
  });

  it('refuses the import operations on keys that were not created for them, and unsupported wrapping', async () => {
    const own = await createKey();
    await expectKmsError(
      'GetParametersForImport',
      { KeyId: own, WrappingAlgorithm: 'RSAES_OAEP_SHA_256', WrappingKeySpec: 'RSA_2048' },
      'UnsupportedOperationException',
    );
    await expectKmsError('DeleteImportedKeyMaterial', { KeyId: own }, 'UnsupportedOperationException');
    const ext = (await kmsOk('CreateKey', { Origin: 'EXTERNAL' })).KeyMetadata.KeyId;
    await expectKmsError(
      'GetParametersForImport',
      { KeyId: ext, WrappingAlgorithm: 'RSAES_PKCS1_V1_5', WrappingKeySpec: 'RSA_2048' },
      'UnsupportedOperationException',
    );
    await expectKmsError(
      'GetParametersForImport',
      { KeyId: ext, WrappingAlgorithm: 'RSAES_OAEP_SHA_256', WrappingKeySpec: 'RSA_1024' },
      'ValidationException',
    );
    await expectKmsError('GetParametersForImport', { KeyId: ext, WrappingAlgorithm: 'RSAES_OAEP_SHA_256' }, 'ValidationException');
    await expectKmsError('EnableKeyRotation', { KeyId: ext }, 'UnsupportedOperationException');
    await expectKmsError('RotateKeyOnDemand', { KeyId: ext }, 'UnsupportedOperationException');
  });
});

describe('root key protection', () => {
  it('stores CMK material only wrapped: the versions table unwraps with the root key and nothing else', async () => {
    const k = await createKey();
    const rows = await kmsSql((sql) =>
      sql.exec<{ wsalt: string; wrapped: string }>('SELECT wsalt, wrapped FROM versions WHERE key_id = ?', k).toArray(),
    );
    expect(rows.length).toBe(1);
    expect(unb64(rows[0].wrapped).length).toBe(48); // 32 bytes of material + 16-byte GCM tag
    expect(unb64(rows[0].wsalt).length).toBe(16);
  });
});
