// The upstream S3 client (src/store/upstream.ts) against a real S3-compatible
// server: s3rver in its own process, sometimes behind a small HTTP proxy written
// here that counts requests and injects failures.

import { createHash, createHmac, randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, request } from 'node:http';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Upstream, type UpstreamConfig, UpstreamError, type UpstreamOptions } from '../../src/store/upstream';
import { startUpstream, type UpstreamServer } from './upstream-server';

const BUCKET = 'upstream';
let s3: UpstreamServer;
let up: Upstream;

const config = (endpoint: string, over: Partial<UpstreamConfig> = {}): UpstreamConfig => ({
  endpoint,
  region: 'us-east-1',
  bucket: BUCKET,
  accessKeyId: s3.accessKeyId,
  secretAccessKey: s3.secretAccessKey,
  pathStyle: true,
  ...over,
});
const client = (endpoint: string, opts: UpstreamOptions = {}, over: Partial<UpstreamConfig> = {}) =>
  new Upstream(config(endpoint, over), { baseDelayMs: 1, ...opts });

const md5 = (b: Uint8Array) => createHash('md5').update(b).digest('hex');
const bytes = (n: number) => new Uint8Array(randomBytes(n));
const text = (s: string) => new TextEncoder().encode(s);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A stream of `data` in chunks, pulled on demand like a request body. */
function streamOf(data: Uint8Array, chunk = 64 * 1024, failAfter?: { at: number; error: Error }): ReadableStream<Uint8Array> {
  let pos = 0;
  return new ReadableStream<Uint8Array>({
    pull(c) {
      if (failAfter && pos >= failAfter.at) return c.error(failAfter.error);
      if (pos >= data.length) return c.close();
      c.enqueue(data.slice(pos, pos + chunk));
      pos += chunk;
    },
  });
}

const readAll = async (s: ReadableStream<Uint8Array>) => new Uint8Array(await new Response(s).arrayBuffer());

async function thrown(p: Promise<unknown>): Promise<UpstreamError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(UpstreamError);
  return e as UpstreamError;
}

// ---------------------------------------------------------------- SigV4, checked independently

// s3rver does not verify signatures, so the proxy below does, the way S3 does: the
// canonical request rebuilt from what arrived (the key decoded, then encoded once).
const rfc3986 = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
const sha256hex = (s: string | Buffer) => createHash('sha256').update(s).digest('hex');
const hmac = (key: string | Buffer, s: string) => createHmac('sha256', key).update(s).digest();

function sigV4Problem(req: IncomingMessage, accessKeyId: string, secret: string): string | undefined {
  const auth =
    /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/s3\/aws4_request, SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$/.exec(
      req.headers.authorization ?? '',
    );
  if (!auth) return `malformed Authorization: ${req.headers.authorization}`;
  const [, id, date, region, signedHeaders, signature] = auth;
  if (id !== accessKeyId || region !== 'us-east-1') return `credential ${id}/${region}`;
  const signed = signedHeaders.split(';');
  const unsigned = Object.keys(req.headers).filter((h) => (h.startsWith('x-amz-') || h === 'host') && !signed.includes(h));
  if (unsigned.length) return `unsigned: ${unsigned}`;
  const url = req.url!;
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  const uri = path
    .split('/')
    .map((seg) => rfc3986(decodeURIComponent(seg)))
    .join('/');
  const query = (q < 0 ? [] : url.slice(q + 1).split('&'))
    .map((kv) => {
      const i = kv.indexOf('=');
      return [kv.slice(0, i < 0 ? kv.length : i), i < 0 ? '' : kv.slice(i + 1)].map((x) => rfc3986(decodeURIComponent(x)));
    })
    .sort(([a, x], [b, y]) => (a < b ? -1 : a > b ? 1 : x < y ? -1 : x > y ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
  const headers = signed
    .map(
      (h) =>
        `${h}:${String(req.headers[h] ?? '')
          .trim()
          .replace(/\s+/g, ' ')}\n`,
    )
    .join('');
  const canonical = [req.method, uri, query, headers, signedHeaders, req.headers['x-amz-content-sha256']].join('\n');
  const toSign = ['AWS4-HMAC-SHA256', req.headers['x-amz-date'], `${date}/us-east-1/s3/aws4_request`, sha256hex(canonical)].join('\n');
  const key = ['us-east-1', 's3', 'aws4_request'].reduce((k, s) => hmac(k, s), hmac(`AWS4${secret}`, date));
  return createHmac('sha256', key).update(toSign).digest('hex') === signature
    ? undefined
    : `signature mismatch; canonical request:\n${canonical}`;
}

// ---------------------------------------------------------------- failure-injecting proxy

interface Reply {
  /** Answer with this status (and body) instead of forwarding. */
  status?: number;
  body?: string;
  /** Wait this long before answering or forwarding. */
  delayMs?: number;
}

interface Proxy {
  endpoint: string;
  /** Requests as they arrived; `received` counts body bytes and `complete` says whether the body ended normally. */
  seen: {
    method: string;
    url: string;
    headers: IncomingHttpHeaders;
    received: number;
    complete: boolean;
    status?: number;
    problem?: string;
  }[];
  /** When set, each request's signature and declared payload hash are checked into `problem`. */
  credentials?: { accessKeyId: string; secretAccessKey: string };
  hook?: (req: IncomingMessage, n: number) => Reply | undefined;
  inflight: number;
  maxInflight: number;
  close(): Promise<void>;
}

async function startProxy(target: string): Promise<Proxy> {
  const t = new URL(target);
  const p: Proxy = { endpoint: '', seen: [], inflight: 0, maxInflight: 0, close: async () => {} };
  const server = createServer(async (req, res) => {
    req.on('error', () => {});
    res.on('error', () => {});
    const n = p.seen.push({ method: req.method!, url: req.url!, headers: req.headers, received: 0, complete: false });
    const seen = p.seen[n - 1];
    const hash = createHash('sha256');
    req.on('data', (b: Buffer) => {
      seen.received += b.length;
      hash.update(b);
    });
    req.on('end', () => {
      seen.complete = true;
      const declared = req.headers['x-amz-content-sha256'];
      const actual = hash.digest('hex');
      if (p.credentials && declared !== 'UNSIGNED-PAYLOAD' && declared !== actual)
        seen.problem ??= `payload hash ${declared}, body ${actual}`;
    });
    req.pause(); // until forwarded or drained below, so that no byte goes by during a delay
    if (p.credentials) seen.problem = sigV4Problem(req, p.credentials.accessKeyId, p.credentials.secretAccessKey);
    p.maxInflight = Math.max(p.maxInflight, ++p.inflight);
    res.once('close', () => p.inflight--);
    const reply = p.hook?.(req, n);
    if (reply?.delayMs) await sleep(reply.delayMs);
    if (reply?.status) {
      seen.status = reply.status;
      req.resume();
      res.writeHead(reply.status, { 'content-type': 'application/xml' });
      res.end(req.method === 'HEAD' ? undefined : (reply.body ?? ''));
      return;
    }
    const fwd = request({ host: t.hostname, port: t.port, method: req.method, path: req.url, headers: req.headers }, (r) => {
      seen.status = r.statusCode;
      res.writeHead(r.statusCode!, r.headers);
      r.pipe(res);
    });
    fwd.on('error', () => res.destroy());
    // A request cut off by the client is cut off upstream too, as a connection drop would be.
    req.once('close', () => seen.complete || fwd.destroy());
    req.pipe(fwd);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  p.endpoint = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  p.close = () =>
    new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    });
  return p;
}

const s3Error = (code: string, extra = '') =>
  `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>injected</Message>${extra}</Error>`;

beforeAll(async () => {
  s3 = await startUpstream({ buckets: [BUCKET] });
  up = client(s3.endpoint);
});
afterAll(async () => {
  await s3?.stop();
});

// ---------------------------------------------------------------- objects

describe('objects', () => {
  it('stores a Uint8Array and reads it back with head and get', async () => {
    const data = bytes(1000);
    const before = Date.now();
    const { etag } = await up.put('obj/bytes.bin', data, data.length);
    expect(etag).toBe(md5(data));

    const h = await up.head('obj/bytes.bin');
    expect(h).toMatchObject({ key: 'obj/bytes.bin', size: 1000, etag: md5(data) });
    expect(h!.lastModified).toBeInstanceOf(Date);
    // s3rver keeps seconds only.
    expect(Math.abs(h!.lastModified.getTime() - before)).toBeLessThan(60_000);

    const g = await up.get('obj/bytes.bin');
    expect(g!.object).toMatchObject({ key: 'obj/bytes.bin', size: 1000, etag: md5(data) });
    expect(await readAll(g!.body)).toEqual(data);
  });

  it('streams a ~3 MB body up with its declared Content-Length, and back', async () => {
    const data = bytes(3 * 1024 * 1024 + 17);
    const proxy = await startProxy(s3.endpoint);
    try {
      const { etag } = await client(proxy.endpoint).put('obj/big.bin', streamOf(data), data.length);
      expect(etag).toBe(md5(data));
      expect(proxy.seen).toHaveLength(1);
      const { headers } = proxy.seen[0];
      expect(headers['content-length']).toBe(String(data.length));
      expect(headers['transfer-encoding']).toBeUndefined();
      expect(headers['x-amz-content-sha256']).toBe('UNSIGNED-PAYLOAD');
      expect(headers.authorization).toMatch(
        /^AWS4-HMAC-SHA256 Credential=S3RVER\/\d{8}\/us-east-1\/s3\/aws4_request, SignedHeaders=.*x-amz-content-sha256.*, Signature=[0-9a-f]{64}$/,
      );
    } finally {
      await proxy.close();
    }
    expect((await up.head('obj/big.bin'))!.size).toBe(data.length);
    const g = await up.get('obj/big.bin');
    expect(g!.object.size).toBe(data.length);
    expect(md5(await readAll(g!.body))).toBe(md5(data));
  });

  it('signs buffered bodies with their SHA-256', async () => {
    const proxy = await startProxy(s3.endpoint);
    try {
      const data = text('hash me');
      await client(proxy.endpoint).put('obj/hashed', data, data.length);
      expect(proxy.seen[0].headers['x-amz-content-sha256']).toBe(createHash('sha256').update(data).digest('hex'));
    } finally {
      await proxy.close();
    }
  });

  it('stores zero-byte objects from null, an empty array and an empty stream', async () => {
    const empty = md5(new Uint8Array(0));
    expect((await up.put('obj/zero-null', null, 0)).etag).toBe(empty);
    expect((await up.put('obj/zero-array', new Uint8Array(0), 0)).etag).toBe(empty);
    expect((await up.put('obj/zero-stream', streamOf(new Uint8Array(0)), 0)).etag).toBe(empty);
    for (const key of ['obj/zero-null', 'obj/zero-array', 'obj/zero-stream']) {
      expect((await up.head(key))!.size).toBe(0);
      const g = await up.get(key);
      expect(g!.object.size).toBe(0);
      expect((await readAll(g!.body)).length).toBe(0);
    }
  });

  it('reads ranges and reports the full size', async () => {
    const data = bytes(100_000);
    await up.put('obj/ranged', data, data.length);
    const mid = await up.get('obj/ranged', { offset: 1234, length: 5000 });
    expect(mid!.object.size).toBe(100_000);
    expect(mid!.object.etag).toBe(md5(data));
    expect(await readAll(mid!.body)).toEqual(data.slice(1234, 6234));

    const last = await up.get('obj/ranged', { offset: 99_999, length: 1 });
    expect(last!.object.size).toBe(100_000);
    expect(await readAll(last!.body)).toEqual(data.slice(99_999));

    const none = await up.get('obj/ranged', { offset: 10, length: 0 });
    expect(none!.object.size).toBe(100_000);
    expect((await readAll(none!.body)).length).toBe(0);
  });

  it('round-trips metadata (names lowercased) and HTTP metadata', async () => {
    const meta = { 'Mixed-Case': 'Value', json: '{"alg":"AES256","iv":"q83v","n":[1,2,3],"s":"a b"}', empty: '' };
    const http = {
      contentType: 'text/plain; charset=utf-8',
      contentEncoding: 'gzip',
      contentDisposition: 'attachment; filename="a b.txt"',
      contentLanguage: 'de-CH',
      cacheControl: 'max-age=60, private',
      expires: 'Wed, 21 Oct 2099 07:28:00 GMT',
    };
    await up.put('obj/meta', text('hello'), 5, { meta, http });
    const want = { 'mixed-case': 'Value', json: meta.json, empty: '' };
    const h = await up.head('obj/meta');
    expect(h!.meta).toEqual(want);
    expect(h!.http).toEqual(http);
    const g = await up.get('obj/meta');
    expect(g!.object.meta).toEqual(want);
    expect(g!.object.http).toEqual(http);
    await g!.body.cancel();
  });

  it('head and get of a missing key are null; a missing bucket is an error for get', async () => {
    expect(await up.head('obj/never')).toBeNull();
    expect(await up.get('obj/never')).toBeNull();
    expect(await up.get('obj/never', { offset: 0, length: 10 })).toBeNull();

    const nobucket = client(s3.endpoint, {}, { bucket: 'no-such-bucket' });
    const e = await thrown(nobucket.get('x'));
    expect(e).toMatchObject({ status: 404, code: 'NoSuchBucket', retryable: false });
    // HEAD answers carry no code, so a missing bucket cannot be told from a missing key.
    expect(await nobucket.head('x')).toBeNull();
  });

  it('reaches virtual-hosted buckets by host name', async () => {
    const seen: string[] = [];
    // No DNS here for <bucket>.<host>: send it to s3rver path-style (it does not verify signatures).
    const pathStyle: typeof fetch = async (input, init) => {
      const req = new Request(input, init);
      seen.push(`${req.method} ${req.url}`);
      const u = new URL(req.url);
      const body = req.method === 'GET' || req.method === 'HEAD' ? undefined : await req.arrayBuffer();
      return fetch(`${s3.endpoint}/${u.hostname.split('.')[0]}${u.pathname}${u.search}`, {
        method: req.method,
        headers: req.headers,
        body,
      });
    };
    const port = new URL(s3.endpoint).port;
    const vh = client(`http://s3.example.test:${port}`, { fetch: pathStyle }, { pathStyle: false });
    await vh.put('vh/a b', text('v'), 1);
    expect((await vh.head('vh/a b'))!.size).toBe(1);
    expect((await vh.list({ prefix: 'vh/', limit: 10 })).objects.map((o) => o.key)).toEqual(['vh/a b']);
    expect(seen).toEqual([
      `PUT http://upstream.s3.example.test:${port}/vh/a%20b`,
      `HEAD http://upstream.s3.example.test:${port}/vh/a%20b`,
      `GET http://upstream.s3.example.test:${port}/?list-type=2&prefix=vh%2F&max-keys=10&encoding-type=url`,
    ]);
  });
});

// ---------------------------------------------------------------- awkward keys

describe('keys with awkward characters', () => {
  const keys = [
    'awk/with space.txt',
    'awk/ünïcødé/日本語 ファイル.bin',
    'awk/plus+sign',
    'awk/per%cent%20x',
    'awk/hash#tag',
    'awk/quest?ion=1&b=2',
    "awk/sym !$&'()*,;=@[]~`^{}|",
    'awk/emoji 🙂',
    'awk/trailing space ',
    // XML: entities in the listing are decoded once; values that look like numbers stay strings.
    'awk/x &amp; &#233; <tag> "q"',
    'awk/0070',
    'awk/1e3',
  ];

  it('put, head, get, list and delete', async () => {
    for (const [i, key] of keys.entries()) {
      const data = text(`#${i} ${key}`);
      await up.put(key, data, data.length, { meta: { i: String(i) } });
    }
    for (const [i, key] of keys.entries()) {
      const h = await up.head(key);
      expect(h, key).not.toBeNull();
      expect(h!.meta.i, key).toBe(String(i));
      const g = await up.get(key);
      expect(new TextDecoder().decode(await readAll(g!.body)), key).toBe(`#${i} ${key}`);
    }
    const listed = await up.list({ prefix: 'awk/', limit: 1000 });
    expect(listed.objects.map((o) => o.key).sort()).toEqual([...keys].sort());
    await up.delete(keys);
    for (const key of keys) expect(await up.head(key), key).toBeNull();
  });

  it('lists with awkward prefixes and start-after', async () => {
    await up.put('odd pre+fix/ü/1', text('1'), 1);
    await up.put('odd pre+fix/ü/2', text('2'), 1);
    const r = await up.list({ prefix: 'odd pre+fix/ü/', startAfter: 'odd pre+fix/ü/1', limit: 10 });
    expect(r.objects.map((o) => o.key)).toEqual(['odd pre+fix/ü/2']);
  });

  it('decodes url-encoded listings when the upstream says it encoded them', async () => {
    // s3rver ignores encoding-type=url; real S3 honours it (space as '+').
    const xml = `<?xml version="1.0" encoding="UTF-8"?><ListBucketResult><Name>${BUCKET}</Name><EncodingType>url</EncodingType><IsTruncated>false</IsTruncated>
      <Contents><Key>a+b%2Bc%25%01%C3%BC</Key><Size>3</Size><ETag>&quot;abc&quot;</ETag><LastModified>2024-01-02T03:04:05.000Z</LastModified></Contents>
      <CommonPrefixes><Prefix>p+q/</Prefix></CommonPrefixes></ListBucketResult>`;
    const fake: typeof fetch = async () => new Response(xml, { status: 200 });
    const r = await client('http://127.0.0.1:9', { fetch: fake }).list({ prefix: '', limit: 10 });
    expect(r.objects).toEqual([{ key: 'a b+c%\u0001ü', size: 3, etag: 'abc', lastModified: new Date('2024-01-02T03:04:05.000Z') }]);
    expect(r.prefixes).toEqual(['p q/']);
    expect(r.truncated).toBe(false);
  });
});

// ---------------------------------------------------------------- signatures

describe('signatures', () => {
  it('signs every request as S3 checks it, awkward keys included', async () => {
    // Keeps the folder from emptying: s3rver's folder cleanup races itself under parallel deletes (500s, retried).
    await up.put('sig/keep', text('k'), 1);
    const proxy = await startProxy(s3.endpoint);
    proxy.credentials = { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey };
    try {
      const c = client(proxy.endpoint);
      const key = "sig/a b+c%d#e?f=g&h ü 🙂 !'()*~";
      const meta = { json: '{"a": "b  c", "n": [1, 2]}', x: ' padded ' };
      await c.put(key, text('bytes'), 5, { meta, http: { contentType: 'text/plain', cacheControl: 'no-cache' } });
      await c.put(`${key}.s`, streamOf(bytes(70_000)), 70_000, { meta });
      await c.put(`${key}.0`, null, 0);
      await c.head(key);
      await (await c.get(key, { offset: 1, length: 2 }))!.body.cancel();
      await c
        .list({ prefix: 'sig/a b+', delimiter: '/', startAfter: 'sig/a b+c%', limit: 1 })
        .then((r) => c.list({ prefix: 'sig/', token: r.token, limit: 1 }));
      // s3rver reads the copy source with decodeURI, which leaves %2B, %23, %3F, %26, %3D... encoded: no such key.
      const copyable = "sig/c ü 🙂 !'()*~";
      await c.put(copyable, text('bytes'), 5);
      await c.copy(copyable, `${key}.c`, { meta, ifMatch: md5(text('bytes')) });
      const id = await c.createMultipart(`${key}.m`, { meta });
      const etag = await c.uploadPart(`${key}.m`, id, 1, streamOf(text('part')), 4);
      await c.completeMultipart(`${key}.m`, id, [{ part: 1, etag }]);
      await c.abortMultipart(`${key}.m`, id);
      await c.delete([key, `${key}.s`, `${key}.0`, `${key}.c`, `${key}.m`, copyable]);
      await sleep(20);
      expect(proxy.seen).toHaveLength(19);
      expect(proxy.seen.filter((r) => r.problem).map((r) => `${r.method} ${r.url}: ${r.problem}`)).toEqual([]);
      // put ×3, head, ranged get, list ×2, put, copy, create, part, complete, abort (405 from s3rver), delete ×6
      expect(proxy.seen.map((r) => r.status)).toEqual([
        200, 200, 200, 200, 206, 200, 200, 200, 200, 200, 200, 200, 405, 204, 204, 204, 204, 204, 204,
      ]);
    } finally {
      await proxy.close();
    }
  });

  it('the check above catches a wrong signature', async () => {
    const proxy = await startProxy(s3.endpoint);
    proxy.credentials = { accessKeyId: s3.accessKeyId, secretAccessKey: 'not-the-key' };
    try {
      await client(proxy.endpoint).head('sig/x');
      expect(proxy.seen[0].problem).toMatch(/^signature mismatch/);
    } finally {
      await proxy.close();
    }
  });
});

// ---------------------------------------------------------------- copy, delete, list

describe('copy', () => {
  it('copies with REPLACE metadata, and onto itself', async () => {
    const data = bytes(4096);
    const src = await up.put('cp/src', data, data.length, { meta: { old: '1', keep: 'no' }, http: { contentType: 'text/old' } });
    const r = await up.copy('cp/src', 'cp/dst ü', {
      meta: { new: '{"v":2}' },
      http: { contentType: 'application/x-new', cacheControl: 'no-store' },
    });
    expect(r!.etag).toBe(src.etag);
    expect(r!.lastModified).toBeInstanceOf(Date);
    expect(Number.isNaN(r!.lastModified.getTime())).toBe(false);

    const dst = await up.head('cp/dst ü');
    expect(dst!.meta).toEqual({ new: '{"v":2}' });
    expect(dst!.http).toMatchObject({ contentType: 'application/x-new', cacheControl: 'no-store' });
    expect(await readAll((await up.get('cp/dst ü'))!.body)).toEqual(data);
    expect((await up.head('cp/src'))!.meta).toEqual({ old: '1', keep: 'no' });

    const self = await up.copy('cp/src', 'cp/src', { meta: { rewrapped: 'yes' }, ifMatch: src.etag });
    expect(self!.etag).toBe(src.etag);
    const after = await up.head('cp/src');
    expect(after!.meta).toEqual({ rewrapped: 'yes' });
    expect(await readAll((await up.get('cp/src'))!.body)).toEqual(data);
  });

  it('sends x-amz-copy-source-if-match and returns null on 412', async () => {
    await up.put('cp/cond', text('c'), 1);
    const proxy = await startProxy(s3.endpoint);
    try {
      // s3rver ignores copy conditions: the proxy plays S3's part.
      proxy.hook = (req) =>
        req.headers['x-amz-copy-source-if-match'] === '"stale"' ? { status: 412, body: s3Error('PreconditionFailed') } : undefined;
      const c = client(proxy.endpoint);
      expect(await c.copy('cp/cond', 'cp/cond-copy', { ifMatch: 'stale' })).toBeNull();
      expect(proxy.seen).toHaveLength(1);
      expect(proxy.seen[0].headers).toMatchObject({
        'x-amz-copy-source': `/${BUCKET}/cp/cond`,
        'x-amz-copy-source-if-match': '"stale"',
        'x-amz-metadata-directive': 'REPLACE',
      });
      expect(await up.head('cp/cond-copy')).toBeNull();

      // A quoted etag is sent as it is, not quoted twice.
      const etag = (await up.head('cp/cond'))!.etag;
      expect(await c.copy('cp/cond', 'cp/cond-copy', { ifMatch: `"${etag}"` })).not.toBeNull();
      expect(proxy.seen[1].headers['x-amz-copy-source-if-match']).toBe(`"${etag}"`);
    } finally {
      await proxy.close();
    }
  });

  it('throws on a missing source', async () => {
    const e = await thrown(up.copy('cp/none', 'cp/none-copy', {}));
    expect(e).toMatchObject({ status: 404, code: 'NoSuchKey', retryable: false });
  });

  it('encodes the copy source key', async () => {
    await up.put('cp/sp ace/ü', text('x'), 1);
    const proxy = await startProxy(s3.endpoint);
    try {
      expect(await client(proxy.endpoint).copy('cp/sp ace/ü', 'cp/sp ace/ü2', {})).not.toBeNull();
      expect(proxy.seen[0].headers['x-amz-copy-source']).toBe(`/${BUCKET}/cp/sp%20ace/%C3%BC`);
    } finally {
      await proxy.close();
    }
    expect((await up.head('cp/sp ace/ü2'))!.size).toBe(1);
  });
});

describe('delete', () => {
  it('deletes existing keys; missing keys are not an error', async () => {
    await up.put('del/a', text('a'), 1);
    await up.put('del/b', text('b'), 1);
    await up.delete(['del/a', 'del/missing', 'del/b']);
    expect(await up.head('del/a')).toBeNull();
    expect(await up.head('del/b')).toBeNull();
    await up.delete([]);
    await up.delete(['del/a']);
  });

  it('deletes many keys at most 8 at a time', async () => {
    const keys = Array.from({ length: 20 }, (_, i) => `del/many/${i}`);
    for (const k of keys) await up.put(k, text(k), k.length);
    const proxy = await startProxy(s3.endpoint);
    try {
      proxy.hook = () => ({ delayMs: 150 });
      await client(proxy.endpoint).delete(keys);
      // s3rver answers 500 now and then when parallel deletes empty a folder (its cleanup
      // races itself): those are retried, so each key ends with one 204 after any 5xx.
      const statuses = new Map<string, number[]>();
      for (const s of proxy.seen) {
        expect(s.method).toBe('DELETE');
        const key = decodeURIComponent(s.url.replace(`/${BUCKET}/`, ''));
        statuses.set(key, [...(statuses.get(key) ?? []), s.status!]);
      }
      expect([...statuses.keys()].sort()).toEqual([...keys].sort());
      for (const [key, st] of statuses) expect(st.slice(0, -1).every((x) => x >= 500) && st.at(-1) === 204, `${key}: ${st}`).toBe(true);
      expect(proxy.maxInflight).toBe(8);
    } finally {
      await proxy.close();
    }
    expect((await up.list({ prefix: 'del/many/', limit: 100 })).objects).toEqual([]);
  });

  it('fails when a delete fails', async () => {
    const proxy = await startProxy(s3.endpoint);
    try {
      proxy.hook = () => ({ status: 403, body: s3Error('AccessDenied') });
      const e = await thrown(client(proxy.endpoint).delete(['del/x', 'del/y']));
      expect(e).toMatchObject({ status: 403, code: 'AccessDenied', retryable: false });
    } finally {
      await proxy.close();
    }
  });
});

describe('list', () => {
  const keys = ['list/a', 'list/b', 'list/c', 'list/d/1', 'list/d/2'];
  beforeAll(async () => {
    for (const k of [...keys, 'list-other', 'lis']) await up.put(k, text(k), k.length);
  });

  it('lists a prefix', async () => {
    const r = await up.list({ prefix: 'list/', limit: 1000 });
    expect(r.objects.map((o) => o.key)).toEqual(keys);
    expect(r.prefixes).toEqual([]);
    expect(r.truncated).toBe(false);
    expect(r.token).toBeUndefined();
    expect(r.objects[3]).toEqual({ key: 'list/d/1', size: 8, etag: md5(text('list/d/1')), lastModified: expect.any(Date) });
  });

  it('groups by delimiter', async () => {
    const r = await up.list({ prefix: 'list/', delimiter: '/', limit: 1000 });
    expect(r.objects.map((o) => o.key)).toEqual(['list/a', 'list/b', 'list/c']);
    expect(r.prefixes).toEqual(['list/d/']);
    const top = await up.list({ prefix: '', delimiter: '/', limit: 1000 });
    expect(top.prefixes).toContain('list/');
    expect(top.objects.map((o) => o.key)).toEqual(expect.arrayContaining(['list-other', 'lis']));
  });

  it('starts after a key', async () => {
    const r = await up.list({ prefix: 'list/', startAfter: 'list/b', limit: 1000 });
    expect(r.objects.map((o) => o.key)).toEqual(['list/c', 'list/d/1', 'list/d/2']);
  });

  it('pages with continuation tokens', async () => {
    const pages: string[][] = [];
    let token: string | undefined;
    for (let i = 0; i < 5; i++) {
      const r = await up.list({ prefix: 'list/', limit: 2, token });
      pages.push(r.objects.map((o) => o.key));
      expect(r.truncated).toBe(r.token !== undefined);
      token = r.token;
      if (!r.truncated) break;
    }
    expect(pages).toEqual([['list/a', 'list/b'], ['list/c', 'list/d/1'], ['list/d/2']]);
  });
});

// ---------------------------------------------------------------- multipart

describe('multipart', () => {
  it('creates, uploads parts and completes into their concatenation', async () => {
    const parts = [bytes(300_000), bytes(123_457), bytes(1)];
    const id = await up.createMultipart('mp/obj ü', { meta: { wrapped: '{"k":1}' }, http: { contentType: 'application/x-mp' } });
    expect(id).toMatch(/\S/);
    const etags: string[] = [];
    // Uploaded out of order, completed in order.
    for (const i of [2, 0, 1]) etags[i] = await up.uploadPart('mp/obj ü', id, i + 1, streamOf(parts[i]), parts[i].length);
    parts.forEach((p, i) => {
      expect(etags[i]).toBe(md5(p));
    });
    const done = await up.completeMultipart(
      'mp/obj ü',
      id,
      etags.map((etag, i) => ({ part: i + 1, etag })),
    );
    const whole = Buffer.concat(parts);
    expect(done?.etag).toMatch(/^[0-9a-f]{32}(-\d+)?$/);
    const g = await up.get('mp/obj ü');
    expect(g!.object.size).toBe(whole.length);
    expect(g!.object.meta).toEqual({ wrapped: '{"k":1}' });
    expect(g!.object.http.contentType).toBe('application/x-mp');
    expect(md5(await readAll(g!.body))).toBe(md5(whole));
  });

  it('abort does not throw, even where unsupported or unknown', async () => {
    const id = await up.createMultipart('mp/aborted');
    await up.uploadPart('mp/aborted', id, 1, streamOf(text('x')), 1);
    await expect(up.abortMultipart('mp/aborted', id)).resolves.toBeUndefined();
    await expect(up.abortMultipart('mp/aborted', 'no-such-upload')).resolves.toBeUndefined();
    expect(await up.head('mp/aborted')).toBeNull();
  });

  it('treats a 200 answer with an <Error> body as an error, and retries it when S3 says so', async () => {
    const proxy = await startProxy(s3.endpoint);
    try {
      const c = client(proxy.endpoint);
      const id = await c.createMultipart('mp/err');
      const etag = await c.uploadPart('mp/err', id, 1, streamOf(text('abc')), 3);
      const isComplete = (req: IncomingMessage) => req.method === 'POST' && req.url!.includes('uploadId=');

      proxy.hook = (req) => (isComplete(req) ? { status: 200, body: s3Error('InvalidPart') } : undefined);
      const e = await thrown(c.completeMultipart('mp/err', id, [{ part: 1, etag }]));
      expect(e).toMatchObject({ status: 200, code: 'InvalidPart', retryable: false });

      let failures = 0;
      proxy.hook = (req) => (isComplete(req) && failures++ < 1 ? { status: 200, body: s3Error('InternalError') } : undefined);
      const seenBefore = proxy.seen.length;
      expect((await c.completeMultipart('mp/err', id, [{ part: 1, etag }]))?.etag).toBe(md5(text('abc')));
      expect(proxy.seen.length - seenBefore).toBe(2);
    } finally {
      await proxy.close();
    }
  });
});

// ---------------------------------------------------------------- failures

describe('failures', () => {
  let proxy: Proxy;
  beforeAll(async () => {
    proxy = await startProxy(s3.endpoint);
  });
  afterAll(() => proxy.close());
  beforeEach(() => {
    proxy.seen = [];
    proxy.hook = undefined;
  });
  const failFirst =
    (n: number, code = 'SlowDown') =>
    (_req: IncomingMessage, i: number) =>
      i <= n ? { status: 503, body: s3Error(code) } : undefined;

  it('retries bodiless and buffered requests after 503s', async () => {
    const c = client(proxy.endpoint);
    const data = bytes(2048);

    proxy.hook = failFirst(2);
    expect((await c.put('fail/retried', data, data.length)).etag).toBe(md5(data));
    expect(proxy.seen.map((s) => s.method)).toEqual(['PUT', 'PUT', 'PUT']);

    for (const op of [
      () => c.head('fail/retried'),
      () => c.get('fail/retried'),
      () => c.list({ prefix: 'fail/', limit: 10 }),
      () => c.delete(['fail/none']),
    ]) {
      proxy.seen = [];
      proxy.hook = failFirst(3);
      await op();
      expect(proxy.seen).toHaveLength(4);
    }
    expect(await up.head('fail/retried')).not.toBeNull();
  });

  it('gives up after the retries with a retryable error', async () => {
    const c = client(proxy.endpoint, { retries: 2 });
    proxy.hook = () => ({ status: 503, body: s3Error('ServiceUnavailable') });
    const e = await thrown(c.put('fail/never', text('x'), 1));
    expect(e).toMatchObject({ status: 503, code: 'ServiceUnavailable', retryable: true });
    expect(e.message).toBe('upstream PUT answered 503 ServiceUnavailable');
    expect(proxy.seen).toHaveLength(3);

    proxy.seen = [];
    const h = await thrown(c.head('fail/never'));
    expect(h).toMatchObject({ status: 503, retryable: true });
    expect(proxy.seen).toHaveLength(3);

    proxy.seen = [];
    proxy.hook = () => ({ status: 429, body: '' });
    expect(await thrown(c.get('fail/never'))).toMatchObject({ status: 429, code: '', retryable: true });
    expect(proxy.seen).toHaveLength(3);
  });

  it('does not retry client errors', async () => {
    proxy.hook = () => ({ status: 400, body: s3Error('InvalidArgument') });
    const e = await thrown(client(proxy.endpoint).list({ prefix: '', limit: 1 }));
    expect(e).toMatchObject({ status: 400, code: 'InvalidArgument', retryable: false });
    expect(proxy.seen).toHaveLength(1);
  });

  it('never retries a streamed body', async () => {
    const c = client(proxy.endpoint);
    proxy.hook = failFirst(1);
    const e = await thrown(c.put('fail/stream', streamOf(bytes(200_000)), 200_000));
    expect(e).toMatchObject({ status: 503, code: 'SlowDown', retryable: true });
    expect(proxy.seen).toHaveLength(1);
    expect(await up.head('fail/stream')).toBeNull();

    proxy.seen = [];
    proxy.hook = failFirst(1);
    const id = await up.createMultipart('fail/mp');
    await thrown(c.uploadPart('fail/mp', id, 1, streamOf(text('p')), 1));
    expect(proxy.seen).toHaveLength(1);
  });

  it('keeps the upstream body, signature and secret key out of errors', async () => {
    const SECRET = `TOPSECRET-${randomBytes(8).toString('hex')}`;
    const body = s3Error(
      'SignatureDoesNotMatch',
      `<AWSAccessKeyId>S3RVER</AWSAccessKeyId><StringToSign>AWS4-HMAC-SHA256 ${SECRET}</StringToSign><CanonicalRequest>PUT /${SECRET}</CanonicalRequest>`,
    );
    proxy.hook = () => ({ status: 403, body });
    const secretKey = `SK-${randomBytes(12).toString('hex')}`;
    const c = client(proxy.endpoint, {}, { secretAccessKey: secretKey });
    for (const op of [
      () => c.put('fail/denied', text('x'), 1),
      () => c.get('fail/denied'),
      () => c.head('fail/denied'),
      () => c.copy('a', 'b', {}),
    ]) {
      proxy.seen = [];
      const e = await thrown(op());
      expect(e.status).toBe(403);
      expect(e.retryable).toBe(false);
      expect(proxy.seen).toHaveLength(1);
      const signature = /Signature=([0-9a-f]+)/.exec(String(proxy.seen[0].headers.authorization))![1];
      const exposed = [e.message, String(e), e.stack ?? '', JSON.stringify(e), ...Object.values(e).map(String)];
      for (const s of exposed) {
        for (const needle of [SECRET, secretKey, signature, 'StringToSign', 'S3RVER']) expect(s).not.toContain(needle);
      }
      expect(Object.keys(e).sort()).toEqual(['code', 'name', 'retryable', 'status']);
    }
    proxy.seen = [];
    expect(await thrown(c.get('fail/denied'))).toMatchObject({
      code: 'SignatureDoesNotMatch',
      message: 'upstream GET answered 403 SignatureDoesNotMatch',
    });
    // Not even through <Code>, which is only taken when it looks like one.
    proxy.hook = () => ({ status: 403, body: s3Error(`Denied ${SECRET}`) });
    const odd = await thrown(c.get('fail/denied'));
    expect(odd).toMatchObject({ status: 403, code: '', message: 'upstream GET answered 403' });
    expect(JSON.stringify(odd)).not.toContain(SECRET);
    proxy.hook = () => ({ status: 403, body });
    expect(await thrown(c.head('fail/denied'))).toMatchObject({ code: 'Forbidden', message: 'upstream HEAD answered 403 Forbidden' });
  });

  it('times out a silent upstream', async () => {
    proxy.hook = () => ({ delayMs: 3000, status: 200, body: '' });
    const c = client(proxy.endpoint, { timeoutMs: 100, retries: 1 });
    const started = Date.now();
    const e = await thrown(c.head('fail/slow'));
    expect(e).toMatchObject({ status: 0, code: 'Timeout', retryable: true });
    expect(proxy.seen).toHaveLength(2);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('rethrows the error of a failing body stream, and never completes the request', async () => {
    // s3rver stores whatever arrived before a connection broke (S3 answers IncompleteBody),
    // so what is checked is that the request was cut off short of its declared length.
    const c = client(proxy.endpoint);
    const boom = new Error('client went away');
    const e = await c
      .put('fail/body', streamOf(bytes(500_000), 64 * 1024, { at: 200_000, error: boom }), 500_000)
      .catch((err: unknown) => err);
    expect(e).toBe(boom);

    const short = await c.put('fail/short', streamOf(bytes(1000)), 2000).catch((err: unknown) => err);
    expect(short).toBeInstanceOf(Error);
    expect(short).not.toBeInstanceOf(UpstreamError);
    expect((short as Error).message).toBe('body has 1000 bytes, declared 2000');
    const long = await c.put('fail/long', streamOf(bytes(3000)), 2000).catch((err: unknown) => err);
    expect((long as Error).message).toBe('body has more than 2000 bytes, declared 2000');

    await sleep(50);
    // A failing body aborts its request, which may be before undici has sent anything of it
    // (the short and the over-long body fail on their last or first chunk).
    const [body, ...rest] = proxy.seen;
    expect(rest.length).toBeLessThanOrEqual(2);
    expect(body).toMatchObject({ complete: false, headers: expect.objectContaining({ 'content-length': '500000' }) });
    expect(body.received).toBeLessThan(500_000);
    for (const r of rest) {
      expect(r.complete).toBe(false);
      expect(r.received).toBeLessThanOrEqual(1000);
    }
    expect(await up.head('fail/long')).toBeNull();
  });
});

describe('a killed upstream', () => {
  let own: UpstreamServer;
  beforeAll(async () => {
    own = await startUpstream();
  });
  afterAll(() => own?.stop());

  it('is Unreachable (retryable) until it is back', async () => {
    const c = client(own.endpoint, { retries: 1 });
    await c.put('k/persisted', text('kept'), 4);
    await own.kill();

    for (const op of [
      () => c.head('k/persisted'),
      () => c.get('k/persisted'),
      () => c.put('k/x', text('x'), 1),
      () => c.put('k/s', streamOf(bytes(100_000)), 100_000),
      () => c.list({ prefix: '', limit: 1 }),
    ]) {
      const e = await thrown(op());
      expect(e).toMatchObject({ status: 0, code: 'Unreachable', retryable: true });
      expect(e.message).toMatch(/^upstream (HEAD|GET|PUT) unreachable$/);
    }

    await own.restart();
    const g = await c.get('k/persisted');
    expect(new TextDecoder().decode(await readAll(g!.body))).toBe('kept');
  });
});
