// Issue "Least privilege", end to end with the clients people have: root (the secret store's pair)
// makes an IAM user with the aws CLI, and the user's access is exactly what policies grant, checked
// with the aws CLI and boto3. Runs on both layouts (projects e2e and e2e-proxy).

import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { AwsClient } from 'aws4fetch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aws, gateway, hasAws, random, sha256, tempDir, uniq, writeFileSync } from './helpers';
import { sleep } from './process';

interface Creds {
  accessKeyId: string;
  secretAccessKey: string;
}

const files = tempDir('sealbucket-e2e-lp-');
const EMPTY = join(files.dir, 'empty');
const OURS = uniq('lp-ours').toLowerCase();
const THEIRS = uniq('lp-theirs').toLowerCase();
const USER = uniq('lp-alice');
let alice: Creds;

const awsAs = (who: Creds, args: string[]) => aws(args, { as: who });

/** Runs a boto3 script with `who`'s credentials; the script prints one JSON line. */
function boto3As(who: Creds, script: string): Promise<Record<string, unknown>> {
  const env = { ...process.env, EP: gateway().endpoint, AK: who.accessKeyId, SK: who.secretAccessKey };
  const prelude = [
    'import boto3, botocore, json, os, sys',
    "s3 = boto3.client('s3', endpoint_url=os.environ['EP'], region_name='us-east-1', aws_access_key_id=os.environ['AK'], aws_secret_access_key=os.environ['SK'])",
    'def code(f):',
    '    try:',
    '        f()',
    "        return 'OK'",
    '    except botocore.exceptions.ClientError as e:',
    "        return e.response['Error']['Code']",
  ].join('\n');
  return new Promise((resolve, reject) =>
    execFile('python3', ['-c', `${prelude}\n${script}`], { env, timeout: 120_000, encoding: 'utf8' }, (err, stdout, stderr) =>
      err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(JSON.parse(stdout.trim().split('\n').at(-1)!)),
    ),
  );
}

const json = (r: { code: number; stdout: string; stderr: string }) => {
  if (r.code !== 0) throw new Error(`aws failed (${r.code}): ${r.stderr}`);
  return JSON.parse(r.stdout || '{}');
};
const errorCode = (r: { stderr: string }) => /\(([A-Za-z]+)\) when calling/.exec(r.stderr)?.[1];

if (!hasAws) console.warn('e2e: WARNING: the aws CLI is not on PATH, so the least-privilege tests are skipped.');

describe.runIf(hasAws)('least privilege with the aws CLI and boto3', () => {
  beforeAll(async () => {
    writeFileSync(EMPTY, '');
    json(await aws(['s3api', 'create-bucket', '--bucket', OURS]));
    json(await aws(['s3api', 'create-bucket', '--bucket', THEIRS]));
    json(await aws(['iam', 'create-user', '--user-name', USER]));
    const policy = join(files.dir, 'alice.json');
    writeFileSync(
      policy,
      JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          { Effect: 'Allow', Action: ['s3:ListBucket'], Resource: [`arn:aws:s3:::${OURS}`] },
          { Effect: 'Allow', Action: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject'], Resource: [`arn:aws:s3:::${OURS}/*`] },
          { Effect: 'Allow', Action: ['kms:GenerateDataKey', 'kms:Decrypt', 'kms:Encrypt'], Resource: '*' },
        ],
      }),
    );
    json(await aws(['iam', 'put-user-policy', '--user-name', USER, '--policy-name', 'ours', '--policy-document', `file://${policy}`]));
    const key = json(await aws(['iam', 'create-access-key', '--user-name', USER])).AccessKey;
    alice = { accessKeyId: key.AccessKeyId, secretAccessKey: key.SecretAccessKey };
    expect(alice.secretAccessKey).toMatch(/^.{40}$/);
  });

  afterAll(async () => {
    files.cleanup();
    // The key is gone by the last case; the policy and the user go now (each may already be gone).
    await aws(['iam', 'delete-user-policy', '--user-name', USER, '--policy-name', 'ours']);
    await aws(['iam', 'delete-user', '--user-name', USER]);
  });

  it('the user is who STS says, and reads and writes its bucket', async () => {
    const me = json(await awsAs(alice, ['sts', 'get-caller-identity']));
    expect(me.Arn).toBe(`arn:aws:iam::000000000000:user/${USER}`);
    const src = join(files.dir, 'a.bin');
    const data = random(300_000);
    writeFileSync(src, data);
    expect((await awsAs(alice, ['s3', 'cp', src, `s3://${OURS}/a.bin`])).code).toBe(0);
    const got = await boto3As(
      alice,
      `import hashlib\nb = s3.get_object(Bucket='${OURS}', Key='a.bin')['Body'].read()\nprint(json.dumps({'sha': hashlib.sha256(b).hexdigest(), 'list': [o['Key'] for o in s3.list_objects_v2(Bucket='${OURS}').get('Contents', [])]}))`,
    );
    expect(got).toEqual({ sha: sha256(data), list: ['a.bin'] });
  });

  it('and gets AccessDenied everywhere else: other buckets, ListBuckets, IAM, admin endpoints', async () => {
    json(await aws(['s3api', 'put-object', '--bucket', THEIRS, '--key', 'x', '--body', EMPTY]));
    const codes = await boto3As(
      alice,
      [
        `r = {'get': code(lambda: s3.get_object(Bucket='${THEIRS}', Key='x')),`,
        `     'put': code(lambda: s3.put_object(Bucket='${THEIRS}', Key='y', Body=b'1')),`,
        `     'list': code(lambda: s3.list_objects_v2(Bucket='${THEIRS}')),`,
        `     'delete': code(lambda: s3.delete_object(Bucket='${THEIRS}', Key='x')),`,
        "     'buckets': code(lambda: s3.list_buckets()),",
        `     'policy': code(lambda: s3.put_bucket_policy(Bucket='${OURS}', Policy='{}'))}`,
        'print(json.dumps(r))',
      ].join('\n'),
    );
    expect(codes).toEqual({
      get: 'AccessDenied',
      put: 'AccessDenied',
      list: 'AccessDenied',
      delete: 'AccessDenied',
      buckets: 'AccessDenied',
      policy: 'AccessDenied',
    });
    expect(errorCode(await awsAs(alice, ['iam', 'list-users']))).toBe('AccessDenied');
    expect(errorCode(await awsAs(alice, ['iam', 'create-user', '--user-name', uniq('mallory')]))).toBe('AccessDenied');
    const client = new AwsClient({ ...alice, service: 's3', region: 'us-east-1' });
    const admin = await fetch(await client.sign(`${gateway().endpoint}/-/admin/keyring`, { method: 'GET' }));
    expect(admin.status).toBe(403);
    // The object is still there: nothing the user tried changed it.
    expect((await aws(['s3api', 'head-object', '--bucket', THEIRS, '--key', 'x'])).code).toBe(0);
  });

  it("another principal's CMK: the key policy decides, and S3 answers with the KMS refusal", async () => {
    const keyId = json(await aws(['kms', 'create-key'])).KeyMetadata.KeyId as string;
    // Root seals an object under it while the default key policy is in force.
    json(
      await aws([
        's3api',
        'put-object',
        '--bucket',
        OURS,
        '--key',
        'kms.txt',
        '--body',
        EMPTY,
        '--server-side-encryption',
        'aws:kms',
        '--ssekms-key-id',
        keyId,
      ]),
    );
    // The user's identity policy allows kms:* use; the default key policy delegates to it.
    const ok = await awsAs(alice, ['kms', 'encrypt', '--key-id', keyId, '--plaintext', 'aGVsbG8=']);
    expect(ok.code).toBe(0);
    // A key policy that names only another user: not the account, so IAM grants count for nothing.
    const policy = join(files.dir, 'key.json');
    writeFileSync(
      policy,
      JSON.stringify({
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::000000000000:user/someone-else' }, Action: 'kms:*', Resource: '*' }],
      }),
    );
    json(
      await aws([
        'kms',
        'put-key-policy',
        '--key-id',
        keyId,
        '--policy-name',
        'default',
        '--policy',
        `file://${policy}`,
        '--bypass-policy-lockout-safety-check',
      ]),
    );
    const put = await awsAs(alice, [
      's3api',
      'put-object',
      '--bucket',
      OURS,
      '--key',
      'kms2.txt',
      '--body',
      EMPTY,
      '--server-side-encryption',
      'aws:kms',
      '--ssekms-key-id',
      keyId,
    ]);
    expect(errorCode(put)).toBe('AccessDenied');
    expect(put.stderr).toContain('kms:GenerateDataKey');
    const get = await awsAs(alice, ['s3api', 'get-object', '--bucket', OURS, '--key', 'kms.txt', join(files.dir, 'out')]);
    expect(errorCode(get)).toBe('AccessDenied');
    expect(get.stderr).toContain('kms:Decrypt');
    expect(errorCode(await awsAs(alice, ['kms', 'encrypt', '--key-id', keyId, '--plaintext', 'aGVsbG8=']))).toBe('AccessDeniedException');
  });

  it('a bucket policy that denies unencrypted uploads refuses a PUT without SSE and accepts one with it', async () => {
    const policy = join(files.dir, 'bucket.json');
    writeFileSync(
      policy,
      JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          {
            Sid: 'DenyUnencrypted',
            Effect: 'Deny',
            Principal: '*',
            Action: 's3:PutObject',
            Resource: `arn:aws:s3:::${OURS}/*`,
            Condition: { Null: { 's3:x-amz-server-side-encryption': 'true' } },
          },
        ],
      }),
    );
    json(await aws(['s3api', 'put-bucket-policy', '--bucket', OURS, '--policy', `file://${policy}`]));
    const r = await boto3As(
      alice,
      [
        `r = {'plain': code(lambda: s3.put_object(Bucket='${OURS}', Key='p', Body=b'1')),`,
        `     'sealed': code(lambda: s3.put_object(Bucket='${OURS}', Key='s', Body=b'1', ServerSideEncryption='AES256'))}`,
        'print(json.dumps(r))',
      ].join('\n'),
    );
    expect(r).toEqual({ plain: 'AccessDenied', sealed: 'OK' });
    // Root is held to it too, and can always take the policy away.
    expect(errorCode(await aws(['s3api', 'put-object', '--bucket', OURS, '--key', 'p', '--body', EMPTY]))).toBe('AccessDenied');
    json(await aws(['s3api', 'delete-bucket-policy', '--bucket', OURS]));
  });

  it("disabling the user's key takes effect within the cache bound; deleting it ends its presigned URLs", async () => {
    const url = (await awsAs(alice, ['s3', 'presign', `s3://${OURS}/a.bin`])).stdout.trim();
    expect((await fetch(url)).status).toBe(200);
    json(await aws(['iam', 'update-access-key', '--user-name', USER, '--access-key-id', alice.accessKeyId, '--status', 'Inactive']));
    await sleep(BOUND_MS);
    expect(errorCode(await awsAs(alice, ['s3api', 'list-objects-v2', '--bucket', OURS]))).toBe('InvalidAccessKeyId');
    json(await aws(['iam', 'update-access-key', '--user-name', USER, '--access-key-id', alice.accessKeyId, '--status', 'Active']));
    await sleep(BOUND_MS);
    expect((await fetch(url)).status).toBe(200);
    json(await aws(['iam', 'delete-access-key', '--user-name', USER, '--access-key-id', alice.accessKeyId]));
    await sleep(BOUND_MS);
    expect((await fetch(url)).status).toBe(403);
  });
});

/** The isolate cache bound of the suite's gateway, and a second for the clocks. */
const BOUND_MS = 6_000;
