// Checksums kept with objects, through real clients: @aws-sdk/client-s3 (PutObject with
// ChecksumAlgorithm, GetObject/HeadObject with ChecksumMode ENABLED, multipart COMPOSITE
// CRC32 and FULL_OBJECT CRC64NVME, ListParts, GetObjectAttributes) and boto3 on its
// default settings (CRC32 trailers on every upload).

import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { crc32 } from 'node:zlib';
import {
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectAttributesCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListPartsCommand,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gateway, random, s3Client, s3Error, sdkBody, sseCKey, uniq } from './helpers';

const MiB = 1024 * 1024;
const BUCKET = uniq('e2e-cks').toLowerCase();

const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');
const be32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
};
const crc32Bytes = (b: Uint8Array) => be32(crc32(b));
const sha256b64 = (b: Uint8Array) => createHash('sha256').update(b).digest('base64');

/** CRC-64/NVME (reflected 0x9a6c9329ac4bc9b5), table-driven, written here independently of the gateway's. */
const NVME_TABLE: bigint[] = (() => {
  const t: bigint[] = [];
  for (let i = 0; i < 256; i++) {
    let c = BigInt(i);
    for (let k = 0; k < 8; k++) c = c & 1n ? (c >> 1n) ^ 0x9a6c9329ac4bc9b5n : c >> 1n;
    t.push(c);
  }
  return t;
})();
function crc64nvme(b: Uint8Array): string {
  let c = 0xffffffffffffffffn;
  for (const x of b) c = NVME_TABLE[Number((c ^ BigInt(x)) & 0xffn)] ^ (c >> 8n);
  c ^= 0xffffffffffffffffn;
  const out = Buffer.alloc(8);
  out.writeBigUInt64BE(c);
  return out.toString('base64');
}

let s3: S3Client;

beforeAll(async () => {
  s3 = s3Client();
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
});

afterAll(() => s3?.destroy());

describe('@aws-sdk/client-s3', () => {
  it('PutObject with ChecksumAlgorithm SHA256: kept, returned by HeadObject and GetObject with ChecksumMode ENABLED', async () => {
    const Key = 'put/sha256.bin';
    const Body = random(300_000);
    const put = await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key, Body, ChecksumAlgorithm: 'SHA256' }));
    expect(put.ChecksumSHA256).toBe(sha256b64(Body));
    const head = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key, ChecksumMode: 'ENABLED' }));
    expect(head.ChecksumSHA256).toBe(sha256b64(Body));
    expect(head.ChecksumType).toBe('FULL_OBJECT');
    const plain = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key }));
    expect(plain.ChecksumSHA256).toBeUndefined();
    // The SDK validates the body against the checksum it is given.
    const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key, ChecksumMode: 'ENABLED' }));
    expect(got.ChecksumSHA256).toBe(sha256b64(Body));
    expect((await sdkBody(got)).equals(Body)).toBe(true);
    // A range carries no checksum of the whole object.
    const r = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key, ChecksumMode: 'ENABLED', Range: 'bytes=10-19' }));
    expect(r.ChecksumSHA256).toBeUndefined();
    expect((await sdkBody(r)).equals(Body.subarray(10, 20))).toBe(true);
  });

  it('PutObject on default settings (CRC32 trailer) keeps that CRC32; SSE-C objects report it with their key', async () => {
    const Key = 'put/default.bin';
    const Body = random(70_000);
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key, Body }));
    const head = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key, ChecksumMode: 'ENABLED' }));
    expect(head.ChecksumCRC32).toBe(b64(crc32Bytes(Body)));

    const k = sseCKey();
    const sse = { SSECustomerAlgorithm: 'AES256', SSECustomerKey: k.b64 };
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'put/ssec.bin', Body, ...sse }));
    const h = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'put/ssec.bin', ChecksumMode: 'ENABLED', ...sse }));
    expect(h.ChecksumCRC32).toBe(b64(crc32Bytes(Body)));
    const attrs = await s3.send(
      new GetObjectAttributesCommand({ Bucket: BUCKET, Key: 'put/ssec.bin', ObjectAttributes: ['Checksum', 'ObjectSize'], ...sse }),
    );
    expect(attrs.Checksum?.ChecksumCRC32).toBe(b64(crc32Bytes(Body)));
    expect(attrs.ObjectSize).toBe(Body.length);
    // Without the key, as for HeadObject: refused.
    const refused = await s3Error(
      s3.send(new GetObjectAttributesCommand({ Bucket: BUCKET, Key: 'put/ssec.bin', ObjectAttributes: ['ETag'] })),
    );
    expect(refused.status).toBe(400);
  });

  it('PutObject with a client-computed CRC64NVME: the gateway keeps it; an object sent with no checksum gets one too', async () => {
    const Key = 'put/nvme.bin';
    const Body = random(50_000);
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key, Body, ChecksumAlgorithm: 'CRC64NVME' }));
    const head = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key, ChecksumMode: 'ENABLED' }));
    expect(head.ChecksumCRC64NVME).toBe(crc64nvme(Body));
    // A client that sends no checksum at all: the gateway computes CRC64NVME, as S3 does.
    const bare = s3Client({ requestChecksumCalculation: 'WHEN_REQUIRED' });
    await bare.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'put/bare.bin', Body }));
    bare.destroy();
    const h = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'put/bare.bin', ChecksumMode: 'ENABLED' }));
    expect(h.ChecksumCRC64NVME).toBe(crc64nvme(Body));
    expect(h.ChecksumCRC32).toBeUndefined();
  });

  it('multipart, ChecksumAlgorithm CRC32 (COMPOSITE): UploadPart, ListParts, Complete, HeadObject, GetObjectAttributes', async () => {
    const Key = 'mp/composite.bin';
    const parts = [random(5 * MiB), random(MiB + 5)];
    const create = await s3.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key, ChecksumAlgorithm: 'CRC32' }));
    expect(create.ChecksumAlgorithm).toBe('CRC32');
    expect(create.ChecksumType).toBe('COMPOSITE');
    const UploadId = create.UploadId!;
    const done: { PartNumber: number; ETag: string; ChecksumCRC32: string }[] = [];
    for (const [i, Body] of parts.entries()) {
      const r = await s3.send(
        new UploadPartCommand({ Bucket: BUCKET, Key, UploadId, PartNumber: i + 1, Body, ChecksumAlgorithm: 'CRC32' }),
      );
      expect(r.ChecksumCRC32).toBe(b64(crc32Bytes(Body)));
      done.push({ PartNumber: i + 1, ETag: r.ETag!, ChecksumCRC32: r.ChecksumCRC32! });
    }
    const listed = await s3.send(new ListPartsCommand({ Bucket: BUCKET, Key, UploadId }));
    expect(listed.ChecksumAlgorithm).toBe('CRC32');
    expect(listed.Parts?.map((p) => p.ChecksumCRC32)).toEqual(done.map((p) => p.ChecksumCRC32));

    // A wrong part checksum in the list is refused (InvalidPart), and the upload stays open.
    const wrong = await s3Error(
      s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: BUCKET,
          Key,
          UploadId,
          MultipartUpload: { Parts: [{ ...done[0], ChecksumCRC32: done[1].ChecksumCRC32 }, done[1]] },
        }),
      ),
    );
    expect(wrong.name).toBe('InvalidPart');

    const expected = `${b64(crc32Bytes(Buffer.concat(parts.map(crc32Bytes))))}-2`;
    const complete = await s3.send(new CompleteMultipartUploadCommand({ Bucket: BUCKET, Key, UploadId, MultipartUpload: { Parts: done } }));
    expect(complete.ChecksumCRC32).toBe(expected);
    expect(complete.ChecksumType).toBe('COMPOSITE');

    const head = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key, ChecksumMode: 'ENABLED' }));
    expect(head.ChecksumCRC32).toBe(expected);
    expect(head.ChecksumType).toBe('COMPOSITE');
    const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key, ChecksumMode: 'ENABLED' }));
    expect((await sdkBody(got)).equals(Buffer.concat(parts))).toBe(true);
    const part2 = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key, PartNumber: 2, ChecksumMode: 'ENABLED' }));
    expect(part2.ChecksumCRC32).toBe(done[1].ChecksumCRC32);
    expect((await sdkBody(part2)).equals(parts[1])).toBe(true);

    const attrs = await s3.send(
      new GetObjectAttributesCommand({
        Bucket: BUCKET,
        Key,
        ObjectAttributes: ['ETag', 'Checksum', 'ObjectParts', 'StorageClass', 'ObjectSize'],
        MaxParts: 1,
      }),
    );
    expect(attrs.ETag).toBe(complete.ETag?.replace(/"/g, ''));
    expect(attrs.Checksum?.ChecksumCRC32).toBe(expected.replace(/-2$/, ''));
    expect(attrs.Checksum?.ChecksumType).toBe('COMPOSITE');
    expect(attrs.ObjectParts?.TotalPartsCount).toBe(2);
    expect(attrs.ObjectParts?.IsTruncated).toBe(true);
    expect(attrs.ObjectParts?.Parts?.map((p) => [p.PartNumber, p.Size, p.ChecksumCRC32])).toEqual([[1, 5 * MiB, done[0].ChecksumCRC32]]);
    expect(attrs.StorageClass).toBe('STANDARD');
    expect(attrs.ObjectSize).toBe(6 * MiB + 5);
    expect(attrs.LastModified).toBeInstanceOf(Date);
    const rest = await s3.send(
      new GetObjectAttributesCommand({ Bucket: BUCKET, Key, ObjectAttributes: ['ObjectParts'], PartNumberMarker: '1' }),
    );
    expect(rest.ObjectParts?.Parts?.map((p) => p.PartNumber)).toEqual([2]);
    expect(rest.ObjectParts?.IsTruncated).toBe(false);
  });

  it('multipart, CRC64NVME FULL_OBJECT: the whole-object CRC, checked at Complete and by the SDK on GetObject', async () => {
    const Key = 'mp/full.bin';
    const parts = [random(5 * MiB), random(777)];
    const whole = Buffer.concat(parts);
    const create = await s3.send(
      new CreateMultipartUploadCommand({ Bucket: BUCKET, Key, ChecksumAlgorithm: 'CRC64NVME', ChecksumType: 'FULL_OBJECT' }),
    );
    expect(create.ChecksumType).toBe('FULL_OBJECT');
    const UploadId = create.UploadId!;
    const done = [];
    for (const [i, Body] of parts.entries()) {
      const r = await s3.send(
        new UploadPartCommand({ Bucket: BUCKET, Key, UploadId, PartNumber: i + 1, Body, ChecksumAlgorithm: 'CRC64NVME' }),
      );
      done.push({ PartNumber: i + 1, ETag: r.ETag!, ChecksumCRC64NVME: r.ChecksumCRC64NVME });
    }
    const expected = crc64nvme(whole);
    const bad = await s3Error(
      s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: BUCKET,
          Key,
          UploadId,
          MultipartUpload: { Parts: done },
          ChecksumCRC64NVME: crc64nvme(parts[0]),
          ChecksumType: 'FULL_OBJECT',
        }),
      ),
    );
    expect(bad.name).toBe('BadDigest');
    const complete = await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: BUCKET,
        Key,
        UploadId,
        MultipartUpload: { Parts: done },
        ChecksumCRC64NVME: expected,
        ChecksumType: 'FULL_OBJECT',
      }),
    );
    expect(complete.ChecksumCRC64NVME).toBe(expected);
    expect(complete.ChecksumType).toBe('FULL_OBJECT');
    const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key, ChecksumMode: 'ENABLED' }));
    expect(got.ChecksumCRC64NVME).toBe(expected);
    expect(got.ChecksumType).toBe('FULL_OBJECT');
    expect((await sdkBody(got)).equals(whole)).toBe(true);
  });

  it('GetObjectAttributes without attributes: refused as S3 does', async () => {
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'attrs/none', Body: 'x' }));
    const e = await s3Error(s3.send(new GetObjectAttributesCommand({ Bucket: BUCKET, Key: 'attrs/none', ObjectAttributes: [] })));
    expect(e.name).toBe('InvalidArgument');
  });
});

const BOTO = `
import io, json, os, sys, zlib, base64
import boto3
from boto3.s3.transfer import TransferConfig

s3 = boto3.client('s3', endpoint_url=os.environ['EP'], region_name='us-east-1',
                  aws_access_key_id=os.environ['AK'], aws_secret_access_key=os.environ['SK'])
bucket = os.environ['BUCKET']
out = {}
small = os.urandom(100_000)
s3.put_object(Bucket=bucket, Key='boto/small.bin', Body=small)
h = s3.head_object(Bucket=bucket, Key='boto/small.bin', ChecksumMode='ENABLED')
out['small_crc32'] = h.get('ChecksumCRC32')
out['small_expected'] = base64.b64encode(zlib.crc32(small).to_bytes(4, 'big')).decode()
g = s3.get_object(Bucket=bucket, Key='boto/small.bin', ChecksumMode='ENABLED')
out['small_ok'] = g['Body'].read() == small

big = os.urandom(11 * 1024 * 1024 + 3)
s3.upload_fileobj(io.BytesIO(big), bucket, 'boto/big.bin',
                  Config=TransferConfig(multipart_threshold=5 * 1024 * 1024, multipart_chunksize=5 * 1024 * 1024))
h = s3.head_object(Bucket=bucket, Key='boto/big.bin', ChecksumMode='ENABLED')
out['big_checksums'] = {k: v for k, v in h.items() if k.startswith('Checksum')}
crc = lambda b: zlib.crc32(b).to_bytes(4, 'big')
chunks = [big[i:i + 5 * 1024 * 1024] for i in range(0, len(big), 5 * 1024 * 1024)]
out['big_expected'] = {
    'COMPOSITE': base64.b64encode(crc(b''.join(crc(c) for c in chunks))).decode() + '-%d' % len(chunks),
    'FULL_OBJECT': base64.b64encode(crc(big)).decode(),
}
g = s3.get_object(Bucket=bucket, Key='boto/big.bin', ChecksumMode='ENABLED')
out['big_ok'] = g['Body'].read() == big
a = s3.get_object_attributes(Bucket=bucket, Key='boto/big.bin', ObjectAttributes=['ETag', 'Checksum', 'ObjectParts', 'ObjectSize'])
out['attrs'] = {'size': a['ObjectSize'], 'parts': a['ObjectParts']['TotalPartsCount'], 'checksum': a.get('Checksum', {})}
print(json.dumps(out))
`;

describe('boto3 on default settings', () => {
  it('uploads with CRC32 trailers; reads the kept checksums back and validates the bodies', async () => {
    const g = gateway();
    const stdout = await new Promise<string>((resolve, reject) =>
      execFile(
        'python3',
        ['-c', BOTO],
        { env: { ...process.env, EP: g.endpoint, AK: g.accessKeyId, SK: g.secretAccessKey, BUCKET }, maxBuffer: 1 << 20 },
        (err, out, errOut) => (err ? reject(new Error(`${err.message}\n${errOut}`)) : resolve(out)),
      ),
    );
    const out = JSON.parse(stdout);
    expect(out.small_crc32).toBe(out.small_expected);
    expect(out.small_ok).toBe(true);
    expect(out.big_ok).toBe(true);
    // s3transfer sends CRC32 with every part: the object's CRC32 is the one S3 gives for its checksum type.
    expect(out.big_checksums.ChecksumCRC32).toBe(out.big_expected[out.big_checksums.ChecksumType]);
    expect(out.attrs.size).toBe(11 * MiB + 3);
    expect(out.attrs.parts).toBe(3);
    expect(out.attrs.checksum.ChecksumType).toBe(out.big_checksums.ChecksumType);
  });
});
