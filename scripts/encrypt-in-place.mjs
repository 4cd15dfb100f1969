// Seals every unencrypted object under a prefix: a copy of each object onto
// itself with SSE-COS, conditional on its ETag so a concurrent writer wins.
// Re-running it skips what is already sealed, so it is resumable.
// Usage: node scripts/encrypt-in-place.mjs <bucket> [--prefix p/] [--concurrency 4]
import { arg, gateway, progress } from './lib/gateway.mjs';

const bucket = process.argv[2];
if (!bucket || bucket.startsWith('--')) {
  console.error('usage: node scripts/encrypt-in-place.mjs <bucket> [--prefix p/] [--concurrency 4]');
  process.exit(2);
}
const prefix = arg('prefix', '');
const concurrency = Number(arg('concurrency', 4));
const { call } = gateway();
const enc = (k) => k.split('/').map(encodeURIComponent).join('/');

const keys = [];
let token;
do {
  const q = new URLSearchParams({ 'list-type': '2', prefix, ...(token ? { 'continuation-token': token } : {}) });
  const x = await (await call('GET', `/${bucket}?${q}`)).text();
  if (x.includes('<Error>')) throw new Error(x);
  for (const m of x.matchAll(/<Key>([^<]*)<\/Key>/g))
    keys.push(
      m[1]
        .replace(/&amp;/g, '&')
        .replace(/&lt;/g, '<')
        .replace(/&gt;/g, '>')
        .replace(/&quot;/g, '"')
        .replace(/&apos;/g, "'"),
    );
  token = /<NextContinuationToken>([^<]+)</.exec(x)?.[1];
} while (token);

const report = { sealed: 0, skipped: 0, failed: 0, failures: [] };
let next = 0;
async function worker() {
  while (next < keys.length) {
    const key = keys[next++];
    try {
      const head = await call('HEAD', `/${bucket}/${enc(key)}`);
      // 400 here means SSE-C: sealed already, and not ours to read.
      if (head.status === 400 || head.headers.get('x-amz-server-side-encryption')) {
        report.skipped++;
      } else if (head.status !== 200) {
        report.skipped++; // deleted since listing
      } else {
        const r = await call('PUT', `/${bucket}/${enc(key)}`, {
          headers: {
            'x-amz-copy-source': `/${bucket}/${enc(key)}`,
            'x-amz-copy-source-if-match': head.headers.get('etag'),
            'x-amz-metadata-directive': 'COPY',
            'x-amz-server-side-encryption': 'AES256',
          },
        });
        const body = await r.text();
        if (r.status === 200) report.sealed++;
        else if (r.status === 412 || r.status === 409)
          report.skipped++; // changed meanwhile: the new write decides
        else throw new Error(`${r.status} ${/<Code>([^<]+)/.exec(body)?.[1] ?? ''}`);
      }
    } catch (e) {
      report.failed++;
      report.failures.push({ key, error: String(e.message ?? e) });
    }
    progress('sealing', report.sealed + report.skipped + report.failed, keys.length);
  }
}
await Promise.all(Array.from({ length: concurrency }, worker));
console.log(`\n${JSON.stringify(report, null, 2)}`);
process.exit(report.failed ? 1 : 0);
