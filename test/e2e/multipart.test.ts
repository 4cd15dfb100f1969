// Multipart uploads end to end: @aws-sdk/lib-storage (default settings: CRC32
// part checksums), hand-driven CreateMultipartUpload / UploadPart / Complete with
// unequal parts, SSE-C and SSE-COS uploads, the upload lifecycle calls,
// cos-nodejs-sdk-v5 sliceUploadFile, and the aws CLI's default (multipart) `s3 cp`.

import { createHash } from 'node:crypto';
import { join } from 'node:path';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListPartsCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import type COS from 'cos-nodejs-sdk-v5';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  aws,
  COS_APPID,
  COS_REGION,
  cosClient,
  crc64ecma,
  hasAws,
  random,
  readFileSync,
  s3Client,
  s3Error,
  sdkBody,
  sha256,
  sseCKey,
  tempDir,
  uniq,
  writeFileSync,
} from './helpers';

const MiB = 1024 * 1024;
const BUCKET = uniq('e2e-mp').toLowerCase();
const COS_BUCKET = `${uniq('e2e-mp-cos').toLowerCase()}-${COS_APPID}`;
const Region = COS_REGION;

// Generated once; every object below is a slice of it.
const DATA = random(64 * MiB);

let s3: S3Client;
let cos: COS;
const files = tempDir();

/** The S3 multipart ETag: MD5 of the concatenated binary part MD5s, a dash and the part count. */
function multipartEtag(data: Buffer, sizes: number[]): string {
  const md5s: Buffer[] = [];
  let o = 0;
  for (const n of sizes) {
    md5s.push(
      createHash('md5')
        .update(data.subarray(o, o + n))
        .digest(),
    );
    o += n;
  }
  return `"${createHash('md5').update(Buffer.concat(md5s)).digest('hex')}-${sizes.length}"`;
}

/** Sizes of the parts lib-storage cuts `total` bytes into. */
const cut = (total: number, part: number) => Array.from({ length: Math.ceil(total / part) }, (_, i) => Math.min(part, total - i * part));

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

describe('@aws-sdk/lib-storage Upload', () => {
  it('uploads 64 MiB in 5 MiB parts; reads back byte-identical with an ETag ending in -13', async () => {
    const Key = 'lib/64mib.bin';
    const up = new Upload({ client: s3, params: { Bucket: BUCKET, Key, Body: DATA }, partSize: 5 * MiB, queueSize: 4 });
    const done = await up.done();
    const sizes = cut(DATA.length, 5 * MiB);
    expect(sizes.length).toBe(13);
    expect(done.ETag).toMatch(/-13"$/);
    expect(done.ETag).toBe(multipartEtag(DATA, sizes));
    expect(done.ServerSideEncryption).toBe('AES256');

    const head = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key }));
    expect(head.ContentLength).toBe(DATA.length);
    expect(head.ETag).toBe(done.ETag);
    expect(head.ServerSideEncryption).toBe('AES256');
    const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key }));
    expect(got.ETag).toBe(done.ETag);
    const back = await sdkBody(got);
    expect(back.length).toBe(DATA.length);
    expect(sha256(back)).toBe(sha256(DATA));

    // A range across the first part boundary.
    const r = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key, Range: `bytes=${5 * MiB - 100}-${5 * MiB + 99}` }));
    expect((await sdkBody(r)).equals(DATA.subarray(5 * MiB - 100, 5 * MiB + 100))).toBe(true);
  });

  it('with SSE-C (SSECustomerKey in params): every part sealed with the key; readable only with it', async () => {
    const k = sseCKey();
    const Key = 'lib/ssec.bin';
    const data = DATA.subarray(3 * MiB, 3 * MiB + 11 * MiB + 5);
    const up = new Upload({
      client: s3,
      params: { Bucket: BUCKET, Key, Body: data, SSECustomerAlgorithm: 'AES256', SSECustomerKey: k.b64 },
      partSize: 5 * MiB,
      queueSize: 3,
    });
    const done = await up.done();
    expect(done.ETag).toMatch(/-3"$/);
    const head = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key, SSECustomerAlgorithm: 'AES256', SSECustomerKey: k.b64 }));
    expect(head.SSECustomerAlgorithm).toBe('AES256');
    expect(head.SSECustomerKeyMD5).toBe(k.md5);
    expect(head.ServerSideEncryption).toBeUndefined();
    expect(head.ContentLength).toBe(data.length);

    const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key, SSECustomerAlgorithm: 'AES256', SSECustomerKey: k.b64 }));
    expect(got.SSECustomerKeyMD5).toBe(k.md5);
    expect(got.ETag).toBe(done.ETag);
    const back = await sdkBody(got);
    expect(back.length).toBe(data.length);
    expect(sha256(back)).toBe(sha256(data));

    const none = await s3Error(s3.send(new GetObjectCommand({ Bucket: BUCKET, Key })));
    expect(none.status).toBe(400);
    expect(none.name).toBe('InvalidRequest');
    const other = sseCKey();
    const wrong = await s3Error(
      s3.send(new GetObjectCommand({ Bucket: BUCKET, Key, SSECustomerAlgorithm: 'AES256', SSECustomerKey: other.b64 })),
    );
    expect(wrong.status).toBe(403);
    expect(wrong.name).toBe('AccessDenied');
  });

  it('with ServerSideEncryption AES256', async () => {
    const Key = 'lib/sse-cos.bin';
    const data = DATA.subarray(7, 7 + 10 * MiB + 3);
    const up = new Upload({
      client: s3,
      params: { Bucket: BUCKET, Key, Body: data, ServerSideEncryption: 'AES256' },
      partSize: 5 * MiB,
      queueSize: 3,
    });
    const done = await up.done();
    expect(done.ETag).toBe(multipartEtag(data, cut(data.length, 5 * MiB)));
    expect(done.ServerSideEncryption).toBe('AES256');
    const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key }));
    expect(got.ServerSideEncryption).toBe('AES256');
    expect(sha256(await sdkBody(got))).toBe(sha256(data));
  });
});

describe('CreateMultipartUpload / UploadPart / CompleteMultipartUpload with unequal parts', () => {
  it('5 MiB, 7 MiB + 3, 6 MiB + 1 and 1 KiB: byte-identical, ETag ending in -4', async () => {
    const Key = 'manual/unequal.bin';
    const sizes = [5 * MiB, 7 * MiB + 3, 6 * MiB + 1, 1024];
    const data = DATA.subarray(MiB, MiB + sizes.reduce((a, b) => a + b, 0));
    const { UploadId } = await s3.send(
      new CreateMultipartUploadCommand({ Bucket: BUCKET, Key, ContentType: 'application/x-unequal', Metadata: { parts: 'four' } }),
    );
    expect(UploadId).toBeTruthy();
    const offsets = sizes.map((_, i) => sizes.slice(0, i).reduce((a, b) => a + b, 0));
    // Sent together, as clients do (and in a scrambled order).
    const order = [2, 0, 3, 1];
    const etags: string[] = [];
    await Promise.all(
      order.map(async (i) => {
        const r = await s3.send(
          new UploadPartCommand({
            Bucket: BUCKET,
            Key,
            UploadId,
            PartNumber: i + 1,
            Body: data.subarray(offsets[i], offsets[i] + sizes[i]),
          }),
        );
        expect(r.ETag).toBe(
          `"${createHash('md5')
            .update(data.subarray(offsets[i], offsets[i] + sizes[i]))
            .digest('hex')}"`,
        );
        etags[i] = r.ETag!;
      }),
    );

    const parts = await s3.send(new ListPartsCommand({ Bucket: BUCKET, Key, UploadId }));
    expect(parts.Parts?.map((p) => [p.PartNumber, p.Size, p.ETag])).toEqual(sizes.map((n, i) => [i + 1, n, etags[i]]));

    const done = await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: BUCKET,
        Key,
        UploadId,
        MultipartUpload: { Parts: etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) },
      }),
    );
    expect(done.ETag).toMatch(/-4"$/);
    expect(done.ETag).toBe(multipartEtag(data, sizes));

    const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key }));
    expect(got.ETag).toBe(done.ETag);
    expect(got.ContentType).toBe('application/x-unequal');
    expect(got.Metadata).toEqual({ parts: 'four' });
    expect(got.ServerSideEncryption).toBe('AES256');
    const back = await sdkBody(got);
    expect(back.length).toBe(data.length);
    expect(sha256(back)).toBe(sha256(data));

    // Ranges across each part boundary, and the last small part alone.
    for (const b of offsets.slice(1)) {
      const r = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key, Range: `bytes=${b - 5}-${b + 4}` }));
      expect((await sdkBody(r)).equals(data.subarray(b - 5, b + 5))).toBe(true);
    }
    const last = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key, PartNumber: 4 }));
    expect(last.PartsCount).toBe(4);
    expect((await sdkBody(last)).equals(data.subarray(offsets[3]))).toBe(true);

    // Completed: the upload is gone.
    const lu = await s3.send(new ListMultipartUploadsCommand({ Bucket: BUCKET, Prefix: Key }));
    expect((lu.Uploads ?? []).map((u) => u.UploadId)).not.toContain(UploadId);
  });
});

describe('ListMultipartUploads / ListParts / AbortMultipartUpload', () => {
  it('lists a pending upload and its parts, then aborts it', async () => {
    const Key = 'lifecycle/pending.bin';
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key }));
    const { UploadId: other } = await s3.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: 'lifecycle/other.bin' }));
    const p1 = DATA.subarray(0, 1000);
    const p2 = DATA.subarray(1000, 3000);
    const e1 = (await s3.send(new UploadPartCommand({ Bucket: BUCKET, Key, UploadId, PartNumber: 1, Body: p1 }))).ETag;
    const e2 = (await s3.send(new UploadPartCommand({ Bucket: BUCKET, Key, UploadId, PartNumber: 2, Body: p2 }))).ETag;

    const lu = await s3.send(new ListMultipartUploadsCommand({ Bucket: BUCKET, Prefix: 'lifecycle/' }));
    expect(lu.Bucket).toBe(BUCKET);
    expect((lu.Uploads ?? []).map((u) => [u.Key, u.UploadId]).sort()).toEqual(
      [
        ['lifecycle/other.bin', other],
        [Key, UploadId],
      ].sort(),
    );

    const lp = await s3.send(new ListPartsCommand({ Bucket: BUCKET, Key, UploadId }));
    expect(lp.UploadId).toBe(UploadId);
    expect(lp.Parts?.map((p) => [p.PartNumber, p.Size, p.ETag])).toEqual([
      [1, 1000, e1],
      [2, 2000, e2],
    ]);
    const page = await s3.send(new ListPartsCommand({ Bucket: BUCKET, Key, UploadId, MaxParts: 1 }));
    expect(page.Parts?.map((p) => p.PartNumber)).toEqual([1]);
    expect(page.IsTruncated).toBe(true);
    const page2 = await s3.send(new ListPartsCommand({ Bucket: BUCKET, Key, UploadId, PartNumberMarker: page.NextPartNumberMarker }));
    expect(page2.Parts?.map((p) => p.PartNumber)).toEqual([2]);

    // Pending uploads are not objects.
    expect((await s3Error(s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key })))).status).toBe(404);

    const ab = await s3.send(new AbortMultipartUploadCommand({ Bucket: BUCKET, Key, UploadId }));
    expect(ab.$metadata.httpStatusCode).toBe(204);
    const gone = await s3Error(s3.send(new ListPartsCommand({ Bucket: BUCKET, Key, UploadId })));
    expect(gone.status).toBe(404);
    expect(gone.name).toBe('NoSuchUpload');
    const late = await s3Error(s3.send(new UploadPartCommand({ Bucket: BUCKET, Key, UploadId, PartNumber: 3, Body: p1 })));
    expect(late.name).toBe('NoSuchUpload');
    const after = await s3.send(new ListMultipartUploadsCommand({ Bucket: BUCKET, Prefix: 'lifecycle/' }));
    expect((after.Uploads ?? []).map((u) => u.UploadId)).toEqual([other]);
    await s3.send(new AbortMultipartUploadCommand({ Bucket: BUCKET, Key: 'lifecycle/other.bin', UploadId: other }));
  });
});

describe('cos-nodejs-sdk-v5 sliceUploadFile', () => {
  // COS allows parts of 1 MB and up (S3: 5 MiB); the SDK's SliceSize is the part size.
  it('uploads a file in 1 MiB slices, then getObject returns the same bytes', async () => {
    const data = DATA.subarray(5, 5 + 2 * MiB + 12_345); // 3 slices
    const src = join(files.dir, 'slices.bin');
    writeFileSync(src, data);
    const Key = 'cos/sliced.bin';
    const up = await cos.sliceUploadFile({ Bucket: COS_BUCKET, Region, Key, FilePath: src, SliceSize: MiB });
    expect(up.statusCode).toBe(200);
    expect(up.ETag).toMatch(/-3"$/);
    const got = await cos.getObject({ Bucket: COS_BUCKET, Region, Key });
    expect(got.headers?.['x-cos-request-id']).toMatch(/\S/);
    expect(got.headers?.['x-cos-server-side-encryption']).toBe('AES256');
    expect(got.ETag).toBe(up.ETag);
    expect(got.Body.length).toBe(data.length);
    expect(sha256(got.Body)).toBe(sha256(data));
    // COS reports the CRC-64 of the whole plaintext for multipart objects too.
    expect(got.headers?.['x-cos-hash-crc64ecma']).toBe(crc64ecma(data));
  });

  // sliceUploadFile itself drops SSE-C headers from its UploadPart calls (cos-nodejs-sdk-v5 3.0.0
  // passes only x-cos-traffic-limit and x-cos-mime-limit on), so COS refuses it as we do; the SDK's
  // own multipart calls carry them, and its Complete sends none, which S3 and COS accept.
  it('multipartInit / multipartUpload with SSE-C, multipartComplete without the key; read back only with it', async () => {
    const key = sseCKey();
    const ssec = { SSECustomerAlgorithm: 'AES256', SSECustomerKey: key.b64, SSECustomerKeyMD5: key.md5 };
    const data = DATA.subarray(11, 11 + 2 * MiB + 333);
    const Key = 'cos/parts-ssec.bin';
    const init = await cos.multipartInit({ Bucket: COS_BUCKET, Region, Key, ...ssec });
    const UploadId = init.UploadId;
    const Parts = [];
    for (let n = 1, at = 0; at < data.length; n++, at += MiB) {
      const Body = Buffer.from(data.subarray(at, Math.min(at + MiB, data.length)));
      const p = await cos.multipartUpload({ Bucket: COS_BUCKET, Region, Key, UploadId, PartNumber: n, Body, ...ssec });
      Parts.push({ PartNumber: n, ETag: p.ETag });
    }
    const done = await cos.multipartComplete({ Bucket: COS_BUCKET, Region, Key, UploadId, Parts });
    expect(done.statusCode).toBe(200);
    const refused = await cos.getObject({ Bucket: COS_BUCKET, Region, Key }).then(
      () => 0,
      (e: { statusCode?: number }) => e.statusCode,
    );
    expect(refused).toBe(400);
    const got = await cos.getObject({ Bucket: COS_BUCKET, Region, Key, ...ssec });
    expect(got.headers?.['x-cos-server-side-encryption-customer-algorithm']).toBe('AES256');
    expect(sha256(got.Body)).toBe(sha256(data));
  });
});

describe.skipIf(!hasAws)('aws CLI s3 cp with default settings (multipart above 8 MB)', () => {
  const SIZE = 50_000_000;
  const data = DATA.subarray(0, SIZE);
  let src: string;
  beforeAll(() => {
    src = join(files.dir, 'cli-50mb.bin');
    writeFileSync(src, data);
  });

  /** Runs the CLI with its default configuration and fails with its stderr when it does not exit 0. */
  async function ok(args: string[]): Promise<string> {
    const r = await aws(args, { timeoutMs: 110_000 });
    expect(r.code, `aws ${args.join(' ')}\n${r.stderr}`).toBe(0);
    return r.stdout;
  }

  it('--sse AES256: 50 MB up and back, byte-identical, a multipart ETag', async () => {
    await ok(['s3', 'cp', '--only-show-errors', '--sse', 'AES256', src, `s3://${BUCKET}/cli/sse.bin`]);
    const head = JSON.parse(await ok(['s3api', 'head-object', '--bucket', BUCKET, '--key', 'cli/sse.bin', '--output', 'json']));
    expect(head.ServerSideEncryption).toBe('AES256');
    expect(head.ContentLength).toBe(SIZE);
    expect(head.ETag).toBe(multipartEtag(data, cut(SIZE, 8 * MiB)));
    const dst = join(files.dir, 'cli-sse.back');
    await ok(['s3', 'cp', '--only-show-errors', `s3://${BUCKET}/cli/sse.bin`, dst]);
    const back = readFileSync(dst);
    expect(back.length).toBe(SIZE);
    expect(sha256(back)).toBe(sha256(data));
  });

  it('--sse-c: 50 MB up and back with the key, byte-identical', async () => {
    const cliKey = random(16).toString('hex'); // 32 characters
    const k = sseCKey(cliKey);
    const sse = ['--sse-c', 'AES256', '--sse-c-key', cliKey];
    await ok(['s3', 'cp', '--only-show-errors', ...sse, src, `s3://${BUCKET}/cli/ssec.bin`]);
    const head = JSON.parse(
      await ok([
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
      ]),
    );
    expect(head.SSECustomerKeyMD5).toBe(k.md5);
    expect(head.ContentLength).toBe(SIZE);
    expect(head.ETag).toMatch(/-6"$/);
    const dst = join(files.dir, 'cli-ssec.back');
    await ok(['s3', 'cp', '--only-show-errors', ...sse, `s3://${BUCKET}/cli/ssec.bin`, dst]);
    const back = readFileSync(dst);
    expect(back.length).toBe(SIZE);
    expect(sha256(back)).toBe(sha256(data));
  });
});
