// The local front (scripts/lib/front.mjs) before wrangler dev, as `npm start` and this suite run
// it: it answers `Expect: 100-continue` at once, survives answers given before a body has
// arrived, keeps what production's edge owns out of clients' hands, and (over HTTPS) lets SSE-C
// run without SSE_C_ALLOW_HTTP. Also what the edge would change: a signed Accept-Encoding and
// compression.

import { execFile } from 'node:child_process';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { Agent, request as httpsRequest } from 'node:https';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { AwsClient } from 'aws4fetch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { onPath } from '../../scripts/lib/tools.mjs';
import {
  backendVars,
  gateway,
  random,
  readFileSync,
  s3Client,
  sdkBody,
  sha256,
  signedFetch,
  sseCKey,
  tempDir,
  uniq,
  writeFileSync,
  xmlErrorCode,
} from './helpers';
import { type Gateway, startGateway } from './setup';

const BUCKET = uniq('front');

const signer = () => {
  const g = gateway();
  return new AwsClient({ accessKeyId: g.accessKeyId, secretAccessKey: g.secretAccessKey, service: 's3', region: 'us-east-1' });
};

interface Raw {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** A request by node:http, which neither adds nor decodes a Content-Encoding. */
function raw(method: string, path: string, headers: Record<string, string>, body?: Buffer): Promise<Raw> {
  const g = gateway();
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port: g.port, method, path, headers, timeout: 60_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end(body);
  });
}

/** A signed request's headers as a plain object (Host included, as signed). */
async function signedHeaders(method: string, path: string, headers: Record<string, string> = {}, body?: Buffer) {
  const g = gateway();
  const req = await signer().sign(g.endpoint + path, { method, headers, body });
  const out: Record<string, string> = { host: `127.0.0.1:${g.port}` };
  req.headers.forEach((v, k) => {
    out[k] = v;
  });
  return out;
}

/** Reads from a socket until `done(text so far)` holds; resolves with the text. */
function readUntil(sock: Socket, done: (text: string) => boolean): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    const onData = (b: Buffer) => {
      text += b.toString('latin1');
      if (done(text)) {
        sock.off('data', onData);
        resolve(text);
      }
    };
    sock.on('data', onData);
    sock.once('error', reject);
    sock.once('close', () => resolve(text));
  });
}

beforeAll(async () => {
  await s3Client().send(new CreateBucketCommand({ Bucket: BUCKET }));
});

describe('Expect: 100-continue', () => {
  it('is answered with 100 Continue before any body byte is sent', async () => {
    const g = gateway();
    const body = random(64 * 1024);
    const path = `/${BUCKET}/continue.bin`;
    const headers = await signedHeaders('PUT', path, { 'content-length': String(body.length) }, body);
    const sock = connect(g.port, '127.0.0.1');
    await new Promise((r) => sock.once('connect', r));
    const head = [`PUT ${path} HTTP/1.1`, ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`), 'Expect: 100-continue', '', ''];
    sock.write(head.join('\r\n'));
    const interim = await readUntil(sock, (t) => t.includes('\r\n\r\n'));
    expect(interim.split('\r\n')[0]).toBe('HTTP/1.1 100 Continue');
    sock.write(body);
    const final = await readUntil(sock, (t) => /\r\n\r\n/.test(t) && /^HTTP\/1\.1 \d+/.test(t));
    sock.destroy();
    expect(final.split('\r\n')[0]).toBe('HTTP/1.1 200 OK');
    const back = await signedFetch('GET', path);
    expect(sha256(new Uint8Array(await back.arrayBuffer()))).toBe(sha256(body));
  });

  it('an SDK upload on default settings (which sends it for bodies of 2 MiB and up) round-trips', async () => {
    const s3 = s3Client();
    const data = random(3 * 1024 * 1024);
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'sdk-continue.bin', Body: data }));
    expect(sha256(await sdkBody(await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'sdk-continue.bin' }))))).toBe(sha256(data));
    s3.destroy();
  });
});

/** Sends a whole request (headers, then all of `bodyBytes`) and only then reads the answer, as python requests does. */
function sendAllThenRead(head: string, bodyBytes: number): Promise<string> {
  const g = gateway();
  return new Promise((resolve) => {
    const sock = connect(g.port, '127.0.0.1', async () => {
      sock.write(head);
      const piece = Buffer.alloc(1024 * 1024, 0x61);
      for (let sent = 0; sent < bodyBytes; sent += piece.length) {
        const n = Math.min(piece.length, bodyBytes - sent);
        if (!sock.write(n === piece.length ? piece : piece.subarray(0, n))) await new Promise((r) => sock.once('drain', r));
      }
    });
    let text = '';
    sock.on('data', (b: Buffer) => {
      text += b.toString('latin1');
      const m = /content-length: (\d+)/i.exec(text);
      const end = text.indexOf('\r\n\r\n');
      if ((m && end >= 0 && text.length >= end + 4 + Number(m[1])) || text.endsWith('\r\n0\r\n\r\n')) sock.end();
    });
    sock.on('error', (e) => resolve(`error ${e.message}\n${text}`));
    sock.on('close', () => resolve(text));
  });
}

describe('an answer given before the body has arrived', () => {
  const SIZE = 8 * 1024 * 1024;

  it('reaches each client whole, and the gateway serves on', async () => {
    const g = gateway();
    const boundary = 'xXxFrontTest';
    const formHead =
      `--${boundary}\r\nContent-Disposition: form-data; name="key"\r\n\r\nk\r\n` +
      `--${boundary}\r\nContent-Disposition: form-data; name="AWSAccessKeyId"\r\n\r\nAKIDNOSUCHKEY\r\n` +
      `--${boundary}\r\nContent-Disposition: form-data; name="policy"\r\n\r\neyJ9\r\n` +
      `--${boundary}\r\nContent-Disposition: form-data; name="signature"\r\n\r\nbad\r\n` +
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="x"\r\n\r\n`;
    // An unsigned PUT, and a POST Object form whose credentials are refused, each of 8 MiB
    // that the gateway refuses before reading; and clients that hang up in the middle.
    const put = `PUT /${BUCKET}/refused HTTP/1.1\r\nHost: 127.0.0.1:${g.port}\r\nContent-Length: ${SIZE}\r\n\r\n`;
    const post = `POST /${BUCKET} HTTP/1.1\r\nHost: 127.0.0.1:${g.port}\r\nContent-Type: multipart/form-data; boundary=${boundary}\r\nContent-Length: ${formHead.length + SIZE}\r\n\r\n${formHead}`;
    const hangUps = Array.from({ length: 4 }, () => {
      const sock = connect(g.port, '127.0.0.1', () => {
        sock.write(put);
        sock.write(Buffer.alloc(2 * 1024 * 1024), () => sock.resetAndDestroy());
      });
      sock.on('error', () => {});
      return new Promise<string>((r) => sock.once('close', () => r('')));
    });
    // The unsigned PUT is AccessDenied; the form names an access key nobody has: InvalidAccessKeyId.
    const sent: [string, string][] = [
      [put, 'AccessDenied'],
      [post, 'InvalidAccessKeyId'],
      [put, 'AccessDenied'],
      [post, 'InvalidAccessKeyId'],
      [put, 'AccessDenied'],
      [post, 'InvalidAccessKeyId'],
    ];
    const answers = await Promise.all(sent.map(([h]) => sendAllThenRead(h, SIZE)));
    await Promise.all(hangUps);
    answers.forEach((a, i) => {
      const status = /^HTTP\/1\.1 (\d+)/.exec(a)?.[1];
      // The refusal itself, or, when wrangler dev reset the connection over its own answer, the
      // front's clear 502: never a torn or missing response.
      expect(['403', '502'], a.slice(0, 300)).toContain(status);
      if (status === '403') expect(xmlErrorCode(a)).toBe(sent[i][1]);
    });
    expect(answers.filter((a) => a.startsWith('HTTP/1.1 403')).length, 'no refusal reached its client').toBeGreaterThan(0);
    // Still serving: a signed round trip.
    const ok = await signedFetch('PUT', `/${BUCKET}/after-refusals`, { body: 'still here' });
    expect(ok.status).toBe(200);
    expect(await (await signedFetch('GET', `/${BUCKET}/after-refusals`)).text()).toBe('still here');
  });
});

describe('a signed Accept-Encoding (rclone signs it)', () => {
  const text = 'sealed text that an edge would gladly gzip. '.repeat(400);
  beforeAll(async () => {
    const r = await signedFetch('PUT', `/${BUCKET}/text.txt`, { body: text, headers: { 'content-type': 'text/plain' } });
    expect(r.status).toBe(200);
  });

  it('verifies against what the client sent, and the body comes back uncompressed', async () => {
    const path = `/${BUCKET}/text.txt`;
    const r = await raw('GET', path, await signedHeaders('GET', path, { 'accept-encoding': 'gzip' }));
    expect(r.status, r.body.toString()).toBe(200);
    expect(r.headers['content-encoding']).toBe('identity');
    expect(r.body.toString()).toBe(text);
  });

  it('a ranged read gives exactly its bytes', async () => {
    const path = `/${BUCKET}/text.txt`;
    const r = await raw('GET', path, await signedHeaders('GET', path, { 'accept-encoding': 'gzip', range: 'bytes=100-4099' }));
    expect(r.status).toBe(206);
    expect(r.headers['content-length']).toBe('4000');
    expect(r.body.toString()).toBe(text.slice(100, 4100));
  });

  it('an altered Accept-Encoding fails the signature', async () => {
    const path = `/${BUCKET}/text.txt`;
    const headers = await signedHeaders('GET', path, { 'accept-encoding': 'gzip' });
    const r = await raw('GET', path, { ...headers, 'accept-encoding': 'gzip, br' });
    expect(r.status).toBe(403);
    expect(r.headers['content-encoding']).toBe('identity');
    expect(xmlErrorCode(r.body.toString())).toBe('SignatureDoesNotMatch');
  });

  it('a client cannot set the value itself (the front strips MF-CF-Blob)', async () => {
    const path = `/${BUCKET}/text.txt`;
    const headers = await signedHeaders('GET', path, { 'accept-encoding': 'forged' });
    const r = await raw('GET', path, {
      ...headers,
      'accept-encoding': 'gzip',
      'mf-cf-blob': JSON.stringify({ clientAcceptEncoding: 'forged' }),
    });
    expect(xmlErrorCode(r.body.toString())).toBe('SignatureDoesNotMatch');
  });

  it('an object stored with Content-Encoding: gzip comes back with exactly its stored bytes', async () => {
    const { gzipSync } = await import('node:zlib');
    const gz = gzipSync(Buffer.from(text));
    const path = `/${BUCKET}/stored.gz`;
    expect(
      (await signedFetch('PUT', path, { body: gz, headers: { 'content-encoding': 'gzip', 'content-type': 'text/plain' } })).status,
    ).toBe(200);
    const r = await raw('GET', path, await signedHeaders('GET', path, { 'accept-encoding': 'gzip' }));
    expect(r.headers['content-encoding']).toBe('gzip');
    expect(sha256(r.body)).toBe(sha256(gz));
  });
});

/** Runs rclone with a remote "gw" for the suite's gateway (configured by environment only). */
function rclone(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const g = gateway();
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    RCLONE_CONFIG: '/dev/null',
    RCLONE_CONFIG_GW_TYPE: 's3',
    RCLONE_CONFIG_GW_PROVIDER: 'Other',
    RCLONE_CONFIG_GW_ENDPOINT: g.endpoint,
    RCLONE_CONFIG_GW_ACCESS_KEY_ID: g.accessKeyId,
    RCLONE_CONFIG_GW_SECRET_ACCESS_KEY: g.secretAccessKey,
    RCLONE_CONFIG_GW_REGION: 'us-east-1',
    RCLONE_CONFIG_GW_FORCE_PATH_STYLE: 'true',
  };
  return new Promise((resolve) => {
    execFile(onPath('rclone') ?? 'rclone', args, { env, timeout: 60_000, encoding: 'buffer', maxBuffer: 64 << 20 }, (err, stdout, stderr) =>
      resolve({
        code: err ? (typeof err.code === 'number' ? err.code : -1) : 0,
        stdout: stdout.toString('latin1'),
        stderr: stderr.toString(),
      }),
    );
  });
}

describe('rclone (signs Accept-Encoding: gzip)', () => {
  it('downloads what it uploaded, whole and ranged', async () => {
    const { dir, cleanup } = tempDir();
    try {
      const text = Buffer.from('rclone text, compressible. '.repeat(5000));
      writeFileSync(join(dir, 'up.txt'), text);
      const up = await rclone(['copyto', join(dir, 'up.txt'), `gw:${BUCKET}/rclone/up.txt`]);
      expect(up.code, up.stderr).toBe(0);
      const down = await rclone(['copyto', `gw:${BUCKET}/rclone/up.txt`, join(dir, 'down.txt')]);
      expect(down.code, down.stderr).toBe(0);
      expect(sha256(readFileSync(join(dir, 'down.txt')))).toBe(sha256(text));
      const part = await rclone(['cat', '--offset', '1000', '--count', '5000', `gw:${BUCKET}/rclone/up.txt`]);
      expect(part.code, part.stderr).toBe(0);
      expect(part.stdout).toBe(text.subarray(1000, 6000).toString('latin1'));
    } finally {
      cleanup();
    }
  });
});

describe('a browser opening the endpoint', () => {
  it('is redirected to the console, which loads; an unsigned GET / for anyone else is 403', async () => {
    const g = gateway();
    const landing = await fetch(`${g.endpoint}/`, { redirect: 'manual', headers: { accept: 'text/html,*/*;q=0.8' } });
    expect(landing.status).toBe(302);
    const page = await fetch(new URL(landing.headers.get('location')!, g.endpoint));
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<html');
    const other = await fetch(`${g.endpoint}/`);
    expect(other.status).toBe(403);
    expect(other.headers.get('server')).toBe('sealbucket');
    expect(xmlErrorCode(await other.text())).toBe('AccessDenied');
  });
});

describe('HTTPS (npm start -- --https)', () => {
  let g: Gateway;
  beforeAll(async () => {
    g = await startGateway({ ...backendVars(), SSE_C_ALLOW_HTTP: 'false' }, { https: true });
  });
  afterAll(async () => {
    await g?.stop();
  });

  it('serves TLS, and SSE-C works there without SSE_C_ALLOW_HTTP', async () => {
    expect(g.endpoint.startsWith('https://')).toBe(true);
    const s3 = s3Client({
      endpoint: g.endpoint,
      credentials: { accessKeyId: g.accessKeyId, secretAccessKey: g.secretAccessKey },
      requestHandler: { httpsAgent: new Agent({ rejectUnauthorized: false }) },
    });
    const key = sseCKey();
    const sse = { SSECustomerAlgorithm: 'AES256', SSECustomerKey: key.b64, SSECustomerKeyMD5: key.md5 };
    const data = random(100_000);
    await s3.send(new CreateBucketCommand({ Bucket: 'tls' }));
    await s3.send(new PutObjectCommand({ Bucket: 'tls', Key: 'c', Body: data, ...sse }));
    expect(sha256(await sdkBody(await s3.send(new GetObjectCommand({ Bucket: 'tls', Key: 'c', ...sse }))))).toBe(sha256(data));
    s3.destroy();
  });

  it('wrangler dev behind the front serves TLS too (so the Worker sees https: URLs)', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const req = httpsRequest({ host: '127.0.0.1', port: g.innerPort, path: '/', rejectUnauthorized: false }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end();
    });
    expect(status).toBe(403);
  });
});
