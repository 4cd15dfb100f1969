// SSE-C end to end: @aws-sdk/client-s3 (SSECustomerAlgorithm + SSECustomerKey,
// the SDK computes the key MD5), raw signed requests for the malformed header
// cases the SDK will not send, cos-nodejs-sdk-v5 with x-cos-* SSE-C headers,
// and the aws CLI's `--sse-c`. Last, the gateway's log and its persisted state
// are searched for every key used here, in every encoding.

import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { CreateBucketCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type COS from 'cos-nodejs-sdk-v5';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  aws,
  COS_APPID,
  COS_REGION,
  cosClient,
  cosError,
  crc64ecma,
  filesNaming,
  filesUnder,
  findInFiles,
  gateway,
  hasAws,
  keyEncodings,
  md5,
  random,
  type SseCKey,
  s3Client,
  s3Error,
  sdkBody,
  sha256,
  signedFetch,
  sseCHeaders,
  sseCKey,
  tempDir,
  uniq,
  writeFileSync,
  xmlErrorCode,
} from './helpers';

const SEG = 262_144; // the segment size of the sealed format
const BUCKET = uniq('e2e-ssec').toLowerCase();
const COS_BUCKET = `${uniq('e2e-ssec-cos').toLowerCase()}-${COS_APPID}`;
const Region = COS_REGION;

/** Every SSE-C key this file sends: the final test looks for each of them in the log and the stored state. */
const usedKeys: SseCKey[] = [];
const newKey = (raw?: Buffer | string): SseCKey => {
  const k = sseCKey(raw);
  usedKeys.push(k);
  return k;
};

const A = newKey();
const B = newKey();
const sdkKey = (k: SseCKey) => ({ SSECustomerAlgorithm: 'AES256', SSECustomerKey: k.b64 });

// Generated once; smaller objects are prefixes of it.
const DATA = random(8 * 1024 * 1024);

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

describe('SSE-C with @aws-sdk/client-s3', () => {
  for (const size of [0, 1, 13, 1024, SEG - 1, SEG + 1, 8 * 1024 * 1024]) {
    it(`PutObject / GetObject round-trip ${size} bytes`, async () => {
      const data = DATA.subarray(0, size);
      const Key = `sdk/${size}.bin`;
      const put = await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key, Body: data, ...sdkKey(A) }));
      expect(put.SSECustomerAlgorithm).toBe('AES256');
      expect(put.SSECustomerKeyMD5).toBe(A.md5);
      expect(put.ServerSideEncryption).toBeUndefined();
      // As on S3, the ETag of an SSE-C object is not the plaintext MD5.
      expect(put.ETag).not.toBe(`"${md5(data)}"`);

      const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key, ...sdkKey(A) }));
      expect(got.SSECustomerAlgorithm).toBe('AES256');
      expect(got.SSECustomerKeyMD5).toBe(A.md5);
      expect(got.ETag).toBe(put.ETag);
      expect.soft(got.ContentLength).toBe(size);
      const back = await sdkBody(got);
      expect(back.length).toBe(size);
      expect(sha256(back)).toBe(sha256(data));
    });
  }

  describe('on a stored object', () => {
    const Key = 'sdk/ranged.bin';
    const data = DATA.subarray(0, 3 * SEG + 12_345);
    beforeAll(async () => {
      await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key, Body: data, ...sdkKey(A) }));
    });

    const ranges: [string, number, number][] = [
      [`bytes=${SEG - 100}-${SEG + 100}`, SEG - 100, SEG + 100],
      [`bytes=${SEG - 1}-${SEG}`, SEG - 1, SEG],
      [`bytes=${SEG}-${SEG}`, SEG, SEG],
      [`bytes=1000-${2 * SEG + 5}`, 1000, 2 * SEG + 5],
      ['bytes=-10', data.length - 10, data.length - 1],
    ];
    for (const [Range, start, end] of ranges) {
      it(`ranged GET ${Range} (across the ${SEG}-byte segment boundary)`, async () => {
        const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key, Range, ...sdkKey(A) }));
        expect(got.$metadata.httpStatusCode).toBe(206);
        expect(got.ContentRange).toBe(`bytes ${start}-${end}/${data.length}`);
        expect(got.SSECustomerKeyMD5).toBe(A.md5);
        const back = await sdkBody(got);
        expect(back.equals(data.subarray(start, end + 1))).toBe(true);
      });
    }

    it('HeadObject returns SSECustomerAlgorithm and SSECustomerKeyMD5 and the plaintext length', async () => {
      const head = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key, ...sdkKey(A) }));
      expect(head.SSECustomerAlgorithm).toBe('AES256');
      expect(head.SSECustomerKeyMD5).toBe(A.md5);
      expect(head.ServerSideEncryption).toBeUndefined();
      expect(head.ContentLength).toBe(data.length);
    });

    it('GET without the key: 400 InvalidRequest; HEAD without the key: 400', async () => {
      const e = await s3Error(s3.send(new GetObjectCommand({ Bucket: BUCKET, Key })));
      expect(e.status).toBe(400);
      expect(e.name).toBe('InvalidRequest');
      expect(e.message).toContain('The object was stored using a form of Server Side Encryption');
      const h = await s3Error(s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key })));
      expect(h.status).toBe(400);
    });

    it('the wrong key: 403 AccessDenied on GET and HEAD, and no plaintext', async () => {
      const e = await s3Error(s3.send(new GetObjectCommand({ Bucket: BUCKET, Key, ...sdkKey(B) })));
      expect(e.status).toBe(403);
      expect(e.name).toBe('AccessDenied');
      const h = await s3Error(s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key, ...sdkKey(B) })));
      expect(h.status).toBe(403);
      // The raw answer carries an error document, not object bytes.
      const raw = await signedFetch('GET', `/${BUCKET}/${Key}`, { headers: sseCHeaders(B) });
      const body = Buffer.from(await raw.arrayBuffer());
      expect(raw.status).toBe(403);
      expect(xmlErrorCode(body.toString('utf8'))).toBe('AccessDenied');
      expect(body.indexOf(data.subarray(0, 32))).toBe(-1);
    });

    it('SSE-C headers on GET and HEAD of an SSE-COS object: 400', async () => {
      const plain = random(1000);
      await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'sdk/sse-cos.bin', Body: plain, ServerSideEncryption: 'AES256' }));
      const e = await s3Error(s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'sdk/sse-cos.bin', ...sdkKey(A) })));
      expect(e.status).toBe(400);
      expect(e.name).toBe('InvalidRequest');
      const h = await s3Error(s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'sdk/sse-cos.bin', ...sdkKey(A) })));
      expect(h.status).toBe(400);
      // And without them it is served as usual.
      expect((await sdkBody(await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'sdk/sse-cos.bin' })))).equals(plain)).toBe(true);
    });
  });
});

describe('SSE-C header errors (raw signed requests): 400 InvalidArgument', () => {
  const TARGET = 'raw/target.bin';
  const content = random(5000);
  beforeAll(async () => {
    const r = await signedFetch('PUT', `/${BUCKET}/${TARGET}`, { headers: sseCHeaders(A), body: content });
    expect(r.status, await r.text()).toBe(200);
  });

  const drop = (h: Record<string, string>, name: string) => Object.fromEntries(Object.entries(h).filter(([k]) => k.toLowerCase() !== name));
  const cases: [string, () => Record<string, string>, boolean][] = [
    ['missing key MD5', () => drop(sseCHeaders(A), 'x-amz-server-side-encryption-customer-key-md5'), true],
    ['wrong key MD5', () => ({ ...sseCHeaders(A), 'x-amz-server-side-encryption-customer-key-MD5': B.md5 }), true],
    [
      '16-byte key (with its own correct MD5)',
      () => {
        const short = random(16);
        return {
          ...sseCHeaders(A),
          'x-amz-server-side-encryption-customer-key': short.toString('base64'),
          'x-amz-server-side-encryption-customer-key-MD5': Buffer.from(md5(short), 'hex').toString('base64'),
        };
      },
      true,
    ],
    [
      'key that is not base64',
      () => ({ ...sseCHeaders(A), 'x-amz-server-side-encryption-customer-key': '!!!!not*base64*at*all!!!!' }),
      true,
    ],
    ['algorithm AES128', () => ({ ...sseCHeaders(A), 'x-amz-server-side-encryption-customer-algorithm': 'AES128' }), true],
    ['key and MD5 without the algorithm', () => drop(sseCHeaders(A), 'x-amz-server-side-encryption-customer-algorithm'), true],
    // On GET an x-amz-server-side-encryption header is an error of its own, so this one is checked on PUT only.
    [
      'SSE-C together with x-amz-server-side-encryption: AES256',
      () => ({ ...sseCHeaders(A), 'x-amz-server-side-encryption': 'AES256' }),
      false,
    ],
  ];
  for (const [name, headers, alsoGet] of cases) {
    it(`${name}${alsoGet ? ' (PUT and GET)' : ' (PUT)'}`, async () => {
      const key = `raw/bad-${name.replace(/\W+/g, '-')}`;
      const p = await signedFetch('PUT', `/${BUCKET}/${key}`, { headers: headers(), body: 'must not be stored' });
      const pt = await p.text();
      expect(p.status, pt).toBe(400);
      expect(xmlErrorCode(pt), pt).toBe('InvalidArgument');
      // Nothing was stored under that name.
      const head = await signedFetch('HEAD', `/${BUCKET}/${key}`);
      expect(head.status).toBe(404);
      if (!alsoGet) return;
      const g = await signedFetch('GET', `/${BUCKET}/${TARGET}`, { headers: headers() });
      const gt = Buffer.from(await g.arrayBuffer());
      expect(g.status, gt.toString()).toBe(400);
      expect(xmlErrorCode(gt.toString('utf8'))).toBe('InvalidArgument');
      expect(gt.indexOf(content.subarray(0, 32))).toBe(-1);
    });
  }

  it('the target object is still served with the right key', async () => {
    const g = await signedFetch('GET', `/${BUCKET}/${TARGET}`, { headers: sseCHeaders(A) });
    expect(g.status).toBe(200);
    expect(Buffer.from(await g.arrayBuffer()).equals(content)).toBe(true);
  });
});

describe('SSE-C with cos-nodejs-sdk-v5 (x-cos-* headers)', () => {
  const C = newKey();
  const W = newKey();
  const cosSseC = (k: SseCKey) => ({ SSECustomerAlgorithm: 'AES256', SSECustomerKey: k.b64, SSECustomerKeyMD5: k.md5 });
  const h = (r: { headers?: Record<string, unknown> }, name: string) => r.headers?.[name] as string | undefined;
  const data = DATA.subarray(100, 100 + 2 * SEG + 777);
  const Key = 'cos/ssec.bin';

  const expectSseCHeaders = (r: { headers?: Record<string, unknown> }, k: SseCKey) => {
    expect(h(r, 'x-cos-server-side-encryption-customer-algorithm')).toBe('AES256');
    expect(h(r, 'x-cos-server-side-encryption-customer-key-md5')).toBe(k.md5);
    expect(h(r, 'x-cos-server-side-encryption')).toBeUndefined();
    expect(h(r, 'x-cos-request-id')).toMatch(/\S/);
    for (const name of Object.keys(r.headers ?? {})) expect(name).not.toMatch(/^x-amz-/);
  };

  it('putObject with SSECustomerAlgorithm / SSECustomerKey / SSECustomerKeyMD5', async () => {
    const put = await cos.putObject({ Bucket: COS_BUCKET, Region, Key, Body: data, ...cosSseC(C) });
    expect(put.statusCode).toBe(200);
    expectSseCHeaders(put, C);
    expect(put.ETag).not.toBe(`"${md5(data)}"`);
    // COS computes the CRC-64 over the plaintext, whatever the encryption.
    expect(h(put, 'x-cos-hash-crc64ecma')).toBe(crc64ecma(data));
  });

  it('getObject and headObject with the key (Headers), whole and ranged', async () => {
    // A fresh object per call: the SDK adds its own headers (Range, ...) to the one it is given.
    const headers = () => sseCHeaders(C, 'x-cos-');
    const got = await cos.getObject({ Bucket: COS_BUCKET, Region, Key, Headers: headers() });
    expect(got.statusCode).toBe(200);
    expectSseCHeaders(got, C);
    expect(got.Body.length).toBe(data.length);
    expect(sha256(got.Body)).toBe(sha256(data));
    expect(h(got, 'x-cos-hash-crc64ecma')).toBe(crc64ecma(data));

    const ranged = await cos.getObject({ Bucket: COS_BUCKET, Region, Key, Headers: headers(), Range: `bytes=${SEG - 7}-${SEG + 7}` });
    expect(ranged.statusCode).toBe(206);
    expect(ranged.Body.equals(data.subarray(SEG - 7, SEG + 8))).toBe(true);

    const head = await cos.headObject({ Bucket: COS_BUCKET, Region, Key, Headers: headers() });
    expect(head.statusCode).toBe(200);
    expectSseCHeaders(head, C);
    expect(h(head, 'content-length')).toBe(String(data.length));
  });

  it('getObject without the key: 400; with another key: 403', async () => {
    const none = await cosError(cos.getObject({ Bucket: COS_BUCKET, Region, Key }));
    expect(none.statusCode).toBe(400);
    const wrong = await cosError(cos.getObject({ Bucket: COS_BUCKET, Region, Key, Headers: sseCHeaders(W, 'x-cos-') }));
    expect(wrong.statusCode).toBe(403);
  });

  it('putObject with a wrong key MD5: 400 InvalidArgument, nothing stored', async () => {
    const e = await cosError(
      cos.putObject({ Bucket: COS_BUCKET, Region, Key: 'cos/bad-md5', Body: Buffer.from('x'), ...cosSseC(C), SSECustomerKeyMD5: W.md5 }),
    );
    expect(e.statusCode).toBe(400);
    expect(e.code).toBe('InvalidArgument');
    expect((await cosError(cos.headObject({ Bucket: COS_BUCKET, Region, Key: 'cos/bad-md5' }))).statusCode).toBe(404);
  });
});

describe.skipIf(!hasAws)('SSE-C with the aws CLI', () => {
  // The CLI takes the key as a 32-character string and sends its bytes base64-encoded.
  const cliKey = random(16).toString('hex');
  const K = newKey(cliKey);
  const data = DATA.subarray(0, 1_000_003);

  it('s3 cp --sse-c AES256 --sse-c-key up and back, byte-identical', async () => {
    const src = join(files.dir, 'ssec.bin');
    const dst = join(files.dir, 'ssec.back');
    writeFileSync(src, data);
    const up = await aws([
      's3',
      'cp',
      '--only-show-errors',
      '--sse-c',
      'AES256',
      '--sse-c-key',
      cliKey,
      src,
      `s3://${BUCKET}/cli/ssec.bin`,
    ]);
    expect(up.code, up.stderr).toBe(0);

    const head = await aws([
      's3api',
      'head-object',
      '--bucket',
      BUCKET,
      '--key',
      'cli/ssec.bin',
      '--sse-customer-algorithm',
      'AES256',
      '--sse-customer-key',
      cliKey,
      '--output',
      'json',
    ]);
    expect(head.code, head.stderr).toBe(0);
    const hj = JSON.parse(head.stdout);
    expect(hj.SSECustomerAlgorithm).toBe('AES256');
    expect(hj.SSECustomerKeyMD5).toBe(K.md5);
    expect(hj.ContentLength).toBe(data.length);

    const down = await aws([
      's3',
      'cp',
      '--only-show-errors',
      '--sse-c',
      'AES256',
      '--sse-c-key',
      cliKey,
      `s3://${BUCKET}/cli/ssec.bin`,
      dst,
    ]);
    expect(down.code, down.stderr).toBe(0);
    const back = readFileSync(dst);
    expect(back.length).toBe(data.length);
    expect(sha256(back)).toBe(sha256(data));

    // Without the key the download fails and writes nothing.
    const nokey = join(files.dir, 'ssec.nokey');
    const denied = await aws(['s3', 'cp', '--only-show-errors', `s3://${BUCKET}/cli/ssec.bin`, nokey]);
    expect(denied.code).not.toBe(0);
    expect(denied.stderr).toContain('400');
    expect(existsSync(nokey) ? statSync(nokey).size : 0).toBe(0);
  });
});

describe('no SSE-C key is written anywhere', () => {
  it('the gateway log and the persisted state hold none of the keys, in any encoding', async () => {
    const g = gateway();
    expect(usedKeys.length).toBeGreaterThanOrEqual(hasAws ? 5 : 4);

    // The log is real and captured this file's traffic (so the search below can fail).
    const log = readFileSync(g.logFile);
    expect(log.length).toBeGreaterThan(0);
    expect(log.includes(Buffer.from(BUCKET))).toBe(true);

    // The persisted state holds this file's objects (their names are stored in plaintext).
    const stored = filesUnder(g.persistDir);
    expect(stored.length).toBeGreaterThan(0);
    expect(stored.reduce((n, f) => n + f.size, 0)).toBeGreaterThan(DATA.length);
    expect(filesNaming(g.persistDir, 'sdk/ranged.bin').length).toBeGreaterThan(0);

    const needles = usedKeys.flatMap((k, i) => keyEncodings(k).map((e) => ({ what: `key #${i} (${e.name})`, bytes: e.bytes })));
    const leaks: string[] = [];
    for (const n of needles) if (log.includes(n.bytes)) leaks.push(`${n.what} in the gateway log`);
    leaks.push(...findInFiles(g.persistDir, needles));
    expect(leaks).toEqual([]);
  });
});
