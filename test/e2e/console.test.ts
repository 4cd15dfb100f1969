// The web console in headless Chromium (Debian's /usr/bin/chromium driven by playwright-core)
// against the gateway started by setup.ts. The page signs its own S3 and KMS calls in the
// browser; these tests use it the way a person would and check the results with the AWS SDK.
//
// The tests run in order and share one browser tab: sign-in, a bucket, a KMS key made in the
// Keys page, uploads under it, download, re-encryption, disabling the key.
//
// UPDATE_SCREENSHOTS=1 also writes docs/console-{buckets,objects,keys}.png.

import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CreateBucketCommand, HeadObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { type BrowserContext, chromium, type Locator, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findBrowser } from '../../scripts/lib/tools.mjs';
import { gateway, random, s3Client, sha256, sseCKey, uniq } from './helpers';

/** A Chrome/Chromium found as `npm test` found it (scripts/ensure-deps.mjs installs Debian's if need be). */
const CHROMIUM = findBrowser();
const DOCS = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'docs');
const SCREENSHOTS = process.env.UPDATE_SCREENSHOTS === '1';

const BUCKET = uniq('console').toLowerCase();
const PRIVATE_BUCKET = uniq('console-private').toLowerCase();
const ALIAS = `alias/${uniq('console-e2e')}`;
const BIG = 'reports/quarterly.bin'; // over the console's 8 MiB multipart threshold
const SMALL = 'reports/notes.txt';
const bigData = random(9 * 1024 * 1024 + 12345);
const smallData = Buffer.from(`sealed by the console ${random(16).toString('hex')}\n`.repeat(50));

let s3: S3Client;
let context: BrowserContext | undefined;
let userDataDir: string | undefined;
let downloadsDir: string | undefined;
let page: Page;
let keyId = '';
/** What the page keeps: [document.cookie, localStorage.length, sessionStorage.length] (evaluated in the page). */
const STORED = '[document.cookie, localStorage.length, sessionStorage.length]';
const consoleUrl = () => `${gateway().endpoint}/-/console/`;

/** Polls a locator's text until it matches (Playwright's own expect is not used here). */
async function waitText(loc: Locator, want: RegExp | string, timeout = 30_000): Promise<string> {
  const deadline = Date.now() + timeout;
  let last = '';
  for (;;) {
    last =
      (await loc
        .first()
        .textContent({ timeout: Math.max(1, deadline - Date.now()) })
        .catch(() => '')) ?? '';
    if (typeof want === 'string' ? last.includes(want) : want.test(last)) return last;
    if (Date.now() > deadline) {
      const banner = await page
        .locator('#banner')
        .textContent()
        .catch(() => '');
      const view = (
        await page
          .locator('#view')
          .innerText()
          .catch(() => '')
      ).slice(0, 1500);
      throw new Error(
        `timed out waiting for ${String(want)}; last text: ${JSON.stringify(last)}; url ${page.url()}; banner ${JSON.stringify(banner)}; view:\n${view}`,
      );
    }
    await page.waitForTimeout(150);
  }
}

async function signIn(p: Page, accessKeyId: string, secret: string) {
  await p.fill('#ak', accessKeyId);
  await p.fill('#sk', secret);
  await p.click('#signin-button');
}

const row = (key: string) => page.locator(`#objects tr[data-key="${key}"]`);
const keyRow = () => page.locator(`#keys tr[data-key-id="${keyId}"]`);

beforeAll(async () => {
  if (!CHROMIUM) {
    throw new Error(
      `no Chrome/Chromium found for the console test: run node scripts/ensure-deps.mjs --test (or set CHROME_PATH). playwright-core brings no browser.`,
    );
  }
  s3 = s3Client();
  // Data that exists before anyone signs in to the console.
  await s3.send(new CreateBucketCommand({ Bucket: PRIVATE_BUCKET }));
  await s3.send(new PutObjectCommand({ Bucket: PRIVATE_BUCKET, Key: 'private.txt', Body: 'top secret plaintext' }));
  userDataDir = mkdtempSync(join(tmpdir(), 'sealbucket-chromium-'));
  downloadsDir = mkdtempSync(join(tmpdir(), 'sealbucket-downloads-'));
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM!,
    headless: true,
    acceptDownloads: true,
    downloadsPath: downloadsDir,
    viewport: { width: 1200, height: 760 },
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
  page = context.pages()[0] ?? (await context.newPage());
  page.setDefaultTimeout(30_000);
  page.on('pageerror', (e) => console.error(`console page error: ${e.message}`));
});

afterAll(async () => {
  await context?.close().catch(() => {});
  for (const d of [userDataDir, downloadsDir]) if (d) rmSync(d, { recursive: true, force: true });
});

describe('web console in Chromium', () => {
  it('shows nothing readable before sign-in', async () => {
    const cspViolations: string[] = [];
    page.on('console', (m) => {
      if (/Content Security Policy/i.test(m.text())) cspViolations.push(m.text());
    });
    const r = await page.goto(consoleUrl());
    expect(r?.status()).toBe(200);
    expect(r?.headers()['content-security-policy']).toContain("script-src 'self'");
    await page.locator('#signin').waitFor({ state: 'visible' });
    expect(await page.locator('#view').isHidden()).toBe(true);
    expect(await page.locator('#nav').isHidden()).toBe(true);
    // Deep links do not get past the sign-in form either.
    for (const hash of ['#/buckets', `#/b/${PRIVATE_BUCKET}/`, `#/o/${PRIVATE_BUCKET}/private.txt`, '#/keys', '#/master']) {
      await page.goto(consoleUrl() + hash);
      await page.locator('#signin').waitFor({ state: 'visible' });
      const text = await page.locator('body').innerText();
      expect(text).not.toContain(PRIVATE_BUCKET);
      expect(text).not.toContain('top secret');
    }
    // The page's own origin gets nothing without a signature.
    const statuses = await page.evaluate(
      async ([b]) => Promise.all([`/${b}/private.txt`, `/${b}`, '/', '/-/admin/keyring'].map(async (p) => (await fetch(p)).status)),
      [PRIVATE_BUCKET],
    );
    expect(statuses).toEqual([403, 403, 403, 403]);
    const kms = await page.evaluate(
      async () =>
        (
          await fetch('/', {
            method: 'POST',
            headers: { 'x-amz-target': 'TrentService.ListKeys', 'content-type': 'application/x-amz-json-1.1' },
            body: '{}',
          })
        ).status,
    );
    expect(kms).toBeGreaterThanOrEqual(400);
    // No credentials are kept anywhere before or after a failed attempt.
    expect(await page.evaluate(STORED)).toEqual(['', 0, 0]);
    expect(cspViolations).toEqual([]);
  });

  it('says clearly when the secret is wrong, or the access key unknown', async () => {
    const g = gateway();
    await page.goto(consoleUrl());
    await signIn(page, g.accessKeyId, `${g.secretAccessKey.slice(0, -2)}xx`);
    const err = page.locator('#signin-error');
    await err.waitFor({ state: 'visible' });
    expect(await err.textContent()).toBe(
      'Sign-in failed: The secret access key does not match this access key ID. Check both and sign in again.',
    );
    expect(await page.locator('#nav').isHidden()).toBe(true);
    await signIn(page, 'AKIDNOSUCHKEY0000', g.secretAccessKey);
    await waitText(err, 'The gateway does not know this access key ID.');
    expect(await page.locator('body').innerText()).not.toContain(PRIVATE_BUCKET);
    expect(await page.evaluate(STORED)).toEqual(['', 0, 0]);
  });

  it('signs in and creates a bucket', async () => {
    const g = gateway();
    await signIn(page, g.accessKeyId, g.secretAccessKey);
    await page.locator('#nav').waitFor({ state: 'visible' });
    await page.locator(`#buckets tr[data-bucket="${PRIVATE_BUCKET}"]`).waitFor();
    // The secret does not linger in the form, a cookie or localStorage (not ticked: not in sessionStorage).
    expect(await page.inputValue('#sk')).toBe('');
    expect(await page.evaluate(STORED)).toEqual(['', 0, 0]);

    await page.fill('#bucket-name', BUCKET);
    await page.click('#create-bucket');
    await page.locator(`#buckets tr[data-bucket="${BUCKET}"]`).waitFor();
    await waitText(page.locator('#banner'), `Bucket ${BUCKET} created.`);
    await waitText(page.locator(`#buckets tr[data-bucket="${BUCKET}"] td.enc`), 'Gateway default');
  });

  it('creates a KMS key with an alias in the Keys page', async () => {
    await page.click('nav a[data-nav="keys"]');
    await page.locator('#create-key-form').waitFor();
    await page.fill('#key-alias', ALIAS);
    await page.fill('#key-description', 'console e2e');
    await page.click('#create-key');
    const r = page.locator('#keys tr', { hasText: ALIAS });
    await r.waitFor();
    keyId = (await r.getAttribute('data-key-id')) ?? '';
    expect(keyId).toMatch(/^[0-9a-f-]{36}$/);
    await waitText(keyRow().locator('td.state'), 'Enabled');
    expect(await keyRow().innerText()).toContain('AWS_KMS');
    // Rotation: off, then on from the page.
    await waitText(keyRow().locator('td.rotation'), 'Off');
    await keyRow().locator('button.enable-rotation').click();
    await waitText(keyRow().locator('td.rotation'), 'Yearly');
  });

  it('uploads files with SSE-KMS under the new key and lists them as SSE-KMS with the alias', async () => {
    await page.goto(`${consoleUrl()}#/b/${BUCKET}/${encodeURIComponent('reports/')}`);
    await page.locator('#file-input').waitFor({ state: 'attached' });
    await page.selectOption('#upload-mode', 'kms');
    await page.locator(`#upload-key option[value="${keyId}"]`).waitFor({ state: 'attached' });
    await page.selectOption('#upload-key', keyId);
    await page.setInputFiles('#file-input', [
      { name: 'quarterly.bin', mimeType: 'application/octet-stream', buffer: bigData },
      { name: 'notes.txt', mimeType: 'text/plain', buffer: smallData },
    ]);
    for (const key of [BIG, SMALL]) await page.locator(`#uploads [data-upload="${key}"].done`).waitFor({ timeout: 90_000 });
    expect(await page.locator('#uploads .failed').count()).toBe(0);

    for (const key of [BIG, SMALL]) {
      const enc = await waitText(row(key).locator('td.enc'), ALIAS);
      expect(enc).toContain('SSE-KMS');
      const head = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }));
      expect(head.ServerSideEncryption).toBe('aws:kms');
      expect(head.SSEKMSKeyId).toContain(keyId);
    }
    expect(await row(BIG).locator('td.num').textContent()).toBe('9.0 MiB');
    // The big one went up in parts (its ETag says so).
    const big = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: BIG }));
    expect(big.ETag).toMatch(/-2"$/);
    expect(big.ContentLength).toBe(bigData.length);
  });

  it('shows SSE-COS, SSE-C and folders in the object list', async () => {
    const k = sseCKey();
    await s3.send(
      new PutObjectCommand({
        Bucket: BUCKET,
        Key: 'reports/customer-key.bin',
        Body: random(1000),
        SSECustomerAlgorithm: 'AES256',
        SSECustomerKey: k.b64,
        SSECustomerKeyMD5: k.md5,
      }),
    );
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'reports/plain-default.txt', Body: 'sealed by default' }));
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'readme.txt', Body: 'top level' }));
    await page.goto(`${consoleUrl()}#/buckets`);
    await page.goto(`${consoleUrl()}#/b/${BUCKET}/`);
    await page.locator('#objects tr.folder', { hasText: 'reports/' }).waitFor();
    await waitText(row('readme.txt').locator('td.enc'), 'SSE-COS');
    await page.locator('#objects tr.folder a').click();
    await waitText(row('reports/customer-key.bin').locator('td.enc'), 'SSE-C');
    await waitText(row('reports/plain-default.txt').locator('td.enc'), 'SSE-COS');
    await waitText(row(SMALL).locator('td.enc'), ALIAS);
    if (SCREENSHOTS) await shot('console-objects.png');
  });

  it('downloads an SSE-KMS object with the same bytes', async () => {
    for (const [key, data] of [
      [BIG, bigData],
      [SMALL, smallData],
    ] as const) {
      await page.goto(`${consoleUrl()}#/o/${BUCKET}/${encodeURIComponent(key)}`);
      await waitText(page.locator('#object-encryption'), ALIAS);
      const [download] = await Promise.all([page.waitForEvent('download', { timeout: 60_000 }), page.click('#download')]);
      expect(download.suggestedFilename()).toBe(key.split('/').pop());
      const path = await download.path();
      expect(path).toBeTruthy();
      const got = readFileSync(path!);
      expect(got.length).toBe(data.length);
      expect(sha256(got)).toBe(sha256(data));
    }
  });

  it('changes an object from SSE-KMS to SSE-COS', async () => {
    await page.goto(`${consoleUrl()}#/o/${BUCKET}/${encodeURIComponent(SMALL)}`);
    await waitText(page.locator('#object-encryption'), 'SSE-KMS');
    await page.selectOption('#change-mode', 'cos');
    await page.click('#change-encryption');
    await waitText(page.locator('#banner'), 'Encryption changed to SSE-COS.');
    await waitText(page.locator('#object-encryption'), 'SSE-COS');
    const head = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: SMALL }));
    expect(head.ServerSideEncryption).toBe('AES256');
    expect(head.SSEKMSKeyId).toBeUndefined();
    expect(head.ContentType).toBe('text/plain');
  });

  it('edits a bucket default encryption to SSE-KMS with the key', async () => {
    await page.click('nav a[data-nav="buckets"]');
    const cell = page.locator(`#buckets tr[data-bucket="${BUCKET}"] td.enc`);
    await waitText(cell, 'Gateway default');
    await cell.locator('button.edit-encryption').click();
    await page.selectOption(`[id="enc-${BUCKET}-mode"]`, 'kms');
    await page.locator(`[id="enc-${BUCKET}-key"] option[value="${keyId}"]`).waitFor({ state: 'attached' });
    await page.selectOption(`[id="enc-${BUCKET}-key"]`, keyId);
    await cell.locator('button.save-encryption').click();
    await waitText(cell, ALIAS);
    expect(await cell.innerText()).toContain('SSE-KMS');
    if (SCREENSHOTS) await shot('console-buckets.png');
  });

  it('explains in words that a disabled key makes its objects unreadable', async () => {
    await page.click('nav a[data-nav="keys"]');
    await keyRow().locator('button.disable-key').click();
    await waitText(keyRow().locator('td.state'), 'Disabled');
    if (SCREENSHOTS) await shot('console-keys.png');

    // The object still under the key: a readable message, not XML.
    await page.goto(`${consoleUrl()}#/o/${BUCKET}/${encodeURIComponent(BIG)}`);
    const err = page.locator('#object-error');
    await waitText(err, 'This key is disabled; enable it in Keys to read this object.');
    expect(await err.textContent()).not.toMatch(/<|KMS\.|Exception/);
    await waitText(page.locator('#object-encryption'), ALIAS);
    await page.click('#download');
    await waitText(page.locator('#banner'), 'This key is disabled; enable it in Keys to read this object.');
    // In the list, too.
    await page.goto(`${consoleUrl()}#/b/${BUCKET}/${encodeURIComponent('reports/')}`);
    await waitText(row(BIG).locator('td.enc'), 'This key is disabled');
    // The object moved to SSE-COS is unaffected.
    await waitText(row(SMALL).locator('td.enc'), 'SSE-COS');
    await page.goto(`${consoleUrl()}#/o/${BUCKET}/${encodeURIComponent(SMALL)}`);
    await waitText(page.locator('#object-encryption'), 'SSE-COS');
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download')]);
    expect(sha256(readFileSync((await download.path())!))).toBe(sha256(smallData));

    // Enabled again from the page, the object reads.
    await page.click('nav a[data-nav="keys"]');
    await keyRow().locator('button.enable-key').click();
    await waitText(keyRow().locator('td.state'), 'Enabled');
    await page.goto(`${consoleUrl()}#/o/${BUCKET}/${encodeURIComponent(BIG)}`);
    await waitText(page.locator('#object-encryption'), ALIAS);
    expect(await page.locator('#object-error').count()).toBe(0);
  });

  it('schedules and cancels deletion of a key, and adds an alias', async () => {
    await page.click('nav a[data-nav="keys"]');
    const second = `${ALIAS}-second`;
    await keyRow().locator('button.add-alias').click();
    await keyRow().locator('input.alias-input').fill(second);
    await keyRow().getByRole('button', { name: 'Save alias' }).click();
    await waitText(keyRow().locator('td.name'), second);
    // A taken alias is refused in words.
    await keyRow().locator('button.add-alias').click();
    await keyRow().locator('input.alias-input').fill(second);
    await keyRow().getByRole('button', { name: 'Save alias' }).click();
    await waitText(page.locator('#banner'), 'An alias with that name already exists; choose another.');
    await page.click('nav a[data-nav="buckets"]');
    await page.click('nav a[data-nav="keys"]');
    await keyRow().locator('button.schedule-deletion').click();
    await keyRow().locator('button.schedule-deletion').click(); // confirm
    await waitText(keyRow().locator('td.state'), 'Pending deletion');
    await keyRow().locator('button.cancel-deletion').click();
    await waitText(keyRow().locator('td.state'), 'Disabled');
    await keyRow().locator('button.enable-key').click();
    await waitText(keyRow().locator('td.state'), 'Enabled');
  });

  it('shows master-key versions with object counts', async () => {
    await page.click('nav a[data-nav="master"]');
    const v = page.locator('#master-versions tr[data-version="k1"]');
    const text = await waitText(v, 'Active');
    const count = Number((await v.locator('td.num').textContent()) ?? 'NaN');
    expect(count).toBeGreaterThanOrEqual(3); // at least SMALL, readme.txt, plain-default.txt
    expect(text).toContain('k1');
    await waitText(page.locator('#other-usage'), ALIAS);
  });

  it('refuses to delete a bucket that still holds objects, in words', async () => {
    await page.click('nav a[data-nav="buckets"]');
    const del = page.locator(`#buckets tr[data-bucket="${BUCKET}"] button.delete-bucket`);
    await del.click();
    await del.click();
    await waitText(page.locator('#banner'), 'This bucket still holds objects; delete them first, then delete the bucket.');
  });

  it('deletes an object, and then an empty bucket', async () => {
    const empty = uniq('console-empty').toLowerCase();
    await page.fill('#bucket-name', empty);
    await page.click('#create-bucket');
    await page.locator(`#buckets tr[data-bucket="${empty}"]`).waitFor();
    await page.goto(`${consoleUrl()}#/o/${BUCKET}/readme.txt`);
    await waitText(page.locator('#object-encryption'), 'SSE-COS');
    await page.click('#delete-object');
    await page.click('#delete-object');
    await page.waitForURL((u) => u.hash === `#/b/${BUCKET}/`);
    await page.locator('#objects').waitFor();
    expect(await row('readme.txt').count()).toBe(0);
    await page.click('nav a[data-nav="buckets"]');
    const del = page.locator(`#buckets tr[data-bucket="${empty}"] button.delete-bucket`);
    await del.click();
    await del.click();
    await waitText(page.locator('#banner'), `Bucket ${empty} deleted.`);
    await page.locator(`#buckets tr[data-bucket="${empty}"]`).waitFor({ state: 'detached' });
  });

  it('fits a narrow screen', async () => {
    await page.setViewportSize({ width: 360, height: 740 });
    for (const hash of ['#/buckets', `#/b/${BUCKET}/${encodeURIComponent('reports/')}`, '#/keys']) {
      await page.goto(consoleUrl() + hash);
      await page.locator('#view table').waitFor();
      await page.waitForTimeout(300);
      // The page itself never scrolls sideways (wide tables scroll inside their own box).
      const overflow = await page.evaluate<number>('document.documentElement.scrollWidth - document.documentElement.clientWidth');
      expect(overflow, hash).toBeLessThanOrEqual(0);
    }
    await page.setViewportSize({ width: 1200, height: 760 });
  });

  it('remembers the session for this tab only when asked, and signs out', async () => {
    await page.click('#signout');
    await page.locator('#signin').waitFor({ state: 'visible' });
    expect(await page.locator('#view').isHidden()).toBe(true);
    expect(await page.locator('body').innerText()).not.toContain(BUCKET);
    const g = gateway();
    await page.check('#remember');
    await signIn(page, g.accessKeyId, g.secretAccessKey);
    await page.locator('#nav').waitFor({ state: 'visible' });
    expect(await page.evaluate(STORED)).toEqual(['', 0, 1]);
    await page.goto(`${consoleUrl()}#/buckets`);
    await page.reload();
    await page.locator(`#buckets tr[data-bucket="${BUCKET}"]`).waitFor();
    // A new tab does not inherit it.
    const other = await context!.newPage();
    await other.goto(consoleUrl());
    await other.locator('#signin').waitFor({ state: 'visible' });
    await other.close();
    await page.click('#signout');
    expect(await page.evaluate(STORED)).toEqual(['', 0, 0]);
  });
});

async function shot(name: string) {
  mkdirSync(DOCS, { recursive: true });
  await page.waitForTimeout(300);
  await page.screenshot({ path: join(DOCS, name), fullPage: true });
}
