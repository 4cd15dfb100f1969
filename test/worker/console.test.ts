// The web console (src/console/): a public static page and scripts with a strict CSP, holding no
// credentials and no data; CONSOLE=off hides it; object data still needs a signature.
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { app } from '../../src/app';
import type { Env } from '../../src/env';
import { TEST_BINDINGS } from './helpers/bindings';
import { errorCode, ORIGIN, s3, worker } from './helpers/s3';

const BASE = '/-/console';
const get = (path: string, init: RequestInit = {}) => worker(new Request(ORIGIN + path, init));
const baseEnv = () => env as unknown as Env;

describe('web console', () => {
  it('serves the page and its scripts with the right content types and a strict CSP', async () => {
    const want: [string, RegExp][] = [
      [BASE, /^text\/html/],
      [`${BASE}/`, /^text\/html/],
      [`${BASE}/app.js`, /^text\/javascript/],
      [`${BASE}/api.js`, /^text\/javascript/],
      [`${BASE}/dom.js`, /^text\/javascript/],
      [`${BASE}/users.js`, /^text\/javascript/],
      [`${BASE}/aws4fetch.js`, /^text\/javascript/],
      [`${BASE}/console.css`, /^text\/css/],
    ];
    for (const [path, type] of want) {
      const r = await get(path);
      expect(r.status, path).toBe(200);
      expect(r.headers.get('content-type'), path).toMatch(type);
      const csp = r.headers.get('content-security-policy') ?? '';
      expect(csp, path).toContain("default-src 'none'");
      expect(csp, path).toContain("script-src 'self'");
      expect(csp, path).toContain("connect-src 'self'");
      expect(csp, path).toContain("frame-ancestors 'none'");
      expect(csp, path).not.toContain('unsafe-inline');
      expect(csp, path).not.toContain('unsafe-eval');
      expect(r.headers.get('x-content-type-options')).toBe('nosniff');
      expect((await r.text()).length, path).toBeGreaterThan(100);
    }
  });

  it('has no inline script or style, and loads its scripts from its own path', async () => {
    const html = await (await get(`${BASE}/`)).text();
    expect(html).toContain(`<script type="module" src="${BASE}/app.js"></script>`);
    expect(html).toContain(`<link rel="stylesheet" href="${BASE}/console.css">`);
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(html).not.toMatch(/<style|\sstyle=|\son[a-z]+=/i);
    const app = await (await get(`${BASE}/app.js`)).text();
    expect(app).toContain("from './api.js'");
    expect(app).toContain("from './users.js'");
    expect(await (await get(`${BASE}/users.js`)).text()).toContain("from './dom.js'");
    const api = await (await get(`${BASE}/api.js`)).text();
    expect(api).toContain("from './aws4fetch.js'");
    expect(await (await get(`${BASE}/aws4fetch.js`)).text()).toContain('export { AwsClient, AwsV4Signer }');
  });

  it('contains no credentials or keys in anything it serves', async () => {
    const secrets = [
      TEST_BINDINGS.ACCESS_KEY_ID,
      TEST_BINDINGS.SECRET_ACCESS_KEY,
      'AKIDSECOND',
      'second-secret-key',
      TEST_BINDINGS.MASTER_KEYRING.slice(3),
      TEST_BINDINGS.KMS_ROOT_KEY,
    ];
    for (const path of [
      BASE,
      `${BASE}/app.js`,
      `${BASE}/api.js`,
      `${BASE}/dom.js`,
      `${BASE}/users.js`,
      `${BASE}/aws4fetch.js`,
      `${BASE}/console.css`,
    ]) {
      const r = await get(path);
      const body = await r.text();
      for (const s of secrets) expect(body, `${path} leaks ${s.slice(0, 6)}…`).not.toContain(s);
      for (const [k, v] of r.headers) for (const s of secrets) expect(`${k}: ${v}`).not.toContain(s);
      expect(r.headers.get('set-cookie')).toBeNull();
    }
  });

  it('answers HEAD without a body, revalidates by ETag, and 404s unknown console paths', async () => {
    const head = await get(`${BASE}/app.js`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
    const etag = head.headers.get('etag')!;
    expect(etag).toMatch(/^"[0-9a-f]+"$/);
    const again = await get(`${BASE}/app.js`, { headers: { 'if-none-match': etag } });
    expect(again.status).toBe(304);
    const missing = await get(`${BASE}/secrets.json`);
    expect(missing.status).toBe(404);
    expect(missing.headers.get('content-security-policy')).toContain("default-src 'none'");
  });

  it('is hidden when CONSOLE=off: the path is then just an unsigned S3 request, refused', async () => {
    for (const path of [BASE, `${BASE}/`, `${BASE}/app.js`]) {
      const r = await app.fetch(new Request(ORIGIN + path), { ...baseEnv(), CONSOLE: 'off' });
      expect(r.status, path).toBe(403);
      expect(await r.text()).not.toContain('sealbucket console');
    }
    const on = await app.fetch(new Request(ORIGIN + BASE), baseEnv());
    expect(on.status).toBe(200);
  });

  it('moves with CONSOLE_PATH', async () => {
    const e = { ...baseEnv(), CONSOLE_PATH: '/-/ui/' };
    const page = await app.fetch(new Request(`${ORIGIN}/-/ui`), e);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<script type="module" src="/-/ui/app.js"></script>');
    expect((await app.fetch(new Request(`${ORIGIN}/-/ui/app.js`), e)).status).toBe(200);
    expect((await app.fetch(new Request(ORIGIN + BASE), e)).status).toBe(403);
  });

  it('serves only GET and HEAD; other methods fall through to authenticated S3', async () => {
    const r = await get(`${BASE}/`, { method: 'POST', body: 'x' });
    expect(r.status).toBe(403);
    expect(r.headers.get('content-security-policy')).toBeNull();
  });

  it('leaves object data unreachable without a signature', async () => {
    const bucket = 'console-data';
    expect((await s3('PUT', `/${bucket}`)).status).toBe(200);
    const secret = 'plaintext that only a signed request may read';
    expect((await s3('PUT', `/${bucket}/note.txt`, { body: secret })).status).toBe(200);
    expect(await (await s3('GET', `/${bucket}/note.txt`)).text()).toBe(secret);
    const unsigned = [
      new Request(`${ORIGIN}/${bucket}/note.txt`),
      new Request(`${ORIGIN}/${bucket}`),
      new Request(`${ORIGIN}/`),
      new Request(`${ORIGIN}/-/admin/keyring`),
      new Request(`${ORIGIN}${BASE}/../${bucket}/note.txt`),
      new Request(`${ORIGIN}/${bucket}/note.txt`, { headers: { referer: `${ORIGIN}${BASE}/`, origin: ORIGIN, cookie: 'session=1' } }),
      new Request(`${ORIGIN}/`, {
        method: 'POST',
        headers: { 'x-amz-target': 'TrentService.ListKeys', 'content-type': 'application/x-amz-json-1.1' },
        body: '{}',
      }),
    ];
    for (const req of unsigned) {
      const r = await worker(req);
      const body = await r.text();
      expect(r.status, req.url).toBeGreaterThanOrEqual(400);
      expect(body).not.toContain(secret);
      expect(body).not.toContain('note.txt</Key>');
    }
    const r = await worker(new Request(`${ORIGIN}/${bucket}/note.txt`));
    expect(r.status).toBe(403);
    expect(await errorCode(r)).toBe('AccessDenied');
  });
});
