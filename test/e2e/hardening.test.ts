// The hardening review's attacks, end to end against the running gateway (both
// layouts): a presigned URL or a signed request with headers added, a body
// swapped in flight, an unbounded KMS body from a stranger, keys that try to
// leave their bucket, whitespace keys in DeleteObjects, and UploadPart racing
// CompleteMultipartUpload.

import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  ListMultipartUploadsCommand,
  PutObjectCommand,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { AwsClient } from 'aws4fetch';
import COS from 'cos-nodejs-sdk-v5';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { filesUnder, gateway, md5, random, s3Client, sdkBody, sha256, uniq, xmlErrorCode } from './helpers';
import { allowLogLines } from './log-check';
import { DELIBERATE_ABORT, DEV_SERVER_HANG_UP, unexpectedLogLines } from './setup';

const BUCKET = uniq('harden').toLowerCase();
const OTHER = uniq('harden-other').toLowerCase();
const s3 = s3Client();
const g = gateway();
const signer = new AwsClient({ accessKeyId: g.accessKeyId, secretAccessKey: g.secretAccessKey, service: 's3', region: 'us-east-1' });
const b64md5 = (b: string | Uint8Array) => Buffer.from(md5(typeof b === 'string' ? Buffer.from(b) : b), 'hex').toString('base64');

const text = async (key: string) => (await sdkBody(await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key })))).toString();
const status = async (key: string) => {
  try {
    await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
    return 200;
  } catch (e) {
    return (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode ?? -1;
  }
};

/**
 * Peak memory (VmHWM, MiB) of each workerd process of the `wrangler dev` serving `port` (its own
 * port, behind the local front): the children of the wrangler process started with that port
 * (Linux /proc).
 */
function workerdPeakMiB(port: number): number[] {
  const procs = readdirSync('/proc').filter((d) => /^\d+$/.test(d));
  const read = (pid: string, f: string) => {
    try {
      return readFileSync(`/proc/${pid}/${f}`, 'utf8');
    } catch {
      return '';
    }
  };
  // wrangler's bin re-launches node with its CLI; both carry the arguments.
  const wrangler = new Set(
    procs.filter((p) => {
      const args = read(p, 'cmdline').split('\0');
      return args.includes('dev') && args[args.indexOf('--port') + 1] === String(port);
    }),
  );
  const children = procs.filter(
    (p) => wrangler.has(read(p, 'stat').split(') ')[1]?.split(' ')[1] ?? '') && read(p, 'comm').trim() === 'workerd',
  );
  return children.map((p) => Number(/VmHWM:\s+(\d+)/.exec(read(p, 'status'))?.[1] ?? 0) / 1024);
}

/** `signed`'s method, URL and headers (plus `add`) with another body: what a URL holder or a man in the middle can send. */
function resend(
  signed: Request,
  body: string | Uint8Array | ReadableStream<Uint8Array> | null,
  add: Record<string, string> = {},
): Promise<Response> {
  const h = new Headers(signed.headers);
  for (const [k, v] of Object.entries(add)) h.set(k, v);
  return fetch(signed.url, { method: signed.method, headers: h, body, duplex: 'half' } as RequestInit);
}

beforeAll(async () => {
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
  await s3.send(new CreateBucketCommand({ Bucket: OTHER }));
  await s3.send(new PutObjectCommand({ Bucket: OTHER, Key: 'payroll.csv', Body: 'name,salary\nalice,100' }));
});

describe('a request does exactly what was signed', () => {
  it('a presigned PUT URL (SignedHeaders host) with an added x-amz-copy-source or SSE-C headers is refused', async () => {
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'uploads/avatar.png', Body: 'the avatar' }));
    const url = await getSignedUrl(s3, new PutObjectCommand({ Bucket: BUCKET, Key: 'uploads/avatar.png' }), { expiresIn: 300 });
    expect(new URL(url).searchParams.get('X-Amz-SignedHeaders')).toBe('host');
    const copy = await fetch(url, { method: 'PUT', headers: { 'x-amz-copy-source': `/${OTHER}/payroll.csv` } });
    const body = await copy.text();
    expect(copy.status).toBe(403);
    expect(xmlErrorCode(body)).toBe('AccessDenied');
    expect(body).toContain('<HeadersNotSigned>x-amz-copy-source</HeadersNotSigned>');
    const key = random(32);
    const sseC = await fetch(url, {
      method: 'PUT',
      body: 'sealed by a stranger',
      headers: {
        'x-amz-server-side-encryption-customer-algorithm': 'AES256',
        'x-amz-server-side-encryption-customer-key': key.toString('base64'),
        'x-amz-server-side-encryption-customer-key-md5': b64md5(key),
      },
    });
    expect(sseC.status).toBe(403);
    await sseC.arrayBuffer();
    expect(await text('uploads/avatar.png')).toBe('the avatar');
    expect((await fetch(url, { method: 'PUT', body: 'new avatar' })).status).toBe(200);
    expect(await text('uploads/avatar.png')).toBe('new avatar');
  });

  it('a header-signed PUT with an injected x-amz-copy-source is refused', async () => {
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'victim.txt', Body: 'original' }));
    const signed = await signer.sign(`${g.endpoint}/${BUCKET}/victim.txt`, { method: 'PUT', body: 'replacement' });
    const r = await resend(signed, 'replacement', { 'x-amz-copy-source': `/${OTHER}/payroll.csv` });
    expect(r.status).toBe(403);
    expect(await r.text()).toContain('<HeadersNotSigned>x-amz-copy-source</HeadersNotSigned>');
    expect(await text('victim.txt')).toBe('original');
  });

  it('COS signatures: an unsigned response-* parameter (presigned) or x-cos-* header is refused', async () => {
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'page.html', Body: '<p>hi</p>', ContentType: 'text/plain' }));
    const path = `/${BUCKET}/page.html`;
    const auth = (method: 'get' | 'put', pathname: string, query: Record<string, string> = {}, headers: Record<string, string> = {}) =>
      COS.getAuthorization({
        SecretId: g.accessKeyId,
        SecretKey: g.secretAccessKey,
        Method: method,
        Pathname: pathname,
        Query: query,
        Headers: headers,
        Expires: 300,
      });
    const plain = await fetch(`${g.endpoint}${path}?${auth('get', path)}`);
    expect(plain.status).toBe(200);
    expect(plain.headers.get('content-type')).toBe('text/plain');
    await plain.arrayBuffer();
    const added = await fetch(`${g.endpoint}${path}?${auth('get', path)}&response-content-type=text%2Fhtml`);
    expect(added.status).toBe(403);
    expect(await added.text()).toContain('<ParametersNotSigned>response-content-type</ParametersNotSigned>');
    const signed = await fetch(
      `${g.endpoint}${path}?response-content-type=text%2Fhtml&${auth('get', path, { 'response-content-type': 'text/html' })}`,
    );
    expect(signed.status).toBe(200);
    expect(signed.headers.get('content-type')).toBe('text/html');
    await signed.arrayBuffer();

    const target = `/${BUCKET}/cos-victim.txt`;
    const copy = await fetch(`${g.endpoint}${target}`, {
      method: 'PUT',
      headers: { authorization: auth('put', target), 'x-cos-copy-source': `${OTHER}.cos.e2e.test/payroll.csv` },
    });
    expect(copy.status).toBe(403);
    expect(await copy.text()).toContain('<HeadersNotSigned>x-cos-copy-source</HeadersNotSigned>');
    expect(await status('cos-victim.txt')).toBe(404);
  });

  it('a swapped PutBucketEncryption body is not applied, nor a swapped KMS body', async () => {
    const cfg = (alg: string) =>
      `<ServerSideEncryptionConfiguration><Rule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>${alg}</SSEAlgorithm></ApplyServerSideEncryptionByDefault></Rule></ServerSideEncryptionConfiguration>`;
    const signed = await signer.sign(`${g.endpoint}/${BUCKET}?encryption`, {
      method: 'PUT',
      body: cfg('AES256'),
      headers: { 'x-amz-content-sha256': sha256(Buffer.from(cfg('AES256'))) },
    });
    const r = await resend(signed, cfg('aws:kms'));
    expect(xmlErrorCode(await r.text())).toBe('XAmzContentSHA256Mismatch');
    const get = await signer.fetch(`${g.endpoint}/${BUCKET}?encryption`);
    expect(get.status).toBe(404);
    await get.arrayBuffer();

    const kms = new AwsClient({ accessKeyId: g.accessKeyId, secretAccessKey: g.secretAccessKey, service: 'kms', region: 'us-east-1' });
    const target = { 'x-amz-target': 'TrentService.CreateKey', 'content-type': 'application/x-amz-json-1.1' };
    const create = await kms.sign(`${g.endpoint}/`, { method: 'POST', body: '{"Description":"mine"}', headers: target });
    const swapped = await resend(create, '{"Description":"theirs"}');
    expect(((await swapped.json()) as { __type: string }).__type).toBe('InvalidSignatureException');
    const unsigned = await kms.sign(`${g.endpoint}/`, {
      method: 'POST',
      body: '{}',
      headers: { ...target, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' },
    });
    expect(((await (await fetch(unsigned)).json()) as { __type: string }).__type).toBe('InvalidSignatureException');
  });

  it('DeleteObjects signed for "decoy" but carrying "keep-me" deletes nothing', async () => {
    for (const k of ['decoy', 'keep-me']) await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: k, Body: k }));
    const signedBody = '<Delete><Object><Key>decoy</Key></Object></Delete>';
    const signed = await signer.sign(`${g.endpoint}/${BUCKET}?delete`, {
      method: 'POST',
      body: signedBody,
      headers: { 'x-amz-content-sha256': sha256(Buffer.from(signedBody)), 'content-md5': b64md5(signedBody) },
    });
    const r = await resend(signed, '<Delete><Object><Key>keep-me</Key></Object></Delete>');
    expect(r.status).toBe(400);
    expect(['XAmzContentSHA256Mismatch', 'BadDigest']).toContain(xmlErrorCode(await r.text()));
    expect(await status('keep-me')).toBe(200);
    expect(await status('decoy')).toBe(200);
  });

  it('the KMS API answers a stranger with a 256 MiB chunked body without reading it (the Worker memory stays flat)', async () => {
    const stranger = new AwsClient({ accessKeyId: 'AKIDNOBODY', secretAccessKey: 'x'.repeat(40), service: 'kms', region: 'us-east-1' });
    const signed = await stranger.sign(`${g.endpoint}/`, {
      method: 'POST',
      body: '{}',
      headers: { 'x-amz-target': 'TrentService.ListKeys', 'content-type': 'application/x-amz-json-1.1' },
    });
    const headers: Record<string, string> = {};
    signed.headers.forEach((v, k) => {
      if (k !== 'content-length') headers[k] = v;
    });
    const send = (bytes: number) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = httpRequest(signed.url, { method: 'POST', headers: { ...headers, 'transfer-encoding': 'chunked' } }, (res) => {
          const parts: Buffer[] = [];
          res.on('data', (c: Buffer) => parts.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(parts).toString() }));
        });
        req.on('error', reject);
        const chunk = Buffer.alloc(1024 * 1024, 0x20);
        let sent = 0;
        const pump = () => {
          while (sent < bytes) {
            sent += chunk.length;
            if (!req.write(chunk)) return void req.once('drain', pump);
          }
          req.end();
        };
        pump();
      });
    // wrangler dev takes the whole body in before the Worker's workerd sees the request, so the
    // measure is the peak memory of the gateway's workerd processes (the old code's rose by ~1 GiB).
    await send(1024 * 1024);
    const before = workerdPeakMiB(g.innerPort);
    const r = await send(256 * 1024 * 1024);
    expect(r.status).toBe(400);
    expect((JSON.parse(r.body) as { __type: string }).__type).toBe('UnrecognizedClientException');
    const after = workerdPeakMiB(g.innerPort);
    expect(before.length).toBeGreaterThan(0);
    expect(Math.max(...after) - Math.max(...before)).toBeLessThan(64);
  });
});

allowLogLines(DELIBERATE_ABORT);

describe('failures in the middle of a body are answered, never uncaught', () => {
  const SIZE = 3 * 1024 * 1024;
  const stored = SIZE + 16 * Math.ceil(SIZE / 262_144);
  const logSince = (from: number) => readFileSync(g.logFile, 'utf8').slice(from);

  it('a ciphertext byte flipped after the first read aborts the body and is logged as an integrity failure', async () => {
    const key = uniq('tamper-late');
    const started = Date.now() - 1000;
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: random(SIZE) }));
    const up = inject('upstream');
    const files = up
      ? filesUnder(up.dir).filter((f) => f.path.endsWith(`${key}._S3rver_object`))
      : filesUnder(g.persistDir).filter((f) => f.size === stored && statSync(f.path).mtimeMs >= started);
    expect(files.length).toBe(1);
    const bytes = readFileSync(files[0].path);
    bytes[2.5 * 1024 * 1024] ^= 1;
    writeFileSync(files[0].path, bytes);

    const from = readFileSync(g.logFile, 'utf8').length;
    const r = await signer.fetch(`${g.endpoint}/${BUCKET}/${key}`);
    expect(r.status).toBe(200);
    let got = 0;
    const read = (async () => {
      const reader = r.body!.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        got += value.length;
      }
    })();
    await expect(read).rejects.toThrow();
    expect(got).toBeLessThan(SIZE);
    await new Promise((res) => setTimeout(res, 500));
    const log = logSince(from);
    expect(log).toContain('"event":"integrity-failure"');
    // The runtime's own report of the aborted body names the integrity error, and nothing else escaped.
    expect(unexpectedLogLines(log, []).every((l) => DELIBERATE_ABORT.test(l))).toBe(true);
    expect(unexpectedLogLines(log)).toEqual([]);
  });

  it('a client that goes away in the middle of a GET or a PUT leaves nothing uncaught', async () => {
    const key = uniq('walk-away');
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: random(SIZE) }));
    const from = readFileSync(g.logFile, 'utf8').length;
    const ac = new AbortController();
    const r = await signer.fetch(`${g.endpoint}/${BUCKET}/${key}`, { signal: ac.signal });
    const reader = r.body!.getReader();
    await reader.read();
    ac.abort();
    await reader.closed.catch(() => {});
    await new Promise((res) => setTimeout(res, 1000));
    // wrangler dev's own proxy may log "Network connection lost." when the local front closes the
    // connection of a client that went away mid-GET (it did in 1 of 3 CI runs); the gateway logs nothing.
    expect(unexpectedLogLines(logSince(from), [DELIBERATE_ABORT, DEV_SERVER_HANG_UP])).toEqual([]);
    // A PUT whose body stops half-way: the client hangs up.
    await new Promise<void>((resolve) => {
      void signer
        .sign(`${g.endpoint}/${BUCKET}/${key}-put`, { method: 'PUT', headers: { 'content-length': String(SIZE) }, body: null })
        .then((signed) => {
          const h: Record<string, string> = {};
          signed.headers.forEach((v, k) => {
            h[k] = v;
          });
          const req = httpRequest(signed.url, { method: 'PUT', headers: { ...h, 'content-length': String(SIZE) } });
          req.on('error', () => resolve());
          req.write(Buffer.alloc(1024 * 1024));
          setTimeout(() => {
            req.destroy();
            resolve();
          }, 300);
        });
    });
    await new Promise((res) => setTimeout(res, 1000));
    // wrangler dev's own front answers a request whose client hung up mid-body with a 503 and logs
    // "Uncaught Error: Network connection lost." for it; the gateway itself reports nothing.
    expect(unexpectedLogLines(logSince(from), [DELIBERATE_ABORT, DEV_SERVER_HANG_UP])).toEqual([]);
    expect(await status(`${key}-put`)).toBe(404);
  });
});

describe('XML values exactly as sent', () => {
  it('DeleteObjects (AWS SDK) deletes "a " and " " and leaves "a" alone', async () => {
    for (const k of ['a', 'a ', ' ', ' a']) await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: k, Body: `[${k}]` }));
    const r = await s3.send(new DeleteObjectsCommand({ Bucket: BUCKET, Delete: { Objects: [{ Key: 'a ' }, { Key: ' ' }] } }));
    expect((r.Deleted ?? []).map((d) => d.Key).sort()).toEqual([' ', 'a ']);
    expect(r.Errors ?? []).toEqual([]);
    expect(await text('a')).toBe('[a]');
    expect(await text(' a')).toBe('[ a]');
    expect(await status('a ')).toBe(404);
    expect(await status(' ')).toBe(404);
  });
});

describe('keys cannot leave their bucket', () => {
  it('keys with dot segments: stored as named on R2, refused on an upstream bucket (where fetch would resolve them)', async () => {
    const proxy = inject('backend') === 'proxy';
    const traversal = `x/../../${OTHER}/payroll.csv`;
    // The key's "/" sent as %2F keeps its dots inside one segment of the gateway's own URL
    // (a literal "/../" would be resolved by the runtime before the Worker sees it).
    const encoded = s3Client();
    encoded.middlewareStack.add(
      (next) => async (args) => {
        const r = args.request as { path: string };
        const m = /^\/([^/]+)\/(.+)$/.exec(r.path);
        if (m) r.path = `/${m[1]}/${encodeURIComponent(decodeURIComponent(m[2]))}`;
        return next(args);
      },
      { step: 'build' },
    );
    const put = encoded.send(new PutObjectCommand({ Bucket: BUCKET, Key: traversal, Body: 'overwritten' }));
    const get = () => encoded.send(new GetObjectCommand({ Bucket: BUCKET, Key: traversal }));
    if (proxy) {
      await expect(put).rejects.toMatchObject({ name: 'InvalidArgument' });
      await expect(get()).rejects.toMatchObject({ name: 'InvalidArgument' });
      await expect(
        encoded.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'x/../.sealbucket/bucket', Body: '{}' })),
      ).rejects.toMatchObject({ name: 'InvalidArgument' });
    } else {
      await put;
      expect((await sdkBody(await get())).toString()).toBe('overwritten');
    }
    const del = await s3.send(new DeleteObjectsCommand({ Bucket: BUCKET, Delete: { Objects: [{ Key: traversal }] } }));
    if (proxy) expect(del.Errors?.[0]?.Code).toBe('InvalidArgument');
    // The other bucket's object is untouched whatever the layout.
    const other = await sdkBody(await s3.send(new GetObjectCommand({ Bucket: OTHER, Key: 'payroll.csv' })));
    expect(other.toString()).toBe('name,salary\nalice,100');
  });

  it('a key too long for the layout is refused with KeyTooLongError, leaving nothing behind', async () => {
    await expect(s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'k'.repeat(1020), Body: 'x' }))).rejects.toMatchObject({
      name: 'KeyTooLongError',
    });
  });
});

describe('no race loses data', () => {
  it('UploadPart in flight during CompleteMultipartUpload: the object reads back intact, every time', async () => {
    const first = random(5 * 1024 * 1024);
    for (let round = 0; round < 6; round++) {
      const key = `race-${round}`;
      const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: key }));
      const p1 = await s3.send(new UploadPartCommand({ Bucket: BUCKET, Key: key, UploadId, PartNumber: 1, Body: first }));
      const p2 = await s3.send(new UploadPartCommand({ Bucket: BUCKET, Key: key, UploadId, PartNumber: 2, Body: 'tail one' }));
      const parts = (etag2: string | undefined) => ({
        Parts: [
          { PartNumber: 1, ETag: p1.ETag },
          { PartNumber: 2, ETag: etag2 },
        ],
      });
      const complete = s3
        .send(new CompleteMultipartUploadCommand({ Bucket: BUCKET, Key: key, UploadId, MultipartUpload: parts(p2.ETag) }))
        .catch((e: Error) => e);
      const retry = s3
        .send(new UploadPartCommand({ Bucket: BUCKET, Key: key, UploadId, PartNumber: 2, Body: 'tail two' }))
        .catch((e: Error) => e);
      const [done, again] = await Promise.all([complete, retry]);
      // Either Complete came first (the retried part is refused: NoSuchUpload), or the retry replaced
      // part 2 first (Complete names a stale ETag: InvalidPart, and completes with the new one).
      let tail = 'tail one';
      if (done instanceof Error) {
        expect(done.name, `round ${round}`).toBe('InvalidPart');
        expect(again).not.toBeInstanceOf(Error);
        await s3.send(
          new CompleteMultipartUploadCommand({
            Bucket: BUCKET,
            Key: key,
            UploadId,
            MultipartUpload: parts((again as { ETag?: string }).ETag),
          }),
        );
        tail = 'tail two';
      } else if (again instanceof Error) expect(again.name, `round ${round}`).toBe('NoSuchUpload');
      const got = await sdkBody(await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key })));
      expect(got.length, `round ${round}`).toBe(first.length + 8);
      expect(md5(got.subarray(0, first.length))).toBe(md5(first));
      expect(got.subarray(first.length).toString()).toBe(tail);
    }
  });

  it('DeleteBucket aborts uploads in progress, as S3 does: a bucket made again under the name inherits none', async () => {
    const b = uniq('harden-busy').toLowerCase();
    await s3.send(new CreateBucketCommand({ Bucket: b }));
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: b, Key: 'pending' }));
    await s3.send(new DeleteBucketCommand({ Bucket: b }));
    await s3.send(new CreateBucketCommand({ Bucket: b }));
    expect((await s3.send(new ListMultipartUploadsCommand({ Bucket: b }))).Uploads ?? []).toEqual([]);
    await expect(s3.send(new AbortMultipartUploadCommand({ Bucket: b, Key: 'pending', UploadId }))).rejects.toMatchObject({
      name: 'NoSuchUpload',
    });
    await s3.send(new DeleteBucketCommand({ Bucket: b }));
  });

  it('leaves no .sealbucket/t/ temporaries upstream', async () => {
    const up = inject('upstream');
    if (!up) return;
    const dir = join(up.dir, up.bucket);
    if (!existsSync(dir)) return;
    const temporaries = filesUnder(dir).filter((f) => f.path.includes('/.sealbucket/t/'));
    expect(temporaries).toEqual([]);
  });
});
