// Bench worker: runs the segmented AEAD pipeline inside workerd on generated data.
// Timing happens outside (workerd's clock does not advance during CPU work).
import { deriveStream, encryptStream, decryptStream, segmentSpan, cipherLength } from '../../src/crypto/stream';

const MiB = 1 << 20;
// Pseudo-random filler (random APIs are not allowed at global scope).
const chunk = new Uint8Array(MiB);
for (let i = 0, x = 1; i < MiB; i++) chunk[i] = (x = (x * 1103515245 + 12345) & 0x7fffffff) >>> 16;

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
      const r = source(bytes).pipeThrough(encryptStream(key, bytes, seg)).getReader();
      for (let x = await r.read(); !x.done; x = await r.read()) { ct.set(x.value, o); o += x.value.length; }
      sealed.set(`${seg}/${bytes}`, ct);
      return new Response(String(o));
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
