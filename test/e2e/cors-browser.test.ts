// CORS from a real browser: a page served from another origin (a small node server on
// loopback) in Debian's headless Chromium uploads with a presigned PUT and reads back with
// a presigned GET straight from the gateway, as web applications do. With the bucket's rule
// the browser lets the page see both answers; without it the preflight fails and nothing
// reaches the bucket. The URLs are presigned here with @aws-sdk/s3-request-presigner.

import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateBucketCommand,
  DeleteBucketCorsCommand,
  GetObjectCommand,
  PutBucketCorsCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { findBrowser } from '../../scripts/lib/tools.mjs';
import { s3Client, s3Error, uniq } from './helpers';

/** A Chrome/Chromium found as `npm test` found it (scripts/ensure-deps.mjs installs Debian's if need be). */
const CHROMIUM = findBrowser();
const BUCKET = uniq('e2e-cors-browser').toLowerCase();

let s3: S3Client;
let presigner: S3Client;
let context: BrowserContext | undefined;
let userDataDir: string | undefined;
let server: Server | undefined;
let pageOrigin = '';
let page: Page;

function startServer(): Promise<void> {
  server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end('<!doctype html><title>app</title><p>app</p>');
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

/** What the page's script sees of an upload then a download through the presigned URLs. */
interface Seen {
  put?: { status: number; etag: string | null };
  get?: { status: number; text: string };
  error?: string;
}

/** In the page: PUT `body` to one URL, then GET the other, as an application would. */
function roundTrip(putUrl: string, getUrl: string, body: string): Promise<Seen> {
  return page.evaluate(
    async ([putUrl, getUrl, body]) => {
      const seen: Seen = {};
      try {
        const put = await fetch(putUrl, { method: 'PUT', body: new TextEncoder().encode(body) });
        seen.put = { status: put.status, etag: put.headers.get('etag') };
        const get = await fetch(getUrl);
        seen.get = { status: get.status, text: await get.text() };
      } catch (e) {
        seen.error = String(e);
      }
      return seen;
    },
    [putUrl, getUrl, body] as const,
  );
}

const presign = (key: string) =>
  Promise.all([
    getSignedUrl(presigner, new PutObjectCommand({ Bucket: BUCKET, Key: key }), { expiresIn: 600 }),
    getSignedUrl(presigner, new GetObjectCommand({ Bucket: BUCKET, Key: key }), { expiresIn: 600 }),
  ]);

// One browser run is enough: the layouts are covered by cors-acl.test.ts, so this runs on R2 only.
describe.skipIf(!!inject('upstream'))('CORS from Chromium with presigned URLs', () => {
  beforeAll(async () => {
    if (!CHROMIUM)
      throw new Error('no Chrome/Chromium found for the browser CORS test: run node scripts/ensure-deps.mjs --test (or set CHROME_PATH).');
    s3 = s3Client();
    // Presigned URLs without the SDK's checksum query parameters, as a web backend hands them out.
    presigner = s3Client({ requestChecksumCalculation: 'WHEN_REQUIRED' });
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
    await startServer();
    userDataDir = mkdtempSync(join(tmpdir(), 'sealbucket-chromium-'));
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM!,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-sync'],
      timeout: 60_000,
    });
    page = await context.newPage();
    expect((await page.goto(`${pageOrigin}/`))?.status()).toBe(200);
  });

  afterAll(async () => {
    await context?.close().catch(() => {});
    await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
    if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
  });

  it('is blocked by the browser while the bucket has no rule: the preflight fails and nothing is stored', async () => {
    const [putUrl, getUrl] = await presign('blocked.txt');
    const seen = await roundTrip(putUrl, getUrl, 'never stored');
    expect(seen.error).toMatch(/Failed to fetch/);
    expect(seen.put).toBeUndefined();
    expect((await s3Error(s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'blocked.txt' })))).name).toBe('NoSuchKey');
  });

  it('uploads and reads back once PutBucketCors allows the page’s origin, and is blocked again after DeleteBucketCors', async () => {
    await s3.send(
      new PutBucketCorsCommand({
        Bucket: BUCKET,
        CORSConfiguration: {
          CORSRules: [{ AllowedOrigins: [pageOrigin], AllowedMethods: ['PUT', 'GET'], AllowedHeaders: ['*'], ExposeHeaders: ['ETag'] }],
        },
      }),
    );
    const [putUrl, getUrl] = await presign('from-browser.txt');
    const seen = await roundTrip(putUrl, getUrl, 'hello from the page');
    expect(seen.error).toBeUndefined();
    expect(seen.put).toEqual({ status: 200, etag: expect.stringMatching(/^"[0-9a-f]{32}"$/) });
    expect(seen.get).toEqual({ status: 200, text: 'hello from the page' });
    // Stored sealed, like any other upload.
    const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'from-browser.txt' }));
    expect(got.ServerSideEncryption).toBe('AES256');
    expect(await got.Body!.transformToString()).toBe('hello from the page');

    await s3.send(new DeleteBucketCorsCommand({ Bucket: BUCKET }));
    const [putAgain, getAgain] = await presign('after-delete.txt');
    const after = await roundTrip(putAgain, getAgain, 'never stored');
    expect(after.error).toMatch(/Failed to fetch/);
    expect((await s3Error(s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'after-delete.txt' })))).name).toBe('NoSuchKey');
  });
});
