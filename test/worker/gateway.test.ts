import { AwsClient } from 'aws4fetch';
import { beforeAll, describe, expect, it } from 'vitest';
import { TEST_BINDINGS } from './helpers/bindings';
import { tampered } from './helpers/orphans';
import { bytes, errorCode, md5hex, ORIGIN, rawStore, s3, sameBytes, worker } from './helpers/s3';

const B = 'gw-bucket';
// The segment size set in wrangler.toml.
const SEG = 262144;

beforeAll(async () => {
  const r = await s3('PUT', `/${B}`);
  expect(r.status).toBe(200);
});

async function put(key: string, body: Uint8Array | string, headers: Record<string, string> = {}) {
  const r = await s3('PUT', `/${B}/${key}`, { body, headers });
  expect(r.status, await r.clone().text()).toBe(200);
  return r;
}

describe('buckets', () => {
  it('creates, lists, heads and deletes buckets', async () => {
    expect((await s3('PUT', '/tmp-bucket-1')).status).toBe(200);
    expect(await errorCode(await s3('PUT', '/tmp-bucket-1'))).toBe('BucketAlreadyOwnedByYou');
    const list = await (await s3('GET', '/')).text();
    expect(list).toContain('<Name>tmp-bucket-1</Name>');
    expect((await s3('HEAD', '/tmp-bucket-1')).status).toBe(200);
    await put('x', 'y'); // other bucket unaffected
    expect((await s3('PUT', '/tmp-bucket-1/obj', { body: 'z' })).status).toBe(200);
    expect(await errorCode(await s3('DELETE', '/tmp-bucket-1'))).toBe('BucketNotEmpty');
    expect((await s3('DELETE', '/tmp-bucket-1/obj')).status).toBe(204);
    expect((await s3('DELETE', '/tmp-bucket-1')).status).toBe(204);
    expect((await s3('HEAD', '/tmp-bucket-1')).status).toBe(404);
  });

  it('validates bucket names', async () => {
    for (const bad of ['ab', 'UPPER', 'has_underscore', '-start', 'end-', '192.168.1.1', 'a..b']) {
      expect(await errorCode(await s3('PUT', `/${bad}`))).toBe('InvalidBucketName');
    }
    expect((await s3('PUT', '/examplebucket-1250000000')).status).toBe(200);
  });

  it('answers NoSuchBucket for a missing bucket', async () => {
    expect(await errorCode(await s3('GET', '/no-such-bucket/k'))).toBe('NoSuchBucket');
    expect(await errorCode(await s3('PUT', '/no-such-bucket/k', { body: 'x' }))).toBe('NoSuchBucket');
  });
});

describe('objects sealed with SSE-COS', () => {
  it('stores ciphertext and serves plaintext, echoing SSE headers and CRC-64', async () => {
    const data = bytes(200_000);
    const r = await put('sealed.bin', data, { 'x-amz-server-side-encryption': 'AES256' });
    expect(r.headers.get('x-amz-server-side-encryption')).toBe('AES256');
    expect(r.headers.get('etag')).toBe(`"${await md5hex(data)}"`);
    expect(r.headers.get('x-cos-hash-crc64ecma')).toMatch(/^\d+$/);

    const g = await s3('GET', `/${B}/sealed.bin`);
    expect(g.status).toBe(200);
    expect(g.headers.get('x-amz-server-side-encryption')).toBe('AES256');
    expect(g.headers.get('content-length')).toBe(String(data.length));
    expect(g.headers.get('x-cos-hash-crc64ecma')).toBe(r.headers.get('x-cos-hash-crc64ecma'));
    expect(sameBytes(new Uint8Array(await g.arrayBuffer()), data)).toBe(true);

    // What R2 holds is not the plaintext.
    const rec = await rawStore().head(`o/${B}/sealed.bin`);
    const raw = await rawStore().get(`d/${rec!.customMetadata!['sb-data']}`);
    const stored = new Uint8Array(await raw!.arrayBuffer());
    expect(stored.length).toBeGreaterThan(data.length);
    expect(indexOf(stored, data.subarray(1000, 1032))).toBe(-1);
  });

  it('seals a PUT that names no encryption, and reports it', async () => {
    const r = await put('default.txt', 'hello world');
    expect(r.headers.get('x-amz-server-side-encryption')).toBe('AES256');
    const h = await s3('HEAD', `/${B}/default.txt`);
    expect(h.headers.get('x-amz-server-side-encryption')).toBe('AES256');
    expect(h.headers.get('content-length')).toBe('11');
  });

  it('round-trips sizes around segment and read boundaries', async () => {
    // a GET reads 4 segments at a time: 4 * SEG + 1 and 9 * SEG + 5 take several reads
    for (const n of [0, 1, 13, 1024, SEG - 1, SEG, SEG + 1, 3 * SEG + 1, 4 * SEG, 4 * SEG + 1, 9 * SEG + 5]) {
      const data = bytes(n, n);
      await put(`size-${n}`, data);
      const g = await s3('GET', `/${B}/size-${n}`);
      expect(sameBytes(new Uint8Array(await g.arrayBuffer()), data)).toBe(true);
    }
  });

  it('refuses unknown SSE values and SSE headers on reads', async () => {
    const r = await s3('PUT', `/${B}/bad-sse`, { body: 'x', headers: { 'x-amz-server-side-encryption': 'AES128' } });
    expect(r.status).toBe(400);
    expect(await errorCode(r)).toBe('InvalidArgument');
    await put('read-sse', 'x');
    const g = await s3('GET', `/${B}/read-sse`, { headers: { 'x-amz-server-side-encryption': 'AES256' } });
    expect(g.status).toBe(400);
    const c = await s3('GET', `/${B}/read-sse`, { headers: { 'x-cos-server-side-encryption': 'AES256' } });
    expect(c.status).toBe(400);
  });

  it('round-trips metadata and content headers', async () => {
    await put('meta.txt', 'm', {
      'x-amz-meta-colour': 'blue',
      'x-amz-meta-Other-Thing': 'x y',
      'content-type': 'text/plain; charset=utf-8',
      'content-disposition': 'attachment; filename="m.txt"',
      'cache-control': 'max-age=60',
      'content-encoding': 'identity',
      expires: 'Wed, 21 Oct 2037 07:28:00 GMT',
    });
    const h = await s3('HEAD', `/${B}/meta.txt`);
    expect(h.headers.get('x-amz-meta-colour')).toBe('blue');
    expect(h.headers.get('x-amz-meta-other-thing')).toBe('x y');
    expect(h.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(h.headers.get('content-disposition')).toBe('attachment; filename="m.txt"');
    expect(h.headers.get('cache-control')).toBe('max-age=60');
    expect(h.headers.get('content-encoding')).toBe('identity');
    expect(h.headers.get('expires')).toBe('Wed, 21 Oct 2037 07:28:00 GMT');
    const g = await s3('GET', `/${B}/meta.txt?response-content-type=image/png&response-cache-control=no-cache`);
    expect(g.headers.get('content-type')).toBe('image/png');
    expect(g.headers.get('cache-control')).toBe('no-cache');
  });

  it('refuses metadata over the 2 KiB budget before storing anything', async () => {
    const r = await s3('PUT', `/${B}/too-much-meta`, { body: 'x', headers: { 'x-amz-meta-big': 'v'.repeat(2000) } });
    expect(await errorCode(r)).toBe('MetadataTooLarge');
    expect((await s3('HEAD', `/${B}/too-much-meta`)).status).toBe(404);
  });
});

describe('ranges and conditionals', () => {
  const data = bytes(3 * SEG + 1000, 9);
  beforeAll(async () => {
    await put('ranged.bin', data);
  });

  const cases: [string, number, number][] = [
    ['bytes=0-0', 0, 0],
    [`bytes=${SEG - 1}-${SEG}`, SEG - 1, SEG],
    ['bytes=100-', 100, data.length - 1],
    ['bytes=-500', data.length - 500, data.length - 1],
    [`bytes=${data.length - 10}-99999999`, data.length - 10, data.length - 1],
  ];
  for (const [range, s, e] of cases) {
    it(`serves ${range}`, async () => {
      const g = await s3('GET', `/${B}/ranged.bin`, { headers: { range } });
      expect(g.status).toBe(206);
      expect(g.headers.get('content-range')).toBe(`bytes ${s}-${e}/${data.length}`);
      expect(sameBytes(new Uint8Array(await g.arrayBuffer()), data.slice(s, e + 1))).toBe(true);
    });
  }

  it('answers 416 InvalidRange for unsatisfiable ranges', async () => {
    const g = await s3('GET', `/${B}/ranged.bin`, { headers: { range: `bytes=${data.length}-` } });
    expect(g.status).toBe(416);
    expect(await errorCode(g)).toBe('InvalidRange');
    expect(g.headers.get('content-range')).toBe(`bytes */${data.length}`);
  });

  it('serves the whole object for a malformed range, as S3 does', async () => {
    const g = await s3('GET', `/${B}/ranged.bin`, { headers: { range: 'bytes=abc' } });
    expect(g.status).toBe(200);
    await g.arrayBuffer();
  });

  it('honours If-Match, If-None-Match, If-Modified-Since, If-Unmodified-Since', async () => {
    const etag = (await s3('HEAD', `/${B}/ranged.bin`)).headers.get('etag')!;
    const past = 'Mon, 01 Jan 2001 00:00:00 GMT';
    const future = 'Mon, 01 Jan 2091 00:00:00 GMT';
    const st = async (h: Record<string, string>) => {
      const r = await s3('GET', `/${B}/ranged.bin`, { headers: h });
      await r.arrayBuffer();
      return r.status;
    };
    expect(await st({ 'if-match': etag })).toBe(200);
    expect(await st({ 'if-match': '"0000"' })).toBe(412);
    expect(await st({ 'if-none-match': etag })).toBe(304);
    expect(await st({ 'if-none-match': '"0000"' })).toBe(200);
    expect(await st({ 'if-modified-since': future })).toBe(304);
    expect(await st({ 'if-modified-since': past })).toBe(200);
    expect(await st({ 'if-unmodified-since': past })).toBe(412);
    expect(await st({ 'if-unmodified-since': future })).toBe(200);
    // If-Match wins over a failing If-Unmodified-Since.
    expect(await st({ 'if-match': etag, 'if-unmodified-since': past })).toBe(200);
  });
});

describe('delete and list', () => {
  const L = 'list-bucket';
  beforeAll(async () => {
    expect((await s3('PUT', `/${L}`)).status).toBe(200);
    for (const k of ['a.txt', 'b/1.txt', 'b/2.txt', 'b/c/3.txt', 'd e+f.txt', 'z.txt']) {
      expect((await s3('PUT', `/${L}/${encodeURIComponent(k).replace(/%2F/g, '/')}`, { body: k })).status).toBe(200);
    }
  });

  const keys = (xml: string) => [...xml.matchAll(/<Key>([^<]*)<\/Key>/g)].map((m) => m[1]);
  const prefixes = (xml: string) => [...xml.matchAll(/<CommonPrefixes><Prefix>([^<]*)<\/Prefix><\/CommonPrefixes>/g)].map((m) => m[1]);

  it('lists v2 with prefix and delimiter, reporting plaintext sizes', async () => {
    const x = await (await s3('GET', `/${L}?list-type=2&delimiter=/`)).text();
    expect(keys(x)).toEqual(['a.txt', 'd e+f.txt', 'z.txt']);
    expect(prefixes(x)).toEqual(['b/']);
    expect(x).toContain('<Size>5</Size>');
    const y = await (await s3('GET', `/${L}?list-type=2&prefix=b/&delimiter=/`)).text();
    expect(keys(y)).toEqual(['b/1.txt', 'b/2.txt']);
    expect(prefixes(y)).toEqual(['b/c/']);
  });

  it('paginates v2 with continuation tokens and v1 with markers', async () => {
    const all: string[] = [];
    let token: string | undefined;
    do {
      const x = await (
        await s3('GET', `/${L}?list-type=2&max-keys=2${token ? `&continuation-token=${encodeURIComponent(token)}` : ''}`)
      ).text();
      all.push(...keys(x));
      token = /<NextContinuationToken>([^<]+)</.exec(x)?.[1];
    } while (token);
    expect(all).toEqual(['a.txt', 'b/1.txt', 'b/2.txt', 'b/c/3.txt', 'd e+f.txt', 'z.txt']);

    const v1: string[] = [];
    let marker = '';
    for (;;) {
      const x = await (await s3('GET', `/${L}?max-keys=2&delimiter=/&marker=${encodeURIComponent(marker)}`)).text();
      v1.push(...keys(x), ...prefixes(x));
      if (!x.includes('<IsTruncated>true</IsTruncated>')) break;
      marker = /<NextMarker>([^<]+)</.exec(x)![1];
    }
    expect(v1.sort()).toEqual(['a.txt', 'b/', 'd e+f.txt', 'z.txt']);
  });

  it('start-after and encoding-type=url', async () => {
    const x = await (await s3('GET', `/${L}?list-type=2&start-after=b/2.txt&encoding-type=url`)).text();
    expect(keys(x)).toEqual(['b/c/3.txt', 'd%20e%2Bf.txt', 'z.txt']);
  });

  it('encoding-type=url encodes the Prefix of V2 but, as S3 does, not of V1', async () => {
    const prefix = (x: string) => /<Prefix>([^<]*)<\/Prefix>/.exec(x)?.[1];
    expect(prefix(await (await s3('GET', `/${L}?list-type=2&prefix=d%20e&encoding-type=url`)).text())).toBe('d%20e');
    expect(prefix(await (await s3('GET', `/${L}?prefix=d%20e&encoding-type=url`)).text())).toBe('d e');
  });

  it('multi-deletes and reports each key', async () => {
    const body = '<Delete><Object><Key>a.txt</Key></Object><Object><Key>z.txt</Key></Object><Object><Key>missing</Key></Object></Delete>';
    const r = await s3('POST', `/${L}?delete`, { body, signBody: true });
    const x = await r.text();
    expect(r.status).toBe(200);
    expect(keys(x)).toEqual(['a.txt', 'z.txt', 'missing']);
    expect((await s3('HEAD', `/${L}/a.txt`)).status).toBe(404);
    // The data entries are gone too, not just the records.
    const left = await rawStore().list({ prefix: 'd/', include: ['customMetadata'] });
    expect(left.objects.some((o) => o.customMetadata?.object === `${L}/a.txt`)).toBe(false);
  });

  it('refuses malformed multi-delete XML', async () => {
    for (const body of ['<Delete><Object><Key>a</Key></Object>', 'not xml', '<Other/>']) {
      expect(await errorCode(await s3('POST', `/${L}?delete`, { body, signBody: true }))).toBe('MalformedXML');
      // S3 requires a signed digest of a DeleteObjects body: UNSIGNED-PAYLOAD without Content-MD5 is refused first.
      expect(await errorCode(await s3('POST', `/${L}?delete`, { body }))).toBe('InvalidRequest');
    }
  });
});

describe('authentication', () => {
  it('refuses anonymous requests with 403 AccessDenied', async () => {
    await put('private.txt', 'secret');
    for (const path of ['/', `/${B}`, `/${B}/private.txt`]) {
      const r = await worker(new Request(ORIGIN + path));
      expect(r.status).toBe(403);
      expect(await errorCode(r)).toBe('AccessDenied');
      expect(r.headers.get('x-amz-request-id')).toBeTruthy();
    }
  });

  it('serves a presigned GET', async () => {
    await put('presigned.txt', 'via url');
    const r = await s3('GET', `/${B}/presigned.txt?X-Amz-Expires=60`, { signQuery: true });
    expect(r.status).toBe(200);
    expect(await r.text()).toBe('via url');
  });
});

describe('tampering never yields plaintext', () => {
  async function dataEntry(key: string) {
    const rec = await rawStore().head(`o/${B}/${key}`);
    return { rec: rec!, dataKey: `d/${rec!.customMetadata!['sb-data']}` };
  }
  async function rewriteData(key: string, f: (b: Uint8Array) => Uint8Array) {
    const { dataKey } = await dataEntry(key);
    const body = new Uint8Array(await (await rawStore().get(dataKey))!.arrayBuffer());
    await rawStore().put(dataKey, f(body));
  }
  const failsWith500 = async (key: string) => {
    const g = await s3('GET', `/${B}/${key}`);
    expect(g.status).toBe(500);
    expect(await errorCode(g)).toBe('InternalError');
  };

  it('a flipped byte in the first read: 500 before any byte is sent', async () => {
    await put('t-flip', bytes(100_000, 3));
    await rewriteData('t-flip', (b) => {
      b[10] ^= 0x80;
      return b;
    });
    await failsWith500('t-flip');
    await put('t-flip-4th', bytes(5 * SEG, 3));
    await rewriteData('t-flip-4th', (b) => {
      b[3 * (SEG + 16) + 10] ^= 0x80;
      return b;
    });
    await failsWith500('t-flip-4th');
  });

  it('a flipped byte in a segment after the first read: the body aborts', async () => {
    // GET reads 1 MiB of plaintext's worth of segments before the status line (READ_BATCH)
    await put('t-flip-late', bytes(5 * SEG + 100, 4));
    await rewriteData('t-flip-late', (b) => {
      b[4 * (SEG + 16) + 5000] ^= 1;
      return b;
    });
    const g = await s3('GET', `/${B}/t-flip-late`);
    expect(g.status).toBe(200);
    await expect(g.arrayBuffer()).rejects.toThrow();
  });

  it('truncated data', async () => {
    await put('t-trunc', bytes(1000, 5));
    await rewriteData('t-trunc', (b) => b.slice(0, b.length - 1));
    await failsWith500('t-trunc');
    await put('t-empty', bytes(1000, 6));
    await rewriteData('t-empty', () => new Uint8Array(0));
    await failsWith500('t-empty');
  });

  it('swapped data or swapped envelopes between two objects', async () => {
    await put('t-a', bytes(5000, 7));
    await put('t-b', bytes(5000, 8));
    const a = await dataEntry('t-a');
    const b = await dataEntry('t-b');
    // Point a's record at b's data.
    tampered(B, 't-a');
    await rawStore().put(`o/${B}/t-a`, '', { customMetadata: { ...a.rec.customMetadata, 'sb-data': b.rec.customMetadata!['sb-data'] } });
    await failsWith500('t-a');
    // Give b a's envelope.
    await rawStore().put(`o/${B}/t-b`, '', { customMetadata: { ...b.rec.customMetadata, 'sb-env': a.rec.customMetadata!['sb-env'] } });
    await failsWith500('t-b');
  });

  it('a size changed in the record', async () => {
    await put('t-size', bytes(5000, 9));
    const { rec } = await dataEntry('t-size');
    await rawStore().put(`o/${B}/t-size`, '', { customMetadata: { ...rec.customMetadata, 'sb-size': '4999' } });
    await failsWith500('t-size');
  });
});

function indexOf(hay: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = 0; i + needle.length <= hay.length; i++) {
    for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

describe('presigned PUT', () => {
  it('uploads, and the gateway default seals the object', async () => {
    const r = await s3('PUT', `/${B}/presigned-put.txt?X-Amz-Expires=60`, { body: 'through a presigned URL', signQuery: true });
    expect(r.status, await r.clone().text()).toBe(200);
    const h = await s3('HEAD', `/${B}/presigned-put.txt`);
    expect(h.headers.get('x-amz-server-side-encryption')).toBe('AES256');
    expect(await (await s3('GET', `/${B}/presigned-put.txt`)).text()).toBe('through a presigned URL');
  });

  it('refuses SSE requested through the presigned query string', async () => {
    for (const q of ['x-amz-server-side-encryption=AES256', 'x-cos-server-side-encryption=AES256']) {
      const r = await s3('PUT', `/${B}/presigned-sse.txt?${q}&X-Amz-Expires=60`, { body: 'x', signQuery: true });
      expect(r.status).toBe(400);
      expect(await errorCode(r)).toBe('InvalidArgument');
    }
  });
});

describe('several credential pairs', () => {
  const as = (accessKeyId: string, secretAccessKey: string) =>
    new AwsClient({ accessKeyId, secretAccessKey, service: 's3', region: 'us-east-1' });

  it('accepts every configured pair and refuses wrong secrets and unknown keys', async () => {
    await put('for-both.txt', 'shared');
    const second = as('AKIDSECOND', 'second-secret-key-abcdefghijklmnop');
    const r = await worker(await second.sign(`${ORIGIN}/${B}/for-both.txt`));
    expect(r.status).toBe(200);
    expect(await r.text()).toBe('shared');
    // The second key with the first key's secret, and an unknown key.
    const crossed = await worker(await as('AKIDSECOND', TEST_BINDINGS.SECRET_ACCESS_KEY).sign(`${ORIGIN}/${B}/for-both.txt`));
    expect(await errorCode(crossed)).toBe('SignatureDoesNotMatch');
    const unknown = await worker(await as('AKIDNOBODY', 'whatever-secret').sign(`${ORIGIN}/${B}/for-both.txt`));
    expect(await errorCode(unknown)).toBe('InvalidAccessKeyId');
  });
});
