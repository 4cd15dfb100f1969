import { beforeAll, describe, expect, it } from 'vitest';
import { bytes, errorCode, rawStore, s3, sameBytes } from './helpers/s3';

const B = 'copy-bucket';
const HTTPS = 'https://gw.test';
const MiB = 1024 * 1024;

async function sseC(seed: number, prefix = 'x-amz-server-side-encryption-customer-') {
  const key = bytes(32, seed);
  return {
    [`${prefix}algorithm`]: 'AES256',
    [`${prefix}key`]: btoa(String.fromCharCode(...key)),
    [`${prefix}key-md5`]: btoa(String.fromCharCode(...new Uint8Array(await crypto.subtle.digest('MD5', key)))),
  };
}
const copySrc = (seed: number) => sseC(seed, 'x-amz-copy-source-server-side-encryption-customer-');

const get = async (key: string, headers: Record<string, string> = {}) => {
  const r = await s3('GET', `/${B}/${key}`, { headers, origin: HTTPS });
  return { status: r.status, headers: r.headers, body: new Uint8Array(await r.arrayBuffer()) };
};
const copy = (key: string, source: string, headers: Record<string, string> = {}) =>
  s3('PUT', `/${B}/${key}`, { headers: { 'x-amz-copy-source': source, ...headers }, origin: HTTPS });
const dataOf = async (key: string) => (await rawStore().head(`o/${B}/${key}`))!.customMetadata!['sb-data'];

beforeAll(async () => {
  expect((await s3('PUT', `/${B}`)).status).toBe(200);
});

describe('CopyObject', () => {
  const data = bytes(700_000, 1);
  beforeAll(async () => {
    const r = await s3('PUT', `/${B}/src.bin`, { body: data, headers: { 'x-amz-meta-colour': 'red', 'content-type': 'text/x-src' } });
    expect(r.status).toBe(200);
  });

  it('copies to another key, re-encrypting, keeping metadata with COPY', async () => {
    const r = await copy('dst.bin', `/${B}/src.bin`);
    const x = await r.text();
    expect(r.status, x).toBe(200);
    expect(x).toContain('<CopyObjectResult');
    const g = await get('dst.bin');
    expect(sameBytes(g.body, data)).toBe(true);
    expect(g.headers.get('x-amz-meta-colour')).toBe('red');
    expect(g.headers.get('content-type')).toBe('text/x-src');
    expect(g.headers.get('x-amz-server-side-encryption')).toBe('AES256');
    expect(await dataOf('dst.bin')).not.toBe(await dataOf('src.bin'));
  });

  it('replaces metadata with REPLACE and accepts URL-encoded sources', async () => {
    await s3('PUT', `/${B}/${encodeURIComponent('a b+c.txt')}`, { body: 'spaced' });
    const r = await copy('replaced.txt', `/${B}/${encodeURIComponent('a b+c.txt')}`, {
      'x-amz-metadata-directive': 'REPLACE',
      'x-amz-meta-new': '1',
      'content-type': 'text/plain',
    });
    expect(r.status, await r.clone().text()).toBe(200);
    const g = await get('replaced.txt');
    expect(new TextDecoder().decode(g.body)).toBe('spaced');
    expect(g.headers.get('x-amz-meta-new')).toBe('1');
    expect(g.headers.get('content-type')).toBe('text/plain');
  });

  it('refuses a copy onto itself that changes nothing', async () => {
    const r = await copy('src.bin', `/${B}/src.bin`);
    expect(r.status).toBe(400);
    expect(await r.text()).toContain('copy an object to itself without changing');
  });

  it('honours copy-source conditions and refuses versionIds', async () => {
    expect(await errorCode(await copy('c1', `/${B}/src.bin`, { 'x-amz-copy-source-if-match': '"nope"' }))).toBe('PreconditionFailed');
    expect(
      await errorCode(await copy('c1', `/${B}/src.bin`, { 'x-amz-copy-source-if-modified-since': 'Mon, 01 Jan 2091 00:00:00 GMT' })),
    ).toBe('PreconditionFailed');
    expect(await errorCode(await copy('c1', `/${B}/src.bin?versionId=abc`))).toBe('InvalidArgument');
    expect(await errorCode(await copy('c1', `/${B}/missing`))).toBe('NoSuchKey');
    expect(await errorCode(await copy('c1', `/nobucket-x/src.bin`))).toBe('NoSuchBucket');
  });

  it('changes SSE-COS to SSE-C on itself, then re-keys SSE-C A -> B without re-encrypting', async () => {
    await s3('PUT', `/${B}/rekey.bin`, { body: data });
    const A = await sseC(11);
    const Bk = await sseC(22);
    const toC = await copy('rekey.bin', `/${B}/rekey.bin`, A);
    expect(toC.status, await toC.clone().text()).toBe(200);
    expect(toC.headers.get('x-amz-server-side-encryption-customer-algorithm')).toBe('AES256');
    expect((await get('rekey.bin')).status).toBe(400);
    expect(sameBytes((await get('rekey.bin', A)).body, data)).toBe(true);

    const before = await dataOf('rekey.bin');
    const ab = await copy('rekey.bin', `/${B}/rekey.bin`, { ...(await copySrc(11)), ...Bk });
    expect(ab.status, await ab.clone().text()).toBe(200);
    expect(await dataOf('rekey.bin')).toBe(before); // same ciphertext, new wrapping
    expect((await get('rekey.bin', A)).status).toBe(403);
    expect(sameBytes((await get('rekey.bin', Bk)).body, data)).toBe(true);

    // Back to SSE-COS: that re-encrypts (the plaintext MD5 becomes the ETag again).
    const back = await copy('rekey.bin', `/${B}/rekey.bin`, { ...(await copySrc(22)), 'x-amz-server-side-encryption': 'AES256' });
    expect(back.status, await back.clone().text()).toBe(200);
    const g = await get('rekey.bin');
    expect(g.headers.get('x-amz-server-side-encryption')).toBe('AES256');
    expect(sameBytes(g.body, data)).toBe(true);
  });

  it('requires the copy-source SSE-C key for an SSE-C source', async () => {
    const A = await sseC(33);
    await s3('PUT', `/${B}/c-src`, { body: 'x', headers: A, origin: HTTPS });
    expect(await errorCode(await copy('c-dst', `/${B}/c-src`))).toBe('InvalidRequest');
    expect((await copy('c-dst', `/${B}/c-src`, await copySrc(34))).status).toBe(403);
    expect((await copy('c-dst', `/${B}/c-src`, await copySrc(33))).status).toBe(200);
    expect(new TextDecoder().decode((await get('c-dst')).body)).toBe('x');
  });
});

describe('UploadPartCopy', () => {
  it('builds a multipart object from ranges of a sealed source, and copies it whole', async () => {
    const src = bytes(6 * MiB + 100, 5);
    await s3('PUT', `/${B}/big-src`, { body: src });
    const id = /<UploadId>([^<]+)</.exec(await (await s3('POST', `/${B}/assembled?uploads`)).text())![1];
    const p1 = await s3('PUT', `/${B}/assembled?partNumber=1&uploadId=${id}`, {
      headers: { 'x-amz-copy-source': `/${B}/big-src`, 'x-amz-copy-source-range': `bytes=0-${5 * MiB - 1}` },
    });
    const x1 = await p1.text();
    expect(p1.status, x1).toBe(200);
    expect(x1).toContain('<CopyPartResult');
    const p2 = await s3('PUT', `/${B}/assembled?partNumber=2&uploadId=${id}`, {
      headers: { 'x-amz-copy-source': `/${B}/big-src`, 'x-amz-copy-source-range': `bytes=${5 * MiB}-${src.length - 1}` },
    });
    const x2 = await p2.text();
    const etag = (x: string) => /<ETag>([^<]+)</.exec(x)![1].replace(/&quot;/g, '"');
    const done = await s3('POST', `/${B}/assembled?uploadId=${id}`, {
      body: `<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>${etag(x1)}</ETag></Part><Part><PartNumber>2</PartNumber><ETag>${etag(x2)}</ETag></Part></CompleteMultipartUpload>`,
    });
    expect(done.status, await done.clone().text()).toBe(200);
    expect(sameBytes((await get('assembled')).body, src)).toBe(true);

    expect(
      await errorCode(
        await s3('PUT', `/${B}/assembled?partNumber=3&uploadId=${id}`, {
          headers: { 'x-amz-copy-source': `/${B}/big-src`, 'x-amz-copy-source-range': 'bytes=5-1' },
        }),
      ),
    ).toBe('NoSuchUpload');

    // A multipart source copied to a single object.
    expect((await copy('assembled-copy', `/${B}/assembled`)).status).toBe(200);
    expect(sameBytes((await get('assembled-copy')).body, src)).toBe(true);
  });

  it('refuses malformed or out-of-range copy-source ranges', async () => {
    await s3('PUT', `/${B}/small-src`, { body: 'small' });
    const id = /<UploadId>([^<]+)</.exec(await (await s3('POST', `/${B}/r?uploads`)).text())![1];
    const part = (range: string) =>
      s3('PUT', `/${B}/r?partNumber=1&uploadId=${id}`, {
        headers: { 'x-amz-copy-source': `/${B}/small-src`, 'x-amz-copy-source-range': range },
      });
    expect(await errorCode(await part('bytes=0-'))).toBe('InvalidArgument');
    expect(await errorCode(await part('bytes=0-5'))).toBe('InvalidRange');
  });
});
