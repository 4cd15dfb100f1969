import { beforeAll, describe, expect, it } from 'vitest';
import { bytes, errorCode, rawStore, s3, sameBytes } from './helpers/s3';

const B = 'ssec-bucket';
const HTTPS = 'https://gw.test';

async function keyHeaders(seed: number, prefix = 'x-amz') {
  const key = bytes(32, seed);
  const b64 = btoa(String.fromCharCode(...key));
  const md5 = btoa(String.fromCharCode(...new Uint8Array(await crypto.subtle.digest('MD5', key))));
  return {
    key,
    b64,
    md5,
    headers: {
      [`${prefix}-server-side-encryption-customer-algorithm`]: 'AES256',
      [`${prefix}-server-side-encryption-customer-key`]: b64,
      [`${prefix}-server-side-encryption-customer-key-md5`]: md5,
    } as Record<string, string>,
  };
}

const req = (method: string, key: string, headers: Record<string, string> = {}, body?: Uint8Array | string) =>
  s3(method, `/${B}/${key}`, { origin: HTTPS, headers, body });

let A: Awaited<ReturnType<typeof keyHeaders>>;
let Bk: Awaited<ReturnType<typeof keyHeaders>>;

beforeAll(async () => {
  A = await keyHeaders(101);
  Bk = await keyHeaders(202);
  expect((await s3('PUT', `/${B}`)).status).toBe(200);
});

describe('SSE-C round trips', () => {
  for (const n of [0, 1, 13, 1024, 262143, 262145, 8 * 1024 * 1024]) {
    it(`${n} bytes`, async () => {
      const data = bytes(n, n + 1);
      const p = await req('PUT', `obj-${n}`, A.headers, data);
      expect(p.status, await p.clone().text()).toBe(200);
      expect(p.headers.get('x-amz-server-side-encryption-customer-algorithm')).toBe('AES256');
      expect(p.headers.get('x-amz-server-side-encryption-customer-key-md5')).toBe(A.md5);
      expect(p.headers.get('x-amz-server-side-encryption')).toBeNull();
      const g = await req('GET', `obj-${n}`, A.headers);
      expect(g.status).toBe(200);
      const got = new Uint8Array(await g.arrayBuffer());
      expect(got.length).toBe(n);
      expect(sameBytes(got, data)).toBe(true);
    });
  }

  it('ranged GET across a segment boundary and HEAD', async () => {
    const data = bytes(600_000, 5);
    await req('PUT', 'ranged', A.headers, data);
    const g = await req('GET', 'ranged', { ...A.headers, range: 'bytes=262140-262150' });
    expect(g.status).toBe(206);
    expect(sameBytes(new Uint8Array(await g.arrayBuffer()), data.slice(262140, 262151))).toBe(true);
    const h = await req('HEAD', 'ranged', A.headers);
    expect(h.status).toBe(200);
    expect(h.headers.get('content-length')).toBe('600000');
    expect(h.headers.get('x-amz-server-side-encryption-customer-key-md5')).toBe(A.md5);
  });

  it('accepts the COS header names', async () => {
    const C = await keyHeaders(303, 'x-cos');
    expect((await req('PUT', 'cos-named', C.headers, 'cos')).status).toBe(200);
    expect(await (await req('GET', 'cos-named', C.headers)).text()).toBe('cos');
  });

  it('does not reveal the plaintext MD5 as the ETag', async () => {
    const p = await req('PUT', 'etag', A.headers, 'abc');
    expect(p.headers.get('etag')).not.toBe('"900150983cd24fb0d6963f7d28e17f72"');
  });

  it('works with a presigned GET whose SSE-C headers are signed and sent', async () => {
    await req('PUT', 'presigned', A.headers, 'presigned secret');
    const r = await s3('GET', `/${B}/presigned?X-Amz-Expires=60`, { origin: HTTPS, headers: A.headers, signQuery: true });
    expect(r.status).toBe(200);
    expect(await r.text()).toBe('presigned secret');
  });
});

describe('SSE-C errors', () => {
  beforeAll(async () => {
    expect((await req('PUT', 'target', A.headers, 'sealed with A')).status).toBe(200);
    expect((await req('PUT', 'plain-cos', {}, 'sse-cos object')).status).toBe(200);
  });

  it('GET without the key: 400 InvalidRequest; HEAD: bare 400', async () => {
    const g = await req('GET', 'target');
    expect(g.status).toBe(400);
    const text = await g.text();
    expect(text).toContain('<Code>InvalidRequest</Code>');
    expect(text).toContain('The object was stored using a form of Server Side Encryption');
    const h = await req('HEAD', 'target');
    expect(h.status).toBe(400);
    expect(await h.text()).toBe('');
  });

  it('wrong key: 403 AccessDenied, before any plaintext', async () => {
    const g = await req('GET', 'target', Bk.headers);
    expect(g.status).toBe(403);
    const body = await g.text();
    expect(body).toContain('<Code>AccessDenied</Code>');
    expect(body).not.toContain('sealed with A');
    expect((await req('HEAD', 'target', Bk.headers)).status).toBe(403);
  });

  const argCases: [string, (h: Record<string, string>) => Record<string, string>][] = [
    [
      'missing key MD5',
      (h) => {
        const { 'x-amz-server-side-encryption-customer-key-md5': _, ...r } = h;
        return r;
      },
    ],
    ['wrong key MD5', (h) => ({ ...h, 'x-amz-server-side-encryption-customer-key-md5': 'AAAAAAAAAAAAAAAAAAAAAA==' })],
    ['key not 32 bytes', (h) => ({ ...h, 'x-amz-server-side-encryption-customer-key': btoa('short key') })],
    ['key not base64', (h) => ({ ...h, 'x-amz-server-side-encryption-customer-key': '!!!not base64!!!' })],
    ['algorithm other than AES256', (h) => ({ ...h, 'x-amz-server-side-encryption-customer-algorithm': 'AES128' })],
    [
      'key headers without the algorithm',
      (h) => {
        const { 'x-amz-server-side-encryption-customer-algorithm': _, ...r } = h;
        return r;
      },
    ],
    ['SSE-C with SSE-COS', (h) => ({ ...h, 'x-amz-server-side-encryption': 'AES256' })],
    ['SSE-C with SSE-KMS', (h) => ({ ...h, 'x-amz-server-side-encryption': 'aws:kms' })],
  ];
  for (const [name, f] of argCases) {
    it(`${name}: 400 InvalidArgument on PUT and GET`, async () => {
      const p = await req('PUT', 'bad-args', f(A.headers), 'x');
      expect(p.status).toBe(400);
      expect(await errorCode(p)).toBe('InvalidArgument');
      if (name.startsWith('SSE-C with')) return; // an SSE header on GET is its own error
      const g = await req('GET', 'target', f(A.headers));
      expect(g.status).toBe(400);
      expect(await errorCode(g)).toBe('InvalidArgument');
    });
  }

  it('SSE-C key headers on an object that is not SSE-C: 400', async () => {
    const g = await req('GET', 'plain-cos', A.headers);
    expect(g.status).toBe(400);
    expect(await errorCode(g)).toBe('InvalidRequest');
  });

  it('SSE-C over plain HTTP: 400 InvalidRequest (SSE_C_ALLOW_HTTP is off here)', async () => {
    const p = await s3('PUT', `/${B}/over-http`, { headers: A.headers, body: 'x' });
    expect(p.status).toBe(400);
    const t = await p.text();
    expect(t).toContain('<Code>InvalidRequest</Code>');
    expect(t).toContain('secure connection');
  });
});

describe('what is stored', () => {
  it('holds neither the key, its MD5, nor the plaintext', async () => {
    const data = bytes(50_000, 77);
    await req('PUT', 'stored', A.headers, data);
    const rec = await rawStore().head(`o/${B}/stored`);
    const meta = JSON.stringify(rec!.customMetadata) + JSON.stringify(rec!.httpMetadata);
    const hex = [...A.key].map((b) => b.toString(16).padStart(2, '0')).join('');
    for (const secret of [A.b64, A.md5, hex, A.b64.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')])
      expect(meta).not.toContain(secret);
    const raw = new Uint8Array(await (await rawStore().get(`d/${rec!.customMetadata!['sb-data']}`))!.arrayBuffer());
    const rawHex = [...raw].map((b) => b.toString(16).padStart(2, '0')).join('');
    expect(rawHex).not.toContain(hex);
    const slice = [...data.subarray(2000, 2032)].map((b) => b.toString(16).padStart(2, '0')).join('');
    expect(rawHex).not.toContain(slice);
    expect(JSON.parse(rec!.customMetadata!['sb-env']).mode).toBe('c');
  });
});
