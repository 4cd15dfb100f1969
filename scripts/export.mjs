// Exports one object exactly as stored (record, envelope, ciphertext) through the
// gateway's admin endpoint, into a folder scripts/recover.mjs can decrypt offline.
// Works for R2 buckets and for buckets fronting an upstream alike.
// Usage: node scripts/export.mjs <bucket> <key> <out-dir>
import { createWriteStream, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { gateway } from './lib/gateway.mjs';

const [bucket, key, out] = process.argv.slice(2);
if (!out) {
  console.error('usage: node scripts/export.mjs <bucket> <key> <out-dir>');
  process.exit(2);
}
const { call } = gateway();
const object = (part) =>
  call(
    'GET',
    `/-/admin/object?bucket=${encodeURIComponent(bucket)}&key=${encodeURIComponent(key)}${part === undefined ? '' : `&part=${part}`}`,
  );

mkdirSync(out, { recursive: true });
const r = await object();
if (r.status !== 200) throw new Error(`${bucket}/${key}: ${r.status} ${await r.text()}`);
const rec = await r.json();
const manifest = rec.manifest ? Buffer.from(rec.manifest, 'base64') : Buffer.alloc(0);
const count = manifest.length ? JSON.parse(manifest.toString('utf8')).parts.length : 1;
const files = Array.from({ length: count }, (_, i) => `data-${i}`);
// The record's body as FORMAT.md has it: a line, then the manifest (multipart only).
const body = Buffer.concat([Buffer.from('\n'), manifest]);
writeFileSync(join(out, 'record.json'), JSON.stringify({ bucket, key, custom: rec.custom, body: body.toString('base64'), files }, null, 2));
for (const [i, name] of files.entries()) {
  const d = await object(i);
  if (d.status !== 200) throw new Error(`${bucket}/${key} part ${i}: ${d.status} ${await d.text()}`);
  await pipeline(Readable.fromWeb(d.body), createWriteStream(join(out, name)));
}
console.log(`exported ${bucket}/${key}: record.json and ${files.length} data file(s) in ${out}`);
