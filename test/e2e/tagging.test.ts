// Object tagging and storage classes with real clients: @aws-sdk/client-s3, the aws CLI,
// boto3 and cos-nodejs-sdk-v5 (the COS dialect: x-cos-* headers, COS XML).

import { execFile, execFileSync } from 'node:child_process';
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectTaggingCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  PutObjectTaggingCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type COS from 'cos-nodejs-sdk-v5';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aws, COS_APPID, COS_REGION, cosClient, cosError, gateway, hasAws, random, s3Client, s3Error, sdkBody, uniq } from './helpers';

const BUCKET = uniq('e2e-tags').toLowerCase();
const COS_BUCKET = `${uniq('e2e-tags-cos').toLowerCase()}-${COS_APPID}`;
const Region = COS_REGION;
const MiB = 1024 * 1024;

let s3: S3Client;
let cos: COS;

beforeAll(async () => {
  s3 = s3Client();
  cos = cosClient();
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
  expect((await cos.putBucket({ Bucket: COS_BUCKET, Region })).statusCode).toBe(200);
});

afterAll(() => s3?.destroy());

const tagsOf = async (Key: string) => (await s3.send(new GetObjectTaggingCommand({ Bucket: BUCKET, Key }))).TagSet;

describe('object tagging with @aws-sdk/client-s3', () => {
  it('PutObject with Tagging; GetObject reports TagCount; Put/Get/DeleteObjectTagging over the same data', async () => {
    const data = random(300_001);
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'sdk', Body: data, Tagging: 'project=blue&note=two%20words' }));
    expect(await tagsOf('sdk')).toEqual([
      { Key: 'project', Value: 'blue' },
      { Key: 'note', Value: 'two words' },
    ]);
    const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'sdk' }));
    expect(got.TagCount).toBe(2);
    expect((await sdkBody(got)).equals(data)).toBe(true);
    const head = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'sdk' }));

    await s3.send(
      new PutObjectTaggingCommand({ Bucket: BUCKET, Key: 'sdk', Tagging: { TagSet: [{ Key: 'Straße', Value: '中文 + = . _ : / @' }] } }),
    );
    expect(await tagsOf('sdk')).toEqual([{ Key: 'Straße', Value: '中文 + = . _ : / @' }]);
    const again = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'sdk' }));
    expect(again.TagCount).toBe(1);
    expect(again.ETag).toBe(head.ETag);
    expect((await sdkBody(again)).equals(data)).toBe(true);

    await s3.send(new DeleteObjectTaggingCommand({ Bucket: BUCKET, Key: 'sdk' }));
    expect(await tagsOf('sdk')).toEqual([]);
    const untagged = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'sdk' }));
    expect(untagged.TagCount).toBeUndefined();
    expect((await sdkBody(untagged)).equals(data)).toBe(true);
  });

  it('refuses what S3 refuses: InvalidTag, BadRequest past 10 tags, NoSuchKey, and a deleted object stays deleted', async () => {
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'refuse', Body: 'x', Tagging: 'keep=1' }));
    const put = (TagSet: { Key: string; Value: string }[], Key = 'refuse') =>
      s3Error(s3.send(new PutObjectTaggingCommand({ Bucket: BUCKET, Key, Tagging: { TagSet } })));
    expect(await put([{ Key: 'aws:cost', Value: '1' }])).toMatchObject({
      name: 'InvalidTag',
      status: 400,
      message: 'System tags cannot be added/updated by requester',
    });
    expect(await put([{ Key: 'a'.repeat(129), Value: '' }])).toMatchObject({ name: 'InvalidTag', status: 400 });
    expect(
      await put([
        { Key: 'a', Value: '1' },
        { Key: 'a', Value: '2' },
      ]),
    ).toMatchObject({ name: 'InvalidTag', message: 'Cannot provide multiple Tags with the same key' });
    expect(await put(Array.from({ length: 11 }, (_, i) => ({ Key: `k${i}`, Value: '' })))).toMatchObject({
      name: 'BadRequest',
      status: 400,
      message: 'Object tags cannot be greater than 10',
    });
    expect(await tagsOf('refuse')).toEqual([{ Key: 'keep', Value: '1' }]);
    expect(
      await s3Error(s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'refuse-new', Body: 'x', Tagging: 'a=1&a=2' }))),
    ).toMatchObject({ name: 'InvalidArgument', status: 400 });
    expect(await s3Error(s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'refuse-new' })))).toMatchObject({ status: 404 });

    expect(await s3Error(s3.send(new GetObjectTaggingCommand({ Bucket: BUCKET, Key: 'missing' })))).toMatchObject({
      name: 'NoSuchKey',
      status: 404,
    });
    await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: 'refuse' }));
    expect(await put([{ Key: 'b', Value: '2' }])).toMatchObject({ name: 'NoSuchKey', status: 404 });
    expect(await s3Error(s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'refuse' })))).toMatchObject({ status: 404 });
  });

  it('CopyObject: the source tags by default (COPY), the request tags with REPLACE', async () => {
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'copy-src', Body: 'copied', Tagging: 'from=source' }));
    const CopySource = `${BUCKET}/copy-src`;
    await s3.send(new CopyObjectCommand({ Bucket: BUCKET, Key: 'copy-default', CopySource }));
    expect(await tagsOf('copy-default')).toEqual([{ Key: 'from', Value: 'source' }]);
    await s3.send(
      new CopyObjectCommand({ Bucket: BUCKET, Key: 'copy-replace', CopySource, TaggingDirective: 'REPLACE', Tagging: 'to=copy&x=' }),
    );
    expect(await tagsOf('copy-replace')).toEqual([
      { Key: 'to', Value: 'copy' },
      { Key: 'x', Value: '' },
    ]);
    expect(await sdkBody(await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'copy-replace' })))).toEqual(Buffer.from('copied'));
  });

  it('CreateMultipartUpload with Tagging: the completed object carries the tags', async () => {
    const Key = 'mp-tagged';
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key, Tagging: 'stage=upload' }));
    const a = random(5 * MiB);
    const b = random(1000);
    const p1 = await s3.send(new UploadPartCommand({ Bucket: BUCKET, Key, UploadId, PartNumber: 1, Body: a }));
    const p2 = await s3.send(new UploadPartCommand({ Bucket: BUCKET, Key, UploadId, PartNumber: 2, Body: b }));
    await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: BUCKET,
        Key,
        UploadId,
        MultipartUpload: {
          Parts: [
            { PartNumber: 1, ETag: p1.ETag },
            { PartNumber: 2, ETag: p2.ETag },
          ],
        },
      }),
    );
    expect(await tagsOf(Key)).toEqual([{ Key: 'stage', Value: 'upload' }]);
    await s3.send(new PutObjectTaggingCommand({ Bucket: BUCKET, Key, Tagging: { TagSet: [{ Key: 'stage', Value: 'done' }] } }));
    const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key }));
    expect(got.TagCount).toBe(1);
    expect((await sdkBody(got)).equals(Buffer.concat([a, b]))).toBe(true);
  });
});

describe('presigned PutObject (the presigner moves Tagging and StorageClass into the query)', () => {
  it('tags the object; a presigned STANDARD_IA upload is refused with InvalidStorageClass', async () => {
    const url = await getSignedUrl(s3, new PutObjectCommand({ Bucket: BUCKET, Key: 'presigned', Tagging: 'via=presigner' }), {
      expiresIn: 300,
    });
    expect(url).toContain('x-amz-tagging=');
    const r = await fetch(url, { method: 'PUT', body: 'presigned body' });
    expect(r.status, await r.clone().text()).toBe(200);
    expect(await tagsOf('presigned')).toEqual([{ Key: 'via', Value: 'presigner' }]);
    const ia = await getSignedUrl(s3, new PutObjectCommand({ Bucket: BUCKET, Key: 'presigned-ia', StorageClass: 'STANDARD_IA' }), {
      expiresIn: 300,
    });
    expect(ia).toContain('x-amz-storage-class=STANDARD_IA');
    const refused = await fetch(ia, { method: 'PUT', body: 'x' });
    expect(refused.status).toBe(400);
    expect(await refused.text()).toContain('<Code>InvalidStorageClass</Code>');
    expect(await s3Error(s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'presigned-ia' })))).toMatchObject({ status: 404 });
  });
});

describe('storage classes with @aws-sdk/client-s3', () => {
  it('STANDARD is accepted and listed; any other class is refused with InvalidStorageClass and nothing is stored', async () => {
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'class/standard', Body: 'x', StorageClass: 'STANDARD' }));
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'class/' }));
    expect(listed.Contents?.map((o) => [o.Key, o.StorageClass])).toEqual([['class/standard', 'STANDARD']]);
    expect((await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'class/standard' }))).StorageClass).toBeUndefined();
    for (const StorageClass of ['STANDARD_IA', 'GLACIER', 'INTELLIGENT_TIERING'] as const) {
      expect(await s3Error(s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'class/ia', Body: 'x', StorageClass })))).toEqual({
        name: 'InvalidStorageClass',
        status: 400,
        message: 'The storage class you specified is not valid',
      });
    }
    expect(
      await s3Error(s3.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: 'class/mp', StorageClass: 'DEEP_ARCHIVE' }))),
    ).toMatchObject({ name: 'InvalidStorageClass' });
    expect(
      await s3Error(
        s3.send(
          new CopyObjectCommand({ Bucket: BUCKET, Key: 'class/copy', CopySource: `${BUCKET}/class/standard`, StorageClass: 'ONEZONE_IA' }),
        ),
      ),
    ).toMatchObject({ name: 'InvalidStorageClass' });
    const after = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'class/' }));
    expect(after.Contents?.map((o) => o.Key)).toEqual(['class/standard']);
  });
});

// ---------------------------------------------------------------- aws CLI

async function cli(args: string[]): Promise<string> {
  const r = await aws(args);
  expect(r.code, `aws ${args.join(' ')}\nstderr: ${r.stderr}\nstdout: ${r.stdout}`).toBe(0);
  return r.stdout;
}

describe.skipIf(!hasAws)('aws CLI', () => {
  it('s3api put-object --tagging, get/put/delete-object-tagging, copy-object --tagging-directive REPLACE', async () => {
    await cli(['s3api', 'put-object', '--bucket', BUCKET, '--key', 'cli', '--body', '/etc/hostname', '--tagging', 'team=storage&tier=1']);
    const got = JSON.parse(await cli(['s3api', 'get-object-tagging', '--bucket', BUCKET, '--key', 'cli']));
    expect(got.TagSet).toEqual([
      { Key: 'team', Value: 'storage' },
      { Key: 'tier', Value: '1' },
    ]);
    await cli(['s3api', 'put-object-tagging', '--bucket', BUCKET, '--key', 'cli', '--tagging', 'TagSet=[{Key=k,Value=v}]']);
    expect(JSON.parse(await cli(['s3api', 'get-object-tagging', '--bucket', BUCKET, '--key', 'cli'])).TagSet).toEqual([
      { Key: 'k', Value: 'v' },
    ]);
    await cli([
      's3api',
      'copy-object',
      '--bucket',
      BUCKET,
      '--key',
      'cli-copy',
      '--copy-source',
      `${BUCKET}/cli`,
      '--tagging-directive',
      'REPLACE',
      '--tagging',
      'copied=yes',
    ]);
    expect(JSON.parse(await cli(['s3api', 'get-object-tagging', '--bucket', BUCKET, '--key', 'cli-copy'])).TagSet).toEqual([
      { Key: 'copied', Value: 'yes' },
    ]);
    await cli(['s3api', 'delete-object-tagging', '--bucket', BUCKET, '--key', 'cli']);
    expect(JSON.parse(await cli(['s3api', 'get-object-tagging', '--bucket', BUCKET, '--key', 'cli'])).TagSet).toEqual([]);
  });

  it('s3 cp --storage-class STANDARD is accepted; STANDARD_IA is refused with InvalidStorageClass', async () => {
    await cli(['s3', 'cp', '/etc/hostname', `s3://${BUCKET}/cli-std`, '--storage-class', 'STANDARD']);
    const r = await aws(['s3', 'cp', '/etc/hostname', `s3://${BUCKET}/cli-ia`, '--storage-class', 'STANDARD_IA']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('InvalidStorageClass');
    const h = await aws(['s3api', 'head-object', '--bucket', BUCKET, '--key', 'cli-ia']);
    expect(h.code).not.toBe(0);
  });
});

// ---------------------------------------------------------------- boto3

/** Runs a boto3 script with `s3` (a client for the gateway) and BUCKET defined; returns what it prints as JSON. */
function boto3(script: string): Promise<unknown> {
  const g = gateway();
  const prelude = [
    'import json, boto3, botocore',
    `s3 = boto3.client("s3", endpoint_url=${JSON.stringify(g.endpoint)}, region_name="us-east-1", config=botocore.config.Config(s3={"addressing_style": "path"}))`,
    `BUCKET = ${JSON.stringify(BUCKET)}`,
  ].join('\n');
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    AWS_ACCESS_KEY_ID: g.accessKeyId,
    AWS_SECRET_ACCESS_KEY: g.secretAccessKey,
    AWS_CONFIG_FILE: '/dev/null',
    AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
  };
  for (const k of ['PYENV_ROOT', 'PYENV_VERSION']) if (process.env[k]) env[k] = process.env[k];
  return new Promise((resolve, reject) =>
    execFile('python3', ['-c', `${prelude}\n${script}`], { env, timeout: 60_000, encoding: 'utf8' }, (err, stdout, stderr) =>
      err ? reject(new Error(`boto3 script failed: ${stderr}`)) : resolve(JSON.parse(stdout)),
    ),
  );
}

function findBoto3(): boolean {
  try {
    execFileSync('python3', ['-c', 'import boto3'], { timeout: 30_000, stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
const hasBoto3 = findBoto3();
if (!hasBoto3) console.warn('e2e: WARNING: boto3 is not importable by python3, so the boto3 tagging test is skipped.');

describe.skipIf(!hasBoto3)('boto3', () => {
  it('put_object(Tagging=...), get_object TagCount, put/get_object_tagging; StorageClass GLACIER is InvalidStorageClass', async () => {
    const out = await boto3(`
s3.put_object(Bucket=BUCKET, Key="boto", Body=b"hello", Tagging="a=1&b=2")
count = s3.get_object(Bucket=BUCKET, Key="boto")["TagCount"]
s3.put_object_tagging(Bucket=BUCKET, Key="boto", Tagging={"TagSet": [{"Key": "only", "Value": "one"}]})
tags = s3.get_object_tagging(Bucket=BUCKET, Key="boto")["TagSet"]
try:
    s3.put_object(Bucket=BUCKET, Key="boto-glacier", Body=b"x", StorageClass="GLACIER")
    refused = None
except botocore.exceptions.ClientError as e:
    refused = [e.response["Error"]["Code"], e.response["ResponseMetadata"]["HTTPStatusCode"], e.response["Error"].get("StorageClassRequested")]
print(json.dumps({"count": count, "tags": tags, "refused": refused}))
`);
    expect(out).toEqual({ count: 2, tags: [{ Key: 'only', Value: 'one' }], refused: ['InvalidStorageClass', 400, 'GLACIER'] });
  });
});

// ---------------------------------------------------------------- COS SDK

describe('cos-nodejs-sdk-v5 (COS dialect)', () => {
  it('x-cos-tagging on putObject; putObjectTagging / getObjectTagging / deleteObjectTagging; x-cos-tagging-count on HEAD', async () => {
    const Key = 'cos-tagged';
    const put = await cos.putObject({
      Bucket: COS_BUCKET,
      Region,
      Key,
      Body: Buffer.from('cos data'),
      Headers: { 'x-cos-tagging': 'a=1' },
    });
    expect(put.statusCode).toBe(200);
    expect((await cos.getObjectTagging({ Bucket: COS_BUCKET, Region, Key })).Tags).toEqual([{ Key: 'a', Value: '1' }]);
    const tagged = await cos.putObjectTagging({
      Bucket: COS_BUCKET,
      Region,
      Key,
      Tags: [
        { Key: 'k1', Value: 'v1' },
        { Key: 'k2', Value: 'v2' },
      ],
    });
    expect(tagged.statusCode).toBe(200);
    expect((await cos.getObjectTagging({ Bucket: COS_BUCKET, Region, Key })).Tags).toEqual([
      { Key: 'k1', Value: 'v1' },
      { Key: 'k2', Value: 'v2' },
    ]);
    const head = await cos.headObject({ Bucket: COS_BUCKET, Region, Key });
    expect(head.headers?.['x-cos-tagging-count']).toBe('2');
    expect(head.headers?.['x-amz-tagging-count']).toBeUndefined();
    expect((await cos.deleteObjectTagging({ Bucket: COS_BUCKET, Region, Key })).statusCode).toBe(204);
    expect((await cos.getObjectTagging({ Bucket: COS_BUCKET, Region, Key })).Tags).toEqual([]);
    const got = await cos.getObject({ Bucket: COS_BUCKET, Region, Key });
    expect(got.Body.toString()).toBe('cos data');
  });

  it('a bad tag is InvalidTag; StorageClass ARCHIVE is InvalidStorageClass, STANDARD is accepted', async () => {
    const Key = 'cos-refused';
    await cos.putObject({ Bucket: COS_BUCKET, Region, Key, Body: Buffer.from('x'), StorageClass: 'STANDARD' });
    const bad = await cosError(cos.putObjectTagging({ Bucket: COS_BUCKET, Region, Key, Tags: [{ Key: 'a*b', Value: '1' }] }));
    expect(bad.statusCode).toBe(400);
    expect(bad.code).toBe('InvalidTag');
    const archive = await cosError(
      cos.putObject({ Bucket: COS_BUCKET, Region, Key: 'cos-archive', Body: Buffer.from('x'), StorageClass: 'ARCHIVE' }),
    );
    expect(archive.statusCode).toBe(400);
    expect(archive.code).toBe('InvalidStorageClass');
  });
});
