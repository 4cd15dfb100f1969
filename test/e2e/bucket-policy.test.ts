// Bucket policies with real clients against a running gateway (both layouts): @aws-sdk/client-s3
// Put/Get/Delete/GetBucketPolicyStatus, and the aws CLI under "deny unencrypted uploads": a plain
// `aws s3 cp` is refused, one with --sse AES256 goes through, multipart included.

import { join } from 'node:path';
import {
  CreateBucketCommand,
  DeleteBucketPolicyCommand,
  GetBucketPolicyCommand,
  GetBucketPolicyStatusCommand,
  GetObjectCommand,
  PutBucketPolicyCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { AwsClient } from 'aws4fetch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aws, gateway, hasAws, random, s3Client, s3Error, sdkBody, sha256, tempDir, uniq, writeFileSync } from './helpers';

const BUCKET = uniq('e2e-policy').toLowerCase();
const files = tempDir();
let s3: S3Client;

const denyUnencrypted = JSON.stringify({
  Version: '2012-10-17',
  Statement: [
    {
      Sid: 'DenyNoSse',
      Effect: 'Deny',
      Principal: '*',
      Action: 's3:PutObject',
      Resource: `arn:aws:s3:::${BUCKET}/*`,
      Condition: { Null: { 's3:x-amz-server-side-encryption': 'true' } },
    },
  ],
});

beforeAll(async () => {
  s3 = s3Client();
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
});

afterAll(() => files.cleanup());

describe('bucket policies with the AWS SDK', () => {
  it('puts, gets and deletes a policy; none is NoSuchBucketPolicy; the status is not public; bad ones are MalformedPolicy', async () => {
    expect(await s3Error(s3.send(new GetBucketPolicyCommand({ Bucket: BUCKET })))).toMatchObject({
      name: 'NoSuchBucketPolicy',
      status: 404,
    });
    await s3.send(new PutBucketPolicyCommand({ Bucket: BUCKET, Policy: denyUnencrypted }));
    expect((await s3.send(new GetBucketPolicyCommand({ Bucket: BUCKET }))).Policy).toBe(denyUnencrypted);
    expect((await s3.send(new GetBucketPolicyStatusCommand({ Bucket: BUCKET }))).PolicyStatus?.IsPublic).toBe(false);
    const bad = await s3Error(
      s3.send(
        new PutBucketPolicyCommand({
          Bucket: BUCKET,
          Policy: JSON.stringify({
            Statement: [{ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::elsewhere/*' }],
          }),
        }),
      ),
    );
    expect(bad).toMatchObject({ name: 'MalformedPolicy', status: 400, message: 'Policy has invalid resource' });
    await s3.send(new DeleteBucketPolicyCommand({ Bucket: BUCKET }));
    expect(await s3Error(s3.send(new GetBucketPolicyCommand({ Bucket: BUCKET })))).toMatchObject({ name: 'NoSuchBucketPolicy' });
  });

  it('deny-unencrypted: PutObject without SSE is AccessDenied (root too), with SSE it is stored', async () => {
    await s3.send(new PutBucketPolicyCommand({ Bucket: BUCKET, Policy: denyUnencrypted }));
    const denied = await s3Error(s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'plain', Body: 'x' })));
    expect(denied).toMatchObject({ name: 'AccessDenied', status: 403 });
    expect(denied.message).toContain('with an explicit deny in a resource-based policy');
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'sealed', Body: 'x', ServerSideEncryption: 'AES256' }));
    expect((await sdkBody(await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'sealed' })))).toString()).toBe('x');
  });
});

describe.skipIf(!hasAws)('bucket policies with the aws CLI', () => {
  it('put-bucket-policy / get-bucket-policy; s3 cp of a multipart-sized file: refused plain, stored with --sse AES256', async () => {
    const policyFile = join(files.dir, 'policy.json');
    writeFileSync(policyFile, denyUnencrypted);
    let r = await aws(['s3api', 'put-bucket-policy', '--bucket', BUCKET, '--policy', `file://${policyFile}`]);
    expect(r.code, r.stderr).toBe(0);
    r = await aws(['s3api', 'get-bucket-policy', '--bucket', BUCKET]);
    expect(JSON.parse(JSON.parse(r.stdout).Policy)).toEqual(JSON.parse(denyUnencrypted));
    // 10 MiB: above the CLI's 8 MiB multipart threshold.
    const data = random(10 * 1024 * 1024);
    const file = join(files.dir, 'big.bin');
    writeFileSync(file, data);
    r = await aws(['s3', 'cp', file, `s3://${BUCKET}/big-plain`]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('AccessDenied');
    r = await aws(['s3', 'cp', file, `s3://${BUCKET}/big-sealed`, '--sse', 'AES256']);
    expect(r.code, r.stderr).toBe(0);
    const back = join(files.dir, 'back.bin');
    r = await aws(['s3', 'cp', `s3://${BUCKET}/big-sealed`, back]);
    expect(r.code, r.stderr).toBe(0);
    const { readFileSync } = await import('node:fs');
    expect(sha256(readFileSync(back))).toBe(sha256(data));
  });
});

describe.skipIf(!hasAws)('an IAM user with a policy for one bucket (aws CLI)', () => {
  it('reads and writes there; AccessDenied in another bucket, for ListBuckets and for the operator endpoints', async () => {
    const user = uniq('e2e-polusr');
    const mine = uniq('e2e-mine').toLowerCase();
    const other = uniq('e2e-other').toLowerCase();
    for (const b of [mine, other]) expect((await aws(['s3api', 'create-bucket', '--bucket', b])).code).toBe(0);
    expect((await aws(['iam', 'create-user', '--user-name', user])).code).toBe(0);
    const policy = JSON.stringify({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: 's3:*', Resource: [`arn:aws:s3:::${mine}`, `arn:aws:s3:::${mine}/*`] }],
    });
    expect(
      (await aws(['iam', 'put-user-policy', '--user-name', user, '--policy-name', 'one-bucket', '--policy-document', policy])).code,
    ).toBe(0);
    const key = JSON.parse((await aws(['iam', 'create-access-key', '--user-name', user])).stdout).AccessKey;
    const as = { accessKeyId: key.AccessKeyId, secretAccessKey: key.SecretAccessKey };
    const file = join(files.dir, 'small.txt');
    writeFileSync(file, 'hello');
    let r = await aws(['s3', 'cp', file, `s3://${mine}/k`], { as });
    expect(r.code, r.stderr).toBe(0);
    r = await aws(['s3', 'cp', `s3://${mine}/k`, '-'], { as });
    expect(r.stdout).toBe('hello');
    r = await aws(['s3', 'cp', file, `s3://${other}/k`], { as });
    expect(r.stderr).toContain('AccessDenied');
    r = await aws(['s3api', 'list-buckets'], { as });
    expect(r.stderr).toContain('AccessDenied');
    expect(r.stderr).toContain('s3:ListAllMyBuckets');
    const g = gateway();
    const signer = new AwsClient({ ...as, service: 's3', region: 'us-east-1' });
    const admin = await fetch(await signer.sign(`${g.endpoint}/-/admin/keyring`, { method: 'GET' }));
    expect(admin.status).toBe(403);
  });
});
