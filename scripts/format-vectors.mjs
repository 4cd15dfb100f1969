// Writes test/vectors/format-v1.json with node:crypto alone, following
// docs/FORMAT.md rather than src/, so the gateway's tests check the code
// against an independent reading of the format.
import { createCipheriv, hkdfSync } from 'node:crypto';
import { writeFileSync } from 'node:fs';

const u32 = (n) => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
};
const u64 = (n) => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt(n));
  return b;
};
const field = (x) => {
  const b = typeof x === 'number' ? u64(x) : Buffer.from(x);
  return Buffer.concat([u32(b.length), b]);
};
const fields = (...xs) => Buffer.concat(xs.map(field));
const gcm = (key, iv, pt) => {
  const c = createCipheriv('aes-256-gcm', key, iv);
  return Buffer.concat([c.update(pt), c.final(), c.getAuthTag()]);
};
const b64url = (b) => Buffer.from(b).toString('base64url');

function seal({ dataKey, salt, bucket, key, seg, plaintext }) {
  const info = Buffer.concat([Buffer.from('sealbucket/v1 segments'), fields('object', bucket, key, plaintext.length, seg)]);
  const okm = Buffer.from(hkdfSync('sha256', dataKey, salt, info, 71));
  const segKey = okm.subarray(0, 32),
    commitment = okm.subarray(32, 64),
    prefix = okm.subarray(64, 71);
  const n = plaintext.length === 0 ? 1 : Math.ceil(plaintext.length / seg);
  const out = [];
  for (let i = 0; i < n; i++) {
    const iv = Buffer.concat([prefix, u32(i), Buffer.from([i === n - 1 ? 1 : 0])]);
    out.push(gcm(segKey, iv, plaintext.subarray(i * seg, (i + 1) * seg)));
  }
  return { commitment, ciphertext: Buffer.concat(out) };
}

function wrap({ kek, wsalt, info, dataKey }) {
  const k = Buffer.from(hkdfSync('sha256', kek, wsalt, Buffer.concat([Buffer.from('sealbucket/v1 wrap'), info]), 32));
  return gcm(k, Buffer.alloc(12), dataKey);
}

const bytes = (n, start) => Buffer.from(Array.from({ length: n }, (_, i) => (start + i) & 0xff));
const master = bytes(32, 0x00),
  dataKey = bytes(32, 0x40),
  salt = bytes(16, 0x80),
  wsalt = bytes(16, 0xa0);
const vectors = [];
for (const [name, len] of [
  ['empty', 0],
  ['one-byte', 1],
  ['two-segments-and-a-bit', 2 * 1024 + 5],
]) {
  const plaintext = bytes(len, 0x30);
  const v = { name, bucket: 'vectors', key: `dir/${name}.bin`, seg: 1024 };
  const { commitment, ciphertext } = seal({ ...v, dataKey, salt, plaintext });
  const wkey = wrap({ kek: master, wsalt, info: fields('sse-cos', 'k1', v.bucket, v.key), dataKey });
  vectors.push({
    ...v,
    masterKeyring: `k1:${master.toString('base64')}`,
    dataKey: dataKey.toString('hex'),
    plaintext: plaintext.toString('hex'),
    ciphertext: ciphertext.toString('hex'),
    envelope: {
      v: 1,
      mode: 'cos',
      seg: v.seg,
      salt: b64url(salt),
      commit: b64url(commitment),
      kid: 'k1',
      wsalt: b64url(wsalt),
      wkey: b64url(wkey),
    },
  });
}
writeFileSync(new URL('../test/vectors/format-v1.json', import.meta.url), `${JSON.stringify(vectors, null, 2)}\n`);
console.log(`wrote ${vectors.length} vectors`);
