import { AwsV4Signer } from 'aws4fetch';
import { describe, expect, it } from 'vitest';
import { verifySigV4 } from '../../src/auth/sigv4';
import type { Payload } from '../../src/auth/types';
import { decodePayload, type PayloadInfo } from '../../src/s3/payload/chunked';
import { S3Error } from '../../src/s3/protocol/errors';
import {
  concat,
  drain,
  enc,
  expectS3Error,
  lookupOf,
  readAll,
  sha256Hex,
  signedChunkedBody,
  streamOf,
  unsignedChunkedBody,
} from './helpers/auth-helpers';

// Published values: the CRC "check" values of the RevEng catalogue for "123456789",
// in the big-endian base64 form of the x-amz-checksum-* headers, and its MD5/SHA-256.
const DATA = enc('123456789');
const CRC32 = 'y/Q5Jg=='; // 0xcbf43926
const CRC32C = '4waSgw=='; // 0xe3069283
const CRC64NVME = 'rosUhgp5mIg='; // 0xae8b14860a799888
const MD5 = 'JfnnlDI7RTiF9RgfG2JNCw=='; // 25f9e794323b453885f5181f1b624d0b
const SHA256_HEX = '15e2b0d3c33891ebb0f1ef609ec419420c20e320ce94c65fbc8c3312448eb225';
const b64hex = (h: string) => btoa(String.fromCharCode(...h.match(/../g)!.map((x) => parseInt(x, 16))));

const unsigned: Payload = { kind: 'unsigned' };
const unsignedTrailer: Payload = { kind: 'chunked-unsigned-trailer' };
const decode = (
  bytes: Uint8Array,
  payload: Payload,
  headers: Record<string, string>,
  piece: number | (() => number) = 5,
  info?: PayloadInfo,
) => decodePayload(streamOf(bytes, piece), payload, new Headers(headers), info);
const text = async (s: ReadableStream<Uint8Array>) => new TextDecoder().decode(await readAll(s));
async function failsWith(s: ReadableStream<Uint8Array>, code: string, message?: string) {
  const { error } = await drain(s);
  expect(error).toBeInstanceOf(S3Error);
  expect((error as S3Error).code).toBe(code);
  if (message) expect((error as S3Error).message).toBe(message);
}

// The AWS sigv4-streaming example: verify its request to obtain the chunk-signing context.
const AK = 'AKIAIOSFODNN7EXAMPLE';
const SK = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
async function awsExample(): Promise<{ payload: Payload; body: Uint8Array; headers: Record<string, string> }> {
  const headers = {
    'x-amz-date': '20130524T000000Z',
    'x-amz-storage-class': 'REDUCED_REDUNDANCY',
    'x-amz-content-sha256': 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD',
    'content-encoding': 'aws-chunked',
    'x-amz-decoded-content-length': '66560',
    'content-length': '66824',
  };
  const req = new Request('https://s3.amazonaws.com/examplebucket/chunkObject.txt', {
    method: 'PUT',
    headers: {
      ...headers,
      Authorization: `AWS4-HMAC-SHA256 Credential=${AK}/20130524/us-east-1/s3/aws4_request,SignedHeaders=content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class,Signature=4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9`,
    },
  });
  const { payload } = await verifySigV4(req, lookupOf({ [AK]: SK }), { now: new Date('2013-05-24T00:00:00Z') });
  const a = (n: number) => enc('a'.repeat(n));
  const body = concat(
    '10000;chunk-signature=ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648\r\n',
    a(65536),
    '\r\n',
    '400;chunk-signature=0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497\r\n',
    a(1024),
    '\r\n',
    '0;chunk-signature=b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9\r\n\r\n',
  );
  return { payload, body, headers };
}

describe('signed aws-chunked (AWS published example)', () => {
  it('decodes however the bytes are split', async () => {
    const { payload, body, headers } = await awsExample();
    for (const piece of [1, 7, 100, 65536, 70000, () => 1 + Math.floor(Math.random() * 5000)]) {
      const out = await readAll(decode(body, payload, headers, piece));
      expect(out.length).toBe(66560);
      expect(out.every((b) => b === 0x61)).toBe(true);
    }
  });

  it('a bad chunk signature mid-stream errors the stream before it ends', async () => {
    const { payload, body, headers } = await awsExample();
    const bad = body.slice();
    const at = new TextDecoder().decode(bad).indexOf('0055627c');
    bad[at] = 0x31; // '0' -> '1' in the second chunk's signature
    const { bytes, error } = await drain(decode(bad, payload, headers, 4096));
    expect((error as S3Error).code).toBe('SignatureDoesNotMatch');
    expect(bytes).toBeLessThan(66560);
  });

  it('tampered chunk data, truncation, wrong decoded length', async () => {
    const { payload, body, headers } = await awsExample();
    const flipped = body.slice();
    flipped[200] = 0x62;
    await failsWith(decode(flipped, payload, headers, 4096), 'SignatureDoesNotMatch');
    await failsWith(decode(body.subarray(0, body.length - 40), payload, headers, 4096), 'IncompleteBody');
    await failsWith(decode(body, payload, { ...headers, 'x-amz-decoded-content-length': '66561' }, 4096), 'IncompleteBody');
    await failsWith(decode(body, payload, { ...headers, 'x-amz-decoded-content-length': '66559' }, 4096), 'IncompleteBody');
    await failsWith(decode(concat(body, 'x'), payload, headers, 4096), 'InvalidRequest');
  });

  it('the final zero-length chunk is signed too', async () => {
    const { payload, body, headers } = await awsExample();
    const noFinal = body.subarray(0, body.length - 86); // drop "0;chunk-signature=...\r\n\r\n"
    await failsWith(decode(noFinal, payload, headers), 'IncompleteBody');
  });
});

describe('signed aws-chunked with trailer (aws4fetch-signed request, independent chunk encoder)', () => {
  const secret = 'trailer-secret';
  const datetime = '20260301T080000Z';
  async function setup(data: Uint8Array) {
    const headers = {
      'x-amz-content-sha256': 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER',
      'x-amz-trailer': 'x-amz-checksum-crc32',
      'x-amz-decoded-content-length': String(data.length),
      'content-encoding': 'aws-chunked',
    };
    const s = await new AwsV4Signer({
      url: 'https://gw.example/b/k',
      method: 'PUT',
      headers,
      accessKeyId: 'AKT',
      secretAccessKey: secret,
      service: 's3',
      region: 'eu-1',
      datetime,
    }).sign();
    const auth = await verifySigV4(new Request(s.url.toString(), { method: 'PUT', headers: s.headers }), lookupOf({ AKT: secret }), {
      now: new Date('2026-03-01T08:00:00Z'),
    });
    const seed = (s.headers.get('authorization') ?? '').split('Signature=')[1];
    const body = (opts: { trailers?: [string, string][]; corrupt?: 'chunk' | 'trailer'; chunkSize?: number }) =>
      signedChunkedBody({
        secret,
        datetime,
        region: 'eu-1',
        seed,
        data,
        chunkSize: opts.chunkSize ?? 8192,
        trailers: opts.trailers,
        corrupt: opts.corrupt,
      });
    return { payload: auth.payload, headers, body };
  }

  it('verifies chunk signatures, the trailer signature and the CRC32 trailer', async () => {
    const data = new Uint8Array(20000).map((_, i) => i * 7);
    const { payload, headers, body } = await setup(data);
    const crc = (await import('../../src/s3/payload/checksum')).Crc32;
    const c = new crc();
    c.update(data);
    const info: PayloadInfo = { checksums: {} };
    const out = await readAll(decode(await body({ trailers: [['x-amz-checksum-crc32', c.digestBase64()]] }), payload, headers, 333, info));
    expect(out).toEqual(data);
    expect(info).toEqual({ decodedLength: 20000, checksums: { crc32: c.digestBase64() }, declared: ['crc32'] });
  });

  it('refuses a bad trailer signature, a missing one, a bad chunk signature, a wrong CRC and short chunks', async () => {
    const data = new Uint8Array(20000).fill(9);
    const { payload, headers, body } = await setup(data);
    const c = new (await import('../../src/s3/payload/checksum')).Crc32();
    c.update(data);
    const good: [string, string][] = [['x-amz-checksum-crc32', c.digestBase64()]];
    await failsWith(decode(await body({ trailers: good, corrupt: 'trailer' }), payload, headers, 1000), 'SignatureDoesNotMatch');
    await failsWith(decode(await body({}), payload, headers, 1000), 'SignatureDoesNotMatch', 'The trailing headers were not signed.');
    await failsWith(decode(await body({ trailers: good, corrupt: 'chunk' }), payload, headers, 1000), 'SignatureDoesNotMatch');
    await failsWith(
      decode(await body({ trailers: [['x-amz-checksum-crc32', CRC32]] }), payload, headers, 1000),
      'BadDigest',
      'The CRC32 you specified did not match the calculated checksum.',
    );
    await failsWith(decode(await body({ trailers: good, chunkSize: 1000 }), payload, headers, 1000), 'InvalidChunkSizeError');
  });
});

describe('STREAMING-UNSIGNED-PAYLOAD-TRAILER', () => {
  const hdr = (alg: string) => ({
    'x-amz-trailer': `x-amz-checksum-${alg}`,
    'x-amz-decoded-content-length': '9',
    'content-encoding': 'aws-chunked',
  });
  it('checks each trailing checksum against its published check value', async () => {
    const sha = b64hex(SHA256_HEX);
    for (const [alg, value] of [
      ['crc32', CRC32],
      ['crc32c', CRC32C],
      ['crc64nvme', CRC64NVME],
      ['sha256', sha],
    ]) {
      for (const piece of [1, 3, 100])
        expect(await text(decode(unsignedChunkedBody(DATA, 4, [[`x-amz-checksum-${alg}`, value]]), unsignedTrailer, hdr(alg), piece))).toBe(
          '123456789',
        );
    }
  });
  it('bad trailer checksum is BadDigest naming the algorithm', async () => {
    await failsWith(
      decode(unsignedChunkedBody(DATA, 4, [['x-amz-checksum-crc32c', CRC32]]), unsignedTrailer, hdr('crc32c')),
      'BadDigest',
      'The CRC32C you specified did not match the calculated checksum.',
    );
    await failsWith(
      decode(unsignedChunkedBody(DATA, 4, [['x-amz-checksum-crc64nvme', 'AAAAAAAAAAA=']]), unsignedTrailer, hdr('crc64nvme')),
      'BadDigest',
      'The CRC64NVME you specified did not match the calculated checksum.',
    );
  });
  it('declared trailer missing, malformed trailer value, decoded length mismatch, bad framing', async () => {
    await failsWith(decode(unsignedChunkedBody(DATA, 4), unsignedTrailer, hdr('crc32')), 'InvalidRequest');
    await failsWith(
      decode(unsignedChunkedBody(DATA, 4, [['x-amz-checksum-crc32', 'zz']]), unsignedTrailer, hdr('crc32')),
      'InvalidRequest',
    );
    await failsWith(
      decode(unsignedChunkedBody(DATA, 4, [['x-amz-checksum-crc32', CRC32]]), unsignedTrailer, {
        ...hdr('crc32'),
        'x-amz-decoded-content-length': '10',
      }),
      'IncompleteBody',
    );
    await failsWith(decode(enc('zz\r\n123\r\n0\r\n\r\n'), unsignedTrailer, {}), 'InvalidRequest');
    await failsWith(decode(enc('3\r\n1234\r\n0\r\n\r\n'), unsignedTrailer, {}), 'InvalidRequest');
    await failsWith(decode(enc('9\r\n1234'), unsignedTrailer, {}), 'IncompleteBody');
    expect(() => decode(unsignedChunkedBody(DATA, 4), unsignedTrailer, { 'x-amz-trailer': 'x-amz-meta-foo' })).toThrow(S3Error);
  });
  it('tolerates a body that ends right after the last chunk', async () => {
    expect(await text(decode(enc('9\r\n123456789\r\n0\r\n'), unsignedTrailer, {}))).toBe('123456789');
  });
});

describe('plain bodies', () => {
  it('pass through untouched when nothing needs checking', () => {
    const s = streamOf(DATA);
    expect(decodePayload(s, unsigned, new Headers())).toBe(s);
  });

  it('signed SHA-256 payload', async () => {
    expect(await text(decode(DATA, { kind: 'sha256', hex: SHA256_HEX }, {}, 2))).toBe('123456789');
    expect(await sha256Hex(DATA)).toBe(SHA256_HEX);
    await failsWith(decode(DATA, { kind: 'sha256', hex: SHA256_HEX.replace('1', '2') }, {}, 2), 'XAmzContentSHA256Mismatch');
    await failsWith(decode(enc('12345678'), { kind: 'sha256', hex: SHA256_HEX }, {}, 2), 'XAmzContentSHA256Mismatch');
  });

  it('Content-MD5', async () => {
    expect(await text(decode(DATA, unsigned, { 'content-md5': MD5 }))).toBe('123456789');
    await failsWith(decode(enc('123456780'), unsigned, { 'content-md5': MD5 }), 'BadDigest');
    await expectS3Error(() => decode(DATA, unsigned, { 'content-md5': 'not-base64' }), 'InvalidDigest');
    await expectS3Error(() => decode(DATA, unsigned, { 'content-md5': 'AAAA' }), 'InvalidDigest');
  });

  it('x-amz-checksum-* request header, checked at the end', async () => {
    const info: PayloadInfo = { checksums: {} };
    expect(await text(decode(DATA, unsigned, { 'x-amz-checksum-crc32': CRC32, 'x-amz-checksum-crc64nvme': CRC64NVME }, 4, info))).toBe(
      '123456789',
    );
    expect(info.checksums).toEqual({ crc32: CRC32, crc64nvme: CRC64NVME });
    await failsWith(
      decode(enc('123456780'), unsigned, { 'x-amz-checksum-crc32': CRC32 }),
      'BadDigest',
      'The CRC32 you specified did not match the calculated checksum.',
    );
    await expectS3Error(() => decode(DATA, unsigned, { 'x-amz-checksum-sha1': CRC32 }), 'InvalidRequest');
  });

  it('holds the last piece back until the checks pass', async () => {
    const big = new Uint8Array(10000).fill(1);
    const { bytes, error } = await drain(decode(big, unsigned, { 'x-amz-checksum-crc32': CRC32 }, 1000));
    expect((error as S3Error).code).toBe('BadDigest');
    expect(bytes).toBe(9000);
  });

  it('a source that fails mid-body surfaces as IncompleteBody', async () => {
    let n = 0;
    const broken = new ReadableStream<Uint8Array>({ pull: (c) => (n++ < 2 ? c.enqueue(DATA) : c.error(new TypeError('network'))) });
    await failsWith(decodePayload(broken, unsigned, new Headers({ 'content-md5': MD5 })), 'IncompleteBody');
  });
});
