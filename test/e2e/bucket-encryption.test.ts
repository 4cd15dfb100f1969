// Bucket default encryption (PUT / GET / DELETE /<bucket>?encryption) end to
// end: the S3 form with the aws CLI (`s3api *-bucket-encryption`), the COS form
// with cos-nodejs-sdk-v5 (`*BucketEncryption`).

import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type COS from 'cos-nodejs-sdk-v5';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  aws,
  COS_APPID,
  COS_REGION,
  cosClient,
  cosError,
  hasAws,
  random,
  s3Client,
  s3Error,
  sdkBody,
  sha256,
  sseCKey,
  uniq,
} from './helpers';

const BUCKET = uniq('e2e-benc').toLowerCase();
const COS_BUCKET = `${uniq('e2e-benc-cos').toLowerCase()}-${COS_APPID}`;
const Region = COS_REGION;

let s3: S3Client;
let cos: COS;

beforeAll(async () => {
  s3 = s3Client();
  cos = cosClient();
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
  expect((await cos.putBucket({ Bucket: COS_BUCKET, Region })).statusCode).toBe(200);
});

afterAll(() => s3?.destroy());

/** The S3-form configuration document for the CLI. */
const s3Config = (rule: Record<string, unknown>) => JSON.stringify({ Rules: [rule] });

describe.skipIf(!hasAws)('S3 form with the aws CLI', () => {
  const cli = (args: string[]) => aws(['s3api', ...args, '--bucket', BUCKET, '--output', 'json']);

  it('get-bucket-encryption with none set: 404 ServerSideEncryptionConfigurationNotFoundError', async () => {
    const r = await cli(['get-bucket-encryption']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('ServerSideEncryptionConfigurationNotFoundError');
  });

  it('put-bucket-encryption AES256 (BucketKeyEnabled), get-bucket-encryption returns it, delete-bucket-encryption removes it', async () => {
    const put = await cli([
      'put-bucket-encryption',
      '--server-side-encryption-configuration',
      s3Config({ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' }, BucketKeyEnabled: true }),
    ]);
    expect(put.code, put.stderr).toBe(0);

    const get = await cli(['get-bucket-encryption']);
    expect(get.code, get.stderr).toBe(0);
    const rules = JSON.parse(get.stdout).ServerSideEncryptionConfiguration.Rules;
    expect(rules).toHaveLength(1);
    expect(rules[0].ApplyServerSideEncryptionByDefault.SSEAlgorithm).toBe('AES256');
    expect(rules[0].ApplyServerSideEncryptionByDefault.KMSMasterKeyID).toBeUndefined();
    expect(rules[0].BucketKeyEnabled).toBe(true);

    // Writes that name no encryption are sealed with the default.
    const data = random(10_000);
    const p = await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'with-default.bin', Body: data }));
    expect(p.ServerSideEncryption).toBe('AES256');
    expect(sha256(await sdkBody(await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'with-default.bin' }))))).toBe(sha256(data));

    const del = await cli(['delete-bucket-encryption']);
    expect(del.code, del.stderr).toBe(0);
    const after = await cli(['get-bucket-encryption']);
    expect(after.code).not.toBe(0);
    expect(after.stderr).toContain('ServerSideEncryptionConfigurationNotFoundError');
  });

  it('BlockedEncryptionTypes SSE-C: kept, and SSE-C writes refused with 403 AccessDenied', async () => {
    const put = await cli([
      'put-bucket-encryption',
      '--server-side-encryption-configuration',
      s3Config({ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' }, BlockedEncryptionTypes: { EncryptionType: ['SSE-C'] } }),
    ]);
    expect(put.code, put.stderr).toBe(0);
    const rules = JSON.parse((await cli(['get-bucket-encryption'])).stdout).ServerSideEncryptionConfiguration.Rules;
    expect(rules[0].BlockedEncryptionTypes.EncryptionType).toEqual(['SSE-C']);

    const k = sseCKey();
    const e = await s3Error(
      s3.send(
        new PutObjectCommand({
          Bucket: BUCKET,
          Key: 'blocked.bin',
          Body: Buffer.from('x'),
          SSECustomerAlgorithm: 'AES256',
          SSECustomerKey: k.b64,
        }),
      ),
    );
    expect(e.status).toBe(403);
    expect(e.name).toBe('AccessDenied');
    const ok = await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'allowed.bin', Body: Buffer.from('y') }));
    expect(ok.ServerSideEncryption).toBe('AES256');
    expect((await cli(['delete-bucket-encryption'])).code).toBe(0);
  });

  it('refuses an unknown SSEAlgorithm with InvalidArgument', async () => {
    const r = await cli([
      'put-bucket-encryption',
      '--server-side-encryption-configuration',
      s3Config({ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES128' } }),
    ]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('InvalidArgument');
  });

  it('SSEAlgorithm aws:kms (no KMSMasterKeyID): writes that name no encryption are sealed with SSE-KMS under the default CMK', async () => {
    const r = await cli([
      'put-bucket-encryption',
      '--server-side-encryption-configuration',
      s3Config({ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms' } }),
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(
      JSON.parse((await cli(['get-bucket-encryption'])).stdout).ServerSideEncryptionConfiguration.Rules[0]
        .ApplyServerSideEncryptionByDefault.SSEAlgorithm,
    ).toBe('aws:kms');
    const data = random(10_000);
    const p = await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'kms-default.bin', Body: data }));
    expect(p.ServerSideEncryption).toBe('aws:kms');
    expect(p.SSEKMSKeyId).toMatch(/^[0-9a-f-]{36}$/);
    expect(sha256(await sdkBody(await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'kms-default.bin' }))))).toBe(sha256(data));
    expect((await cli(['delete-bucket-encryption'])).code).toBe(0);
  });
});

describe('COS form with cos-nodejs-sdk-v5', () => {
  // The SDK's typings name the rule element wrongly (ApplySideEncryptionConfiguration);
  // it sends what it is given, and COS wants ApplyServerSideEncryptionByDefault.
  const cosConfig = (alg: string) =>
    ({
      Rule: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: alg } }],
    }) as unknown as COS.PutBucketEncryptionParams['ServerSideEncryptionConfiguration'];
  type EncResult = {
    statusCode?: number;
    headers?: Record<string, unknown>;
    EncryptionConfiguration?: { Rules: unknown[] };
    ServerSideEncryptionConfiguration?: { Rule?: unknown };
  };
  const getEnc = async () => (await cos.getBucketEncryption({ Bucket: COS_BUCKET, Region })) as unknown as EncResult;

  it('getBucketEncryption with none set: 404 NoSuchEncryptionConfiguration', async () => {
    // The SDK turns exactly "404 NoSuchEncryptionConfiguration" into an empty result (any other error rejects).
    const r = await getEnc();
    expect(r.statusCode).toBe(404);
    expect(r.EncryptionConfiguration?.Rules).toEqual([]);
    expect(r.headers?.['x-cos-request-id']).toMatch(/\S/);
    expect(r.headers?.['x-amz-request-id']).toBeUndefined();
  });

  it('putBucketEncryption AES256, getBucketEncryption returns it, deleteBucketEncryption removes it', async () => {
    const put = await cos.putBucketEncryption({ Bucket: COS_BUCKET, Region, ServerSideEncryptionConfiguration: cosConfig('AES256') });
    expect(put.statusCode).toBe(200);

    const got = await getEnc();
    expect(got.statusCode).toBe(200);
    expect(got.headers?.['x-cos-request-id']).toMatch(/\S/);
    const rule = got.ServerSideEncryptionConfiguration?.Rule as
      | { ApplyServerSideEncryptionByDefault?: { SSEAlgorithm?: string }; BucketKeyEnabled?: unknown }
      | undefined;
    expect(rule?.ApplyServerSideEncryptionByDefault?.SSEAlgorithm).toBe('AES256');
    // The COS form has no S3-only elements.
    expect(rule?.BucketKeyEnabled).toBeUndefined();

    const data = random(5000);
    const p = await cos.putObject({ Bucket: COS_BUCKET, Region, Key: 'with-default.bin', Body: data });
    expect(p.headers?.['x-cos-server-side-encryption']).toBe('AES256');

    const del = await cos.deleteBucketEncryption({ Bucket: COS_BUCKET, Region });
    expect(del.statusCode).toBe(204);
    expect((await getEnc()).statusCode).toBe(404);
  });

  it('refuses an unknown SSEAlgorithm with 400 InvalidArgument', async () => {
    const e = await cosError(
      cos.putBucketEncryption({ Bucket: COS_BUCKET, Region, ServerSideEncryptionConfiguration: cosConfig('AES128') }),
    );
    expect(e.statusCode).toBe(400);
    expect(e.code).toBe('InvalidArgument');
  });

  it('SSEAlgorithm KMS: writes that name no encryption are sealed with cos/kms', async () => {
    const put = await cos.putBucketEncryption({ Bucket: COS_BUCKET, Region, ServerSideEncryptionConfiguration: cosConfig('KMS') });
    expect(put.statusCode).toBe(200);
    const rule = (await getEnc()).ServerSideEncryptionConfiguration?.Rule as
      | { ApplyServerSideEncryptionByDefault?: { SSEAlgorithm?: string } }
      | undefined;
    expect(rule?.ApplyServerSideEncryptionByDefault?.SSEAlgorithm).toBe('KMS');
    const p = await cos.putObject({ Bucket: COS_BUCKET, Region, Key: 'kms-default.bin', Body: random(5000) });
    expect(p.headers?.['x-cos-server-side-encryption']).toBe('cos/kms');
    expect(p.headers?.['x-cos-server-side-encryption-cos-kms-key-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect((await cos.deleteBucketEncryption({ Bucket: COS_BUCKET, Region })).statusCode).toBe(204);
  });
});
