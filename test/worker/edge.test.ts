// What Cloudflare's edge does to requests and responses, and how the gateway copes with it:
// the edge replaces Accept-Encoding and keeps the client's value in request.cf.clientAcceptEncoding;
// it compresses text bodies for clients that accept gzip or br; and a browser opening "/" is sent
// to the console.
import { describe, expect, it } from 'vitest';
import { authenticate } from '../../src/auth';
import { enc, expectS3Error, lookupOf } from './helpers/auth-helpers';
import { TEST_BINDINGS } from './helpers/bindings';
import { client, ORIGIN, s3, worker } from './helpers/s3';

const lookup = lookupOf({ [TEST_BINDINGS.ACCESS_KEY_ID]: TEST_BINDINGS.SECRET_ACCESS_KEY });

/** What the edge hands the Worker: its own Accept-Encoding, the client's in cf. */
const atEdge = (signed: Request, clientValue: string): Request =>
  new Request(signed, { headers: withHeader(signed.headers, 'accept-encoding', 'br, gzip'), cf: { clientAcceptEncoding: clientValue } });

function withHeader(h: Headers, name: string, value: string): Headers {
  const out = new Headers(h);
  out.set(name, value);
  return out;
}

describe('a signed Accept-Encoding', () => {
  it('SigV4 verifies against the value the client sent (cf.clientAcceptEncoding), not the edge rewrite', async () => {
    const signed = await client.sign(`${ORIGIN}/bucket/key`, { method: 'GET', headers: { 'accept-encoding': 'gzip' } });
    expect(signed.headers.get('authorization')).toContain('accept-encoding');
    const auth = await authenticate(atEdge(signed, 'gzip'), lookup);
    expect(auth.accessKeyId).toBe(TEST_BINDINGS.ACCESS_KEY_ID);
  });

  it('SigV4 refuses a client value other than the signed one', async () => {
    const signed = await client.sign(`${ORIGIN}/bucket/key`, { method: 'GET', headers: { 'accept-encoding': 'gzip' } });
    await expectS3Error(() => authenticate(atEdge(signed, 'identity'), lookup), 'SignatureDoesNotMatch');
  });

  it('SigV4 presigned URLs that sign the header follow the same rule', async () => {
    const signed = await client.sign(`${ORIGIN}/bucket/key`, {
      method: 'GET',
      headers: { 'accept-encoding': 'gzip' },
      aws: { signQuery: true },
    });
    const bare = new Request(signed.url, { headers: { 'accept-encoding': 'gzip' } });
    await expect(authenticate(atEdge(bare, 'gzip'), lookup)).resolves.toBeDefined();
    await expectS3Error(() => authenticate(atEdge(bare, 'deflate'), lookup), 'SignatureDoesNotMatch');
  });

  it('without cf (no edge) the header itself is what was signed', async () => {
    const signed = await client.sign(`${ORIGIN}/bucket/key`, { method: 'GET', headers: { 'accept-encoding': 'gzip' } });
    await expect(authenticate(signed, lookup)).resolves.toBeDefined();
    await expectS3Error(
      () => authenticate(new Request(signed, { headers: withHeader(signed.headers, 'accept-encoding', 'br') }), lookup),
      'SignatureDoesNotMatch',
    );
  });

  it('a COS signature over accept-encoding verifies against the client value', async () => {
    const req = await cosSigned('gzip');
    await expect(authenticate(atEdge(req, 'gzip'), lookup)).resolves.toBeDefined();
    await expectS3Error(() => authenticate(atEdge(req, 'identity'), lookup), 'SignatureDoesNotMatch');
  });
});

/** A COS-signed GET (q-sign-algorithm=sha1) whose header list includes accept-encoding. */
async function cosSigned(acceptEncoding: string): Promise<Request> {
  const hex = (b: ArrayBuffer) => [...new Uint8Array(b)].map((x) => x.toString(16).padStart(2, '0')).join('');
  const hmac = async (key: string, data: string) =>
    hex(
      await crypto.subtle.sign(
        'HMAC',
        await crypto.subtle.importKey('raw', enc(key), { name: 'HMAC', hash: 'SHA-1' }, false, ['sign']),
        enc(data),
      ),
    );
  const now = Math.floor(Date.now() / 1000);
  const keyTime = `${now - 60};${now + 600}`;
  const host = 'gw.test';
  const httpString = ['get', '/bucket/key', '', `accept-encoding=${encodeURIComponent(acceptEncoding)}&host=${host}`, ''].join('\n');
  const sha1 = hex(await crypto.subtle.digest('SHA-1', enc(httpString)));
  const signature = await hmac(await hmac(TEST_BINDINGS.SECRET_ACCESS_KEY, keyTime), ['sha1', keyTime, sha1, ''].join('\n'));
  const authorization = [
    'q-sign-algorithm=sha1',
    `q-ak=${TEST_BINDINGS.ACCESS_KEY_ID}`,
    `q-sign-time=${keyTime}`,
    `q-key-time=${keyTime}`,
    'q-header-list=accept-encoding;host',
    'q-url-param-list=',
    `q-signature=${signature}`,
  ].join('&');
  return new Request(`${ORIGIN}/bucket/key`, { headers: { host, 'accept-encoding': acceptEncoding, authorization } });
}

describe('responses go out as the gateway made them', () => {
  it('a client that accepts gzip gets "Content-Encoding: identity" (the edge compresses nothing), others get no header', async () => {
    const signed = await client.sign(`${ORIGIN}/edge-bucket`, { method: 'PUT' });
    expect((await worker(signed)).status).toBe(200);
    const body = 'plain text, '.repeat(300);
    expect((await s3('PUT', '/edge-bucket/t.txt', { body, headers: { 'content-type': 'text/plain' } })).status).toBe(200);

    const get = await client.sign(`${ORIGIN}/edge-bucket/t.txt`, { method: 'GET', headers: { 'accept-encoding': 'gzip' } });
    const res = await worker(atEdge(get, 'gzip'));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-encoding')).toBe('identity');
    expect(await res.text()).toBe(body);

    const plain = await worker(await client.sign(`${ORIGIN}/edge-bucket/t.txt`, { method: 'GET' }));
    expect(plain.headers.get('content-encoding')).toBeNull();
    await plain.arrayBuffer();
  });

  it('an error answer to such a client says identity too (rclone read gzip bytes as its error)', async () => {
    const res = await worker(
      new Request(`${ORIGIN}/edge-bucket/x`, { headers: { 'accept-encoding': 'gzip' }, cf: { clientAcceptEncoding: 'gzip, deflate' } }),
    );
    expect(res.status).toBe(403);
    expect(res.headers.get('content-encoding')).toBe('identity');
    expect(await res.text()).toContain('<Code>AccessDenied</Code>');
  });

  it('a stored Content-Encoding is declared, never applied again', async () => {
    // The test's fetch into the Worker decodes a Content-Encoding once, as any HTTP client
    // does: one decoding gives the text back only if the runtime did not compress it again.
    const gz = new Uint8Array(
      await new Response(new Blob(['hello, gzip']).stream().pipeThrough(new CompressionStream('gzip'))).arrayBuffer(),
    );
    expect(
      (await s3('PUT', '/edge-bucket/g.gz', { body: gz, headers: { 'content-encoding': 'gzip', 'content-type': 'text/plain' } })).status,
    ).toBe(200);
    const get = await client.sign(`${ORIGIN}/edge-bucket/g.gz`, { method: 'GET', headers: { 'accept-encoding': 'gzip' } });
    const res = await worker(atEdge(get, 'gzip'));
    expect(res.headers.get('content-encoding')).toBe('gzip');
    expect(await res.text()).toBe('hello, gzip');
  });

  it('identity, or gzip;q=0, asks for no compression: no header is added', async () => {
    for (const ae of ['identity', 'gzip;q=0, identity']) {
      const r = await worker(new Request(`${ORIGIN}/edge-bucket/x`, { cf: { clientAcceptEncoding: ae } }));
      expect(r.headers.get('content-encoding'), ae).toBeNull();
      await r.arrayBuffer();
    }
  });
});

describe('a browser opening the endpoint', () => {
  it('is redirected to the console', async () => {
    const res = await worker(
      new Request(`${ORIGIN}/`, { redirect: 'manual', headers: { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' } }),
    );
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe('/-/console/');
  });

  it('other unsigned requests keep their 403 AccessDenied', async () => {
    for (const [url, accept] of [
      [`${ORIGIN}/`, '*/*'],
      [`${ORIGIN}/`, ''],
      [`${ORIGIN}/?list-type=2`, 'text/html'],
      [`${ORIGIN}/bucket`, 'text/html'],
    ]) {
      const res = await worker(new Request(url, { redirect: 'manual', headers: accept ? { accept } : {} }));
      expect(res.status, `${url} (${accept})`).toBe(403);
      expect(await res.text()).toContain('<Code>AccessDenied</Code>');
    }
    const head = await worker(new Request(`${ORIGIN}/`, { method: 'HEAD', redirect: 'manual', headers: { accept: 'text/html' } }));
    expect(head.status).toBe(403);
  });

  it('a signed GET / with Accept: text/html is still ListBuckets', async () => {
    const res = await worker(await client.sign(`${ORIGIN}/`, { method: 'GET', headers: { accept: 'text/html' } }));
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('<ListAllMyBucketsResult');
  });
});
