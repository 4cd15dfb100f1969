// CopyObject end to end: @aws-sdk/client-s3 (to another key and bucket, and
// changing the encryption of an object in place), `aws s3api copy-object`, and
// cos-nodejs-sdk-v5 putObjectCopy with a COS-style CopySource.

import { join } from 'node:path';
import {
  CopyObjectCommand,
  CreateBucketCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import type COS from 'cos-nodejs-sdk-v5';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  aws,
  COS_APPID,
  COS_REGION,
  cosClient,
  cosError,
  crc64ecma,
  hasAws,
  md5,
  random,
  readFileSync,
  type SseCKey,
  s3Client,
  s3Error,
  sdkBody,
  sha256,
  sseCHeaders,
  sseCKey,
  tempDir,
  uniq,
} from './helpers';

const BUCKET = uniq('e2e-copy').toLowerCase();
const OTHER = uniq('e2e-copy-dst').toLowerCase();
const COS_BUCKET = `${uniq('e2e-copy-cos').toLowerCase()}-${COS_APPID}`;
const Region = COS_REGION;
const DATA = random(700_001); // more than two 256 KiB segments

let s3: S3Client;
let cos: COS;
const files = tempDir();

const ssec = (k: SseCKey) => ({ SSECustomerAlgorithm: 'AES256', SSECustomerKey: k.b64 });
const copySourceSsec = (k: SseCKey) => ({ CopySourceSSECustomerAlgorithm: 'AES256', CopySourceSSECustomerKey: k.b64 });

beforeAll(async () => {
  s3 = s3Client();
  cos = cosClient();
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
  await s3.send(new CreateBucketCommand({ Bucket: OTHER }));
  expect((await cos.putBucket({ Bucket: COS_BUCKET, Region })).statusCode).toBe(200);
});

afterAll(() => {
  s3?.destroy();
  files.cleanup();
});

describe('CopyObject with @aws-sdk/client-s3', () => {
  beforeAll(async () => {
    await s3.send(
      new PutObjectCommand({ Bucket: BUCKET, Key: 'src.bin', Body: DATA, ContentType: 'application/x-src', Metadata: { colour: 'red' } }),
    );
  });

  it('copies to another key: same bytes, metadata kept (COPY), sealed, MD5 ETag', async () => {
    const r = await s3.send(new CopyObjectCommand({ Bucket: BUCKET, Key: 'dst/copy.bin', CopySource: `${BUCKET}/src.bin` }));
    expect(r.CopyObjectResult?.ETag).toBe(`"${md5(DATA)}"`);
    expect(r.ServerSideEncryption).toBe('AES256');
    const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'dst/copy.bin' }));
    expect(got.ContentType).toBe('application/x-src');
    expect(got.Metadata).toEqual({ colour: 'red' });
    expect(got.ServerSideEncryption).toBe('AES256');
    const back = await sdkBody(got);
    expect(back.length).toBe(DATA.length);
    expect(sha256(back)).toBe(sha256(DATA));
    // The source is untouched.
    expect(sha256(await sdkBody(await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'src.bin' }))))).toBe(sha256(DATA));
  });

  it('copies to another bucket and a URL-encoded key, replacing metadata (REPLACE)', async () => {
    const odd = 'dir/a b+c ü.bin';
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: odd, Body: DATA.subarray(0, 1234) }));
    const r = await s3.send(
      new CopyObjectCommand({
        Bucket: OTHER,
        Key: 'copied.bin',
        CopySource: `${BUCKET}/${encodeURIComponent(odd)}`,
        MetadataDirective: 'REPLACE',
        Metadata: { fresh: '1' },
        ContentType: 'text/x-new',
      }),
    );
    expect(r.CopyObjectResult?.ETag).toBe(`"${md5(DATA.subarray(0, 1234))}"`);
    const got = await s3.send(new GetObjectCommand({ Bucket: OTHER, Key: 'copied.bin' }));
    expect(got.Metadata).toEqual({ fresh: '1' });
    expect(got.ContentType).toBe('text/x-new');
    expect((await sdkBody(got)).equals(DATA.subarray(0, 1234))).toBe(true);
  });

  it('changes SSE-COS -> SSE-C (key A) -> SSE-C (key B) on itself; the old key then fails', async () => {
    const Key = 'rekey.bin';
    const A = sseCKey();
    const B = sseCKey();
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key, Body: DATA }));

    const toC = await s3.send(new CopyObjectCommand({ Bucket: BUCKET, Key, CopySource: `${BUCKET}/${Key}`, ...ssec(A) }));
    expect(toC.SSECustomerAlgorithm).toBe('AES256');
    expect(toC.SSECustomerKeyMD5).toBe(A.md5);
    expect(toC.ServerSideEncryption).toBeUndefined();
    const noKey = await s3Error(s3.send(new GetObjectCommand({ Bucket: BUCKET, Key })));
    expect(noKey.status).toBe(400);
    expect(noKey.name).toBe('InvalidRequest');
    const withA = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key, ...ssec(A) }));
    expect(withA.SSECustomerKeyMD5).toBe(A.md5);
    expect(sha256(await sdkBody(withA))).toBe(sha256(DATA));

    // Re-keying needs the current key as the copy source key.
    const missingSourceKey = await s3Error(
      s3.send(new CopyObjectCommand({ Bucket: BUCKET, Key, CopySource: `${BUCKET}/${Key}`, ...ssec(B) })),
    );
    expect(missingSourceKey.status).toBe(400);
    expect(missingSourceKey.name).toBe('InvalidRequest');
    const wrongSourceKey = await s3Error(
      s3.send(new CopyObjectCommand({ Bucket: BUCKET, Key, CopySource: `${BUCKET}/${Key}`, ...copySourceSsec(B), ...ssec(B) })),
    );
    expect(wrongSourceKey.status).toBe(403);

    const toB = await s3.send(
      new CopyObjectCommand({ Bucket: BUCKET, Key, CopySource: `${BUCKET}/${Key}`, ...copySourceSsec(A), ...ssec(B) }),
    );
    expect(toB.SSECustomerKeyMD5).toBe(B.md5);
    const oldKey = await s3Error(s3.send(new GetObjectCommand({ Bucket: BUCKET, Key, ...ssec(A) })));
    expect(oldKey.status).toBe(403);
    expect(oldKey.name).toBe('AccessDenied');
    const withB = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key, ...ssec(B) }));
    expect(withB.SSECustomerKeyMD5).toBe(B.md5);
    const back = await sdkBody(withB);
    expect(back.length).toBe(DATA.length);
    expect(sha256(back)).toBe(sha256(DATA));
    const head = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key, ...ssec(B) }));
    expect(head.ContentLength).toBe(DATA.length);

    // And an SSE-C source copied to another key as SSE-COS.
    const out = await s3.send(
      new CopyObjectCommand({
        Bucket: BUCKET,
        Key: 'rekey-plain.bin',
        CopySource: `${BUCKET}/${Key}`,
        ...copySourceSsec(B),
        ServerSideEncryption: 'AES256',
      }),
    );
    expect(out.ServerSideEncryption).toBe('AES256');
    expect(out.CopyObjectResult?.ETag).toBe(`"${md5(DATA)}"`);
    expect(sha256(await sdkBody(await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'rekey-plain.bin' }))))).toBe(sha256(DATA));
  });
});

describe.skipIf(!hasAws)('aws s3api copy-object changing the encryption', () => {
  it('SSE-COS -> SSE-C -> SSE-COS, each step read back byte-identical', async () => {
    const Key = 'cli/enc.bin';
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key, Body: DATA }));
    const cliKey = random(16).toString('hex'); // 32 characters: the CLI sends its bytes
    const k = sseCKey(cliKey);
    const run = async (args: string[]) => {
      const r = await aws(args);
      expect(r.code, `aws ${args.join(' ')}\n${r.stderr}`).toBe(0);
      return r.stdout;
    };

    const toC = JSON.parse(
      await run([
        's3api',
        'copy-object',
        '--bucket',
        BUCKET,
        '--key',
        Key,
        '--copy-source',
        `${BUCKET}/${Key}`,
        '--sse-customer-algorithm',
        'AES256',
        '--sse-customer-key',
        cliKey,
        '--output',
        'json',
      ]),
    );
    expect(toC.SSECustomerAlgorithm).toBe('AES256');
    expect(toC.SSECustomerKeyMD5).toBe(k.md5);
    const dst = join(files.dir, 'cli-ssec.back');
    const got = JSON.parse(
      await run([
        's3api',
        'get-object',
        '--bucket',
        BUCKET,
        '--key',
        Key,
        '--sse-customer-algorithm',
        'AES256',
        '--sse-customer-key',
        cliKey,
        dst,
        '--output',
        'json',
      ]),
    );
    expect(got.SSECustomerKeyMD5).toBe(k.md5);
    expect(sha256(readFileSync(dst))).toBe(sha256(DATA));
    const denied = await aws(['s3api', 'get-object', '--bucket', BUCKET, '--key', Key, join(files.dir, 'denied')]);
    expect(denied.code).not.toBe(0);
    expect(denied.stderr).toContain('InvalidRequest');

    const back = JSON.parse(
      await run([
        's3api',
        'copy-object',
        '--bucket',
        BUCKET,
        '--key',
        Key,
        '--copy-source',
        `${BUCKET}/${Key}`,
        '--copy-source-sse-customer-algorithm',
        'AES256',
        '--copy-source-sse-customer-key',
        cliKey,
        '--server-side-encryption',
        'AES256',
        '--output',
        'json',
      ]),
    );
    expect(back.ServerSideEncryption).toBe('AES256');
    expect(back.CopyObjectResult.ETag).toBe(`"${md5(DATA)}"`);
    const dst2 = join(files.dir, 'cli-sse.back');
    const plain = JSON.parse(await run(['s3api', 'get-object', '--bucket', BUCKET, '--key', Key, dst2, '--output', 'json']));
    expect(plain.ServerSideEncryption).toBe('AES256');
    expect(sha256(readFileSync(dst2))).toBe(sha256(DATA));
  });
});

describe('cos-nodejs-sdk-v5 putObjectCopy', () => {
  const h = (r: { headers?: Record<string, unknown> }, name: string) => r.headers?.[name] as string | undefined;
  const source = (key: string) => `${COS_BUCKET}.cos.${Region}.myqcloud.com/${key}`;

  it('copies with CopySource "<bucket>.cos.<region>.myqcloud.com/<key>": byte-identical', async () => {
    await cos.putObject({ Bucket: COS_BUCKET, Region, Key: 'src.bin', Body: DATA, Headers: { 'x-cos-meta-colour': 'green' } });
    const r = await cos.putObjectCopy({ Bucket: COS_BUCKET, Region, Key: 'dir/copy.bin', CopySource: source('src.bin') });
    expect(r.statusCode).toBe(200);
    expect(r.ETag).toBe(`"${md5(DATA)}"`);
    expect(h(r, 'x-cos-request-id')).toMatch(/\S/);
    expect(h(r, 'x-cos-server-side-encryption')).toBe('AES256');
    const got = await cos.getObject({ Bucket: COS_BUCKET, Region, Key: 'dir/copy.bin' });
    expect(got.Body.length).toBe(DATA.length);
    expect(sha256(got.Body)).toBe(sha256(DATA));
    expect(h(got, 'x-cos-meta-colour')).toBe('green');
    expect(h(got, 'x-cos-hash-crc64ecma')).toBe(crc64ecma(DATA));
  });

  it('copies an SSE-C source (x-cos-copy-source-server-side-encryption-customer-*) to an SSE-C destination with another key', async () => {
    const A = sseCKey();
    const B = sseCKey();
    const data = DATA.subarray(0, 300_000);
    await cos.putObject({
      Bucket: COS_BUCKET,
      Region,
      Key: 'c-src.bin',
      Body: data,
      SSECustomerAlgorithm: 'AES256',
      SSECustomerKey: A.b64,
      SSECustomerKeyMD5: A.md5,
    });
    const r = await cos.putObjectCopy({
      Bucket: COS_BUCKET,
      Region,
      Key: 'c-dst.bin',
      CopySource: source('c-src.bin'),
      Headers: { ...sseCHeaders(A, 'x-cos-copy-source-'), ...sseCHeaders(B, 'x-cos-') },
    });
    expect(r.statusCode).toBe(200);
    expect(h(r, 'x-cos-server-side-encryption-customer-key-md5')).toBe(B.md5);
    const got = await cos.getObject({ Bucket: COS_BUCKET, Region, Key: 'c-dst.bin', Headers: sseCHeaders(B, 'x-cos-') });
    expect(sha256(got.Body)).toBe(sha256(data));
    expect(
      (await cosError(cos.getObject({ Bucket: COS_BUCKET, Region, Key: 'c-dst.bin', Headers: sseCHeaders(A, 'x-cos-') }))).statusCode,
    ).toBe(403);
  });
});
