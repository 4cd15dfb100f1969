// Shared helpers for the auth, chunked and checksum tests. The aws-chunked
// encoder here is written independently of src/ (its own HMAC chain) so that
// round trips do not just test the code against itself.
import { expect } from 'vitest';
import type { SecretLookup } from '../../../src/auth/types';
import { S3Error } from '../../../src/s3/protocol/errors';

export const enc = (s: string) => new TextEncoder().encode(s);
export const lookupOf =
  (keys: Record<string, string>): SecretLookup =>
  async (ak) =>
    keys[ak];

/** A stream that delivers `bytes` in pieces of the given size(s). */
export function streamOf(bytes: Uint8Array, piece: number | (() => number) = bytes.length || 1): ReadableStream<Uint8Array> {
  let i = 0;
  return new ReadableStream<Uint8Array>({
    pull(c) {
      if (i >= bytes.length) return c.close();
      const n = Math.max(1, typeof piece === 'number' ? piece : piece());
      c.enqueue(bytes.slice(i, i + n));
      i += n;
    },
  });
}

export async function readAll(s: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  return new Uint8Array(await new Response(s).arrayBuffer());
}

/** Reads until the stream ends or errors; returns the bytes seen and the error. */
export async function drain(s: ReadableStream<Uint8Array>): Promise<{ bytes: number; error?: unknown }> {
  const r = s.getReader();
  let bytes = 0;
  try {
    for (;;) {
      const { value, done } = await r.read();
      if (done) return { bytes };
      bytes += value.length;
    }
  } catch (error) {
    return { bytes, error };
  }
}

export async function expectS3Error(p: Promise<unknown> | (() => unknown), code: string, message?: string | RegExp): Promise<S3Error> {
  let err: unknown;
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    err = e;
  }
  expect(err, `expected S3Error ${code}`).toBeInstanceOf(S3Error);
  const e = err as S3Error;
  expect(e.code).toBe(code);
  if (typeof message === 'string') expect(e.message).toBe(message);
  else if (message) expect(e.message).toMatch(message);
  return e;
}

export function concat(...parts: (Uint8Array | string)[]): Uint8Array {
  const bs = parts.map((p) => (typeof p === 'string' ? enc(p) : p));
  const out = new Uint8Array(bs.reduce((n, b) => n + b.length, 0));
  let o = 0;
  for (const b of bs) {
    out.set(b, o);
    o += b.length;
  }
  return out;
}

const hex = (b: ArrayBuffer) => [...new Uint8Array(b)].map((x) => x.toString(16).padStart(2, '0')).join('');
const hmacRaw = async (key: ArrayBuffer | Uint8Array, msg: string) =>
  crypto.subtle.sign('HMAC', await crypto.subtle.importKey('raw', key, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']), enc(msg));
export const sha256Hex = async (b: Uint8Array | string) => hex(await crypto.subtle.digest('SHA-256', typeof b === 'string' ? enc(b) : b));

/** Builds a signed aws-chunked body (optionally with signed trailers) the way SDKs do. */
export async function signedChunkedBody(opts: {
  secret: string;
  datetime: string;
  region: string;
  seed: string;
  data: Uint8Array;
  chunkSize: number;
  trailers?: [string, string][];
  corrupt?: 'chunk' | 'trailer';
}): Promise<Uint8Array> {
  const date = opts.datetime.slice(0, 8);
  let k: ArrayBuffer = await hmacRaw(enc(`AWS4${opts.secret}`), date);
  for (const p of [opts.region, 's3', 'aws4_request']) k = await hmacRaw(k, p);
  const scope = `${date}/${opts.region}/s3/aws4_request`;
  const empty = await sha256Hex('');
  let prev = opts.seed;
  const parts: (Uint8Array | string)[] = [];
  for (let off = 0; ; off += opts.chunkSize) {
    const chunk = opts.data.subarray(off, Math.min(off + opts.chunkSize, opts.data.length));
    let sig = hex(await hmacRaw(k, ['AWS4-HMAC-SHA256-PAYLOAD', opts.datetime, scope, prev, empty, await sha256Hex(chunk)].join('\n')));
    if (opts.corrupt === 'chunk' && off > 0) sig = sig.replace(/^./, (c) => (c === '0' ? '1' : '0'));
    parts.push(`${chunk.length.toString(16)};chunk-signature=${sig}\r\n`);
    prev = sig;
    if (!chunk.length) break;
    parts.push(chunk, '\r\n');
  }
  if (opts.trailers) {
    const canonical = opts.trailers.map(([n, v]) => `${n}:${v}\n`).join('');
    let sig = hex(await hmacRaw(k, ['AWS4-HMAC-SHA256-TRAILER', opts.datetime, scope, prev, await sha256Hex(canonical)].join('\n')));
    if (opts.corrupt === 'trailer') sig = sig.replace(/^./, (c) => (c === '0' ? '1' : '0'));
    for (const [n, v] of opts.trailers) parts.push(`${n}:${v}\r\n`);
    parts.push(`x-amz-trailer-signature:${sig}\r\n`);
  }
  parts.push('\r\n');
  return concat(...parts);
}

/** STREAMING-UNSIGNED-PAYLOAD-TRAILER framing. */
export function unsignedChunkedBody(data: Uint8Array, chunkSize: number, trailers: [string, string][] = []): Uint8Array {
  const parts: (Uint8Array | string)[] = [];
  for (let off = 0; off < data.length; off += chunkSize) {
    const chunk = data.subarray(off, Math.min(off + chunkSize, data.length));
    parts.push(`${chunk.length.toString(16)}\r\n`, chunk, '\r\n');
  }
  parts.push('0\r\n', ...trailers.map(([n, v]) => `${n}:${v}\r\n`), '\r\n');
  return concat(...parts);
}

/**
 * A browser-form upload (POST Object) signed with SigV4 by `creds`, with its own HMAC chain: every
 * field in `fields` (key included) is also one of the policy's conditions, beside the bucket.
 */
export async function sigV4PostForm(
  creds: { accessKeyId: string; secretAccessKey: string },
  bucket: string,
  fields: Record<string, string>,
  file: { body: Uint8Array | string; type?: string } = { body: 'form body' },
): Promise<FormData> {
  const date = new Date().toISOString().replace(/[:-]|\.\d{3}/g, '');
  const day = date.slice(0, 8);
  const signed: Record<string, string> = {
    ...fields,
    'x-amz-algorithm': 'AWS4-HMAC-SHA256',
    'x-amz-credential': `${creds.accessKeyId}/${day}/us-east-1/s3/aws4_request`,
    'x-amz-date': date,
  };
  const conditions = [{ bucket }, ...Object.entries(signed).map(([k, v]) => ({ [k]: v }))];
  const policy = btoa(JSON.stringify({ expiration: new Date(Date.now() + 3600_000).toISOString(), conditions }));
  let k: ArrayBuffer = await hmacRaw(enc(`AWS4${creds.secretAccessKey}`), day);
  for (const p of ['us-east-1', 's3', 'aws4_request']) k = await hmacRaw(k, p);
  const fd = new FormData();
  for (const [n, v] of Object.entries({ ...signed, policy, 'x-amz-signature': hex(await hmacRaw(k, policy)) })) fd.append(n, v);
  const body = typeof file.body === 'string' ? enc(file.body) : file.body;
  fd.append('file', new File([body], 'f.txt', file.type ? { type: file.type } : {}));
  return fd;
}
