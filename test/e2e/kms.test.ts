// SSE-KMS end to end: the KMS JSON API through `aws kms --endpoint-url` and
// @aws-sdk/client-kms, objects through `aws s3`, @aws-sdk/client-s3 and
// cos-nodejs-sdk-v5, and the whole import flow (openssl and node:crypto wrapping).

import { execFileSync } from 'node:child_process';
import { constants, createPublicKey, publicEncrypt, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import {
  CreateAliasCommand,
  CreateKeyCommand,
  DeleteImportedKeyMaterialCommand,
  DescribeKeyCommand,
  DisableKeyCommand,
  EnableKeyCommand,
  GetParametersForImportCommand,
  ImportKeyMaterialCommand,
  KMSClient,
  KMSServiceException,
  ListAliasesCommand,
  NotFoundException,
  RotateKeyOnDemandCommand,
} from '@aws-sdk/client-kms';
import { CreateBucketCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import type COS from 'cos-nodejs-sdk-v5';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  aws,
  COS_APPID,
  COS_REGION,
  cosClient,
  cosError,
  filesContaining,
  gateway,
  hasAws,
  random,
  readFileSync,
  s3Client,
  s3Error,
  sdkBody,
  sha256,
  tempDir,
  uniq,
  writeFileSync,
} from './helpers';

if (!hasAws) console.warn('e2e: WARNING: the aws CLI is not on PATH, so the aws kms / aws s3 SSE-KMS tests are skipped.');

const files = tempDir('sealbucket-e2e-kms-');
const BUCKET = uniq('e2e-kms').toLowerCase();
const COS_BUCKET = `${uniq('e2e-kms-cos').toLowerCase()}-${COS_APPID}`;
const MiB = 1024 * 1024;

const kmsClient = () => {
  const g = gateway();
  return new KMSClient({
    endpoint: g.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: g.accessKeyId, secretAccessKey: g.secretAccessKey },
  });
};
const s3 = s3Client();
let kc: KMSClient;
let cos: COS;

/** `aws <args>` that must succeed; its stdout parsed as JSON when there is any. */
async function cli(args: string[], opts: { timeoutMs?: number } = {}) {
  const r = await aws(args, opts);
  expect(r.code, `aws ${args.join(' ')}\n${r.stderr}`).toBe(0);
  return r.stdout.trim() ? JSON.parse(r.stdout) : undefined;
}

/** `aws <args>` that must fail; its stderr. */
async function cliFails(args: string[]): Promise<string> {
  const r = await aws(args);
  expect(r.code, `aws ${args.join(' ')} was expected to fail\n${r.stdout}`).not.toBe(0);
  return r.stderr;
}

async function kmsError(p: Promise<unknown>): Promise<KMSServiceException> {
  try {
    await p;
  } catch (e) {
    if (e instanceof KMSServiceException) return e;
    throw e;
  }
  throw new Error('expected the KMS call to fail');
}

const ctx = (o: Record<string, string>) => Buffer.from(JSON.stringify(o)).toString('base64');

beforeAll(async () => {
  kc = kmsClient();
  cos = cosClient();
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
  expect((await cos.putBucket({ Bucket: COS_BUCKET, Region: COS_REGION })).statusCode).toBe(200);
});

afterAll(() => files.cleanup());

describe.skipIf(!hasAws)('aws kms and aws s3 with SSE-KMS', () => {
  let keyId: string;
  const alias = `alias/${uniq('cli')}`;
  const data = random(3 * MiB + 17);
  let src: string;

  beforeAll(() => {
    src = join(files.dir, 'cli-src.bin');
    writeFileSync(src, data);
  });

  it('create-key, create-alias, describe-key, list-aliases', async () => {
    const created = await cli(['kms', 'create-key', '--description', 'e2e cli key']);
    keyId = created.KeyMetadata.KeyId;
    expect(created.KeyMetadata).toMatchObject({
      KeyState: 'Enabled',
      Origin: 'AWS_KMS',
      KeyManager: 'CUSTOMER',
      Description: 'e2e cli key',
    });
    await cli(['kms', 'create-alias', '--alias-name', alias, '--target-key-id', keyId]);
    expect((await cli(['kms', 'describe-key', '--key-id', alias])).KeyMetadata.KeyId).toBe(keyId);
    const aliases = await cli(['kms', 'list-aliases', '--key-id', keyId]);
    expect(aliases.Aliases.map((a: { AliasName: string }) => a.AliasName)).toEqual([alias]);
    expect(await cliFails(['kms', 'describe-key', '--key-id', 'alias/does-not-exist'])).toContain('NotFoundException');
  });

  it('s3 cp --sse aws:kms --sse-kms-key-id alias/... uploads (multipart above 8 MB too) and downloads the same bytes', async () => {
    const big = random(10 * MiB + 5);
    const bigSrc = join(files.dir, 'cli-big.bin');
    writeFileSync(bigSrc, big);
    await cli(['s3', 'cp', '--only-show-errors', '--sse', 'aws:kms', '--sse-kms-key-id', alias, src, `s3://${BUCKET}/cli/small.bin`]);
    await cli(['s3', 'cp', '--only-show-errors', '--sse', 'aws:kms', '--sse-kms-key-id', alias, bigSrc, `s3://${BUCKET}/cli/big.bin`], {
      timeoutMs: 180_000,
    });
    for (const [key, bytes] of [
      ['cli/small.bin', data],
      ['cli/big.bin', big],
    ] as const) {
      const head = await cli(['s3api', 'head-object', '--bucket', BUCKET, '--key', key]);
      expect(head).toMatchObject({ ServerSideEncryption: 'aws:kms', SSEKMSKeyId: keyId });
      const out = join(files.dir, `down-${key.replace('/', '_')}`);
      await cli(['s3', 'cp', '--only-show-errors', `s3://${BUCKET}/${key}`, out], { timeoutMs: 180_000 });
      expect(sha256(readFileSync(out))).toBe(sha256(bytes));
    }
    // The default CMK when no key id is named.
    await cli(['s3', 'cp', '--only-show-errors', '--sse', 'aws:kms', src, `s3://${BUCKET}/cli/default.bin`]);
    const head = await cli(['s3api', 'head-object', '--bucket', BUCKET, '--key', 'cli/default.bin']);
    expect(head.SSEKMSKeyId).toBe((await cli(['kms', 'describe-key', '--key-id', 'alias/sealbucket/default'])).KeyMetadata.KeyId);
  });

  it('s3 cp copies an SSE-COS object to SSE-KMS', async () => {
    await cli(['s3', 'cp', '--only-show-errors', '--sse', 'AES256', src, `s3://${BUCKET}/cli/cos.bin`]);
    await cli([
      's3',
      'cp',
      '--only-show-errors',
      '--sse',
      'aws:kms',
      '--sse-kms-key-id',
      alias,
      `s3://${BUCKET}/cli/cos.bin`,
      `s3://${BUCKET}/cli/copied-kms.bin`,
    ]);
    expect(await cli(['s3api', 'head-object', '--bucket', BUCKET, '--key', 'cli/copied-kms.bin'])).toMatchObject({
      ServerSideEncryption: 'aws:kms',
      SSEKMSKeyId: keyId,
    });
    const out = join(files.dir, 'copied.bin');
    await cli(['s3', 'cp', '--only-show-errors', `s3://${BUCKET}/cli/copied-kms.bin`, out]);
    expect(sha256(readFileSync(out))).toBe(sha256(data));
  });

  it('disable-key blocks reads and writes; enable-key restores them', async () => {
    await cli(['kms', 'disable-key', '--key-id', keyId]);
    expect((await cli(['kms', 'describe-key', '--key-id', keyId])).KeyMetadata.KeyState).toBe('Disabled');
    expect(await cliFails(['s3api', 'get-object', '--bucket', BUCKET, '--key', 'cli/small.bin', join(files.dir, 'blocked.bin')])).toContain(
      'KMS.DisabledException',
    );
    expect(await cliFails(['s3', 'cp', '--sse', 'aws:kms', '--sse-kms-key-id', alias, src, `s3://${BUCKET}/cli/blocked.bin`])).toContain(
      'KMS.DisabledException',
    );
    await cli(['kms', 'enable-key', '--key-id', keyId]);
    const out = join(files.dir, 'restored.bin');
    await cli(['s3', 'cp', '--only-show-errors', `s3://${BUCKET}/cli/small.bin`, out]);
    expect(sha256(readFileSync(out))).toBe(sha256(data));
  });

  it('the import flow with openssl: get-parameters-for-import, import-key-material, delete-imported-key-material, re-import', async () => {
    const created = await cli(['kms', 'create-key', '--origin', 'EXTERNAL', '--description', 'byok via cli']);
    const k = created.KeyMetadata.KeyId;
    expect(created.KeyMetadata.KeyState).toBe('PendingImport');
    const material = randomBytes(32);
    const materialFile = join(files.dir, 'material.bin');
    writeFileSync(materialFile, material);

    const importOnce = async () => {
      const p = await cli([
        'kms',
        'get-parameters-for-import',
        '--key-id',
        k,
        '--wrapping-algorithm',
        'RSAES_OAEP_SHA_256',
        '--wrapping-key-spec',
        'RSA_3072',
      ]);
      const pub = join(files.dir, 'wrapping-key.der');
      const token = join(files.dir, 'import-token.bin');
      const enc = join(files.dir, 'encrypted-material.bin');
      writeFileSync(pub, Buffer.from(p.PublicKey, 'base64'));
      writeFileSync(token, Buffer.from(p.ImportToken, 'base64'));
      execFileSync('openssl', [
        'pkeyutl',
        '-encrypt',
        '-in',
        materialFile,
        '-out',
        enc,
        '-inkey',
        pub,
        '-keyform',
        'DER',
        '-pubin',
        '-pkeyopt',
        'rsa_padding_mode:oaep',
        '-pkeyopt',
        'rsa_oaep_md:sha256',
        '-pkeyopt',
        'rsa_mgf1_md:sha256',
      ]);
      await cli([
        'kms',
        'import-key-material',
        '--key-id',
        k,
        '--encrypted-key-material',
        `fileb://${enc}`,
        '--import-token',
        `fileb://${token}`,
        '--expiration-model',
        'KEY_MATERIAL_DOES_NOT_EXPIRE',
      ]);
    };
    await importOnce();
    expect((await cli(['kms', 'describe-key', '--key-id', k])).KeyMetadata).toMatchObject({
      KeyState: 'Enabled',
      Origin: 'EXTERNAL',
      ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE',
    });

    await cli(['s3', 'cp', '--only-show-errors', '--sse', 'aws:kms', '--sse-kms-key-id', k, src, `s3://${BUCKET}/cli/byok.bin`]);
    await cli(['kms', 'delete-imported-key-material', '--key-id', k]);
    expect((await cli(['kms', 'describe-key', '--key-id', k])).KeyMetadata.KeyState).toBe('PendingImport');
    expect(
      await cliFails(['s3api', 'get-object', '--bucket', BUCKET, '--key', 'cli/byok.bin', join(files.dir, 'byok-blocked.bin')]),
    ).toContain('KMSInvalidStateException');

    await importOnce();
    const out = join(files.dir, 'byok-back.bin');
    await cli(['s3', 'cp', '--only-show-errors', `s3://${BUCKET}/cli/byok.bin`, out]);
    expect(sha256(readFileSync(out))).toBe(sha256(data));

    // The material is nowhere in the gateway's state on disk (R2 and the KMS Durable Object).
    for (const enc of [material, Buffer.from(material.toString('base64')), Buffer.from(material.toString('hex'))]) {
      expect(filesContaining(gateway().persistDir, enc)).toEqual([]);
    }
  });
});

describe('@aws-sdk/client-kms and @aws-sdk/client-s3', () => {
  let keyId: string;
  const alias = `alias/${uniq('sdk')}`;

  it('creates a key and an alias; errors are typed AWS KMS exceptions', async () => {
    const created = await kc.send(new CreateKeyCommand({ Description: 'sdk key' }));
    keyId = created.KeyMetadata!.KeyId!;
    expect(created.KeyMetadata!.KeyState).toBe('Enabled');
    expect(created.KeyMetadata!.CreationDate).toBeInstanceOf(Date);
    await kc.send(new CreateAliasCommand({ AliasName: alias, TargetKeyId: keyId }));
    const list = await kc.send(new ListAliasesCommand({ KeyId: keyId }));
    expect(list.Aliases!.map((a) => a.AliasName)).toEqual([alias]);
    const e = await kmsError(kc.send(new DescribeKeyCommand({ KeyId: 'alias/nope' })));
    expect(e).toBeInstanceOf(NotFoundException);
    expect(e.$metadata.httpStatusCode).toBe(400);
  });

  it('PutObject with SSEKMSKeyId and SSEKMSEncryptionContext, GetObject whole and ranged, HeadObject', async () => {
    const data = random(700_000);
    const context = ctx({ project: 'sealbucket', stage: 'e2e' });
    const put = await s3.send(
      new PutObjectCommand({
        Bucket: BUCKET,
        Key: 'sdk/obj.bin',
        Body: data,
        ServerSideEncryption: 'aws:kms',
        SSEKMSKeyId: alias,
        SSEKMSEncryptionContext: context,
      }),
    );
    expect(put.ServerSideEncryption).toBe('aws:kms');
    expect(put.SSEKMSKeyId).toBe(keyId);
    expect(Buffer.from(put.SSEKMSEncryptionContext!, 'base64').toString()).toBe('{"project":"sealbucket","stage":"e2e"}');

    const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'sdk/obj.bin' }));
    expect(got.ServerSideEncryption).toBe('aws:kms');
    expect(got.SSEKMSKeyId).toBe(keyId);
    expect(sha256(await sdkBody(got))).toBe(sha256(data));
    const ranged = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'sdk/obj.bin', Range: 'bytes=262000-262300' }));
    expect((await sdkBody(ranged)).equals(data.subarray(262000, 262301))).toBe(true);
    const head = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'sdk/obj.bin' }));
    expect(head.SSEKMSKeyId).toBe(keyId);

    // The default CMK.
    const d = await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'sdk/default.bin', Body: data, ServerSideEncryption: 'aws:kms' }));
    const def = await kc.send(new DescribeKeyCommand({ KeyId: 'alias/sealbucket/default' }));
    expect(d.SSEKMSKeyId).toBe(def.KeyMetadata!.KeyId);
    expect(sha256(await sdkBody(await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'sdk/default.bin' }))))).toBe(sha256(data));
  });

  it('a disabled key blocks GetObject and PutObject with KMS.DisabledException; re-enabling restores them; rotation keeps old objects readable', async () => {
    await kc.send(new DisableKeyCommand({ KeyId: keyId }));
    const g = await s3Error(s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'sdk/obj.bin' })));
    expect(g).toMatchObject({ name: 'KMS.DisabledException', status: 400 });
    const p = await s3Error(
      s3.send(
        new PutObjectCommand({ Bucket: BUCKET, Key: 'sdk/blocked.bin', Body: 'x', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: keyId }),
      ),
    );
    expect(p).toMatchObject({ name: 'KMS.DisabledException', status: 400 });
    const unknown = await s3Error(
      s3.send(
        new PutObjectCommand({
          Bucket: BUCKET,
          Key: 'sdk/blocked.bin',
          Body: 'x',
          ServerSideEncryption: 'aws:kms',
          SSEKMSKeyId: 'alias/none-such',
        }),
      ),
    );
    expect(unknown).toMatchObject({ name: 'KMS.NotFoundException', status: 400 });
    await kc.send(new EnableKeyCommand({ KeyId: keyId }));
    await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'sdk/obj.bin' })).then(sdkBody);

    await kc.send(new RotateKeyOnDemandCommand({ KeyId: keyId }));
    await s3.send(
      new PutObjectCommand({
        Bucket: BUCKET,
        Key: 'sdk/after-rotation.bin',
        Body: 'new version',
        ServerSideEncryption: 'aws:kms',
        SSEKMSKeyId: keyId,
      }),
    );
    expect((await sdkBody(await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'sdk/after-rotation.bin' })))).toString()).toBe(
      'new version',
    );
    expect((await sdkBody(await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'sdk/obj.bin' })))).length).toBe(700_000);
  });

  it('imports material wrapped with node:crypto publicEncrypt (OAEP SHA-256); delete and re-import gate the object', async () => {
    const k = (await kc.send(new CreateKeyCommand({ Origin: 'EXTERNAL' }))).KeyMetadata!.KeyId!;
    const material = randomBytes(32);
    const importOnce = async () => {
      const p = await kc.send(
        new GetParametersForImportCommand({ KeyId: k, WrappingAlgorithm: 'RSAES_OAEP_SHA_256', WrappingKeySpec: 'RSA_2048' }),
      );
      expect(p.ParametersValidTo).toBeInstanceOf(Date);
      const pub = createPublicKey({ key: Buffer.from(p.PublicKey!), format: 'der', type: 'spki' });
      const enc = publicEncrypt({ key: pub, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, material);
      await kc.send(
        new ImportKeyMaterialCommand({
          KeyId: k,
          ImportToken: p.ImportToken,
          EncryptedKeyMaterial: enc,
          ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE',
        }),
      );
    };
    await importOnce();
    const data = random(100_000);
    await s3.send(
      new PutObjectCommand({ Bucket: BUCKET, Key: 'sdk/byok.bin', Body: data, ServerSideEncryption: 'aws:kms', SSEKMSKeyId: k }),
    );
    await kc.send(new DeleteImportedKeyMaterialCommand({ KeyId: k }));
    expect((await kc.send(new DescribeKeyCommand({ KeyId: k }))).KeyMetadata!.KeyState).toBe('PendingImport');
    expect(await s3Error(s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'sdk/byok.bin' })))).toMatchObject({
      name: 'KMS.KMSInvalidStateException',
      status: 400,
    });
    await importOnce();
    expect(sha256(await sdkBody(await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'sdk/byok.bin' }))))).toBe(sha256(data));
  });
});

describe('cos-nodejs-sdk-v5 with cos/kms', () => {
  const Bucket = COS_BUCKET;
  const Region = COS_REGION;
  const h = (r: { headers?: Record<string, unknown> }, name: string) => r.headers?.[name] as string | undefined;

  it('putObject / getObject (whole and ranged) / headObject with a named CMK and a context, and with the default CMK', async () => {
    const k = (await kc.send(new CreateKeyCommand({ Description: 'cos key' }))).KeyMetadata!.KeyId!;
    const data = random(400_000);
    const put = await cos.putObject({
      Bucket,
      Region,
      Key: 'cos/kms.bin',
      Body: data,
      ServerSideEncryption: 'cos/kms',
      SSEKMSKeyId: k,
      SSEContext: ctx({ app: 'cos-e2e' }),
    } as never);
    expect(put.statusCode).toBe(200);
    expect(h(put, 'x-cos-server-side-encryption')).toBe('cos/kms');
    expect(h(put, 'x-cos-server-side-encryption-cos-kms-key-id')).toBe(k);
    const got = await cos.getObject({ Bucket, Region, Key: 'cos/kms.bin' });
    expect(sha256(got.Body)).toBe(sha256(data));
    expect(h(got, 'x-cos-server-side-encryption')).toBe('cos/kms');
    expect(h(got, 'x-cos-server-side-encryption-cos-kms-key-id')).toBe(k);
    const ranged = await cos.getObject({ Bucket, Region, Key: 'cos/kms.bin', Range: 'bytes=100-199' });
    expect(Buffer.from(ranged.Body).equals(data.subarray(100, 200))).toBe(true);
    const head = await cos.headObject({ Bucket, Region, Key: 'cos/kms.bin' });
    expect(h(head, 'x-cos-server-side-encryption-cos-kms-key-id')).toBe(k);

    const d = await cos.putObject({ Bucket, Region, Key: 'cos/default.bin', Body: data, ServerSideEncryption: 'cos/kms' } as never);
    const def = await kc.send(new DescribeKeyCommand({ KeyId: 'alias/sealbucket/default' }));
    expect(h(d, 'x-cos-server-side-encryption-cos-kms-key-id')).toBe(def.KeyMetadata!.KeyId);

    // Disabled: KmsKeyDisabled on reads and writes; unknown key: KmsKeyNotExist.
    await kc.send(new DisableKeyCommand({ KeyId: k }));
    const e = await cosError(cos.getObject({ Bucket, Region, Key: 'cos/kms.bin' }));
    expect(e.statusCode).toBe(400);
    expect(e.code).toBe('KmsKeyDisabled');
    const w = await cosError(
      cos.putObject({ Bucket, Region, Key: 'cos/blocked.bin', Body: 'x', ServerSideEncryption: 'cos/kms', SSEKMSKeyId: k } as never),
    );
    expect(w.code).toBe('KmsKeyDisabled');
    const n = await cosError(
      cos.putObject({
        Bucket,
        Region,
        Key: 'cos/blocked.bin',
        Body: 'x',
        ServerSideEncryption: 'cos/kms',
        SSEKMSKeyId: 'alias/none-such',
      } as never),
    );
    expect(n.code).toBe('KmsKeyNotExist');
    await kc.send(new EnableKeyCommand({ KeyId: k }));
    expect(sha256((await cos.getObject({ Bucket, Region, Key: 'cos/kms.bin' })).Body)).toBe(sha256(data));
  });
});

describe.skipIf(!hasAws)('aws kms: the data plane and key policies', () => {
  it('encrypt / decrypt with an encryption context, generate-data-key, generate-random', async () => {
    const keyId = (await cli(['kms', 'create-key'])).KeyMetadata.KeyId;
    const plain = join(files.dir, 'dp-plain.txt');
    writeFileSync(plain, 'hello from the cli');
    const enc = await cli([
      'kms',
      'encrypt',
      '--key-id',
      keyId,
      '--plaintext',
      `fileb://${plain}`,
      '--encryption-context',
      'app=e2e,tenant=7',
    ]);
    const blob = join(files.dir, 'dp-blob.bin');
    writeFileSync(blob, Buffer.from(enc.CiphertextBlob, 'base64'));
    const dec = await cli(['kms', 'decrypt', '--ciphertext-blob', `fileb://${blob}`, '--encryption-context', 'tenant=7,app=e2e']);
    expect(dec.KeyId).toContain(keyId);
    expect(Buffer.from(dec.Plaintext, 'base64').toString()).toBe('hello from the cli');
    expect(
      await cliFails(['kms', 'decrypt', '--ciphertext-blob', `fileb://${blob}`, '--encryption-context', 'tenant=8,app=e2e']),
    ).toContain('InvalidCiphertextException');

    const dk = await cli(['kms', 'generate-data-key', '--key-id', keyId, '--key-spec', 'AES_256']);
    expect(Buffer.from(dk.Plaintext, 'base64').length).toBe(32);
    writeFileSync(blob, Buffer.from(dk.CiphertextBlob, 'base64'));
    expect((await cli(['kms', 'decrypt', '--ciphertext-blob', `fileb://${blob}`])).Plaintext).toBe(dk.Plaintext);
    expect(Buffer.from((await cli(['kms', 'generate-random', '--number-of-bytes', '64'])).Plaintext, 'base64').length).toBe(64);
  });

  it('get-key-policy / put-key-policy: a key policy that denies root Encrypt, repaired by root', async () => {
    const keyId = (await cli(['kms', 'create-key'])).KeyMetadata.KeyId;
    const policy = JSON.parse((await cli(['kms', 'get-key-policy', '--key-id', keyId, '--policy-name', 'default'])).Policy);
    expect(policy.Statement[0].Principal).toEqual({ AWS: 'arn:aws:iam::000000000000:root' });
    const deny = {
      ...policy,
      Statement: [...policy.Statement, { Effect: 'Deny', Principal: { AWS: '*' }, Action: 'kms:Encrypt', Resource: '*' }],
    };
    await cli(['kms', 'put-key-policy', '--key-id', keyId, '--policy-name', 'default', '--policy', JSON.stringify(deny)]);
    expect(await cliFails(['kms', 'encrypt', '--key-id', keyId, '--plaintext', 'aGk='])).toContain('AccessDeniedException');
    expect(await cliFails(['kms', 'put-key-policy', '--key-id', keyId, '--policy', '{"Statement":7}'])).toContain(
      'MalformedPolicyDocumentException',
    );
    await cli(['kms', 'put-key-policy', '--key-id', keyId, '--policy-name', 'default', '--policy', JSON.stringify(policy)]);
    await cli(['kms', 'encrypt', '--key-id', keyId, '--plaintext', 'aGk=']);
  });

  it('create-grant / list-grants / revoke-grant: a grant lets an IAM user encrypt until it is revoked', async () => {
    const keyId = (await cli(['kms', 'create-key'])).KeyMetadata.KeyId;
    const user = uniq('grantee');
    await cli(['iam', 'create-user', '--user-name', user]);
    const key = (await cli(['iam', 'create-access-key', '--user-name', user])).AccessKey;
    const as = { accessKeyId: key.AccessKeyId, secretAccessKey: key.SecretAccessKey };
    const encrypt = () => aws(['kms', 'encrypt', '--key-id', keyId, '--plaintext', 'aGk='], { as });
    const before = await encrypt();
    expect(before.code).not.toBe(0);
    expect(before.stderr).toContain('AccessDeniedException');
    const arn = `arn:aws:iam::000000000000:user/${user}`;
    const grant = await cli([
      'kms',
      'create-grant',
      '--key-id',
      keyId,
      '--grantee-principal',
      arn,
      '--operations',
      'Encrypt',
      '--name',
      'e2e',
    ]);
    expect(grant.GrantId).toMatch(/^[0-9a-f]{64}$/);
    const during = await encrypt();
    expect(during.code, during.stderr).toBe(0);
    const listed = await cli(['kms', 'list-grants', '--key-id', keyId]);
    expect(listed.Grants).toHaveLength(1);
    expect(listed.Grants[0]).toMatchObject({ GrantId: grant.GrantId, GranteePrincipal: arn, Operations: ['Encrypt'], Name: 'e2e' });
    await cli(['kms', 'revoke-grant', '--key-id', keyId, '--grant-id', grant.GrantId]);
    expect((await cli(['kms', 'list-grants', '--key-id', keyId])).Grants).toEqual([]);
    expect((await encrypt()).stderr).toContain('AccessDeniedException');
  });

  it('an IAM user whose policies leave out the key gets AccessDenied with the KMS message on an SSE-KMS PUT and GET', async () => {
    const keyId = (await cli(['kms', 'create-key'])).KeyMetadata.KeyId;
    const user = uniq('kmsuser');
    await cli(['iam', 'create-user', '--user-name', user]);
    const s3Only = {
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: 's3:*', Resource: [`arn:aws:s3:::${BUCKET}`, `arn:aws:s3:::${BUCKET}/*`] }],
    };
    await cli(['iam', 'put-user-policy', '--user-name', user, '--policy-name', 's3', '--policy-document', JSON.stringify(s3Only)]);
    const key = (await cli(['iam', 'create-access-key', '--user-name', user])).AccessKey;
    const asUser = s3Client({ credentials: { accessKeyId: key.AccessKeyId, secretAccessKey: key.SecretAccessKey } });
    await s3.send(
      new PutObjectCommand({ Bucket: BUCKET, Key: 'kms-user/root.txt', Body: 'root', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: keyId }),
    );
    // The gateway caches identities for a few seconds (IAM_CACHE_SECONDS); a new user's key is looked up on first use.
    const put = await s3Error(
      asUser.send(
        new PutObjectCommand({ Bucket: BUCKET, Key: 'kms-user/u.txt', Body: 'u', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: keyId }),
      ),
    );
    expect(put.status).toBe(403);
    expect(put.name).toBe('AccessDenied');
    expect(put.message).toContain(`user/${user} is not authorized to perform: kms:GenerateDataKey on resource: arn:aws:kms:`);
    const get = await s3Error(asUser.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'kms-user/root.txt' })));
    expect(get.status).toBe(403);
    expect(get.name).toBe('AccessDenied');
    expect(get.message).toContain('kms:Decrypt on resource');
    // A plain PUT (no KMS) in the same bucket works: the refusal is the key's, not the bucket's.
    await asUser.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'kms-user/plain.txt', Body: 'p' }));
  });
});
