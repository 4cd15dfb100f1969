// The console's Users page and least-privilege pages in headless Chromium, with two browser
// contexts: root (the secret store's key) manages a user in one; the user signs in with the key
// the page showed in the other and meets the policy root attached. Checked with the AWS SDK.
//
// The tests run in order and share the two tabs.

import { CreateBucketCommand, PutBucketPolicyCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { type Browser, chromium, type Locator, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findBrowser } from '../../scripts/lib/tools.mjs';
import { gateway, s3Client, s3Error, uniq } from './helpers';

const CHROMIUM = findBrowser();
const BUCKET = uniq('console-users').toLowerCase();
const USER = uniq('console-user');
const consoleUrl = () => `${gateway().endpoint}/-/console/`;

let s3: S3Client;
let browser: Browser | undefined;
let root: Page;
let user: Page;
let keyId = '';
let secret = '';

/** Polls a locator's text until it matches; the error shows the page's banner and view. */
async function waitText(loc: Locator, want: RegExp | string, timeout = 15_000): Promise<string> {
  const page = loc.page();
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
      ).slice(-2500);
      throw new Error(
        `timed out waiting for ${String(want)}; last ${JSON.stringify(last)}; url ${page.url()}; banner ${JSON.stringify(banner)}; view:\n${view}`,
      );
    }
    await page.waitForTimeout(150);
  }
}

async function signIn(p: Page, accessKeyId: string, secretAccessKey: string) {
  await p.goto(consoleUrl());
  await p.fill('#ak', accessKeyId);
  await p.fill('#sk', secretAccessKey);
  await p.click('#signin-button');
  await p.locator('#nav').waitFor({ state: 'visible' });
}

beforeAll(async () => {
  if (!CHROMIUM)
    throw new Error('no Chrome/Chromium found for the console test: run node scripts/ensure-deps.mjs --test (or set CHROME_PATH).');
  s3 = s3Client();
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
  await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'shared/hello.txt', Body: 'hello from root' }));
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking'],
    timeout: 60_000,
  });
  root = await (await browser.newContext({ viewport: { width: 1200, height: 800 } })).newPage();
  user = await (await browser.newContext({ viewport: { width: 1200, height: 800 } })).newPage();
  for (const p of [root, user]) {
    p.setDefaultTimeout(30_000);
    p.on('pageerror', (e) => console.error(`console page error: ${e.message}`));
  }
});

afterAll(async () => {
  await browser?.close().catch(() => {});
});

describe('console: users, keys, policies in Chromium', () => {
  it('root signs in and is shown as root, with the Users page offered', async () => {
    const g = gateway();
    await signIn(root, g.accessKeyId, g.secretAccessKey);
    await waitText(root.locator('#who'), 'Signed in as root');
    await root.locator('#nav-users').waitFor({ state: 'visible' });
    expect(await root.locator('#nav-master').isVisible()).toBe(true);
  });

  it('root creates a user and an access key, whose secret is shown once', async () => {
    await root.click('#nav-users');
    await root.fill('#user-name', USER);
    await root.click('#create-user');
    await waitText(root.locator('#view h1'), USER);
    await waitText(root.locator('#banner'), `User ${USER} created.`);
    await waitText(root.locator('#user-keys'), 'No access keys.');
    await root.click('#create-key');
    await waitText(root.locator('#secret-box'), 'it will not be shown again');
    keyId = (await root.locator('#new-key-id').textContent()) ?? '';
    secret = (await root.locator('#new-secret').textContent()) ?? '';
    expect(keyId).toMatch(/^AKIA[A-Z0-9]{16}$/);
    expect(secret.length).toBeGreaterThanOrEqual(40);
    await waitText(root.locator(`#access-keys tr[data-access-key="${keyId}"]`), 'Active');
    // The secret is in the page only: not in storage, and gone once the page changes.
    expect(await root.evaluate('[document.cookie, localStorage.length, sessionStorage.length]')).toEqual(['', 0, 0]);
    await root.click('#nav-users');
    await root.locator(`#users tr[data-user="${USER}"]`).waitFor();
    expect(await root.locator('body').innerText()).not.toContain(secret);
  });

  it('root attaches "read-only on a bucket" as an inline policy, and a bad JSON edit is caught before it is sent', async () => {
    await root.click(`#users tr[data-user="${USER}"] a`);
    await waitText(root.locator('#inline-policies'), 'No inline policies.');
    await root.selectOption('#policy-template', 'read-only-bucket');
    await root.fill('#policy-bucket', BUCKET);
    const doc = JSON.parse(await root.inputValue('#policy-json'));
    expect(doc.Statement[1]).toMatchObject({ Effect: 'Allow', Resource: `arn:aws:s3:::${BUCKET}/*` });

    await root.fill('#policy-json', '{"Version": "2012-10-17", "Statement": [');
    await root.click('#save-policy');
    await waitText(root.locator('#policy-error'), 'This is not valid JSON');

    await root.selectOption('#policy-template', 'read-only-bucket');
    await root.click('#save-policy');
    await waitText(root.locator('#banner'), `Policy read-only-bucket attached to ${USER}.`);
    await root.locator('#inline-policy-list li[data-policy="read-only-bucket"]').waitFor();
    await waitText(root.locator('#attached-policies'), 'No managed policies attached');
  });

  it('the user signs in with that key and is shown by name; Users and Master key are not offered', async () => {
    await signIn(user, keyId, secret);
    await waitText(user.locator('#who'), `Signed in as ${USER}`);
    // iam:ListUsers and the admin endpoint are root's: the links are not offered, and a deep link says why.
    await user.locator('#nav-master').waitFor({ state: 'hidden' });
    expect(await user.locator('#nav-users').isHidden()).toBe(true);
    await user.goto(`${consoleUrl()}#/users`);
    await waitText(user.locator('#users-denied'), 'You are not allowed to manage users.');
    await user.goto(`${consoleUrl()}#/u/${encodeURIComponent(USER)}`);
    await waitText(user.locator('#inline-denied'), 'You are not allowed to manage users.');
  });

  it('the Keys page says the user may not use the key service', async () => {
    await user.goto(`${consoleUrl()}#/keys`);
    await waitText(user.locator('#banner'), 'You are not allowed to use the key service.');
  });

  it('the user opens the bucket and sees its objects', async () => {
    await user.goto(`${consoleUrl()}#/b/${BUCKET}/shared%2F`);
    await waitText(user.locator('#objects tr[data-key="shared/hello.txt"] td.enc'), 'SSE-COS');
  });

  it('ListBuckets is not in the policy: the page says so where the list would be, and opens a bucket by name', async () => {
    await user.goto(`${consoleUrl()}#/buckets`);
    await waitText(user.locator('#buckets-denied'), 'You are not allowed to list the buckets.');
    await user.fill('#open-bucket-name', BUCKET);
    await user.click('#open-bucket');
    await user.locator('#objects tr.folder').waitFor();
    // The bucket policy is root's to read: the editor says so instead of showing.
    await waitText(user.locator('#bucket-policy-status'), 'You are not allowed to read or change this bucket policy.');
    expect(await user.locator('#bucket-policy-form').isHidden()).toBe(true);
  });

  it('the user is refused an upload, in words', async () => {
    await user.goto(`${consoleUrl()}#/b/${BUCKET}/shared%2F`);
    await waitText(user.locator('#objects tr[data-key="shared/hello.txt"] td.enc'), 'SSE-COS');
    await user.setInputFiles('#file-input', { name: 'nope.txt', mimeType: 'text/plain', buffer: Buffer.from('not allowed') });
    await waitText(
      user.locator('.upload-item[data-upload="shared/nope.txt"]'),
      'failed: You are not allowed to upload or change objects here.',
    );
  });

  it('root sets a bucket policy from "deny uploads without SSE"; a malformed edit shows the gateway\'s own message', async () => {
    await root.goto(`${consoleUrl()}#/b/${BUCKET}/`);
    await waitText(root.locator('#bucket-policy-status'), 'This bucket has no policy.');
    await root.selectOption('#bucket-policy-template', 'deny-no-sse');
    await root.click('#save-bucket-policy');
    await waitText(root.locator('#banner'), `The policy of ${BUCKET} is saved.`);
    await waitText(root.locator('#bucket-policy-status'), 'This bucket has a policy.');
    // It holds: a PUT without SSE is refused, one with SSE accepted.
    expect((await s3Error(s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'plain.txt', Body: 'x' })))).name).toBe('AccessDenied');
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'sealed.txt', Body: 'x', ServerSideEncryption: 'AES256' }));

    // JSON that does not parse is caught in the page; a policy the gateway refuses shows its MalformedPolicy message as it is.
    await root.fill('#bucket-policy-json', '{"Version": "2012-10-17",');
    await root.click('#save-bucket-policy');
    await waitText(root.locator('#bucket-policy-error'), 'This is not valid JSON');
    const bad = JSON.stringify({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Perhaps', Principal: '*', Action: 's3:GetObject', Resource: `arn:aws:s3:::${BUCKET}/*` }],
    });
    const refusal = await s3Error(s3.send(new PutBucketPolicyCommand({ Bucket: BUCKET, Policy: bad })));
    expect(refusal.name).toBe('MalformedPolicy');
    expect(refusal.message).not.toBe('');
    await root.fill('#bucket-policy-json', bad);
    await root.click('#save-bucket-policy');
    await waitText(root.locator('#bucket-policy-error'), refusal.message);
    expect(await root.locator('#bucket-policy-error').textContent()).toBe(refusal.message);

    await root.click('#delete-bucket-policy');
    await root.click('#delete-bucket-policy');
    await waitText(root.locator('#banner'), `The policy of ${BUCKET} is deleted.`);
    await waitText(root.locator('#bucket-policy-status'), 'This bucket has no policy.');
  });

  it('root makes the key inactive, then deletes it; the user can no longer sign in', async () => {
    await root.goto(`${consoleUrl()}#/u/${encodeURIComponent(USER)}`);
    const row = root.locator(`#access-keys tr[data-access-key="${keyId}"]`);
    await waitText(row, 'Active');
    await row.locator('button.toggle-key').click();
    await waitText(row, 'Inactive');
    await waitText(root.locator('#banner'), `Access key ${keyId} is now inactive.`);
    await row.locator('button.toggle-key').click();
    await waitText(row, /Active(?!.*Inactive)/);
    await row.locator('button.delete-key').click();
    await row.locator('button.delete-key').click();
    await waitText(root.locator('#banner'), `Access key ${keyId} deleted.`);
    await waitText(root.locator('#user-keys'), 'No access keys.');

    // Within the gateway's documented bound (IAM_CACHE_SECONDS, 5 s by default) the key stops working.
    const deadline = Date.now() + 20_000;
    let refused = '';
    while (!refused && Date.now() < deadline) {
      // A reload signs out (the session was not remembered).
      await user.goto(consoleUrl());
      await user.fill('#ak', keyId);
      await user.fill('#sk', secret);
      await user.click('#signin-button');
      refused = await Promise.race([
        user
          .locator('#signin-error')
          .waitFor({ state: 'visible', timeout: 10_000 })
          .then(() => 'refused')
          .catch(() => ''),
        user
          .locator('#nav')
          .waitFor({ state: 'visible', timeout: 10_000 })
          .then(() => '')
          .catch(() => ''),
      ]);
    }
    expect(refused).toBe('refused');
    await waitText(user.locator('#signin-error'), /^Sign-in failed: /);
  });

  it('root deletes the user, removing its policies first', async () => {
    await waitText(root.locator('#delete-user-box'), '0 access key(s), 1 inline and 0 attached');
    await root.click('#delete-user');
    await root.click('#delete-user');
    await waitText(root.locator('#banner'), `User ${USER} deleted.`);
    await root.locator('#users').waitFor();
    await waitText(root.locator('#users tbody'), /\S/);
    expect(await root.locator(`#users tr[data-user="${USER}"]`).count()).toBe(0);
  });

  it('signs in through ListBuckets when the gateway answers GetCallerIdentity with "not implemented"', async () => {
    const g = gateway();
    const ctx = await browser!.newContext();
    try {
      const p = await ctx.newPage();
      // An older gateway: STS calls get S3's 501 NotImplemented.
      await p.route('**/*', (route) =>
        /\/sts\/aws4_request/.test(route.request().headers().authorization ?? '')
          ? route.fulfill({
              status: 501,
              contentType: 'application/xml',
              body: '<?xml version="1.0" encoding="UTF-8"?><Error><Code>NotImplemented</Code><Message>not implemented</Message></Error>',
            })
          : route.continue(),
      );
      await signIn(p, g.accessKeyId, g.secretAccessKey);
      await waitText(p.locator('#who'), g.accessKeyId);
      await p.locator(`#buckets tr[data-bucket="${BUCKET}"]`).waitFor();
    } finally {
      await ctx.close();
    }
  });
});
