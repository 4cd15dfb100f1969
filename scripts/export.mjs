// Exports one object exactly as stored (record, envelope, ciphertext) through the
// gateway's admin endpoint, into a folder scripts/recover.mjs can decrypt offline.
// Usage: node scripts/export.mjs <bucket> <key> <out-dir>
import { mkdirSync, writeFileSync, createWriteStream } from 'node:fs';
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
const raw = async (storeKey) => {
  const r = await call('GET', `/-/admin/raw?key=${encodeURIComponent(storeKey)}`);
  if (r.status !== 200) throw new Error(`${storeKey}: ${r.status} ${await r.text()}`);
  return { custom: JSON.parse(Buffer.from(r.headers.get('x-sealbucket-metadata'), 'base64').toString('utf8')), body: r.body };
};

mkdirSync(out, { recursive: true });
const rec = await raw(`o/${bucket}/${key}`);
const body = Buffer.from(await new Response(rec.body).arrayBuffer());
writeFileSync(join(out, 'record.json'), JSON.stringify({ bucket, key, custom: rec.custom, body: body.toString('base64') }, null, 2));
const data = rec.custom['sb-data'];
const ids = data.startsWith('mp:') ? JSON.parse(body.subarray(body.indexOf(10) + 1).toString('utf8')).parts.map((p) => p.data) : [data];
for (const id of ids) {
  const d = await raw(`d/${id}`);
  await pipeline(Readable.fromWeb(d.body), createWriteStream(join(out, id)));
}
console.log(`exported ${bucket}/${key}: record.json and ${ids.length} data file(s) in ${out}`);
