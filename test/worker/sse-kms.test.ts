// SSE-KMS on objects: PUT/GET/HEAD in both dialects, the default CMK, the
// encryption context, key states that block reads and writes, rotation,
// multipart, copy, bucket default encryption, imported material.
import { beforeAll, describe, expect, it } from 'vitest';
import { cos, createKey, kms, kmsDump, kmsOk } from './helpers/kms';
import { bytes, errorCode, rawStore, s3, sameBytes } from './helpers/s3';

const B = 'kms-bucket';
const MiB = 1024 * 1024;
const b64 = (b: Uint8Array) => btoa(String.fromCharCode(...b));
const unb64 = (s: string) => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
const ctxHeader = (o: object) => b64(new TextEncoder().encode(JSON.stringify(o)));
const kmsHeaders = (keyId?: string, context?: object): Record<string, string> => ({
  'x-amz-server-side-encryption': 'aws:kms',
  ...(keyId ? { 'x-amz-server-side-encryption-aws-kms-key-id': keyId } : {}),
  ...(context ? { 'x-amz-server-side-encryption-context': ctxHeader(context) } : {}),
});
const envOf = async (key: string, bucket = B) => JSON.parse((await rawStore().head(`o/${bucket}/${key}`))!.customMetadata!['sb-env']);
const get = async (key: string, headers: Record<string, string> = {}) => {
  const r = await s3('GET', `/${B}/${key}`, { headers });
  return { status: r.status, headers: r.headers, body: new Uint8Array(await r.arrayBuffer()) };
};
const put = async (key: string, body: Uint8Array | string, headers: Record<string, string>) => {
  const r = await s3('PUT', `/${B}/${key}`, { body, headers });
  expect(r.status, await r.clone().text()).toBe(200);
  return r;
};
async function expectError(r: Response, status: number, code: string) {
  expect(r.status).toBe(status);
  if (r.headers.get('content-type')?.includes('xml') && r.body) expect(await errorCode(r)).toBe(code);
}

beforeAll(async () => {
  expect((await s3('PUT', `/${B}`)).status).toBe(200);
});

describe('SSE-KMS PUT / GET / HEAD (S3 dialect)', () => {
  let keyId: string;
  beforeAll(async () => {
    keyId = await createKey({ Description: 'objects' });
    await kmsOk('CreateAlias', { AliasName: 'alias/objects', TargetKeyId: keyId });
  });

  it('seals under the named CMK (id, ARN, alias or alias ARN), echoes mode and key id, round-trips with ranges', async () => {
    const data = bytes(600_000, 3);
    const refs = [
      keyId,
      `arn:aws:kms:us-east-1:000000000000:key/${keyId}`,
      'alias/objects',
      'arn:aws:kms:us-east-1:000000000000:alias/objects',
    ];
    for (const [i, ref] of refs.entries()) {
      const p = await put(`obj-${i}.bin`, data, kmsHeaders(ref));
      expect(p.headers.get('x-amz-server-side-encryption')).toBe('aws:kms');
      expect(p.headers.get('x-amz-server-side-encryption-aws-kms-key-id')).toBe(keyId);
      const env = await envOf(`obj-${i}.bin`);
      expect(env).toMatchObject({ mode: 'kms', kid: keyId, kver: '1' });
      expect(env.ctx).toBeUndefined();
    }
    const g = await get('obj-0.bin');
    expect(g.status).toBe(200);
    expect(sameBytes(g.body, data)).toBe(true);
    expect(g.headers.get('x-amz-server-side-encryption')).toBe('aws:kms');
    expect(g.headers.get('x-amz-server-side-encryption-aws-kms-key-id')).toBe(keyId);
    const r = await get('obj-1.bin', { range: 'bytes=262140-262150' });
    expect(r.status).toBe(206);
    expect(sameBytes(r.body, data.slice(262140, 262151))).toBe(true);
    const h = await s3('HEAD', `/${B}/obj-2.bin`);
    expect(h.status).toBe(200);
    expect(h.headers.get('x-amz-server-side-encryption-aws-kms-key-id')).toBe(keyId);
    // The stored data is ciphertext.
    const stored = new Uint8Array(
      await (await rawStore().get(`d/${(await rawStore().head(`o/${B}/obj-0.bin`))!.customMetadata!['sb-data']}`))!.arrayBuffer(),
    );
    expect(stored.length).toBe(data.length + 16 * Math.ceil(data.length / 262144));
    expect(sameBytes(stored.slice(0, 64), data.slice(0, 64))).toBe(false);
  });

  it('binds the encryption context: stored canonically, echoed, not needed on GET, and a changed context does not open', async () => {
    const p = await put('ctx.txt', 'context bound', kmsHeaders(keyId, { tenant: 'a', dept: 'x', '10': 'n' }));
    const canonical = '{"10":"n","dept":"x","tenant":"a"}';
    const expected = b64(new TextEncoder().encode(canonical));
    expect(p.headers.get('x-amz-server-side-encryption-context')).toBe(expected);
    const env = await envOf('ctx.txt');
    expect(env.ctx).toBe(expected);
    const g = await get('ctx.txt');
    expect(new TextDecoder().decode(g.body)).toBe('context bound');
    expect(g.headers.get('x-amz-server-side-encryption-context')).toBe(expected);

    // Rewrite the stored context: the wrap no longer opens.
    const rec = (await rawStore().head(`o/${B}/ctx.txt`))!;
    const forged = { ...env, ctx: b64(new TextEncoder().encode('{"dept":"x","tenant":"b"}')) };
    await rawStore().put(`o/${B}/ctx.txt`, 'x\n', { customMetadata: { ...rec.customMetadata, 'sb-env': JSON.stringify(forged) } });
    const bad = await get('ctx.txt');
    expect(bad.status).toBe(500);
  });

  it('refuses SSE-KMS request errors with 400', async () => {
    // Unknown key id, in every form.
    for (const ref of [
      '00000000-0000-4000-8000-000000000000',
      'alias/nope',
      'arn:aws:kms:us-east-1:000000000000:key/00000000-0000-4000-8000-000000000000',
      'garbage!',
    ]) {
      const r = await s3('PUT', `/${B}/unknown.txt`, { body: 'x', headers: kmsHeaders(ref) });
      await expectError(r, 400, 'KMS.NotFoundException');
    }
    // Key id or context without aws:kms.
    await expectError(
      await s3('PUT', `/${B}/x.txt`, { body: 'x', headers: { 'x-amz-server-side-encryption-aws-kms-key-id': keyId } }),
      400,
      'InvalidArgument',
    );
    await expectError(
      await s3('PUT', `/${B}/x.txt`, {
        body: 'x',
        headers: { 'x-amz-server-side-encryption': 'AES256', 'x-amz-server-side-encryption-aws-kms-key-id': keyId },
      }),
      400,
      'InvalidArgument',
    );
    await expectError(
      await s3('PUT', `/${B}/x.txt`, { body: 'x', headers: { 'x-amz-server-side-encryption-context': ctxHeader({ a: 'b' }) } }),
      400,
      'InvalidArgument',
    );
    // Malformed contexts.
    for (const c of [
      'not base64!',
      b64(new TextEncoder().encode('[1,2]')),
      b64(new TextEncoder().encode('{"a":1}')),
      b64(new TextEncoder().encode('{nope')),
    ]) {
      await expectError(
        await s3('PUT', `/${B}/x.txt`, { body: 'x', headers: { ...kmsHeaders(keyId), 'x-amz-server-side-encryption-context': c } }),
        400,
        'InvalidArgument',
      );
    }
    // A context too large for the record.
    await expectError(
      await s3('PUT', `/${B}/x.txt`, { body: 'x', headers: kmsHeaders(keyId, { big: 'v'.repeat(1500) }) }),
      400,
      'InvalidArgument',
    );
    // SSE-KMS with SSE-C.
    const ck = bytes(32, 9);
    await expectError(
      await s3('PUT', `/${B}/x.txt`, {
        body: 'x',
        origin: 'https://gw.test',
        headers: {
          ...kmsHeaders(keyId),
          'x-amz-server-side-encryption-customer-algorithm': 'AES256',
          'x-amz-server-side-encryption-customer-key': b64(ck),
          'x-amz-server-side-encryption-customer-key-md5': b64(new Uint8Array(await crypto.subtle.digest('MD5', ck))),
        },
      }),
      400,
      'InvalidArgument',
    );
    // SSE-KMS headers on GET and HEAD.
    await put('plain-get.txt', 'y', kmsHeaders(keyId));
    await expectError(await s3('GET', `/${B}/plain-get.txt`, { headers: kmsHeaders(keyId) }), 400, 'InvalidArgument');
    expect((await s3('HEAD', `/${B}/plain-get.txt`, { headers: { 'x-amz-server-side-encryption': 'aws:kms' } })).status).toBe(400);
    // Nothing was written by the refused requests.
    expect(await rawStore().head(`o/${B}/unknown.txt`)).toBeNull();
    expect(await rawStore().head(`o/${B}/x.txt`)).toBeNull();
  });
});

describe('the default CMK', () => {
  it('is created on first use without a key id, reported as alias/sealbucket/default, and reused', async () => {
    const p = await put('default-1.txt', 'one', kmsHeaders());
    const kid = p.headers.get('x-amz-server-side-encryption-aws-kms-key-id')!;
    const d = (await kmsOk('DescribeKey', { KeyId: 'alias/sealbucket/default' })).KeyMetadata;
    expect(d).toMatchObject({ KeyId: kid, KeyManager: 'AWS', KeyState: 'Enabled' });
    expect((await kmsOk('ListAliases', { KeyId: kid })).Aliases.map((a: { AliasName: string }) => a.AliasName)).toEqual([
      'alias/sealbucket/default',
    ]);
    const q = await put('default-2.txt', 'two', kmsHeaders(undefined, { purpose: 'test' }));
    expect(q.headers.get('x-amz-server-side-encryption-aws-kms-key-id')).toBe(kid);
    expect(new TextDecoder().decode((await get('default-1.txt')).body)).toBe('one');
    // The gateway's own key cannot be disabled, deleted or re-aliased by users: its key policy (as aws/s3's)
    // lets the account only read it, so even root is refused.
    expect((await kms('DisableKey', { KeyId: kid })).body.__type).toBe('AccessDeniedException');
    expect((await kms('ScheduleKeyDeletion', { KeyId: kid })).body.__type).toBe('AccessDeniedException');
    expect((await kms('DeleteAlias', { AliasName: 'alias/sealbucket/default' })).body.__type).toBe('NotAuthorizedException');
    expect((await kmsOk('GetKeyRotationStatus', { KeyId: kid })).KeyRotationEnabled).toBe(true);
  });
});

describe('key states gate reads and writes', () => {
  it('a disabled CMK blocks GET, HEAD, PUT, multipart and copy (S3: KMS.DisabledException); re-enabling restores them', async () => {
    const k = await createKey();
    await put('gated.txt', 'gated data', kmsHeaders(k));
    await kmsOk('DisableKey', { KeyId: k });
    await expectError(await s3('GET', `/${B}/gated.txt`), 400, 'KMS.DisabledException');
    expect((await s3('HEAD', `/${B}/gated.txt`)).status).toBe(400);
    await expectError(await s3('GET', `/${B}/gated.txt`, { headers: { range: 'bytes=0-1' } }), 400, 'KMS.DisabledException');
    await expectError(await s3('PUT', `/${B}/gated-2.txt`, { body: 'x', headers: kmsHeaders(k) }), 400, 'KMS.DisabledException');
    await expectError(await s3('POST', `/${B}/gated-mp?uploads`, { headers: kmsHeaders(k) }), 400, 'KMS.DisabledException');
    await expectError(
      await s3('PUT', `/${B}/gated-copy.txt`, { headers: { 'x-amz-copy-source': `/${B}/gated.txt` } }),
      400,
      'KMS.DisabledException',
    );
    expect(await rawStore().head(`o/${B}/gated-2.txt`)).toBeNull();

    await kmsOk('EnableKey', { KeyId: k });
    expect(new TextDecoder().decode((await get('gated.txt')).body)).toBe('gated data');
    await put('gated-2.txt', 'x', kmsHeaders(k));
  });

  it('answers the COS codes in the COS dialect: KmsKeyDisabled, KmsKeyNotExist, and cos/kms round-trips', async () => {
    const k = await createKey();
    const p = await cos('PUT', `/${B}/cos.txt`, {
      body: 'cos data',
      headers: {
        'x-cos-server-side-encryption': 'cos/kms',
        'x-cos-server-side-encryption-cos-kms-key-id': k,
        'x-cos-server-side-encryption-context': ctxHeader({ app: 'cos' }),
      },
    });
    expect(p.status, await p.clone().text()).toBe(200);
    expect(p.headers.get('x-cos-server-side-encryption')).toBe('cos/kms');
    expect(p.headers.get('x-cos-server-side-encryption-cos-kms-key-id')).toBe(k);
    expect(p.headers.get('x-cos-server-side-encryption-context')).toBeNull(); // COS does not echo the context
    const g = await cos('GET', `/${B}/cos.txt`);
    expect(await g.text()).toBe('cos data');
    expect(g.headers.get('x-cos-server-side-encryption')).toBe('cos/kms');
    expect(g.headers.get('x-cos-server-side-encryption-cos-kms-key-id')).toBe(k);
    // Default CMK through COS.
    const d = await cos('PUT', `/${B}/cos-default.txt`, { body: 'd', headers: { 'x-cos-server-side-encryption': 'cos/kms' } });
    expect(d.status).toBe(200);
    expect(d.headers.get('x-cos-server-side-encryption-cos-kms-key-id')).toBe(
      (await kmsOk('DescribeKey', { KeyId: 'alias/sealbucket/default' })).KeyMetadata.KeyId,
    );

    await kmsOk('DisableKey', { KeyId: k });
    await expectError(await cos('GET', `/${B}/cos.txt`), 400, 'KmsKeyDisabled');
    await expectError(
      await cos('PUT', `/${B}/cos-2.txt`, {
        body: 'x',
        headers: { 'x-cos-server-side-encryption': 'cos/kms', 'x-cos-server-side-encryption-cos-kms-key-id': k },
      }),
      400,
      'KmsKeyDisabled',
    );
    await expectError(
      await cos('PUT', `/${B}/cos-2.txt`, {
        body: 'x',
        headers: { 'x-cos-server-side-encryption': 'cos/kms', 'x-cos-server-side-encryption-cos-kms-key-id': 'alias/none' },
      }),
      400,
      'KmsKeyNotExist',
    );
    await expectError(
      await cos('GET', `/${B}/cos.txt`, { headers: { 'x-cos-server-side-encryption': 'cos/kms' } }),
      400,
      'SSEHeaderNotAllowed',
    );
    await kmsOk('EnableKey', { KeyId: k });
    expect(await (await cos('GET', `/${B}/cos.txt`)).text()).toBe('cos data');
  });

  it('a CMK pending deletion blocks reads and writes (KMS.KMSInvalidStateException) until the deletion is cancelled and the key enabled', async () => {
    const k = await createKey();
    await put('pending.txt', 'pending', kmsHeaders(k));
    await kmsOk('ScheduleKeyDeletion', { KeyId: k, PendingWindowInDays: 7 });
    await expectError(await s3('GET', `/${B}/pending.txt`), 400, 'KMS.KMSInvalidStateException');
    await expectError(await s3('PUT', `/${B}/pending-2.txt`, { body: 'x', headers: kmsHeaders(k) }), 400, 'KMS.KMSInvalidStateException');
    await expectError(await cos('GET', `/${B}/pending.txt`), 400, 'KmsException');
    await kmsOk('CancelKeyDeletion', { KeyId: k });
    await expectError(await s3('GET', `/${B}/pending.txt`), 400, 'KMS.DisabledException');
    await kmsOk('EnableKey', { KeyId: k });
    expect(new TextDecoder().decode((await get('pending.txt')).body)).toBe('pending');
  });
});

describe('rotation', () => {
  it('new objects use the new version; objects under older versions still decrypt', async () => {
    const k = await createKey();
    await put('rot-1.txt', 'before rotation', kmsHeaders(k));
    await kmsOk('RotateKeyOnDemand', { KeyId: k });
    await put('rot-2.txt', 'after rotation', kmsHeaders(k));
    expect((await envOf('rot-1.txt')).kver).toBe('1');
    expect((await envOf('rot-2.txt')).kver).toBe('2');
    expect(new TextDecoder().decode((await get('rot-1.txt')).body)).toBe('before rotation');
    expect(new TextDecoder().decode((await get('rot-2.txt')).body)).toBe('after rotation');
  });

  it('rotates automatically when the rotation date has passed', async () => {
    const { kmsSql } = await import('./helpers/kms');
    const k = await createKey();
    await kmsOk('EnableKeyRotation', { KeyId: k, RotationPeriodInDays: 90 });
    await put('auto-1.txt', 'a', kmsHeaders(k));
    await kmsSql((sql) => sql.exec('UPDATE keys SET next_rotation = ? WHERE id = ?', Date.now() / 1000 - 1, k));
    await put('auto-2.txt', 'b', kmsHeaders(k));
    expect((await envOf('auto-2.txt')).kver).toBe('2');
    expect((await kmsOk('ListKeyRotations', { KeyId: k })).Rotations[0].RotationType).toBe('AUTOMATIC');
    expect(new TextDecoder().decode((await get('auto-1.txt')).body)).toBe('a');
  });
});

describe('multipart and copy go through the same key mode', () => {
  it('SSE-KMS multipart upload with a context: parts sealed under the upload CMK, ranged reads across parts', async () => {
    const k = await createKey();
    const init = await s3('POST', `/${B}/mp.bin?uploads`, { headers: kmsHeaders(k, { job: 'mp' }) });
    const x = await init.text();
    expect(init.status, x).toBe(200);
    expect(init.headers.get('x-amz-server-side-encryption')).toBe('aws:kms');
    expect(init.headers.get('x-amz-server-side-encryption-aws-kms-key-id')).toBe(k);
    const id = /<UploadId>([^<]+)<\/UploadId>/.exec(x)![1];
    const data = bytes(5 * MiB + 300_000, 5);
    const etags: string[] = [];
    for (const [n, [a, b]] of [
      [0, 5 * MiB],
      [5 * MiB, data.length],
    ].entries()) {
      const r = await s3('PUT', `/${B}/mp.bin?partNumber=${n + 1}&uploadId=${id}`, { body: data.slice(a, b) });
      expect(r.status).toBe(200);
      expect(r.headers.get('x-amz-server-side-encryption')).toBe('aws:kms');
      etags.push(r.headers.get('etag')!);
    }
    const done = await s3('POST', `/${B}/mp.bin?uploadId=${id}`, {
      body: `<CompleteMultipartUpload>${etags.map((e, i) => `<Part><PartNumber>${i + 1}</PartNumber><ETag>${e}</ETag></Part>`).join('')}</CompleteMultipartUpload>`,
    });
    expect(done.status, await done.clone().text()).toBe(200);
    expect(done.headers.get('x-amz-server-side-encryption-aws-kms-key-id')).toBe(k);
    expect(await envOf('mp.bin')).toMatchObject({ mode: 'kms', kid: k, kver: '1', ctx: b64(new TextEncoder().encode('{"job":"mp"}')) });
    const g = await get('mp.bin');
    expect(sameBytes(g.body, data)).toBe(true);
    const r = await get('mp.bin', { range: `bytes=${5 * MiB - 10}-${5 * MiB + 9}` });
    expect(sameBytes(r.body, data.slice(5 * MiB - 10, 5 * MiB + 10))).toBe(true);
    await kmsOk('DisableKey', { KeyId: k });
    await expectError(await s3('GET', `/${B}/mp.bin`), 400, 'KMS.DisabledException');
    await kmsOk('EnableKey', { KeyId: k });
  });

  it('copies SSE-COS to SSE-KMS (another key, and onto itself by re-wrapping), and SSE-KMS back to SSE-COS', async () => {
    const k = await createKey();
    const data = bytes(300_000, 8);
    await put('cos-src.bin', data, { 'x-amz-server-side-encryption': 'AES256' });
    const c = await s3('PUT', `/${B}/kms-dst.bin`, {
      headers: { 'x-amz-copy-source': `/${B}/cos-src.bin`, ...kmsHeaders(k, { copy: 'yes' }) },
    });
    expect(c.status, await c.clone().text()).toBe(200);
    expect(c.headers.get('x-amz-server-side-encryption')).toBe('aws:kms');
    expect(c.headers.get('x-amz-server-side-encryption-aws-kms-key-id')).toBe(k);
    expect(await envOf('kms-dst.bin')).toMatchObject({ mode: 'kms', kid: k });
    expect(sameBytes((await get('kms-dst.bin')).body, data)).toBe(true);

    const dataBefore = (await rawStore().head(`o/${B}/cos-src.bin`))!.customMetadata!['sb-data'];
    const self = await s3('PUT', `/${B}/cos-src.bin`, { headers: { 'x-amz-copy-source': `/${B}/cos-src.bin`, ...kmsHeaders(k) } });
    expect(self.status, await self.clone().text()).toBe(200);
    expect(await envOf('cos-src.bin')).toMatchObject({ mode: 'kms', kid: k });
    expect((await rawStore().head(`o/${B}/cos-src.bin`))!.customMetadata!['sb-data']).toBe(dataBefore); // re-wrapped, not re-encrypted
    expect(sameBytes((await get('cos-src.bin')).body, data)).toBe(true);

    const back = await s3('PUT', `/${B}/cos-again.bin`, {
      headers: { 'x-amz-copy-source': `/${B}/kms-dst.bin`, 'x-amz-server-side-encryption': 'AES256' },
    });
    expect(back.status).toBe(200);
    expect((await envOf('cos-again.bin')).mode).toBe('cos');
    expect(sameBytes((await get('cos-again.bin')).body, data)).toBe(true);
  });
});

describe('bucket default encryption with KMS', () => {
  const cfg = (alg: string, keyId?: string) =>
    `<ServerSideEncryptionConfiguration><Rule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>${alg}</SSEAlgorithm>${keyId ? `<KMSMasterKeyID>${keyId}</KMSMasterKeyID>` : ''}</ApplyServerSideEncryptionByDefault></Rule></ServerSideEncryptionConfiguration>`;

  it('seals writes that name no encryption under the default KMSMasterKeyID; explicit headers still win', async () => {
    const DB = 'kms-default-bucket';
    expect((await s3('PUT', `/${DB}`)).status).toBe(200);
    const k = await createKey();
    await kmsOk('CreateAlias', { AliasName: 'alias/bucket-default', TargetKeyId: k });
    const r = await s3('PUT', `/${DB}?encryption`, { body: cfg('aws:kms', 'alias/bucket-default') });
    expect(r.status, await r.clone().text()).toBe(200);
    const got = await (await s3('GET', `/${DB}?encryption`)).text();
    expect(got).toContain('<SSEAlgorithm>aws:kms</SSEAlgorithm>');
    expect(got).toContain('<KMSMasterKeyID>alias/bucket-default</KMSMasterKeyID>');

    const p = await s3('PUT', `/${DB}/implicit.txt`, { body: 'implicit' });
    expect(p.status).toBe(200);
    expect(p.headers.get('x-amz-server-side-encryption')).toBe('aws:kms');
    expect(p.headers.get('x-amz-server-side-encryption-aws-kms-key-id')).toBe(k);
    expect((await envOf('implicit.txt', DB)).kid).toBe(k);
    expect(await (await s3('GET', `/${DB}/implicit.txt`)).text()).toBe('implicit');

    // Multipart without headers follows the default too.
    const init = await s3('POST', `/${DB}/implicit-mp?uploads`);
    expect(init.headers.get('x-amz-server-side-encryption-aws-kms-key-id')).toBe(k);

    const other = await createKey();
    const q = await s3('PUT', `/${DB}/explicit.txt`, { body: 'explicit', headers: kmsHeaders(other) });
    expect(q.headers.get('x-amz-server-side-encryption-aws-kms-key-id')).toBe(other);
    const s = await s3('PUT', `/${DB}/sse-s3.txt`, { body: 'aes', headers: { 'x-amz-server-side-encryption': 'AES256' } });
    expect(s.headers.get('x-amz-server-side-encryption')).toBe('AES256');

    // COS form, no key id: the default CMK.
    const c = await cos('PUT', `/${DB}?encryption`, { body: cfg('KMS') });
    expect(c.status, await c.clone().text()).toBe(200);
    expect(await (await cos('GET', `/${DB}?encryption`)).text()).toContain('<SSEAlgorithm>KMS</SSEAlgorithm>');
    const d = await s3('PUT', `/${DB}/implicit-default.txt`, { body: 'dflt' });
    expect(d.headers.get('x-amz-server-side-encryption-aws-kms-key-id')).toBe(
      (await kmsOk('DescribeKey', { KeyId: 'alias/sealbucket/default' })).KeyMetadata.KeyId,
    );

    // A malformed KMSMasterKeyID is refused; a well-formed unknown one fails at write time.
    await expectError(await s3('PUT', `/${DB}?encryption`, { body: cfg('aws:kms', 'not a key') }), 400, 'InvalidArgument');
    expect((await s3('PUT', `/${DB}?encryption`, { body: cfg('aws:kms', 'alias/missing') })).status).toBe(200);
    await expectError(await s3('PUT', `/${DB}/fails.txt`, { body: 'x' }), 400, 'KMS.NotFoundException');
  });
});

describe('imported key material on objects', () => {
  it('an object stops decrypting after DeleteImportedKeyMaterial and decrypts again after re-import of the same material; the material is never stored or sent', async () => {
    const k = (await kmsOk('CreateKey', { Origin: 'EXTERNAL' })).KeyMetadata.KeyId;
    const material = crypto.getRandomValues(new Uint8Array(32));
    const importIt = async () => {
      const p = await kmsOk('GetParametersForImport', { KeyId: k, WrappingAlgorithm: 'RSAES_OAEP_SHA_256', WrappingKeySpec: 'RSA_2048' });
      const pub = await crypto.subtle.importKey('spki', unb64(p.PublicKey), { name: 'RSA-OAEP', hash: 'SHA-256' }, false, ['encrypt']);
      const wrapped = b64(new Uint8Array(await crypto.subtle.encrypt({ name: 'RSA-OAEP' }, pub, material)));
      return kmsOk('ImportKeyMaterial', {
        KeyId: k,
        ImportToken: p.ImportToken,
        EncryptedKeyMaterial: wrapped,
        ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE',
      });
    };
    await expectError(await s3('PUT', `/${B}/byok.txt`, { body: 'x', headers: kmsHeaders(k) }), 400, 'KMS.KMSInvalidStateException');
    await importIt();
    const responses: string[] = [];
    const p = await put('byok.txt', 'bring your own key', kmsHeaders(k));
    responses.push(JSON.stringify([...p.headers]));
    const g = await s3('GET', `/${B}/byok.txt`);
    responses.push(JSON.stringify([...g.headers]), await g.text());

    await kmsOk('DeleteImportedKeyMaterial', { KeyId: k });
    const blocked = await s3('GET', `/${B}/byok.txt`);
    expect(blocked.status).toBe(400);
    const msg = await blocked.text();
    expect(msg).toContain('<Code>KMS.KMSInvalidStateException</Code>');
    expect(msg).toContain('PendingImport');
    await expectError(await s3('PUT', `/${B}/byok-2.txt`, { body: 'x', headers: kmsHeaders(k) }), 400, 'KMS.KMSInvalidStateException');

    await importIt();
    const again = await s3('GET', `/${B}/byok.txt`);
    expect(again.status).toBe(200);
    expect(await again.text()).toBe('bring your own key');
    responses.push(JSON.stringify((await kms('DescribeKey', { KeyId: k })).body), JSON.stringify((await kms('ListKeys')).body));

    // Grep everything stored (R2 bodies and metadata, the KMS object's tables) and every response for the material.
    const hex = [...material].map((x) => x.toString(16).padStart(2, '0')).join('');
    const encodings = [hex, hex.toUpperCase(), b64(material), b64(material).replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_')];
    const haystack: string[] = [await kmsDump(), ...responses];
    let cursor: string | undefined;
    const rawHits: string[] = [];
    do {
      const page = await rawStore().list({ cursor, include: ['customMetadata'] });
      for (const o of page.objects) {
        haystack.push(o.key, JSON.stringify(o.customMetadata ?? {}));
        const body = new Uint8Array(await (await rawStore().get(o.key))!.arrayBuffer());
        for (let i = 0; i + material.length <= body.length; i++) {
          if (body[i] === material[0] && sameBytes(body.subarray(i, i + material.length), material)) rawHits.push(o.key);
        }
        haystack.push(new TextDecoder().decode(body));
      }
      cursor = page.truncated ? page.cursor : undefined;
    } while (cursor);
    expect(rawHits).toEqual([]);
    const all = haystack.join('\n');
    for (const e of encodings) expect(all.includes(e), e).toBe(false);
  });
});
