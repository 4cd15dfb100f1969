// Conditional writes end to end with @aws-sdk/client-s3: PutObject with IfNoneMatch: '*' and
// IfMatch, CompleteMultipartUpload with IfNoneMatch and IfMatch, CopyObject with the destination
// conditions; the SDK's own error names and statuses. Also `aws s3api put-object --if-none-match`
// and cos-nodejs-sdk-v5 with COS's x-cos-forbid-overwrite. The e2e-proxy project runs the same calls
// with the bucket fronting s3rver (docs/FORMAT.md, "Conditional writes", says what holds there).

import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  ListPartsCommand,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
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
  tempDir,
  uniq,
  writeFileSync,
} from './helpers';

const MiB = 1024 * 1024;
const BUCKET = uniq('e2e-cond').toLowerCase();
const COS_BUCKET = `${uniq('e2e-cond-cos').toLowerCase()}-${COS_APPID}`;
const Region = COS_REGION;
let s3: S3Client;
let cos: COS;
const files = tempDir();

beforeAll(async () => {
  s3 = s3Client();
  cos = cosClient();
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
  expect((await cos.putBucket({ Bucket: COS_BUCKET, Region })).statusCode).toBe(200);
});

afterAll(() => {
  s3?.destroy();
  files.cleanup();
});

const get = async (Key: string) => sdkBody(await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key })));
const put = (Key: string, Body: Uint8Array, cond: { IfNoneMatch?: string; IfMatch?: string } = {}) =>
  s3.send(new PutObjectCommand({ Bucket: BUCKET, Key, Body, ...cond }));

describe('PutObject', () => {
  it("IfNoneMatch: '*' creates a key once; then PreconditionFailed (412) and the object is kept", async () => {
    const first = random(70_000);
    const r = await put('lock', first, { IfNoneMatch: '*' });
    expect(r.ETag).toMatch(/^"[0-9a-f]{32}"$/);
    expect(await s3Error(put('lock', random(10), { IfNoneMatch: '*' }))).toMatchObject({ name: 'PreconditionFailed', status: 412 });
    expect((await get('lock')).equals(first)).toBe(true);
  });

  it('IfMatch replaces only the version with that ETag; another is PreconditionFailed, none is NoSuchKey', async () => {
    expect(await s3Error(put('state', random(10), { IfMatch: '"0123456789abcdef0123456789abcdef"' }))).toMatchObject({
      name: 'NoSuchKey',
      status: 404,
    });
    const v1 = random(5000);
    const e1 = (await put('state', v1)).ETag!;
    const v2 = random(6000);
    const e2 = (await put('state', v2, { IfMatch: e1 })).ETag!;
    expect(e2).not.toBe(e1);
    // A writer still holding the first ETag loses.
    expect(await s3Error(put('state', random(7000), { IfMatch: e1 }))).toMatchObject({ name: 'PreconditionFailed', status: 412 });
    expect((await get('state')).equals(v2)).toBe(true);
  });

  it('an If-None-Match other than * is NotImplemented (501), as S3 answers', async () => {
    const e = (await put('etag-inm', random(10))).ETag!;
    expect(await s3Error(put('etag-inm', random(10), { IfNoneMatch: e }))).toMatchObject({ name: 'NotImplemented', status: 501 });
  });

  it('concurrent create-only PUTs of one key: exactly one succeeds, the others are PreconditionFailed', async () => {
    const bodies = [0, 1, 2, 3].map(() => random(300_000));
    const results = await Promise.allSettled(bodies.map((b) => put('race', b, { IfNoneMatch: '*' })));
    const won = results.flatMap((r, i) => (r.status === 'fulfilled' ? [i] : []));
    expect(won).toHaveLength(1);
    for (const r of results) if (r.status === 'rejected') expect((r.reason as Error).name).toBe('PreconditionFailed');
    expect((await get('race')).equals(bodies[won[0]])).toBe(true);
  });
});

describe('CompleteMultipartUpload', () => {
  async function upload(Key: string) {
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key }));
    const parts = [random(5 * MiB), random(1000)];
    const etags: string[] = [];
    for (const [i, Body] of parts.entries())
      etags.push((await s3.send(new UploadPartCommand({ Bucket: BUCKET, Key, UploadId, PartNumber: i + 1, Body }))).ETag!);
    const MultipartUpload = { Parts: etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) };
    return { UploadId: UploadId!, MultipartUpload, data: Buffer.concat(parts) };
  }

  it("IfNoneMatch: '*' over an existing object is PreconditionFailed and the upload stays open; IfMatch of it completes", async () => {
    const old = random(100);
    const oldEtag = (await put('mp', old)).ETag!;
    const up = await upload('mp');
    const complete = (cond: { IfNoneMatch?: string; IfMatch?: string }) =>
      s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: BUCKET,
          Key: 'mp',
          UploadId: up.UploadId,
          MultipartUpload: up.MultipartUpload,
          ...cond,
        }),
      );
    expect(await s3Error(complete({ IfNoneMatch: '*' }))).toMatchObject({ name: 'PreconditionFailed', status: 412 });
    expect(await s3Error(complete({ IfMatch: '"ffffffffffffffffffffffffffffffff"' }))).toMatchObject({
      name: 'PreconditionFailed',
      status: 412,
    });
    expect((await get('mp')).equals(old)).toBe(true);
    const listed = await s3.send(new ListPartsCommand({ Bucket: BUCKET, Key: 'mp', UploadId: up.UploadId }));
    expect(listed.Parts?.map((p) => p.PartNumber)).toEqual([1, 2]);
    const done = await complete({ IfMatch: oldEtag });
    expect(done.ETag).toMatch(/-2"$/);
    expect((await get('mp')).equals(up.data)).toBe(true);
  });

  it("IfNoneMatch: '*' on a new key completes", async () => {
    const up = await upload('mp-new');
    await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: BUCKET,
        Key: 'mp-new',
        UploadId: up.UploadId,
        MultipartUpload: up.MultipartUpload,
        IfNoneMatch: '*',
      }),
    );
    expect((await get('mp-new')).equals(up.data)).toBe(true);
  });
});

describe('CopyObject', () => {
  it('IfNoneMatch and IfMatch judge the destination', async () => {
    const src = random(40_000);
    const srcEtag = (await put('copy-src', src)).ETag!;
    const dst = random(20_000);
    const dstEtag = (await put('copy-dst', dst)).ETag!;
    const copy = (Key: string, cond: { IfNoneMatch?: string; IfMatch?: string }) =>
      s3.send(new CopyObjectCommand({ Bucket: BUCKET, Key, CopySource: `${BUCKET}/copy-src`, ...cond }));
    expect(await s3Error(copy('copy-dst', { IfNoneMatch: '*' }))).toMatchObject({ name: 'PreconditionFailed', status: 412 });
    expect(await s3Error(copy('copy-dst', { IfMatch: srcEtag }))).toMatchObject({ name: 'PreconditionFailed', status: 412 });
    expect((await get('copy-dst')).equals(dst)).toBe(true);
    await copy('copy-dst', { IfMatch: dstEtag });
    expect((await get('copy-dst')).equals(src)).toBe(true);
    await copy('copy-new', { IfNoneMatch: '*' });
    expect((await get('copy-new')).equals(src)).toBe(true);
  });
});

describe.skipIf(!hasAws)('aws s3api put-object --if-none-match', () => {
  it('creates once, then fails with PreconditionFailed', async () => {
    const file = `${files.dir}/lock.json`;
    writeFileSync(file, '{"holder":"cli"}');
    const args = ['s3api', 'put-object', '--bucket', BUCKET, '--key', 'cli-lock', '--body', file, '--if-none-match', '*'];
    const first = await aws(args);
    expect(first.code, first.stderr).toBe(0);
    const second = await aws(args);
    expect(second.code).not.toBe(0);
    expect(second.stderr).toMatch(/PreconditionFailed/);
    expect((await get('cli-lock')).toString()).toBe('{"holder":"cli"}');
  });
});

describe('cos-nodejs-sdk-v5', () => {
  it('x-cos-forbid-overwrite: true refuses an existing object with 409 FileAlreadyExists', async () => {
    const Headers = { 'x-cos-forbid-overwrite': 'true' };
    const first = Buffer.from('first');
    expect((await cos.putObject({ Bucket: COS_BUCKET, Region, Key: 'forbid', Body: first, Headers })).statusCode).toBe(200);
    const e = await cosError(cos.putObject({ Bucket: COS_BUCKET, Region, Key: 'forbid', Body: Buffer.from('second'), Headers }));
    expect(e).toMatchObject({ statusCode: 409, code: 'FileAlreadyExists' });
    const got = await cos.getObject({ Bucket: COS_BUCKET, Region, Key: 'forbid' });
    expect(Buffer.from(got.Body as Buffer).equals(first)).toBe(true);
  });
});
