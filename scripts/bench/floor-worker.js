// The platform floor for the gateway figures: the same `wrangler dev` + local R2, with no
// gateway in between. PUT /r2/<key> stores the request body as is; GET /r2/<key> returns it;
// PUT /drain reads and discards the body. No auth, no hashing, no crypto.
// PUT /tap and /tap-r2 add the gateway's own hashTap (src/s3/hashing.ts: MD5 + CRC-64) to the
// drain and to the R2 put, to split the gateway's PUT cost.
import { hashTap } from './src/s3/hashing';
import { deriveStream, encryptStream, decryptBody, segmentSpan, cipherLength } from './src/crypto/stream';

const SEG = 262144;
const benchKey = () => deriveStream(new Uint8Array(32), new Uint8Array(16), new Uint8Array(0));

/** The GET path's pieces, over an object sealed by PUT /sealed/<key> (fixed test key). */
async function sealedGet(how, env, key) {
  const o = await env.STORE.get(key);
  if (!o) return new Response('missing', { status: 404 });
  const plain = Number(o.customMetadata.plain);
  const { key: sk } = await benchKey();
  const span = segmentSpan(plain, SEG, 0, plain - 1);
  let body;
  if (how === 'readonly' || how === 'readonly-reuse') {
    const reader = o.body.getReader({ mode: 'byob' });
    let left = o.size, n = 0;
    let buf = new Uint8Array(SEG + 16);
    while (left) {
      const size = Math.min(left, SEG + 16);
      const got = await reader.readAtLeast(size, how === 'readonly' ? new Uint8Array(size) : new Uint8Array(buf.buffer, 0, size));
      if (how !== 'readonly') buf = new Uint8Array(got.value.buffer);
      left -= size; n += got.value.length;
    }
    return new Response(String(n));
  }
  if (how === 'writer' || how === 'writer-dec') {
    const reader = o.body.getReader({ mode: 'byob' });
    const fixed = new FixedLengthStream(how === 'writer' ? o.size : plain);
    const w = fixed.writable.getWriter();
    (async () => {
      let left = o.size, i = 0;
      const n = Math.ceil(plain / SEG);
      while (left) {
        const size = Math.min(left, SEG + 16);
        const got = await reader.readAtLeast(size, new Uint8Array(size));
        left -= size;
        if (how === 'writer') { await w.write(got.value); continue; }
        const iv = new Uint8Array(12);
        iv.set(sk.prefix);
        new DataView(iv.buffer).setUint32(7, i);
        iv[11] = i === n - 1 ? 1 : 0;
        i++;
        await w.write(new Uint8Array(await crypto.subtle.decrypt({ name: 'AES-GCM', iv }, sk.key, got.value)));
      }
      await w.close();
    })().catch((e) => w.abort(e));
    return new Response(fixed.readable);
  }
  if (how.startsWith('batch')) {
    // B segments per read and per write: B decrypt calls, outputs copied into one chunk
    const B = Number(how.slice(5));
    const reader = o.body.getReader({ mode: 'byob' });
    const fixed = new FixedLengthStream(plain);
    const w = fixed.writable.getWriter();
    (async () => {
      let left = o.size, i = 0;
      const n = Math.ceil(plain / SEG);
      while (left) {
        const size = Math.min(left, (SEG + 16) * B);
        const got = await reader.readAtLeast(size, new Uint8Array(size));
        left -= size;
        const ct = got.value;
        const out = new Uint8Array(size - Math.ceil(size / (SEG + 16)) * 16);
        let po = 0;
        for (let off = 0; off < ct.length; off += SEG + 16) {
          const iv = new Uint8Array(12);
          iv.set(sk.prefix);
          new DataView(iv.buffer).setUint32(7, i);
          iv[11] = i === n - 1 ? 1 : 0;
          i++;
          const pt = new Uint8Array(await crypto.subtle.decrypt({ name: 'AES-GCM', iv }, sk.key, ct.subarray(off, Math.min(ct.length, off + SEG + 16))));
          out.set(pt, po); po += pt.length;
        }
        await w.write(out);
      }
      await w.close();
    })().catch((e) => w.abort(e));
    return new Response(fixed.readable);
  }
  if (how === 'decrypt') body = decryptBody(sk, plain, SEG, span, o.body);
  else if (how.startsWith('plumb')) {
    // whole stored segments read with BYOB readAtLeast, enqueued (decrypted or not)
    const reader = o.body.getReader({ mode: 'byob' });
    let left = o.size;
    let i = 0;
    const n = Math.ceil(plain / SEG);
    body = new ReadableStream({
      async pull(ctl) {
        if (!left) return ctl.close();
        const size = Math.min(left, (SEG + 16) * (how === 'plumb4' ? 4 : how === 'plumb16k' ? 1 / 16 : 1));
        const got = await reader.readAtLeast(size, new Uint8Array(size));
        left -= size;
        if (how !== 'plumb-dec') return ctl.enqueue(got.value);
        const iv = new Uint8Array(12);
        iv.set(sk.prefix);
        new DataView(iv.buffer).setUint32(7, i);
        iv[11] = i === n - 1 ? 1 : 0;
        i++;
        ctl.enqueue(new Uint8Array(await crypto.subtle.decrypt({ name: 'AES-GCM', iv }, sk.key, got.value)));
      },
    });
  }
  if (how === 'plumb-raw') return new Response(body);
  if (how === 'plumb-cl') return new Response(body, { headers: { 'content-length': String(o.size) } });
  const fixed = new FixedLengthStream(how.startsWith('plumb') && how !== 'plumb-dec' ? o.size : plain);
  body.pipeTo(fixed.writable).catch(() => {});
  return new Response(fixed.readable);
}

async function drain(s) {
  let n = 0;
  for await (const c of s) n += c.length;
  return n;
}

export default {
  async fetch(req, env) {
    const url = new URL(req.url);
    if (url.pathname === '/drain') {
      let n = 0;
      for await (const c of req.body ?? []) n += c.length;
      return new Response(String(n));
    }
    if (url.pathname === '/tap' || url.pathname === '/tap-r2') {
      const tap = hashTap();
      const s = req.body.pipeThrough(tap.stream);
      let n;
      if (url.pathname === '/tap') n = await drain(s);
      else {
        const fixed = new FixedLengthStream(Number(req.headers.get('content-length')));
        const [, o] = await Promise.all([s.pipeTo(fixed.writable), env.STORE.put('tap', fixed.readable)]);
        n = o.size;
      }
      const t = await tap.result();
      return new Response(`${n} ${t.md5} ${t.crc64}`);
    }
    if (url.pathname === '/crc') {
      // CRC-64 alone over the request body, to time it on the platform's own chunks.
      const { Crc64Ecma } = await import('./src/s3/checksum');
      const c = new Crc64Ecma();
      let n = 0;
      for await (const x of req.body) { c.update(x); n += x.length; }
      return new Response(`${n} ${c.digestDecimal()}`);
    }
    if (url.pathname === '/chunks') {
      // How the platform hands a request body to a Worker: chunk count and sizes.
      const sizes = [];
      for await (const c of req.body ?? []) sizes.push(c.length);
      const sorted = [...sizes].sort((a, b) => a - b);
      return Response.json({ chunks: sizes.length, bytes: sizes.reduce((a, b) => a + b, 0), min: sorted[0], median: sorted[sorted.length >> 1], max: sorted[sorted.length - 1] });
    }
    if (url.pathname.startsWith('/sealed/') && req.method === 'PUT') {
      const plain = Number(req.headers.get('content-length'));
      const { key: sk } = await benchKey();
      const fixed = new FixedLengthStream(cipherLength(plain, SEG));
      const [, o] = await Promise.all([req.body.pipeThrough(encryptStream(sk, plain, SEG)).pipeTo(fixed.writable), env.STORE.put(url.pathname.slice(8), fixed.readable, { customMetadata: { plain: String(plain) } })]);
      return new Response(String(o.size));
    }
    if (url.pathname.startsWith('/get-')) {
      const [how, key] = url.pathname.slice(5).split('/');
      if (how === 'native') return new Response((await env.STORE.get(key)).body);
      return sealedGet(how, env, key);
    }
    if (url.pathname === '/fetch') {
      const r = await fetch(url.searchParams.get('u'), { headers: req.headers.get('range') ? { range: req.headers.get('range') } : {} });
      if (url.searchParams.get('drain')) { let n = 0; for await (const c of r.body) n += c.length; return new Response(String(n)); }
      return new Response(r.body, { status: r.status });
    }
    if (url.pathname.startsWith('/r2/')) {
      const key = url.pathname.slice(4);
      if (req.method === 'PUT') {
        const o = await env.STORE.put(key, req.body);
        return new Response(String(o.size));
      }
      if (req.method === 'GET') {
        const r = req.headers.get('range');
        const m = r && /^bytes=(\d+)-(\d+)$/.exec(r);
        const o = await env.STORE.get(key, m ? { range: { offset: Number(m[1]), length: Number(m[2]) - Number(m[1]) + 1 } } : undefined);
        if (!o) return new Response('missing', { status: 404 });
        return new Response(o.body, { status: m ? 206 : 200 });
      }
    }
    return new Response('floor', { status: 403, headers: { server: 'sealbucket' } });
  },
};
