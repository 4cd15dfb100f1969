// Clients configured for the gateway started by setup.ts, and small test utilities.

import { execFile, execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { S3Client, type S3ClientConfig, S3ServiceException } from '@aws-sdk/client-s3';
import { AwsClient } from 'aws4fetch';
import COS from 'cos-nodejs-sdk-v5';
import { inject } from 'vitest';
import { proxyVars } from './setup';

/** Settings for a test's own gateway, on the suite's backend (a fresh upstream root for the proxy). */
export function backendVars(): Record<string, string> {
  const u = inject('upstream');
  return u ? proxyVars(u.endpoint, uniq('gw')) : {};
}

export const gateway = () => ({
  endpoint: inject('endpoint'),
  port: inject('port'),
  /** wrangler dev's own port, behind the local front on `port`. */
  innerPort: inject('innerPort'),
  accessKeyId: inject('accessKeyId'),
  secretAccessKey: inject('secretAccessKey'),
  cosBaseDomain: inject('cosBaseDomain'),
  persistDir: inject('persistDir'),
  logFile: inject('logFile'),
});

// ---------------------------------------------------------------- AWS SDK v3

/**
 * An S3Client with the SDK's default settings apart from where to go and who
 * to be. The defaults matter: uploads use aws-chunked bodies with CRC32 trailers,
 * and bodies of 2 MiB and up go after `Expect: 100-continue` (the front answers it).
 */
export function s3Client(overrides: Partial<S3ClientConfig> = {}): S3Client {
  const g = gateway();
  return new S3Client({
    endpoint: g.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: g.accessKeyId, secretAccessKey: g.secretAccessKey },
    forcePathStyle: true,
    ...overrides,
  });
}

// ---------------------------------------------------------------- COS SDK

export const COS_APPID = '1250000000';
export const COS_REGION = 'ap-guangzhou';

/**
 * A cos-nodejs-sdk-v5 client. Version 3 of the SDK refuses `ForcePathStyle`
 * ("ForcePathStyle is not supported"; it only does virtual-hosted style), so it
 * builds "http://<bucket-appid>.cos.e2e.test:<port>/<key>" from `Domain`
 * (the gateway runs with BASE_DOMAINS=cos.e2e.test) and its `Ip` option sends
 * each request to 127.0.0.1:<port> with that name in the Host header, which is
 * also the host it signs.
 */
export function cosClient(opts: { secretKey?: string } = {}): COS {
  const g = gateway();
  return new COS({
    SecretId: g.accessKeyId,
    SecretKey: opts.secretKey ?? g.secretAccessKey,
    Domain: `{Bucket}.${g.cosBaseDomain}:${g.port}`,
    Ip: `127.0.0.1:${g.port}`,
    Protocol: 'http:',
    Timeout: 60_000,
  });
}

// ---------------------------------------------------------------- aws CLI

export const AWS_BIN = findAws();
export const hasAws = AWS_BIN !== undefined;

function findAws(): string | undefined {
  try {
    const p = execFileSync('sh', ['-c', 'command -v aws'], { encoding: 'utf8', timeout: 10_000 }).trim();
    return p || undefined;
  } catch {
    return undefined;
  }
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `aws --endpoint-url <gateway> ...args` with the test (root) credentials, or `as`'s, in the
 * environment and user configuration shut out (config and credentials files
 * point at /dev/null unless `configFile` names a config to use).
 */
export function aws(
  args: string[],
  opts: { configFile?: string; timeoutMs?: number; as?: { accessKeyId: string; secretAccessKey: string } } = {},
): Promise<CliResult> {
  const g = gateway();
  if (!AWS_BIN) throw new Error('aws CLI not found on PATH');
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    LANG: 'C.UTF-8',
    AWS_ACCESS_KEY_ID: opts.as?.accessKeyId ?? g.accessKeyId,
    AWS_SECRET_ACCESS_KEY: opts.as?.secretAccessKey ?? g.secretAccessKey,
    AWS_DEFAULT_REGION: 'us-east-1',
    AWS_CONFIG_FILE: opts.configFile ?? '/dev/null',
    AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
    AWS_PAGER: '',
  };
  // pyenv shims need these to find the interpreter.
  for (const k of ['PYENV_ROOT', 'PYENV_VERSION']) if (process.env[k]) env[k] = process.env[k];
  return new Promise((resolve) => {
    execFile(
      AWS_BIN!,
      ['--endpoint-url', g.endpoint, ...args],
      { env, timeout: opts.timeoutMs ?? 90_000, maxBuffer: 16 * 1024 * 1024, encoding: 'utf8' },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

// ---------------------------------------------------------------- data

export const random = (n: number): Buffer => randomBytes(n);
export const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
export const md5 = (b: Uint8Array): string => createHash('md5').update(b).digest('hex');
export const uniq = (p: string): string => `${p}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;

export function tempDir(prefix = 'sealbucket-e2e-files-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export { readFileSync, writeFileSync };

/** Every regular file below dir (recursively), with its size. */
export function filesUnder(dir: string): { path: string; size: number }[] {
  const out: { path: string; size: number }[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) out.push({ path: p, size: statSync(p).size });
    }
  };
  walk(dir);
  return out;
}

/** The files below dir whose raw bytes contain needle. */
export function filesContaining(dir: string, needle: Uint8Array): string[] {
  return filesUnder(dir)
    .filter((f) => readFileSync(f.path).indexOf(needle) >= 0)
    .map((f) => f.path);
}

/** The files below dir that name `text` in their path or hold it in their bytes (s3rver keeps keys in file names, R2 in its database). */
export function filesNaming(dir: string, text: string): string[] {
  const rel = (p: string) => p.slice(dir.length);
  return filesUnder(dir)
    .filter((f) => rel(f.path).includes(text) || readFileSync(f.path).indexOf(Buffer.from(text)) >= 0)
    .map((f) => f.path);
}

/**
 * CRC-64/ECMA-182 as COS reports it in x-cos-hash-crc64ecma (reflected, init
 * and xorout all ones: the CRC-64/XZ parameters), as an unsigned decimal string.
 */
export function crc64ecma(b: Uint8Array): string {
  let crc = 0xffffffffffffffffn;
  for (const byte of b) crc = CRC64_TABLE[Number((crc ^ BigInt(byte)) & 0xffn)] ^ (crc >> 8n);
  return (crc ^ 0xffffffffffffffffn).toString();
}

const CRC64_TABLE: bigint[] = (() => {
  const poly = 0xc96c5795d7870f42n;
  const t: bigint[] = [];
  for (let i = 0; i < 256; i++) {
    let c = BigInt(i);
    for (let k = 0; k < 8; k++) c = c & 1n ? (c >> 1n) ^ poly : c >> 1n;
    t.push(c);
  }
  return t;
})();

/** GET a URL with node:http, sending `host` as the Host header (for virtual-hosted names that do not resolve). */
export function httpGet(
  url: string,
  host: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const g = gateway();
    const req = httpRequest(
      { host: '127.0.0.1', port: g.port, method: 'GET', path: u.pathname + u.search, headers: { ...headers, host }, timeout: 30_000 },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

// ---------------------------------------------------------------- raw signed requests

/**
 * A SigV4-signed request (aws4fetch, UNSIGNED-PAYLOAD) straight to the gateway,
 * for requests the SDKs will not produce (malformed SSE-C headers and the like).
 * `path` starts with "/<bucket>".
 */
export async function signedFetch(
  method: string,
  path: string,
  init: { headers?: Record<string, string>; body?: Uint8Array | string } = {},
): Promise<Response> {
  const g = gateway();
  const client = new AwsClient({ accessKeyId: g.accessKeyId, secretAccessKey: g.secretAccessKey, service: 's3', region: 'us-east-1' });
  const req = await client.sign(g.endpoint + path, { method, headers: init.headers, body: init.body ?? null });
  return fetch(req);
}

/** The <Code> of an S3/COS XML error body. */
export const xmlErrorCode = (xml: string): string | undefined => /<Code>([^<]+)<\/Code>/.exec(xml)?.[1];

/** The S3 error an @aws-sdk/client-s3 call fails with (name = S3 error code, and the HTTP status). */
export async function s3Error(p: Promise<unknown>): Promise<{ name: string; status: number | undefined; message: string }> {
  try {
    await p;
  } catch (e) {
    if (e instanceof S3ServiceException) return { name: e.name, status: e.$metadata.httpStatusCode, message: e.message };
    throw e;
  }
  throw new Error('expected the call to fail, but it succeeded');
}

/** The error a cos-nodejs-sdk-v5 call fails with. */
export async function cosError(
  p: Promise<unknown>,
): Promise<{ statusCode?: number; code?: string; message?: string; headers?: Record<string, string> }> {
  try {
    await p;
  } catch (e) {
    return e as { statusCode?: number; code?: string; message?: string };
  }
  throw new Error('expected the call to fail, but it succeeded');
}

/** The whole body of a GetObject answer. */
export const sdkBody = async (r: { Body?: { transformToByteArray(): Promise<Uint8Array> } }): Promise<Buffer> =>
  Buffer.from(await r.Body!.transformToByteArray());

// ---------------------------------------------------------------- SSE-C keys

export interface SseCKey {
  /** The 32 key bytes. */
  raw: Buffer;
  /** base64 of the key, as the x-*-customer-key header carries it. */
  b64: string;
  /** base64 of the MD5 of the key, as the x-*-customer-key-MD5 header carries it. */
  md5: string;
}

/** An SSE-C key: 32 random bytes, or the bytes of a 32-character string (the aws CLI's `--sse-c-key` form). */
export function sseCKey(raw: Buffer | string = randomBytes(32)): SseCKey {
  const b = typeof raw === 'string' ? Buffer.from(raw, 'utf8') : raw;
  if (b.length !== 32) throw new Error('an SSE-C key is 32 bytes');
  return { raw: b, b64: b.toString('base64'), md5: createHash('md5').update(b).digest('base64') };
}

/** The three SSE-C request headers for a key; prefix "x-amz-" / "x-cos-" (or "x-amz-copy-source-" for a copy source). */
export function sseCHeaders(k: SseCKey, prefix = 'x-amz-'): Record<string, string> {
  return {
    [`${prefix}server-side-encryption-customer-algorithm`]: 'AES256',
    [`${prefix}server-side-encryption-customer-key`]: k.b64,
    [`${prefix}server-side-encryption-customer-key-MD5`]: k.md5,
  };
}

/**
 * Every encoding a leaked key could be written in: the raw bytes (also what a
 * 32-character `--sse-c-key` string is), base64 (with and without padding),
 * base64url, and hex in both cases.
 */
export function keyEncodings(k: SseCKey): { name: string; bytes: Buffer }[] {
  const b64 = k.raw.toString('base64');
  return [
    { name: 'raw', bytes: k.raw },
    { name: 'base64', bytes: Buffer.from(b64) },
    { name: 'base64 unpadded', bytes: Buffer.from(b64.replace(/=+$/, '')) },
    { name: 'base64url', bytes: Buffer.from(k.raw.toString('base64url')) },
    { name: 'hex', bytes: Buffer.from(k.raw.toString('hex')) },
    { name: 'HEX', bytes: Buffer.from(k.raw.toString('hex').toUpperCase()) },
  ];
}

/**
 * Searches every file below dir (recursively, raw bytes, one file in memory at
 * a time) for each needle; returns "<what> in <path>" for every hit. A file
 * that disappears between listing and reading (SQLite -shm/-wal files come and
 * go while the gateway runs) is skipped; any other read error fails.
 */
export function findInFiles(dir: string, needles: { what: string; bytes: Buffer }[]): string[] {
  const hits: string[] = [];
  for (const f of filesUnder(dir)) {
    let bytes: Buffer;
    try {
      bytes = readFileSync(f.path);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw e;
    }
    for (const n of needles) if (bytes.includes(n.bytes)) hits.push(`${n.what} in ${f.path}`);
  }
  return hits;
}
