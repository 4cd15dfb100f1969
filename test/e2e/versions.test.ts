// ListObjectVersions, GetBucketVersioning and versionId=null through real clients: boto3
// (list_object_versions, its paginator, bucket.object_versions.delete() and the
// list-then-DeleteObjects teardown ceph/s3-tests runs after every test),
// @aws-sdk/client-s3, and cos-nodejs-sdk-v5 in the COS dialect. No bucket has versioning:
// every object is its null version.

import { execFile } from 'node:child_process';
import {
  CopyObjectCommand,
  CreateBucketCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetBucketVersioningCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectVersionsCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import type COS from 'cos-nodejs-sdk-v5';
import { beforeAll, describe, expect, it } from 'vitest';
import { aws, COS_APPID, COS_REGION, cosClient, cosError, gateway, hasAws, s3Client, s3Error, uniq } from './helpers';

const WELL_FORMED = 'Zm9vYmFyYmF6cXV4eHl6enkxMjM0NTY3'; // 32 URL-safe characters, the shape of S3's own ids
let s3: S3Client;

beforeAll(() => {
  s3 = s3Client();
});

async function bucketWith(keys: string[]): Promise<string> {
  const Bucket = uniq('e2e-versions').toLowerCase();
  await s3.send(new CreateBucketCommand({ Bucket }));
  for (const Key of keys) await s3.send(new PutObjectCommand({ Bucket, Key, Body: `body of ${Key}` }));
  return Bucket;
}

// ---------------------------------------------------------------- boto3

/** boto3 against the gateway: `script` runs with `s3` (client), `res` (resource), `bucket` and `out` (printed as JSON). */
function boto3(bucket: string, script: string): Promise<unknown> {
  const g = gateway();
  const program = `
import json, sys, boto3
from botocore.config import Config
kw = dict(endpoint_url=${JSON.stringify(g.endpoint)}, region_name='us-east-1',
          aws_access_key_id=${JSON.stringify(g.accessKeyId)}, aws_secret_access_key=${JSON.stringify(g.secretAccessKey)},
          config=Config(s3={'addressing_style': 'path'}, retries={'max_attempts': 1}))
s3 = boto3.client('s3', **kw)
res = boto3.resource('s3', **kw)
bucket = sys.argv[1]
out = {}
${script}
print(json.dumps(out, default=str))
`;
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, LANG: 'C.UTF-8', AWS_CONFIG_FILE: '/dev/null' };
  for (const k of ['PYENV_ROOT', 'PYENV_VERSION', 'PYTHONPATH']) if (process.env[k]) env[k] = process.env[k];
  return new Promise((resolve, reject) => {
    execFile('python3', ['-c', program, bucket], { env, timeout: 90_000, encoding: 'utf8' }, (err, stdout, stderr) => {
      if (err) reject(new Error(`boto3 failed: ${stderr || err.message}`));
      else resolve(JSON.parse(stdout));
    });
  });
}

describe('boto3', () => {
  const KEYS = ['a', 'b/1', 'b/2', 'c', 'd e'];

  it('list_object_versions: each object once, VersionId "null", IsLatest, no delete markers', async () => {
    const Bucket = await bucketWith(KEYS);
    const out = (await boto3(
      Bucket,
      `
r = s3.list_object_versions(Bucket=bucket)
out['versions'] = [{k: v[k] for k in ('Key', 'VersionId', 'IsLatest', 'Size', 'StorageClass')} for v in r['Versions']]
out['etags'] = [v['ETag'] for v in r['Versions']]
out['owners'] = [bool(v['Owner']['ID']) for v in r['Versions']]
out['deleteMarkers'] = r.get('DeleteMarkers', [])
out['truncated'] = r['IsTruncated']
out['status'] = s3.get_bucket_versioning(Bucket=bucket).get('Status')
`,
    )) as Record<string, unknown>;
    expect(out.versions).toEqual(
      KEYS.map((Key) => ({ Key, VersionId: 'null', IsLatest: true, Size: `body of ${Key}`.length, StorageClass: 'STANDARD' })),
    );
    for (const e of out.etags as string[]) expect(e).toMatch(/^"[0-9a-f]{32}"$/);
    expect(out.owners).toEqual(KEYS.map(() => true));
    expect(out).toMatchObject({ deleteMarkers: [], truncated: false, status: null });
  });

  it('the list_object_versions paginator walks pages of two with the key and version-id markers', async () => {
    const Bucket = await bucketWith(KEYS);
    const out = (await boto3(
      Bucket,
      `
pages = s3.get_paginator('list_object_versions').paginate(Bucket=bucket, PaginationConfig={'PageSize': 2})
out['pages'] = [[v['Key'] for v in p.get('Versions', [])] for p in pages]
out['markers'] = [[p.get('NextKeyMarker'), p.get('NextVersionIdMarker')] for p in s3.get_paginator('list_object_versions').paginate(Bucket=bucket, PaginationConfig={'PageSize': 2})]
d = s3.list_object_versions(Bucket=bucket, Delimiter='/')
out['delimited'] = [[v['Key'] for v in d['Versions']], [p['Prefix'] for p in d['CommonPrefixes']]]
out['raw'] = [v['Key'] for v in s3.list_object_versions(Bucket=bucket, Prefix='d', EncodingType='url')['Versions']]
`,
    )) as { pages: string[][]; markers: [string | null, string | null][]; delimited: [string[], string[]]; raw: string[] };
    expect(out.pages).toEqual([['a', 'b/1'], ['b/2', 'c'], ['d e']]);
    expect(out.markers).toEqual([
      ['b/1', 'null'],
      ['c', 'null'],
      [null, null],
    ]);
    // botocore asks for encoding-type=url and decodes the answer, unless the caller asked for it.
    expect(out.delimited).toEqual([['a', 'c', 'd e'], ['b/']]);
    expect(out.raw).toEqual(['d%20e']);
  });

  it("bucket.object_versions.delete() empties the bucket (ceph/s3-tests' teardown), and the bucket then deletes", async () => {
    const Bucket = await bucketWith(KEYS);
    const out = (await boto3(
      Bucket,
      `
res.Bucket(bucket).object_versions.delete()
out['left'] = s3.list_object_versions(Bucket=bucket).get('Versions', [])
s3.delete_bucket(Bucket=bucket)
out['deleted'] = True
`,
    )) as Record<string, unknown>;
    expect(out).toEqual({ left: [], deleted: true });
  });

  it('list_object_versions then delete_objects with each VersionId, as s3-tests nukes a bucket', async () => {
    const Bucket = await bucketWith(KEYS);
    const out = (await boto3(
      Bucket,
      `
r = s3.list_object_versions(Bucket=bucket)
objects = [{'Key': v['Key'], 'VersionId': v['VersionId']} for v in r.get('Versions', []) + r.get('DeleteMarkers', [])]
d = s3.delete_objects(Bucket=bucket, Delete={'Objects': objects}, BypassGovernanceRetention=True)
out['deleted'] = sorted([[x['Key'], x.get('VersionId')] for x in d.get('Deleted', [])])
out['errors'] = d.get('Errors', [])
out['left'] = s3.list_objects_v2(Bucket=bucket).get('KeyCount')
`,
    )) as Record<string, unknown>;
    expect(out).toEqual({ deleted: KEYS.map((k) => [k, 'null']), errors: [], left: 0 });
  });

  it('VersionId="null" on get_object, head_object, copy_object and delete_object', async () => {
    const Bucket = await bucketWith(['src']);
    const out = (await boto3(
      Bucket,
      `
g = s3.get_object(Bucket=bucket, Key='src', VersionId='null')
out['body'] = g['Body'].read().decode()
out['getVersion'] = g.get('VersionId')
out['headLength'] = s3.head_object(Bucket=bucket, Key='src', VersionId='null')['ContentLength']
s3.copy_object(Bucket=bucket, Key='dst', CopySource={'Bucket': bucket, 'Key': 'src', 'VersionId': 'null'})
out['copied'] = s3.get_object(Bucket=bucket, Key='dst')['Body'].read().decode()
s3.delete_object(Bucket=bucket, Key='src', VersionId='null')
try:
    s3.head_object(Bucket=bucket, Key='src')
    out['gone'] = False
except s3.exceptions.ClientError as e:
    out['gone'] = e.response['Error']['Code']
try:
    s3.get_object(Bucket=bucket, Key='dst', VersionId=${JSON.stringify(WELL_FORMED)})
except s3.exceptions.ClientError as e:
    out['other'] = [e.response['Error']['Code'], e.response['ResponseMetadata']['HTTPStatusCode']]
`,
    )) as Record<string, unknown>;
    expect(out).toEqual({
      body: 'body of src',
      getVersion: null,
      headLength: 11,
      copied: 'body of src',
      gone: '404',
      other: ['NoSuchVersion', 404],
    });
  });
});

// ---------------------------------------------------------------- aws CLI

describe.skipIf(!hasAws)('aws CLI', () => {
  it('s3api list-object-versions (paging one at a time) and delete-object --version-id null', async () => {
    const Bucket = await bucketWith(['one', 'two/2']);
    const listed = await aws(['s3api', 'list-object-versions', '--bucket', Bucket, '--page-size', '1']);
    expect(listed.code, listed.stderr).toBe(0);
    const versions = (JSON.parse(listed.stdout) as { Versions: { Key: string; VersionId: string; IsLatest: boolean }[] }).Versions;
    expect(versions.map((v) => [v.Key, v.VersionId, v.IsLatest])).toEqual([
      ['one', 'null', true],
      ['two/2', 'null', true],
    ]);
    const del = await aws(['s3api', 'delete-object', '--bucket', Bucket, '--key', 'one', '--version-id', 'null']);
    expect(del.code, del.stderr).toBe(0);
    const after = await aws(['s3api', 'list-object-versions', '--bucket', Bucket, '--query', 'Versions[].Key']);
    expect(JSON.parse(after.stdout)).toEqual(['two/2']);
    const versioning = await aws(['s3api', 'get-bucket-versioning', '--bucket', Bucket]);
    expect(versioning.code, versioning.stderr).toBe(0);
  });
});

// ---------------------------------------------------------------- AWS SDK for JavaScript

describe('@aws-sdk/client-s3', () => {
  it('ListObjectVersions pages with KeyMarker/VersionIdMarker; GetBucketVersioning has no Status', async () => {
    const keys = ['k1', 'k2', 'k3'];
    const Bucket = await bucketWith(keys);
    const seen: string[] = [];
    let KeyMarker: string | undefined;
    let VersionIdMarker: string | undefined;
    for (let n = 0; n < 5; n++) {
      const r = await s3.send(new ListObjectVersionsCommand({ Bucket, MaxKeys: 2, KeyMarker, VersionIdMarker }));
      for (const v of r.Versions ?? []) {
        expect(v).toMatchObject({ VersionId: 'null', IsLatest: true, StorageClass: 'STANDARD' });
        expect(v.LastModified).toBeInstanceOf(Date);
        seen.push(v.Key!);
      }
      expect(r.DeleteMarkers).toBeUndefined();
      if (!r.IsTruncated) break;
      ({ NextKeyMarker: KeyMarker, NextVersionIdMarker: VersionIdMarker } = r);
    }
    expect(seen).toEqual(keys);

    const v = await s3.send(new GetBucketVersioningCommand({ Bucket }));
    expect(v.Status).toBeUndefined();
    expect(v.MFADelete).toBeUndefined();
    const put = await s3Error(s3.send(new PutBucketVersioningCommand({ Bucket, VersioningConfiguration: { Status: 'Enabled' } })));
    expect(put).toMatchObject({ name: 'NotImplemented', status: 501 });
  });

  it('VersionId "null" on GetObject, HeadObject, CopyObject, DeleteObject and DeleteObjects; other ids refused as S3 does', async () => {
    const Bucket = await bucketWith(['x', 'y', 'z']);
    const g = await s3.send(new GetObjectCommand({ Bucket, Key: 'x', VersionId: 'null' }));
    expect(await g.Body!.transformToString()).toBe('body of x');
    expect(g.VersionId).toBeUndefined();
    expect((await s3.send(new HeadObjectCommand({ Bucket, Key: 'x', VersionId: 'null' }))).ContentLength).toBe(9);
    await s3.send(new CopyObjectCommand({ Bucket, Key: 'x2', CopySource: `${Bucket}/x?versionId=null` }));
    expect(await (await s3.send(new GetObjectCommand({ Bucket, Key: 'x2' }))).Body!.transformToString()).toBe('body of x');

    expect(await s3Error(s3.send(new GetObjectCommand({ Bucket, Key: 'x', VersionId: WELL_FORMED })))).toMatchObject({
      name: 'NoSuchVersion',
      status: 404,
    });
    expect(await s3Error(s3.send(new GetObjectCommand({ Bucket, Key: 'x', VersionId: 'v1' })))).toMatchObject({
      name: 'InvalidArgument',
      status: 400,
      message: 'Invalid version id specified',
    });
    expect(
      await s3Error(s3.send(new CopyObjectCommand({ Bucket, Key: 'x3', CopySource: `${Bucket}/x?versionId=${WELL_FORMED}` }))),
    ).toMatchObject({ name: 'NoSuchVersion', status: 404 });

    // A delete of a version this bucket does not hold removes nothing and names it back.
    const other = await s3.send(new DeleteObjectCommand({ Bucket, Key: 'x', VersionId: WELL_FORMED }));
    expect(other.VersionId).toBe(WELL_FORMED);
    expect((await s3.send(new HeadObjectCommand({ Bucket, Key: 'x' }))).ContentLength).toBe(9);
    const del = await s3.send(new DeleteObjectCommand({ Bucket, Key: 'x', VersionId: 'null' }));
    expect(del.VersionId).toBeUndefined();
    expect(await s3Error(s3.send(new HeadObjectCommand({ Bucket, Key: 'x' })))).toMatchObject({ status: 404 });

    const many = await s3.send(
      new DeleteObjectsCommand({
        Bucket,
        Delete: {
          Objects: [
            { Key: 'y', VersionId: 'null' },
            { Key: 'z', VersionId: 'not-a-version' },
          ],
        },
      }),
    );
    expect(many.Deleted).toEqual([{ Key: 'y', VersionId: 'null' }]);
    expect(many.Errors).toEqual([
      { Key: 'z', VersionId: 'not-a-version', Code: 'InvalidArgument', Message: 'Invalid version id specified' },
    ]);
    const left = await s3.send(new ListObjectVersionsCommand({ Bucket }));
    expect(left.Versions?.map((v) => v.Key)).toEqual(['x2', 'z']);
  });
});

// ---------------------------------------------------------------- COS SDK

describe('cos-nodejs-sdk-v5', () => {
  const Bucket = `${uniq('e2e-versions-cos').toLowerCase()}-${COS_APPID}`;
  const Region = COS_REGION;
  let cos: COS;

  beforeAll(async () => {
    cos = cosClient();
    await cos.putBucket({ Bucket, Region });
    for (const Key of ['p/1', 'p/2', 'q']) await cos.putObject({ Bucket, Region, Key, Body: Buffer.from(`body of ${Key}`) });
  });

  // The SDK sends KeyMarker as key-marker and VersionId as versionId; its typings lack both.
  const listVersions = (p: Partial<COS.ListObjectVersionsParams> & { KeyMarker?: string }) =>
    cos.listObjectVersions({ Bucket, Region, ...p } as COS.ListObjectVersionsParams);
  const deleteVersion = (Key: string, VersionId: string) => cos.deleteObject({ Bucket, Region, Key, VersionId } as COS.DeleteObjectParams);

  it('listObjectVersions (GET Bucket Object versions) and getBucketVersioning answer in the COS dialect', async () => {
    const r = await listVersions({ MaxKeys: '2' });
    expect(r.statusCode).toBe(200);
    expect(r.headers?.['x-cos-request-id']).toMatch(/\S/);
    // COS writes the version of an object in a bucket that never had versioning as "" (S3: "null").
    expect(r.Versions.map((v) => [v.Key, v.VersionId, v.IsLatest, v.StorageClass])).toEqual([
      ['p/1', '', 'true', 'STANDARD'],
      ['p/2', '', 'true', 'STANDARD'],
    ]);
    expect(r.DeleteMarkers).toEqual([]);
    expect(r).toMatchObject({ IsTruncated: 'true', NextKeyMarker: 'p/2', NextVersionIdMarker: '' });
    // As COS documents it: an empty NextVersionIdMarker goes back as an empty version-id-marker.
    const next = await listVersions({ KeyMarker: 'p/2', VersionIdMarker: '' });
    expect(next.Versions.map((v) => v.Key)).toEqual(['q']);
    expect(next.IsTruncated).toBe('false');
    const grouped = await listVersions({ Delimiter: '/' });
    expect(grouped.Versions.map((v) => v.Key)).toEqual(['q']);
    // The SDK leaves a single CommonPrefixes unwrapped.
    expect([grouped.CommonPrefixes].flat()).toEqual([{ Prefix: 'p/' }]);

    const v = await cos.getBucketVersioning({ Bucket, Region });
    expect(v.statusCode).toBe(200);
    expect(v.VersioningConfiguration).toEqual({});
  });

  it('deleteObject and getObject with VersionId', async () => {
    const g = await cos.getObject({ Bucket, Region, Key: 'q', VersionId: 'null' });
    expect(g.Body.toString()).toBe('body of q');
    const e = await cosError(cos.getObject({ Bucket, Region, Key: 'q', VersionId: WELL_FORMED }));
    expect(e).toMatchObject({ statusCode: 404, code: 'NoSuchVersion' });
    const d = await deleteVersion('q', 'null');
    expect(d.statusCode).toBe(204);
    expect(d.headers?.['x-cos-version-id']).toBeUndefined();
    expect((await cosError(cos.headObject({ Bucket, Region, Key: 'q' }))).statusCode).toBe(404);
    const other = await deleteVersion('p/1', WELL_FORMED);
    expect(other.headers?.['x-cos-version-id']).toBe(WELL_FORMED);
    expect((await cos.headObject({ Bucket, Region, Key: 'p/1' })).statusCode).toBe(200);
    // The empty id COS lists names that version too.
    expect((await deleteVersion('p/1', '')).statusCode).toBe(204);
    expect((await cosError(cos.headObject({ Bucket, Region, Key: 'p/1' }))).statusCode).toBe(404);
    const many = await cos.deleteMultipleObject({ Bucket, Region, Objects: [{ Key: 'p/2', VersionId: '' }] });
    expect(many.Deleted).toEqual([{ Key: 'p/2', VersionId: '' }]);
    expect((await listVersions({})).Versions).toEqual([]);
  });
});
