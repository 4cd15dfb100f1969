// The platform floor for the gateway figures: the same `wrangler dev` + local R2, with no
// gateway in between. PUT /r2/<key> stores the request body as is; GET /r2/<key> returns it;
// PUT /drain reads and discards the body. No auth, no hashing, no crypto.
// PUT /tap and /tap-r2 add the gateway's own hashTap (src/s3/payload/hashing.ts: MD5 + CRC-64) to the
// drain and to the R2 put, to split the gateway's PUT cost; PUT /sealed/<key> and GET
// /plumb/, /plumb4/, /decrypt/ split a sealed GET's.

import { cipherLength, decryptBody, deriveStream, encryptStream, segmentSpan } from './src/crypto/stream';
import { hashTap } from './src/s3/payload/hashing';

const SEG = 262144;
const benchKey = () => deriveStream(new Uint8Array(32), new Uint8Array(16), new Uint8Array(0));

/**
 * The GET path's pieces, over an object sealed by PUT /sealed/<key> (fixed test key):
 * plumb: whole stored segments read with BYOB readAtLeast and handed on unchanged through a
 * ReadableStream into a FixedLengthStream, `per` segments per chunk; decrypt: the gateway's
 * decryptBody (src/crypto/stream.ts) into a FixedLengthStream.
 */
async function sealedGet(how, env, key) {
  const o = await env.STORE.get(key);
  if (!o) return new Response('missing', { status: 404 });
  const plain = Number(o.customMetadata.plain);
  let body;
  if (how === 'decrypt') {
    const { key: sk } = await benchKey();
    body = decryptBody(sk, plain, SEG, segmentSpan(plain, SEG, 0, plain - 1), o.body);
  } else {
    const per = how === 'plumb4' ? 4 : 1;
    const reader = o.body.getReader({ mode: 'byob' });
    let left = o.size;
    body = new ReadableStream({
      async pull(ctl) {
        if (!left) return ctl.close();
        const size = Math.min(left, (SEG + 16) * per);
        left -= size;
        ctl.enqueue((await reader.readAtLeast(size, new Uint8Array(size))).value);
      },
    });
  }
  const fixed = new FixedLengthStream(how === 'decrypt' ? plain : o.size);
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
      const { Crc64Ecma } = await import('./src/s3/payload/checksum');
      const c = new Crc64Ecma();
      let n = 0;
      for await (const x of req.body) {
        c.update(x);
        n += x.length;
      }
      return new Response(`${n} ${c.digestDecimal()}`);
    }
    if (url.pathname === '/chunks') {
      // How the platform hands a request body to a Worker: chunk count and sizes.
      const sizes = [];
      for await (const c of req.body ?? []) sizes.push(c.length);
      const sorted = [...sizes].sort((a, b) => a - b);
      return Response.json({
        chunks: sizes.length,
        bytes: sizes.reduce((a, b) => a + b, 0),
        min: sorted[0],
        median: sorted[sorted.length >> 1],
        max: sorted[sorted.length - 1],
      });
    }
    if (url.pathname.startsWith('/sealed/') && req.method === 'PUT') {
      const plain = Number(req.headers.get('content-length'));
      const { key: sk } = await benchKey();
      const fixed = new FixedLengthStream(cipherLength(plain, SEG));
      const [, o] = await Promise.all([
        req.body.pipeThrough(encryptStream(sk, plain, SEG)).pipeTo(fixed.writable),
        env.STORE.put(url.pathname.slice(8), fixed.readable, { customMetadata: { plain: String(plain) } }),
      ]);
      return new Response(String(o.size));
    }
    if (/^\/(plumb|plumb4|decrypt)\//.test(url.pathname) && req.method === 'GET') {
      const [, how, key] = url.pathname.split('/');
      return sealedGet(how, env, key);
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
