// Offline recovery: decrypts an object exported from the store (scripts/export.mjs
// layout: record.json plus one file per data stream, named in its `files`) with no gateway running.
// Written from docs/FORMAT.md with node:crypto only; it shares no code with src/.
// Usage: node scripts/recover.mjs <export-dir> --out <file> (--keyring "k1:base64,..." | --sse-c-key <base64>)
import { createDecipheriv, createHash, createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import { closeSync, openSync, readFileSync, readSync, writeSync } from 'node:fs';
import { join } from 'node:path';

const argv = process.argv.slice(2);
const opt = (n) => (argv.includes(`--${n}`) ? argv[argv.indexOf(`--${n}`) + 1] : undefined);
const dir = argv[0];
const outFile = opt('out');
if (!dir || !outFile || (!opt('keyring') && !opt('sse-c-key'))) {
  console.error('usage: node scripts/recover.mjs <export-dir> --out <file> (--keyring "k1:base64,..." | --sse-c-key <base64>)');
  process.exit(2);
}

const u32 = (n) => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
};
const field = (x) => {
  const b =
    typeof x === 'number'
      ? (() => {
          const v = Buffer.alloc(8);
          v.writeBigUInt64BE(BigInt(x));
          return v;
        })()
      : Buffer.from(x);
  return Buffer.concat([u32(b.length), b]);
};
const F = (...xs) => Buffer.concat(xs.map(field));
const hkdf = (ikm, salt, info, n) => Buffer.from(hkdfSync('sha256', ikm, salt, info, n));
const b64u = (s) => Buffer.from(s, 'base64url');
const gcmOpen = (key, iv, ct) => {
  const d = createDecipheriv('aes-256-gcm', key, iv);
  d.setAuthTag(ct.subarray(ct.length - 16));
  return Buffer.concat([d.update(ct.subarray(0, ct.length - 16)), d.final()]);
};
const fail = (why) => {
  console.error(`recover: ${why}`);
  process.exit(1);
};

const rec = JSON.parse(readFileSync(join(dir, 'record.json'), 'utf8'));
const c = rec.custom;
const size = Number(c['sb-size']);
if (!c['sb-env']) fail('the object is not sealed; its data file is the plaintext');
const env = JSON.parse(c['sb-env']);
if (env.v !== 1) fail(`unknown envelope version ${env.v}`);

// 1. Unwrap the data key.
let kek, info;
if (env.mode === 'cos') {
  const ring = Object.fromEntries(
    (opt('keyring') ?? '')
      .split(',')
      .filter(Boolean)
      .map((e) => [e.slice(0, e.indexOf(':')), Buffer.from(e.slice(e.indexOf(':') + 1), 'base64')]),
  );
  kek = ring[env.kid] ?? fail(`master key version ${env.kid} is not in the keyring given`);
  info = F('sse-cos', env.kid, rec.bucket, rec.key);
} else if (env.mode === 'c') {
  kek = Buffer.from(opt('sse-c-key') ?? fail('this object is SSE-C: give --sse-c-key'), 'base64');
  const mac = createHmac('sha256', b64u(env.ksalt))
    .update(Buffer.concat([Buffer.from('sealbucket/v1 sse-c check'), kek]))
    .digest();
  if (!timingSafeEqual(mac, b64u(env.kmac))) fail('that SSE-C key is not the one the object was stored with');
  info = F('sse-c', rec.bucket, rec.key);
} else fail(`mode ${env.mode} needs the KMS; not supported offline`);
const wrapKey = hkdf(kek, b64u(env.wsalt), Buffer.concat([Buffer.from('sealbucket/v1 wrap'), info]), 32);
let dataKey;
try {
  dataKey = gcmOpen(wrapKey, Buffer.alloc(12), b64u(env.wkey));
} catch {
  fail('the data key does not unwrap: wrong key, or the record was altered');
}

// 2. The streams to open: one, or one per part after checking the manifest commitment.
const seg = env.seg;
let streams;
if (c['sb-data'].startsWith('mp:')) {
  const body = Buffer.from(rec.body, 'base64');
  const manifest = body.subarray(body.indexOf(10) + 1);
  const digest = createHash('sha256').update(manifest).digest();
  if (digest.toString('base64url') !== c['sb-manifest']) fail('manifest digest mismatch');
  const uploadId = c['sb-data'].slice(3);
  // SSE-C uploads completed without the customer's key commit under a key derived from dataKey.
  const commitKey =
    env.mk === '1'
      ? hkdf(
          dataKey,
          Buffer.alloc(0),
          Buffer.concat([Buffer.from('sealbucket/v1 manifest key'), F('manifest key', rec.bucket, rec.key)]),
          32,
        )
      : dataKey;
  const commit = hkdf(
    commitKey,
    b64u(env.salt),
    Buffer.concat([Buffer.from('sealbucket/v1 manifest'), F('multipart', rec.bucket, rec.key, uploadId, size, seg, digest)]),
    32,
  );
  if (!timingSafeEqual(commit, b64u(env.commit))) fail('manifest commitment mismatch');
  streams = JSON.parse(manifest.toString('utf8')).parts.map((p, i) => ({
    file: rec.files?.[i] ?? p.data,
    size: p.size,
    salt: p.salt,
    commit: p.commit,
    ctx: F('part', rec.bucket, rec.key, uploadId, p.n, p.size, seg),
  }));
} else {
  streams = [
    { file: rec.files?.[0] ?? c['sb-data'], size, salt: env.salt, commit: env.commit, ctx: F('object', rec.bucket, rec.key, size, seg) },
  ];
}

// 3. Open every segment in order, checking the final flag and that nothing follows.
const out = openSync(outFile, 'w');
let written = 0;
for (const s of streams) {
  const okm = hkdf(dataKey, b64u(s.salt), Buffer.concat([Buffer.from('sealbucket/v1 segments'), s.ctx]), 71);
  if (!timingSafeEqual(okm.subarray(32, 64), b64u(s.commit))) fail('key commitment mismatch');
  const n = s.size === 0 ? 1 : Math.ceil(s.size / seg);
  const fd = openSync(join(dir, s.file), 'r');
  const buf = Buffer.alloc(seg + 16);
  for (let i = 0; i < n; i++) {
    const len = (i < n - 1 ? seg : s.size - (n - 1) * seg) + 16;
    if (readSync(fd, buf, 0, len, null) !== len) fail('ciphertext truncated');
    const iv = Buffer.concat([okm.subarray(64, 71), u32(i), Buffer.from([i === n - 1 ? 1 : 0])]);
    let pt;
    try {
      pt = gcmOpen(okm.subarray(0, 32), iv, buf.subarray(0, len));
    } catch {
      fail(`segment ${i} of ${s.file} failed authentication`);
    }
    writeSync(out, pt);
    written += pt.length;
  }
  if (readSync(fd, buf, 0, 1, null) !== 0) fail('data after the final segment');
  closeSync(fd);
}
closeSync(out);
console.log(`recovered ${written} bytes to ${outFile}`);
