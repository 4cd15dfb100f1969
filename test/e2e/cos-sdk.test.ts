// cos-nodejs-sdk-v5 against the running gateway, in the COS dialect
// (COS signatures, x-cos-* headers), virtual-hosted: see cosClient().

import { join } from 'node:path';
import type COS from 'cos-nodejs-sdk-v5';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  COS_APPID,
  COS_REGION,
  cosClient,
  crc64ecma,
  gateway,
  httpGet,
  md5,
  random,
  readFileSync,
  sha256,
  tempDir,
  uniq,
  writeFileSync,
} from './helpers';

const Bucket = `${uniq('e2e-cos').toLowerCase()}-${COS_APPID}`;
const Region = COS_REGION;
let cos: COS;
const files = tempDir();

type CosErr = { statusCode?: number; code?: string; message?: string };
async function cosError(p: Promise<unknown>): Promise<CosErr> {
  try {
    await p;
  } catch (e) {
    return e as CosErr;
  }
  throw new Error('expected the call to fail, but it succeeded');
}

const header = (h: Record<string, unknown> | undefined, name: string) => (h ? (h[name] as string | undefined) : undefined);

/** Headers every COS-dialect answer carries, and ones it must not. */
function expectCosDialect(h: Record<string, unknown> | undefined) {
  expect(header(h, 'x-cos-request-id')).toMatch(/\S/);
  expect(header(h, 'x-amz-request-id')).toBeUndefined();
}

beforeAll(async () => {
  cos = cosClient();
  const r = await cos.putBucket({ Bucket, Region });
  expect(r.statusCode).toBe(200);
});

afterAll(() => files.cleanup());

describe('COS SDK', () => {
  it('heads the bucket it created', async () => {
    const r = await cos.headBucket({ Bucket, Region });
    expect(r.statusCode).toBe(200);
    expectCosDialect(r.headers);
    const e = await cosError(cos.headBucket({ Bucket: `e2e-no-such-${COS_APPID}`, Region }));
    expect(e.statusCode).toBe(404);
  });

  for (const sse of [undefined, 'AES256'] as const) {
    it(`putObject / getObject / headObject round-trip (${sse ? 'ServerSideEncryption AES256' : 'no SSE header: sealed by default'})`, async () => {
      const data = random(300_001);
      const Key = `rt/${sse ?? 'default'}.bin`;
      const put = await cos.putObject({ Bucket, Region, Key, Body: data, ...(sse ? { ServerSideEncryption: sse } : {}) });
      expect(put.statusCode).toBe(200);
      expectCosDialect(put.headers);
      expect(put.ETag).toBe(`"${md5(data)}"`);
      expect(header(put.headers, 'x-cos-server-side-encryption')).toBe('AES256');
      expect(header(put.headers, 'x-cos-hash-crc64ecma')).toBe(crc64ecma(data));

      const got = await cos.getObject({ Bucket, Region, Key });
      expectCosDialect(got.headers);
      expect(got.Body.length).toBe(data.length);
      expect(sha256(got.Body)).toBe(sha256(data));
      expect(header(got.headers, 'x-cos-server-side-encryption')).toBe('AES256');
      expect(header(got.headers, 'x-cos-hash-crc64ecma')).toBe(crc64ecma(data));
      expect.soft(header(got.headers, 'content-length')).toBe(String(data.length));

      const head = await cos.headObject({ Bucket, Region, Key });
      expectCosDialect(head.headers);
      expect(header(head.headers, 'x-cos-server-side-encryption')).toBe('AES256');
      expect(header(head.headers, 'x-cos-hash-crc64ecma')).toBe(crc64ecma(data));
      expect(header(head.headers, 'content-length')).toBe(String(data.length));
      expect(head.ETag).toBe(`"${md5(data)}"`);
    });
  }

  it('round-trips an empty object', async () => {
    const put = await cos.putObject({ Bucket, Region, Key: 'empty', Body: Buffer.alloc(0) });
    expect(header(put.headers, 'x-cos-hash-crc64ecma')).toBe('0');
    const got = await cos.getObject({ Bucket, Region, Key: 'empty' });
    expect(got.Body.length).toBe(0);
  });

  it('round-trips x-cos-meta-* metadata and Content-Type', async () => {
    await cos.putObject({
      Bucket,
      Region,
      Key: 'meta',
      Body: Buffer.from('m'),
      ContentType: 'text/plain',
      Headers: { 'x-cos-meta-colour': 'blue' },
    });
    for (const r of [await cos.getObject({ Bucket, Region, Key: 'meta' }), await cos.headObject({ Bucket, Region, Key: 'meta' })]) {
      expect(header(r.headers, 'x-cos-meta-colour')).toBe('blue');
      expect(header(r.headers, 'x-amz-meta-colour')).toBeUndefined();
      expect(header(r.headers, 'content-type')).toBe('text/plain');
    }
  });

  it('getObject with Range', async () => {
    const data = random(200_000);
    await cos.putObject({ Bucket, Region, Key: 'ranged', Body: data });
    for (const [Range, start, end] of [
      ['bytes=1000-70000', 1000, 70000],
      ['bytes=-500', data.length - 500, data.length - 1],
      ['bytes=150000-', 150000, data.length - 1],
    ] as const) {
      const got = await cos.getObject({ Bucket, Region, Key: 'ranged', Range });
      expect(got.statusCode).toBe(206);
      expect(header(got.headers, 'content-range')).toBe(`bytes ${start}-${end}/${data.length}`);
      expect(sha256(got.Body)).toBe(sha256(data.subarray(start, end + 1)));
    }
  });

  it('uploadFile (simple upload of a file stream) and downloadFile (parallel ranged GETs checked against x-cos-hash-crc64ecma)', async () => {
    const data = random(3 * 1024 * 1024 + 17);
    const src = join(files.dir, 'up.bin');
    const dst = join(files.dir, 'down.bin');
    writeFileSync(src, data);
    // SliceSize above the file size: a single PutObject of the file stream, not a multipart upload.
    const up = await cos.uploadFile({ Bucket, Region, Key: 'files/up.bin', FilePath: src, SliceSize: 64 * 1024 * 1024 });
    expect(up.statusCode).toBe(200);
    const down = await cos.downloadFile({ Bucket, Region, Key: 'files/up.bin', FilePath: dst, ChunkSize: 1024 * 1024, ParallelLimit: 3 });
    expect(down.statusCode).toBeGreaterThanOrEqual(200);
    const back = readFileSync(dst);
    expect(back.length).toBe(data.length);
    expect(sha256(back)).toBe(sha256(data));
  });

  it('getBucket lists with Prefix and Delimiter', async () => {
    const keys = ['dir/a/1', 'dir/a/2', 'dir/b', 'dir/c/x', 'other'];
    for (const Key of keys) await cos.putObject({ Bucket, Region, Key, Body: Buffer.from(Key) });
    const r = await cos.getBucket({ Bucket, Region, Prefix: 'dir/', Delimiter: '/' });
    expectCosDialect(r.headers);
    expect(r.Contents.map((c) => c.Key)).toEqual(['dir/b']);
    expect(r.Contents[0].Size).toBe(String(Buffer.from('dir/b').length));
    expect(r.Contents[0].ETag).toBe(`"${md5(Buffer.from('dir/b'))}"`);
    expect(r.CommonPrefixes.map((p) => p.Prefix)).toEqual(['dir/a/', 'dir/c/']);
    const flat = await cos.getBucket({ Bucket, Region, Prefix: 'dir/' });
    expect(flat.Contents.map((c) => c.Key)).toEqual(['dir/a/1', 'dir/a/2', 'dir/b', 'dir/c/x']);
  });

  it('deleteObject and deleteMultipleObject', async () => {
    for (const Key of ['del/1', 'del/2', 'del/3']) await cos.putObject({ Bucket, Region, Key, Body: Buffer.from(Key) });
    const one = await cos.deleteObject({ Bucket, Region, Key: 'del/1' });
    expect(one.statusCode).toBe(204);
    expect((await cosError(cos.getObject({ Bucket, Region, Key: 'del/1' }))).statusCode).toBe(404);
    const many = await cos.deleteMultipleObject({ Bucket, Region, Objects: [{ Key: 'del/2' }, { Key: 'del/3' }] });
    expect(many.Error ?? []).toEqual([]);
    expect(many.Deleted.map((d) => d.Key).sort()).toEqual(['del/2', 'del/3']);
    for (const Key of ['del/2', 'del/3']) expect((await cosError(cos.getObject({ Bucket, Region, Key }))).statusCode).toBe(404);
  });

  it('answers NoSuchKey in the COS dialect', async () => {
    const e = await cosError(cos.getObject({ Bucket, Region, Key: 'no/such/key' }));
    expect(e.statusCode).toBe(404);
    expect(e.code).toBe('NoSuchKey');
  });

  it('serves a signed getObjectUrl to a plain HTTP GET, and refuses it unsigned or altered', async () => {
    const data = random(40_000);
    await cos.putObject({ Bucket, Region, Key: 'signed/url.bin', Body: data });
    const { Url } = await new Promise<{ Url: string }>((resolve, reject) =>
      cos.getObjectUrl({ Bucket, Region, Key: 'signed/url.bin', Sign: true, Expires: 300 }, (err, d) => (err ? reject(err) : resolve(d))),
    );
    const u = new URL(Url);
    expect(u.searchParams.get('q-signature')).toMatch(/^[0-9a-f]{40}$/);
    expect(u.host).toBe(`${Bucket}.${gateway().cosBaseDomain}:${gateway().port}`);
    // The name does not resolve, so send the request to the gateway with that Host (the SDK's `Ip` option does the same).
    const r = await httpGet(Url, u.host);
    expect(r.status).toBe(200);
    expect(r.headers['x-cos-server-side-encryption']).toBe('AES256');
    expect(sha256(r.body)).toBe(sha256(data));

    const unsigned = await httpGet(`${u.origin}${u.pathname}`, u.host);
    expect(unsigned.status).toBe(403);
    const other = await httpGet(Url.replace('/signed/url.bin', '/signed/other.bin'), u.host);
    expect(other.status).toBe(403);
  });

  it('refuses a wrong SecretKey with 403 SignatureDoesNotMatch', async () => {
    const bad = cosClient({ secretKey: 'not-the-secret-0123456789' });
    const e = await cosError(bad.getObject({ Bucket, Region, Key: 'meta' }));
    expect(e.statusCode).toBe(403);
    expect(e.code).toBe('SignatureDoesNotMatch');
  });
});
