// The proxy layout against a real S3-compatible server (s3rver): objects already
// in the upstream bucket, what the gateway leaves there, listings of mixed
// prefixes, ranged reads and re-keying measured at the wire, an upstream that
// dies mid-upload or fails, and R2 and upstream buckets in one deployment.
// (The rest of the e2e suite also runs against this backend: project e2e-proxy.)

import { readFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, request, type Server } from 'node:http';
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  ListObjectsV2Command,
  type ListObjectsV2CommandOutput,
  PutObjectCommand,
  PutObjectTaggingCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { filesUnder, findInFiles, md5, random, s3Error, sdkBody, sha256, sseCKey, uniq } from './helpers';
import { type Gateway, proxyVars, startGateway, UPSTREAM_BUCKET } from './setup';
import { startUpstream, type UpstreamServer } from './upstream-server';

const SEG = 262_144;
/** Stored size of a sealed single-stream object: a 16-byte tag per segment, one segment at least. */
const sealedSize = (n: number) => n + 16 * Math.max(1, Math.ceil(n / SEG));

const client = (endpoint: string, accessKeyId: string, secretAccessKey: string, maxAttempts?: number) =>
  new S3Client({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId, secretAccessKey },
    forcePathStyle: true,
    maxAttempts,
  });
const gatewayClient = (g: { endpoint: string; accessKeyId: string; secretAccessKey: string }, maxAttempts?: number) =>
  client(g.endpoint, g.accessKeyId, g.secretAccessKey, maxAttempts);

/** Does `hay` hold any 32-byte slice of `data` (start, middle, end)? */
const holdsPlaintext = (hay: Buffer, data: Buffer) =>
  data.length >= 32 && [0, data.length >> 1, data.length - 32].some((at) => hay.indexOf(data.subarray(at, at + 32)) >= 0);

describe('the suite gateway over its upstream', () => {
  const up = inject('upstream')!;
  const BUCKET = uniq('proxy').toLowerCase();
  const base = `main/${BUCKET}/`;
  let s3: S3Client;
  let raw: S3Client;

  beforeAll(async () => {
    s3 = gatewayClient({ endpoint: inject('endpoint'), accessKeyId: inject('accessKeyId'), secretAccessKey: inject('secretAccessKey') });
    raw = client(up.endpoint, up.accessKeyId, up.secretAccessKey);
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
  });
  afterAll(() => {
    s3?.destroy();
    raw?.destroy();
  });

  const seed = (key: string, body: Buffer, extra: Record<string, unknown> = {}) =>
    raw.send(new PutObjectCommand({ Bucket: UPSTREAM_BUCKET, Key: base + key, Body: body, ...extra }));
  const upstreamBytes = async (key: string) => sdkBody(await raw.send(new GetObjectCommand({ Bucket: UPSTREAM_BUCKET, Key: base + key })));

  it('serves objects already in the upstream bucket as they are, reported unencrypted', async () => {
    const data = random(300_000);
    await seed('legacy/a.bin', data, { ContentType: 'application/x-legacy', Metadata: { origin: 'before-the-gateway' } });
    const head = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'legacy/a.bin' }));
    expect(head.ServerSideEncryption).toBeUndefined();
    expect(head.ContentLength).toBe(data.length);
    expect(head.ContentType).toBe('application/x-legacy');
    expect(head.Metadata?.origin).toBe('before-the-gateway');
    expect(head.ETag).toBe(`"${md5(data)}"`);
    const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'legacy/a.bin' }));
    expect(got.ServerSideEncryption).toBeUndefined();
    expect(sha256(await sdkBody(got))).toBe(sha256(data));
    const part = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'legacy/a.bin', Range: 'bytes=1000-1999' }));
    expect(Buffer.compare(await sdkBody(part), data.subarray(1000, 2000))).toBe(0);
  });

  it('tags an object already in the upstream bucket without changing its bytes, type, metadata or ETag', async () => {
    const data = random(200_000);
    await seed('legacy/tagged.bin', data, { ContentType: 'application/x-legacy', Metadata: { origin: 'before-the-gateway' } });
    await s3.send(
      new PutObjectTaggingCommand({ Bucket: BUCKET, Key: 'legacy/tagged.bin', Tagging: { TagSet: [{ Key: 'found', Value: 'upstream' }] } }),
    );
    expect((await s3.send(new GetObjectTaggingCommand({ Bucket: BUCKET, Key: 'legacy/tagged.bin' }))).TagSet).toEqual([
      { Key: 'found', Value: 'upstream' },
    ]);
    const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'legacy/tagged.bin' }));
    expect(got.TagCount).toBe(1);
    expect(got.ServerSideEncryption).toBeUndefined();
    expect(got.ContentType).toBe('application/x-legacy');
    expect(got.Metadata).toEqual({ origin: 'before-the-gateway' });
    expect(got.ETag).toBe(`"${md5(data)}"`);
    expect(sha256(await sdkBody(got))).toBe(sha256(data));
    expect(sha256(await upstreamBytes('legacy/tagged.bin'))).toBe(sha256(data));
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'legacy/tagged' }));
    expect(listed.Contents?.map((o) => [o.Key, o.Size, o.ETag])).toEqual([['legacy/tagged.bin', data.length, `"${md5(data)}"`]]);
  });

  it('leaves only ciphertext upstream, with the envelope in its metadata and no key material anywhere', async () => {
    const data = random(SEG * 3 + 5);
    const key = sseCKey();
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'sealed/cos.bin', Body: data }));
    await s3.send(
      new PutObjectCommand({ Bucket: BUCKET, Key: 'sealed/c.bin', Body: data, SSECustomerAlgorithm: 'AES256', SSECustomerKey: key.b64 }),
    );
    for (const k of ['sealed/cos.bin', 'sealed/c.bin']) {
      const stored = await upstreamBytes(k);
      expect(stored.length, k).toBe(sealedSize(data.length));
      expect(holdsPlaintext(stored, data), k).toBe(false);
      const h = await raw.send(new HeadObjectCommand({ Bucket: UPSTREAM_BUCKET, Key: base + k }));
      expect(JSON.parse(h.Metadata!['sb-env']).mode).toBe(k.endsWith('c.bin') ? 'c' : 'cos');
      expect(h.ServerSideEncryption).toBeUndefined();
    }
    // Neither the master key nor the customer's key, in any encoding, is in any upstream file.
    const master = Buffer.from(inject('masterKeyring').split(':')[1], 'base64');
    const needles = [
      { what: 'master key', bytes: master },
      { what: 'master key base64', bytes: Buffer.from(master.toString('base64')) },
      { what: 'sse-c key', bytes: key.raw },
      { what: 'sse-c key base64', bytes: Buffer.from(key.b64) },
    ];
    expect(findInFiles(up.dir, needles)).toEqual([]);
    expect(filesUnder(up.dir).some((f) => holdsPlaintext(readFileSync(f.path), data))).toBe(false);
  });

  it('lists a prefix of mixed objects with plaintext sizes and ETags, one listing of the index per page, bookkeeping hidden', async () => {
    const plain = { 'mixed/p0': random(0), 'mixed/p1': random(17), 'mixed/p3 with space': random(70_000) };
    const sealed = { 'mixed/s0': random(0), 'mixed/s1': random(1), 'mixed/s2!': random(SEG + 1), 'mixed/sub/deep': random(9) };
    for (const [k, v] of Object.entries(plain)) await seed(k, v);
    const etags: Record<string, string> = {};
    for (const [k, v] of Object.entries(plain)) etags[k] = `"${md5(v)}"`;
    for (const [k, v] of Object.entries(sealed))
      etags[k] = (await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: k, Body: v }))).ETag!;
    const sizes = Object.fromEntries([...Object.entries(plain), ...Object.entries(sealed)].map(([k, v]) => [k, v.length]));

    const flat: NonNullable<ListObjectsV2CommandOutput['Contents']> = [];
    let token: string | undefined;
    do {
      const r = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'mixed/', MaxKeys: 2, ContinuationToken: token }));
      flat.push(...(r.Contents ?? []));
      token = r.IsTruncated ? r.NextContinuationToken : undefined;
    } while (token);
    expect(Object.fromEntries(flat.map((c) => [c.Key, c.Size]))).toEqual(sizes);
    expect(Object.fromEntries(flat.map((c) => [c.Key, c.ETag]))).toEqual(etags);

    const byDir = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'mixed/', Delimiter: '/' }));
    expect(byDir.CommonPrefixes?.map((p) => p.Prefix)).toEqual(['mixed/sub/']);
    expect(byDir.Contents?.find((c) => c.Key === 'mixed/s2!')?.Size).toBe(SEG + 1);

    // The bookkeeping (index, settings) never shows, with or without a delimiter.
    const top = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Delimiter: '/' }));
    const all = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET }));
    const shown = [...(top.CommonPrefixes ?? []).map((p) => p.Prefix!), ...(all.Contents ?? []).map((c) => c.Key!)];
    expect(shown.filter((k) => k.includes('.sealbucket'))).toEqual([]);
    expect(shown).toContain('mixed/s1');
    // While upstream, the index exists: the sealed keys' entries.
    const index = await raw.send(new ListObjectsV2Command({ Bucket: UPSTREAM_BUCKET, Prefix: `${base}.sealbucket/i/mixed` }));
    expect(index.Contents?.length).toBe(Object.keys(sealed).length);
  });

  it('refuses keys under the bookkeeping prefix', async () => {
    const e = await s3Error(s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: '.sealbucket/i/x', Body: 'no' })));
    expect(e).toMatchObject({ name: 'InvalidArgument', status: 400 });
  });
});

/**
 * A pass-through HTTP proxy in front of an upstream that records every request
 * (headers, bytes each way) and can be told to answer 503 instead.
 */
interface Wire {
  endpoint: string;
  seen: { method: string; url: string; headers: IncomingHttpHeaders; sent: number; received: number }[];
  failing: boolean;
  /** Drop the connection of every server-side copy (the step that makes a single PUT visible). */
  dropCopies: boolean;
  close(): Promise<void>;
}

async function wire(target: UpstreamServer): Promise<Wire> {
  const w: Wire = { endpoint: '', seen: [], failing: false, dropCopies: false, close: async () => {} };
  const server: Server = createServer((req, res) => {
    const rec = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, sent: 0, received: 0 };
    w.seen.push(rec);
    if (w.dropCopies && req.headers['x-amz-copy-source']) {
      req.socket.destroy();
      return;
    }
    if (w.failing) {
      req.resume();
      req.on('end', () =>
        res.writeHead(503, { 'content-type': 'application/xml' }).end('<Error><Code>SlowDown</Code><Message>injected</Message></Error>'),
      );
      return;
    }
    // A fresh connection each time: a pooled one may point at an upstream process that was killed.
    const out = request(
      { host: '127.0.0.1', port: target.port, method: req.method, path: req.url, headers: req.headers, agent: false },
      (r) => {
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.on('data', (c: Buffer) => (rec.received += c.length));
        r.pipe(res);
      },
    );
    out.on('error', () => res.destroy());
    req.on('data', (c: Buffer) => (rec.sent += c.length));
    req.pipe(out);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  w.endpoint = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  w.close = () => new Promise((r) => server.close(() => r()));
  return w;
}

describe('a deployment mixing R2 buckets with a bucket fronting an upstream, seen at the wire', () => {
  let upstream: UpstreamServer;
  let w: Wire;
  let g: Gateway;
  let s3: S3Client;

  beforeAll(async () => {
    upstream = await startUpstream({ buckets: ['existing'] });
    w = await wire(upstream);
    const mapping = { fronted: { endpoint: w.endpoint, bucket: 'existing', prefix: 'data/', credentials: 'FRONTED_UPSTREAM' } };
    g = await startGateway({ UPSTREAMS: JSON.stringify(mapping), FRONTED_UPSTREAM: 'S3RVER:S3RVER' });
    s3 = gatewayClient(g);
  });
  // What the gateway logged, when a test here fails (its log goes with it at teardown).
  afterEach(({ task }) => {
    if (task.result?.state !== 'fail') return;
    for (const f of [g.logFile, upstream.logFile]) console.log(`--- ${f}\n${readFileSync(f, 'utf8').split('\n').slice(-40).join('\n')}`);
  });
  afterAll(async () => {
    s3?.destroy();
    await g?.stop();
    await w?.close();
    await upstream?.stop();
  });

  it('keeps the fronted bucket upstream and every other bucket in R2', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'local-r2' }));
    const names = (await s3.send(new ListBucketsCommand({}))).Buckets?.map((b) => b.Name);
    expect(names).toEqual(expect.arrayContaining(['fronted', 'local-r2']));
    const mark = random(64);
    await s3.send(new PutObjectCommand({ Bucket: 'local-r2', Key: 'in-r2', Body: mark }));
    await s3.send(new PutObjectCommand({ Bucket: 'fronted', Key: 'upstream', Body: 'x' }));
    const files = filesUnder(upstream.dir).map((f) => f.path);
    expect(files.some((p) => p.includes('data/upstream'))).toBe(true);
    expect(files.some((p) => p.includes('in-r2'))).toBe(false);
    expect(await s3Error(s3.send(new CreateBucketCommand({ Bucket: 'fronted' })))).toMatchObject({ name: 'BucketAlreadyOwnedByYou' });
    expect(await s3Error(s3.send(new DeleteBucketCommand({ Bucket: 'fronted' })))).toMatchObject({ name: 'MethodNotAllowed', status: 405 });
  });

  it('never forwards SSE headers or keys upstream', async () => {
    const key = sseCKey();
    w.seen.length = 0;
    const data = random(100_000);
    await s3.send(
      new PutObjectCommand({ Bucket: 'fronted', Key: 'ssec', Body: data, SSECustomerAlgorithm: 'AES256', SSECustomerKey: key.b64 }),
    );
    const back = await s3.send(
      new GetObjectCommand({ Bucket: 'fronted', Key: 'ssec', SSECustomerAlgorithm: 'AES256', SSECustomerKey: key.b64 }),
    );
    expect(sha256(await sdkBody(back))).toBe(sha256(data));
    await s3.send(new PutObjectCommand({ Bucket: 'fronted', Key: 'kms', Body: 'k', ServerSideEncryption: 'aws:kms' }));
    expect(w.seen.length).toBeGreaterThan(3);
    for (const r of w.seen) {
      const names = Object.keys(r.headers).join(' ');
      expect(names, `${r.method} ${r.url}`).not.toMatch(/server-side-encryption/i);
      expect(JSON.stringify(r.headers)).not.toContain(key.b64);
      expect(JSON.stringify(r.headers)).not.toContain(key.md5);
    }
  });

  it('reads a 1-byte range of a sealed object with one ranged upstream GET of at most two segments', async () => {
    const data = random(4 * 1024 * 1024);
    await s3.send(new PutObjectCommand({ Bucket: 'fronted', Key: 'big', Body: data }));
    w.seen.length = 0;
    const one = await s3.send(new GetObjectCommand({ Bucket: 'fronted', Key: 'big', Range: 'bytes=2000000-2000000' }));
    expect((await sdkBody(one))[0]).toBe(data[2_000_000]);
    const gets = w.seen.filter((r) => r.method === 'GET');
    expect(gets).toHaveLength(1);
    expect(gets[0].headers.range).toMatch(/^bytes=\d+-\d+$/);
    expect(gets[0].received).toBeLessThanOrEqual(2 * (SEG + 16));
  });

  it('re-keys an SSE-C object in place with a server-side copy: no object data crosses the gateway', async () => {
    const a = sseCKey();
    const b = sseCKey();
    const data = random(3 * 1024 * 1024);
    await s3.send(
      new PutObjectCommand({ Bucket: 'fronted', Key: 'rekey', Body: data, SSECustomerAlgorithm: 'AES256', SSECustomerKey: a.b64 }),
    );
    const before = readFileSync(filesUnder(upstream.dir).find((f) => f.path.endsWith('data/rekey._S3rver_object'))!.path);
    w.seen.length = 0;
    await s3.send(
      new CopyObjectCommand({
        Bucket: 'fronted',
        Key: 'rekey',
        CopySource: 'fronted/rekey',
        CopySourceSSECustomerAlgorithm: 'AES256',
        CopySourceSSECustomerKey: a.b64,
        SSECustomerAlgorithm: 'AES256',
        SSECustomerKey: b.b64,
      }),
    );
    const moved = w.seen.reduce((n, r) => n + r.sent + r.received, 0);
    expect(moved).toBeLessThan(64 * 1024);
    expect(w.seen.some((r) => r.method === 'PUT' && r.headers['x-amz-copy-source'])).toBe(true);
    const after = readFileSync(filesUnder(upstream.dir).find((f) => f.path.endsWith('data/rekey._S3rver_object'))!.path);
    expect(Buffer.compare(before, after)).toBe(0);
    const got = await s3.send(
      new GetObjectCommand({ Bucket: 'fronted', Key: 'rekey', SSECustomerAlgorithm: 'AES256', SSECustomerKey: b.b64 }),
    );
    expect(sha256(await sdkBody(got))).toBe(sha256(data));
    expect(
      await s3Error(
        s3.send(new GetObjectCommand({ Bucket: 'fronted', Key: 'rekey', SSECustomerAlgorithm: 'AES256', SSECustomerKey: a.b64 })),
      ),
    ).toMatchObject({ status: 403 });
  });

  it('retries an upstream answering 503, then answers 503 SlowDown; works again once it recovers', async () => {
    await s3.send(new PutObjectCommand({ Bucket: 'fronted', Key: 'flaky', Body: 'still here' }));
    const once = gatewayClient(g, 1);
    w.failing = true;
    w.seen.length = 0;
    try {
      const e = await s3Error(once.send(new GetObjectCommand({ Bucket: 'fronted', Key: 'flaky' })));
      expect(e).toMatchObject({ name: 'SlowDown', status: 503 });
      expect(w.seen.length).toBeGreaterThan(1);
    } finally {
      w.failing = false;
      once.destroy();
    }
    expect(await (await s3.send(new GetObjectCommand({ Bucket: 'fronted', Key: 'flaky' }))).Body!.transformToString()).toBe('still here');
  });

  it('when the upstream fails mid-upload, the client gets a retryable error and nothing partial becomes visible', async () => {
    const old = random(1000);
    await s3.send(new PutObjectCommand({ Bucket: 'fronted', Key: 'victim', Body: old }));
    const once = gatewayClient(g, 1);
    try {
      // A single PUT whose last step, the server-side copy that makes it visible, loses its connection.
      w.dropCopies = true;
      const e = await s3Error(once.send(new PutObjectCommand({ Bucket: 'fronted', Key: 'victim', Body: random(300_000) })));
      expect(e).toMatchObject({ name: 'SlowDown', status: 503 });
      w.dropCopies = false;
      expect(sha256(await sdkBody(await s3.send(new GetObjectCommand({ Bucket: 'fronted', Key: 'victim' }))))).toBe(sha256(old));

      // A multipart upload whose upstream process is killed between parts.
      const part1 = random(5 * 1024 * 1024);
      const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'fronted', Key: 'mp' }));
      const e1 = (await s3.send(new UploadPartCommand({ Bucket: 'fronted', Key: 'mp', UploadId, PartNumber: 1, Body: part1 }))).ETag!;
      await upstream.kill();
      const part2 = await s3Error(
        once.send(new UploadPartCommand({ Bucket: 'fronted', Key: 'mp', UploadId, PartNumber: 2, Body: random(1000) })),
      );
      expect(part2).toMatchObject({ name: 'SlowDown', status: 503 });
      const complete = await s3Error(
        once.send(
          new CompleteMultipartUploadCommand({
            Bucket: 'fronted',
            Key: 'mp',
            UploadId,
            MultipartUpload: { Parts: [{ PartNumber: 1, ETag: e1 }] },
          }),
        ),
      );
      expect(complete).toMatchObject({ name: 'SlowDown', status: 503 });
      await upstream.restart();
      expect(await s3Error(s3.send(new HeadObjectCommand({ Bucket: 'fronted', Key: 'mp' })))).toMatchObject({ status: 404 });
      const listed = await s3.send(new ListObjectsV2Command({ Bucket: 'fronted' }));
      expect(listed.Contents?.map((c) => c.Key)).toEqual(expect.not.arrayContaining(['mp']));
      // Nothing was lost either: once the upstream is back, the upload completes.
      await s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: 'fronted',
          Key: 'mp',
          UploadId,
          MultipartUpload: { Parts: [{ PartNumber: 1, ETag: e1 }] },
        }),
      );
      expect(sha256(await sdkBody(await s3.send(new GetObjectCommand({ Bucket: 'fronted', Key: 'mp' }))))).toBe(sha256(part1));
    } finally {
      w.dropCopies = false;
      once.destroy();
    }
  });
});

describe('upstream refusals', () => {
  it('map to S3 errors without the upstream answer, its credentials or its string to sign', async () => {
    const upstream = await startUpstream({ buckets: [UPSTREAM_BUCKET] });
    const secret = `upstream-secret-${uniq('s')}`;
    const g = await startGateway({ ...proxyVars(upstream.endpoint, 'wrong'), UPSTREAM_CREDENTIALS: `NOTAKEY:${secret}` });
    const s3 = gatewayClient(g);
    try {
      for (const e of [
        await s3Error(s3.send(new CreateBucketCommand({ Bucket: 'refused-bucket' }))),
        await s3Error(s3.send(new GetObjectCommand({ Bucket: 'refused-bucket', Key: 'x' }))),
      ]) {
        expect(e).toMatchObject({ name: 'AccessDenied', status: 403 });
        expect(e.message).not.toContain('NOTAKEY');
        expect(e.message).not.toContain(secret);
      }
      const log = readFileSync(g.logFile, 'utf8');
      expect(log).not.toContain(secret);
      expect(log).not.toContain('StringToSign');
    } finally {
      s3.destroy();
      await g.stop();
      await upstream.stop();
    }
  });
});
