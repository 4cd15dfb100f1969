// biome-ignore-all lint/suspicious/noTemplateCurlyInString: '${filename}' is S3's POST-form key placeholder, literal on purpose
// POST Object from a real browser: Debian's Chromium (driven by playwright-core,
// which downloads no browser of its own) submits an HTML form to the gateway
// started by setup.ts. The page comes from a small static server on loopback;
// the policy and its SigV4 signature are computed here with node:crypto.

import { createHmac } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findBrowser } from '../../scripts/lib/tools.mjs';
import { gateway, md5, random, s3Client, sha256, uniq } from './helpers';

/** A Chrome/Chromium found as `npm test` found it (scripts/ensure-deps.mjs installs Debian's if need be). */
const CHROMIUM = findBrowser();
const BUCKET = uniq('e2e-browser').toLowerCase();
const REGION = 'us-east-1';

let s3: S3Client;
let context: BrowserContext | undefined;
let userDataDir: string | undefined;
let server: Server | undefined;
let pageOrigin = '';
/** HTML pages served by the static server, by path. */
const pages = new Map<string, string>();

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** The hidden fields of a SigV4-signed form whose policy has `conditions` (plus the x-amz-* ones). */
function signedFields(conditions: unknown[]): Record<string, string> {
  const g = gateway();
  const date = new Date().toISOString().replace(/[:-]|\.\d{3}/g, '');
  const day = date.slice(0, 8);
  const credential = `${g.accessKeyId}/${day}/${REGION}/s3/aws4_request`;
  const policy = Buffer.from(
    JSON.stringify({
      expiration: new Date(Date.now() + 10 * 60_000).toISOString(),
      conditions: [...conditions, { 'x-amz-algorithm': 'AWS4-HMAC-SHA256' }, { 'x-amz-credential': credential }, { 'x-amz-date': date }],
    }),
  ).toString('base64');
  let key: Buffer = createHmac('sha256', `AWS4${g.secretAccessKey}`).update(day).digest();
  for (const part of [REGION, 's3', 'aws4_request']) key = createHmac('sha256', key).update(part).digest();
  const signature = createHmac('sha256', key).update(policy).digest('hex');
  return {
    policy,
    'x-amz-algorithm': 'AWS4-HMAC-SHA256',
    'x-amz-credential': credential,
    'x-amz-date': date,
    'x-amz-signature': signature,
  };
}

/** An upload page: hidden fields in order, then the file input (S3 wants `file` last). */
function formPage(fields: Record<string, string>): string {
  const hidden = Object.entries(fields)
    .map(([k, v]) => `    <input type="hidden" name="${escapeHtml(k)}" value="${escapeHtml(v)}">`)
    .join('\n');
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>upload</title></head>
<body>
  <form id="upload" action="${escapeHtml(`${gateway().endpoint}/${BUCKET}`)}" method="post" enctype="multipart/form-data">
${hidden}
    <input type="file" name="file" id="file">
    <button type="submit" id="submit">Upload</button>
  </form>
</body></html>`;
}

function startServer(): Promise<void> {
  server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', pageOrigin || 'http://127.0.0.1');
    if (url.pathname === '/done') {
      const p = url.searchParams;
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(
        `<!doctype html><title>done</title><p id="bucket">${escapeHtml(p.get('bucket') ?? '')}</p><p id="key">${escapeHtml(p.get('key') ?? '')}</p><p id="etag">${escapeHtml(p.get('etag') ?? '')}</p>`,
      );
      return;
    }
    const page = pages.get(url.pathname);
    res.writeHead(page ? 200 : 404, { 'content-type': 'text/html; charset=utf-8' });
    res.end(page ?? 'not found');
  });
  return new Promise((resolve, reject) => {
    server!.once('error', reject);
    server!.listen(0, '127.0.0.1', () => {
      const addr = server!.address();
      pageOrigin = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
      resolve();
    });
  });
}

async function openPage(path: string, fields: Record<string, string>): Promise<Page> {
  pages.set(path, formPage(fields));
  const page = await context!.newPage();
  const r = await page.goto(`${pageOrigin}${path}`);
  expect(r?.status()).toBe(200);
  return page;
}

beforeAll(async () => {
  if (!CHROMIUM) {
    throw new Error(
      `no Chrome/Chromium found for the browser POST test: run node scripts/ensure-deps.mjs --test (or set CHROME_PATH). playwright-core brings no browser.`,
    );
  }
  s3 = s3Client();
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
  await startServer();
  userDataDir = mkdtempSync(join(tmpdir(), 'sealbucket-chromium-'));
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM!,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
    timeout: 60_000,
  });
});

afterAll(async () => {
  await context?.close().catch(() => {});
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
});

describe('POST Object from Chromium', () => {
  // 300 000 bytes is past the gateway's small-body limit (256 KiB), so the file
  // streams with its length taken from Content-Length; 1 000 bytes is read whole.
  for (const size of [300_000, 1_000]) {
    it(`uploads a ${size}-byte file through an HTML form and is redirected back with key and ETag`, async () => {
      const data = random(size);
      const filename = `${uniq('file')}.bin`;
      const fields = {
        key: 'browser/${filename}',
        'Content-Type': 'application/octet-stream',
        success_action_redirect: `${pageOrigin}/done`,
        ...signedFields([
          { bucket: BUCKET },
          ['starts-with', '$key', 'browser/'],
          { 'Content-Type': 'application/octet-stream' },
          ['starts-with', '$success_action_redirect', `${pageOrigin}/`],
          ['content-length-range', 1, 10 * 1024 * 1024],
        ]),
      };
      const page = await openPage(`/upload-${size}`, fields);
      await page.setInputFiles('#file', { name: filename, mimeType: 'application/octet-stream', buffer: data });
      await Promise.all([page.waitForURL((u) => u.pathname === '/done', { timeout: 60_000 }), page.click('#submit')]);

      const url = new URL(page.url());
      expect(url.origin).toBe(pageOrigin);
      expect(url.searchParams.get('bucket')).toBe(BUCKET);
      expect(url.searchParams.get('key')).toBe(`browser/${filename}`);
      expect(url.searchParams.get('etag')).toBe(`"${md5(data)}"`);
      expect(await page.textContent('#key')).toBe(`browser/${filename}`);
      await page.close();

      // Read it back through the gateway with a signed GET.
      const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: `browser/${filename}` }));
      expect(got.ServerSideEncryption).toBe('AES256');
      expect(got.ContentType).toBe('application/octet-stream');
      const back = Buffer.from(await got.Body!.transformToByteArray());
      expect(back.length).toBe(data.length);
      expect(sha256(back)).toBe(sha256(data));
    });
  }

  it('shows the S3 error document when the form breaks its policy', async () => {
    const fields = {
      key: 'elsewhere/${filename}',
      success_action_redirect: `${pageOrigin}/done`,
      ...signedFields([
        { bucket: BUCKET },
        ['starts-with', '$key', 'browser/'],
        ['starts-with', '$success_action_redirect', `${pageOrigin}/`],
      ]),
    };
    const page = await openPage('/violates', fields);
    await page.setInputFiles('#file', { name: 'nope.bin', mimeType: 'application/octet-stream', buffer: random(2048) });
    const [response] = await Promise.all([page.waitForNavigation({ timeout: 60_000 }), page.click('#submit')]);
    expect(response?.status()).toBe(403);
    expect(new URL(page.url()).origin).toBe(gateway().endpoint);
    const text = (await page.textContent('body')) ?? '';
    expect(text).toContain('AccessDenied');
    expect(text).toContain('Invalid according to Policy: Policy Condition failed: ["starts-with", "$key", "browser/"]');
    await page.close();
    await expect(s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'elsewhere/nope.bin' }))).rejects.toMatchObject({ name: 'NoSuchKey' });
  });
});
