// @aws-sdk/client-s3 (default settings: flexible checksums, aws-chunked uploads
// with CRC32 trailers for streaming bodies) against the running gateway.

import { Readable } from 'node:stream';
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  type GetObjectCommandOutput,
  HeadBucketCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  ListObjectsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type PutObjectCommandInput,
  type S3Client,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { filesContaining, filesNaming, filesUnder, gateway, md5, random, s3Client, s3Error, sha256, uniq } from './helpers';

const BUCKET = uniq('e2e-sdk').toLowerCase();
let s3: S3Client;

const bodyBytes = async (r: GetObjectCommandOutput): Promise<Buffer> => Buffer.from(await r.Body!.transformToByteArray());

async function putAndCheck(client: S3Client, key: string, data: Buffer, extra: Partial<PutObjectCommandInput> = {}) {
  const put = await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: data, ...extra }));
  expect(put.ETag).toBe(`"${md5(data)}"`);
  expect(put.ServerSideEncryption).toBe('AES256');
  const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
  // S3 always sends Content-Length on GetObject; clients size buffers and progress from it.
  // (soft: a missing header fails the test but the bytes are still compared)
  expect.soft(got.ContentLength).toBe(data.length);
  const back = await bodyBytes(got);
  expect(back.length).toBe(data.length);
  expect(sha256(back)).toBe(sha256(data));
  return put;
}

/** A streaming body of known length: the SDK sends it aws-chunked with a trailing checksum. */
const streamOf = (data: Buffer) =>
  Readable.from(
    (function* () {
      for (let i = 0; i < data.length; i += 64 * 1024) yield data.subarray(i, i + 64 * 1024);
    })(),
  );

beforeAll(async () => {
  s3 = s3Client();
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
});

afterAll(() => s3?.destroy());

describe('buckets', () => {
  it('lists and heads the bucket it created; refuses to create it twice', async () => {
    const list = await s3.send(new ListBucketsCommand({}));
    expect(list.Buckets?.map((b) => b.Name)).toContain(BUCKET);
    const head = await s3.send(new HeadBucketCommand({ Bucket: BUCKET }));
    expect(head.$metadata.httpStatusCode).toBe(200);
    const again = await s3Error(s3.send(new CreateBucketCommand({ Bucket: BUCKET })));
    expect(again.name).toBe('BucketAlreadyOwnedByYou');
    expect(again.status).toBe(409);
    const missing = await s3Error(s3.send(new HeadBucketCommand({ Bucket: 'e2e-no-such-bucket' })));
    expect(missing.status).toBe(404);
  });

  it('refuses to delete a non-empty bucket, then deletes it when empty', async () => {
    const b = uniq('e2e-del').toLowerCase();
    await s3.send(new CreateBucketCommand({ Bucket: b }));
    await s3.send(new PutObjectCommand({ Bucket: b, Key: 'only', Body: Buffer.from('x') }));
    const e = await s3Error(s3.send(new DeleteBucketCommand({ Bucket: b })));
    expect(e.name).toBe('BucketNotEmpty');
    expect(e.status).toBe(409);
    await s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'only' }));
    const del = await s3.send(new DeleteBucketCommand({ Bucket: b }));
    expect(del.$metadata.httpStatusCode).toBe(204);
    expect((await s3Error(s3.send(new HeadBucketCommand({ Bucket: b })))).status).toBe(404);
  });
});

describe('PutObject / GetObject / HeadObject with default checksums', () => {
  for (const size of [0, 1, 1024 * 1024 + 3, 8 * 1024 * 1024]) {
    it(`round-trips ${size} bytes from a Buffer body`, async () => {
      const data = random(size);
      // (The largest one goes after `Expect: 100-continue`, as the SDK sends bodies of 2 MiB and up.)
      await putAndCheck(s3, `buf/${size}`, data);
      const head = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: `buf/${size}` }));
      expect(head.ContentLength).toBe(size);
      expect(head.ETag).toBe(`"${md5(data)}"`);
      expect(head.ServerSideEncryption).toBe('AES256');
    });

    it(`round-trips ${size} bytes from a stream body (aws-chunked, CRC32 trailer)`, async () => {
      const data = random(size);
      await putAndCheck(s3, `stream/${size}`, data, { Body: streamOf(data), ContentLength: size });
      const head = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: `stream/${size}` }));
      expect(head.ContentLength).toBe(size);
      expect(head.ETag).toBe(`"${md5(data)}"`);
    });
  }

  it('accepts an explicit ServerSideEncryption: AES256', async () => {
    const data = random(70_001);
    const put = await putAndCheck(s3, 'explicit-sse', data, { ServerSideEncryption: 'AES256' });
    expect(put.ServerSideEncryption).toBe('AES256');
    const head = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'explicit-sse' }));
    expect(head.ServerSideEncryption).toBe('AES256');
  });

  it('accepts uploads from a client with requestChecksumCalculation WHEN_REQUIRED (plain signed payload)', async () => {
    const plain = s3Client({ requestChecksumCalculation: 'WHEN_REQUIRED' });
    try {
      const data = random(300_000);
      await putAndCheck(plain, 'when-required/buf', data);
      await putAndCheck(plain, 'when-required/stream', data, { Body: streamOf(data), ContentLength: data.length });
    } finally {
      plain.destroy();
    }
  });

  it('accepts ChecksumAlgorithm SHA256 (header for a Buffer, trailer for a stream)', async () => {
    const data = random(200_003);
    const a = await putAndCheck(s3, 'sha256/buf', data, { ChecksumAlgorithm: 'SHA256' });
    // S3 echoes the checksum it verified; a gateway that omits it is not wrong for this test.
    if (a.ChecksumSHA256 !== undefined) expect(a.ChecksumSHA256).toBe(Buffer.from(sha256(data), 'hex').toString('base64'));
    await putAndCheck(s3, 'sha256/stream', data, { ChecksumAlgorithm: 'SHA256', Body: streamOf(data), ContentLength: data.length });
  });

  it('refuses an upload whose declared checksum does not match the body', async () => {
    const data = random(1000);
    const wrong = Buffer.from(sha256(random(10)), 'hex').toString('base64');
    const e = await s3Error(s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'bad-checksum', Body: data, ChecksumSHA256: wrong })));
    expect(e.status).toBe(400);
    expect(e.name).toBe('BadDigest');
    expect((await s3Error(s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'bad-checksum' })))).status).toBe(404);
  });

  it('answers NoSuchKey for a missing object', async () => {
    const e = await s3Error(s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'no/such/key' })));
    expect(e.name).toBe('NoSuchKey');
    expect(e.status).toBe(404);
  });

  it('round-trips user metadata and content headers', async () => {
    const data = random(10);
    await s3.send(
      new PutObjectCommand({
        Bucket: BUCKET,
        Key: 'meta',
        Body: data,
        Metadata: { colour: 'blue', 'two-words': 'x y' },
        ContentType: 'text/plain; charset=utf-8',
        ContentDisposition: 'attachment; filename="m.txt"',
        CacheControl: 'max-age=60',
      }),
    );
    const head = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'meta' }));
    expect(head.Metadata).toEqual({ colour: 'blue', 'two-words': 'x y' });
    expect(head.ContentType).toBe('text/plain; charset=utf-8');
    expect(head.ContentDisposition).toBe('attachment; filename="m.txt"');
    expect(head.CacheControl).toBe('max-age=60');
    const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'meta' }));
    expect(got.Metadata).toEqual({ colour: 'blue', 'two-words': 'x y' });
    expect(got.ContentType).toBe('text/plain; charset=utf-8');
    expect(got.ContentEncoding ?? '').not.toContain('aws-chunked');
    expect(sha256(await bodyBytes(got))).toBe(sha256(data));
  });
});

describe('ranges and conditional GET', () => {
  const data = random(200_000);
  const KEY = 'ranged.bin';
  beforeAll(async () => {
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: KEY, Body: data }));
  });

  const cases: [string, number, number][] = [
    ['bytes=1000-70000', 1000, 70000],
    ['bytes=-500', data.length - 500, data.length - 1],
    ['bytes=150000-', 150000, data.length - 1],
  ];
  for (const [range, start, end] of cases) {
    it(`serves ${range}`, async () => {
      const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: KEY, Range: range }));
      expect(got.$metadata.httpStatusCode).toBe(206);
      expect(got.ContentRange).toBe(`bytes ${start}-${end}/${data.length}`);
      expect.soft(got.ContentLength).toBe(end - start + 1);
      const back = await bodyBytes(got);
      expect(sha256(back)).toBe(sha256(data.subarray(start, end + 1)));
    });
  }

  it('answers 304 Not Modified for a matching If-None-Match', async () => {
    const e = await s3Error(s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: KEY, IfNoneMatch: `"${md5(data)}"` })));
    // A 304 has no body, so this SDK cannot name the error (it reports "Unknown",
    // as it does against AWS: aws-sdk-js-v3#5860); the status is what S3 defines.
    expect(e.status).toBe(304);
  });

  it('answers 412 PreconditionFailed for a wrong If-Match, and serves a right one', async () => {
    const e = await s3Error(s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: KEY, IfMatch: '"0123456789abcdef0123456789abcdef"' })));
    expect(e.status).toBe(412);
    expect(e.name).toBe('PreconditionFailed');
    const ok = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: KEY, IfMatch: `"${md5(data)}"` }));
    expect(sha256(await bodyBytes(ok))).toBe(sha256(data));
  });
});

describe('deleting', () => {
  it('DeleteObject removes one object (and is idempotent)', async () => {
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'del/one', Body: Buffer.from('1') }));
    const r = await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: 'del/one' }));
    expect(r.$metadata.httpStatusCode).toBe(204);
    expect((await s3Error(s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'del/one' })))).status).toBe(404);
    const again = await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: 'del/one' }));
    expect(again.$metadata.httpStatusCode).toBe(204);
  });

  it('DeleteObjects removes several objects', async () => {
    const keys = ['del/m1', 'del/m2', 'del/m3'];
    for (const k of keys) await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: k, Body: random(5) }));
    const r = await s3.send(
      new DeleteObjectsCommand({ Bucket: BUCKET, Delete: { Objects: [...keys, 'del/never-existed'].map((Key) => ({ Key })) } }),
    );
    expect((r.Errors ?? []).length).toBe(0);
    expect(r.Deleted?.map((d) => d.Key).sort()).toEqual([...keys, 'del/never-existed'].sort());
    for (const k of keys) expect((await s3Error(s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: k })))).status).toBe(404);
  });
});

describe('listing', () => {
  const P = 'ls/';
  const keys = ['ls/a/1', 'ls/a/2', 'ls/b/1', 'ls/c', 'ls/d', 'ls/e/x/y', 'ls/f'];
  beforeAll(async () => {
    for (const k of keys) await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: k, Body: Buffer.from(k) }));
  });

  it('ListObjectsV2 pages with Prefix, Delimiter, MaxKeys and ContinuationToken', async () => {
    const seenKeys: string[] = [];
    const seenPrefixes: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const r = await s3.send(
        new ListObjectsV2Command({ Bucket: BUCKET, Prefix: P, Delimiter: '/', MaxKeys: 2, ContinuationToken: token }),
      );
      pages++;
      expect((r.Contents?.length ?? 0) + (r.CommonPrefixes?.length ?? 0)).toBeLessThanOrEqual(2);
      expect(r.KeyCount).toBe((r.Contents?.length ?? 0) + (r.CommonPrefixes?.length ?? 0));
      seenKeys.push(...(r.Contents ?? []).map((c) => c.Key!));
      seenPrefixes.push(...(r.CommonPrefixes ?? []).map((c) => c.Prefix!));
      token = r.IsTruncated ? r.NextContinuationToken : undefined;
      if (r.IsTruncated) expect(token).toBeTruthy();
    } while (token && pages < 10);
    expect(seenKeys).toEqual(['ls/c', 'ls/d', 'ls/f']);
    expect(seenPrefixes).toEqual(['ls/a/', 'ls/b/', 'ls/e/']);
    expect(pages).toBe(3);
  });

  it('ListObjectsV2 reports sizes and ETags and honours StartAfter', async () => {
    const r = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: P, StartAfter: 'ls/b/1' }));
    expect(r.Contents?.map((c) => c.Key)).toEqual(['ls/c', 'ls/d', 'ls/e/x/y', 'ls/f']);
    expect(r.StartAfter).toBe('ls/b/1');
    const c = r.Contents!.find((x) => x.Key === 'ls/c')!;
    expect(c.Size).toBe(Buffer.from('ls/c').length);
    expect(c.ETag).toBe(`"${md5(Buffer.from('ls/c'))}"`);
  });

  it('ListObjects (v1) pages with MaxKeys and Marker', async () => {
    const all: string[] = [];
    let marker: string | undefined;
    for (let i = 0; i < 10; i++) {
      const r = await s3.send(new ListObjectsCommand({ Bucket: BUCKET, Prefix: P, MaxKeys: 3, Marker: marker }));
      const got = (r.Contents ?? []).map((c) => c.Key!);
      expect(got.length).toBeLessThanOrEqual(3);
      all.push(...got);
      if (!r.IsTruncated) break;
      marker = r.NextMarker ?? got[got.length - 1];
    }
    expect(all).toEqual(keys);
    const after = await s3.send(new ListObjectsCommand({ Bucket: BUCKET, Prefix: P, Marker: 'ls/d' }));
    expect(after.Contents?.map((c) => c.Key)).toEqual(['ls/e/x/y', 'ls/f']);
  });
});

describe('presigned URLs and authentication', () => {
  const data = random(50_000);
  const KEY = 'presign/object.bin';
  beforeAll(async () => {
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: KEY, Body: data }));
  });

  it('serves a presigned GET to plain fetch', async () => {
    const url = await getSignedUrl(s3, new GetObjectCommand({ Bucket: BUCKET, Key: KEY }), { expiresIn: 300 });
    expect(url).toContain('X-Amz-Signature=');
    const r = await fetch(url);
    expect(r.status).toBe(200);
    expect(r.headers.get('x-amz-server-side-encryption')).toBe('AES256');
    expect(sha256(Buffer.from(await r.arrayBuffer()))).toBe(sha256(data));
  });

  it('refuses an expired presigned URL with 403 AccessDenied', async () => {
    // Signed 10 s ago for 1 s: expired 9 s ago (no need to sit out the expiry).
    const url = await getSignedUrl(s3, new GetObjectCommand({ Bucket: BUCKET, Key: KEY }), {
      expiresIn: 1,
      signingDate: new Date(Date.now() - 10_000),
    });
    const r = await fetch(url);
    const body = await r.text();
    expect(r.status).toBe(403);
    expect(body).toContain('<Code>AccessDenied</Code>');
  });

  it('refuses a wrong secret with SignatureDoesNotMatch', async () => {
    const bad = s3Client({ credentials: { accessKeyId: gateway().accessKeyId, secretAccessKey: 'not-the-secret-0123456789' } });
    try {
      const e = await s3Error(bad.send(new GetObjectCommand({ Bucket: BUCKET, Key: KEY })));
      expect(e.status).toBe(403);
      expect(e.name).toBe('SignatureDoesNotMatch');
      const p = await s3Error(bad.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'forged', Body: random(100) })));
      expect(p.name).toBe('SignatureDoesNotMatch');
      expect((await s3Error(s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'forged' })))).status).toBe(404);
    } finally {
      bad.destroy();
    }
  });

  it('refuses an unknown access key with InvalidAccessKeyId', async () => {
    const bad = s3Client({ credentials: { accessKeyId: 'AKIDNOSUCHKEY0000000', secretAccessKey: gateway().secretAccessKey } });
    try {
      const e = await s3Error(bad.send(new ListBucketsCommand({})));
      expect(e.status).toBe(403);
      expect(e.name).toBe('InvalidAccessKeyId');
    } finally {
      bad.destroy();
    }
  });

  it('refuses anonymous requests with 403 AccessDenied', async () => {
    const g = gateway();
    const r = await fetch(`${g.endpoint}/${BUCKET}/${KEY}`);
    expect(r.status).toBe(403);
    expect(await r.text()).toContain('<Code>AccessDenied</Code>');
    const put = await fetch(`${g.endpoint}/${BUCKET}/anon-put`, { method: 'PUT', body: 'x' });
    expect(put.status).toBe(403);
    await put.arrayBuffer();
    expect((await s3Error(s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'anon-put' })))).status).toBe(404);
  });
});

describe('encryption at rest', () => {
  it('leaves no plaintext in the persisted R2 state', async () => {
    const g = gateway();
    // A distinctive, incompressible pattern; both upload paths (Buffer and aws-chunked stream).
    const data = random(256 * 1024);
    const needle = data.subarray(100_000, 100_032);
    const keyName = `at-rest/${uniq('needle')}`;
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: keyName, Body: data }));
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: `${keyName}-stream`, Body: streamOf(data), ContentLength: data.length }));
    const back = await bodyBytes(await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: keyName })));
    expect(sha256(back)).toBe(sha256(data));

    // The scan must be able to see what is stored: the files there hold at
    // least both objects' bytes, and the object's (plaintext) key name is found.
    const files = filesUnder(g.persistDir);
    const total = files.reduce((n, f) => n + f.size, 0);
    expect(total).toBeGreaterThanOrEqual(2 * data.length);
    expect(filesNaming(g.persistDir, keyName).length).toBeGreaterThan(0);

    expect(filesContaining(g.persistDir, needle)).toEqual([]);
  });
});
