// Bench worker: runs the segmented AEAD pipeline inside workerd on generated data.
// Timing happens outside (workerd's clock does not advance during CPU work).
import { cipherLength, decryptStream, deriveStream, encryptStream, segmentSpan } from '../../src/crypto/stream';

const MiB = 1 << 20;
// Pseudo-random filler (random APIs are not allowed at global scope).
const chunk = new Uint8Array(MiB);
for (let i = 0, x = 1; i < MiB; i++) {
  x = (x * 1103515245 + 12345) & 0x7fffffff;
  chunk[i] = x >>> 16;
}

const source = (bytes: number) => {
  let left = bytes;
  return new ReadableStream<Uint8Array>({
    pull(c) {
      if (left <= 0) return c.close();
      const n = Math.min(left, MiB);
      left -= n;
      c.enqueue(n === MiB ? chunk : chunk.subarray(0, n));
    },
  });
};

async function drain(s: ReadableStream<Uint8Array>): Promise<number> {
  let n = 0;
  const r = s.getReader();
  for (;;) {
    const x = await r.read();
    if (x.done) return n;
    n += x.value.length;
  }
}

function nonceOf(prefix: Uint8Array, i: number, last: boolean): Uint8Array {
  const n = new Uint8Array(12);
  n.set(prefix);
  new DataView(n.buffer).setUint32(7, i);
  n[11] = last ? 1 : 0;
  return n;
}

const sealed = new Map<string, Uint8Array>();

export default {
  async fetch(req: Request): Promise<Response> {
    const u = new URL(req.url);
    const seg = Number(u.searchParams.get('seg') ?? 65536);
    const bytes = Number(u.searchParams.get('mib') ?? 64) * MiB;
    const { key } = await deriveStream(new Uint8Array(32), new Uint8Array(16), new Uint8Array(0));
    const op = u.pathname.slice(1);
    if (op === 'prepare') {
      const ct = new Uint8Array(cipherLength(bytes, seg));
      let o = 0;
      const r = source(bytes)
        .pipeThrough(encryptStream(key, bytes, seg))
        .getReader();
      for (let x = await r.read(); !x.done; x = await r.read()) {
        ct.set(x.value, o);
        o += x.value.length;
      }
      sealed.set(`${seg}/${bytes}`, ct);
      return new Response(String(o));
    }
    if (op === 'subtle-encrypt' || op === 'subtle-decrypt') {
      // The raw WebCrypto ceiling: one crypto.subtle call per segment, no streams, no copies
      // (same segment sizes, nonces and key as the pipeline).
      const ct = sealed.get(`${seg}/${bytes}`)!;
      const n = Math.ceil(bytes / seg);
      const iv = new Uint8Array(12);
      let total = 0;
      for (let i = 0; i < n; i++) {
        new DataView(iv.buffer).setUint32(7, i);
        iv[11] = i === n - 1 ? 1 : 0;
        if (op === 'subtle-encrypt') {
          const o = (i * seg) % MiB; // the filler repeats every MiB
          total += (await crypto.subtle.encrypt({ name: 'AES-GCM', iv }, key.key, chunk.subarray(o, o + Math.min(seg, bytes - i * seg))))
            .byteLength;
        } else {
          const o = i * (seg + 16);
          total += (
            await crypto.subtle.decrypt(
              { name: 'AES-GCM', iv: nonceOf(key.prefix, i, i === n - 1) },
              key.key,
              ct.subarray(o, Math.min(ct.length, o + seg + 16)),
            )
          ).byteLength;
        }
      }
      return new Response(String(total));
    }
    if (op === 'alloc' || op === 'touch') {
      // What a fresh output buffer per segment costs (WebCrypto returns a new ArrayBuffer per
      // call): allocate and fill one per segment, against refilling a single buffer.
      const n = Math.ceil(bytes / seg);
      let one = new Uint8Array(seg + 16);
      let t = 0;
      for (let i = 0; i < n; i++) {
        if (op === 'alloc') one = new Uint8Array(seg + 16);
        one.fill(i & 0xff);
        t += one.length;
      }
      return new Response(String(t));
    }
    if (op === 'baseline') return new Response(String(await drain(source(bytes).pipeThrough(new TransformStream()))));
    if (op === 'encrypt') return new Response(String(await drain(source(bytes).pipeThrough(encryptStream(key, bytes, seg)))));
    if (op === 'decrypt') {
      const ct = sealed.get(`${seg}/${bytes}`)!;
      const src = new ReadableStream<Uint8Array>({
        start(c) {
          for (let o = 0; o < ct.length; o += MiB) c.enqueue(ct.subarray(o, Math.min(ct.length, o + MiB)));
          c.close();
        },
      });
      return new Response(String(await drain(src.pipeThrough(decryptStream(key, bytes, seg, segmentSpan(bytes, seg, 0, bytes - 1))))));
    }
    return new Response('unknown op', { status: 404 });
  },
};
