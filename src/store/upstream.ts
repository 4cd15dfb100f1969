// Client for an upstream S3-compatible bucket: SigV4 by aws4fetch, answers read with
// fast-xml-parser. Web-standard only, so the same code runs in the Worker and in Node.

import { AwsClient } from 'aws4fetch';
import { XMLParser } from 'fast-xml-parser';
import { toHex } from '../crypto/bytes';
import type { HttpMeta } from './types';

export interface UpstreamConfig {
  endpoint: string;
  region: string;
  bucket: string;
  accessKeyId: string;
  secretAccessKey: string;
  pathStyle: boolean; // true: endpoint/bucket/key; false: bucket.endpoint-host/key
}

/** Streamed bodies are sent once, without a timeout. */
export interface UpstreamOptions {
  retries?: number; // default 3
  baseDelayMs?: number; // default 100, doubling, full jitter
  timeoutMs?: number; // per attempt (default 30000), up to the answer's headers and XML: a GET's body may take longer
  fetch?: typeof fetch;
}

export interface UpstreamObject {
  key: string;
  size: number; // the whole object's, also for a ranged get
  etag: string; // unquoted
  lastModified: Date;
  meta: Record<string, string>; // x-amz-meta-* without the prefix, names lowercased
  http: HttpMeta;
}

export interface UpstreamListing {
  objects: { key: string; size: number; etag: string; lastModified: Date }[];
  prefixes: string[];
  truncated: boolean;
  token?: string; // NextContinuationToken
}

export interface WriteMeta {
  meta?: Record<string, string>;
  http?: HttpMeta;
}

/** A conditional write's demand on the object it replaces upstream (S3's If-Match / If-None-Match: *). */
export type Replacing = { etag: string } | { absent: true };

function replacingHeaders(r: Replacing | undefined): Record<string, string> {
  if (!r) return {};
  return 'absent' in r ? { 'if-none-match': '*' } : { 'if-match': `"${unquote(r.etag)}"` };
}

/** Status 0 with code 'Unreachable' or 'Timeout' when no answer came. Never carries the
 * upstream's body (S3's echoes the string to sign), the request's headers or the credentials. */
export class UpstreamError extends Error {
  override name = 'UpstreamError';
  constructor(
    message: string,
    public status: number,
    public code: string,
    public retryable: boolean,
    cause?: unknown,
  ) {
    super(message, cause === undefined ? undefined : { cause });
  }
}

// biome-ignore lint/suspicious/noExplicitAny: parsed XML has no static shape; every leaf is read through str()
type Xml = Record<string, any>;
type Read<T> = (res: Response) => Promise<T>;
/** `ok`: error statuses handed to the reader instead of thrown. */
interface Call {
  query?: Record<string, string | undefined>;
  headers?: Record<string, string>;
  body?: ReadableStream<Uint8Array> | Uint8Array | null;
  length?: number;
  ok?: number[];
}

const HTTP: [keyof HttpMeta, string][] = [
  ['contentType', 'content-type'],
  ['contentEncoding', 'content-encoding'],
  ['contentDisposition', 'content-disposition'],
  ['contentLanguage', 'content-language'],
  ['cacheControl', 'cache-control'],
  ['expires', 'expires'],
];
const RETRYABLE_CODES = new Set(['SlowDown', 'RequestTimeout', 'InternalError', 'ServiceUnavailable']);
// A HEAD answer has no body to read a code from.
const HEAD_CODES: Record<number, string> = { 400: 'BadRequest', 403: 'Forbidden', 404: 'NotFound', 412: 'PreconditionFailed' };
const CONCURRENT_DELETES = 8;

// Values untrimmed, as keys may begin or end with spaces; htmlEntities also decodes numeric references.
const parser = new XMLParser({
  ignoreAttributes: true,
  parseTagValue: false,
  trimValues: false,
  htmlEntities: true,
  isArray: (n) => n === 'Contents' || n === 'CommonPrefixes',
});

const enc = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
const encodeKey = (key: string) => enc(key).replace(/%2F/g, '/');
const str = (v: unknown) => (typeof v === 'string' ? v : '');
const unquote = (etag: string) => etag.trim().replace(/^"(.*)"$/, '$1');
const empty = () => new Blob([]).stream() as ReadableStream<Uint8Array>;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function fail(method: string, status: number, code: string, detail = ''): UpstreamError {
  code = /^[A-Za-z0-9.]{1,64}$/.test(code) ? code : '';
  // 501 Not Implemented is a standing answer (a header or call this server lacks), not a passing one.
  const retryable = (status >= 500 && status !== 501) || status === 429 || RETRYABLE_CODES.has(code);
  return new UpstreamError(`upstream ${method} answered ${status}${code ? ` ${code}` : ''}${detail}`, status, code, retryable);
}

function parse(text: string): Xml {
  try {
    const doc = parser.parse(text);
    return doc && typeof doc === 'object' ? doc : {};
  } catch {
    return {};
  }
}

async function answerError(method: string, res: Response): Promise<UpstreamError> {
  if (method === 'HEAD') return fail(method, res.status, HEAD_CODES[res.status] ?? '');
  return fail(method, res.status, str(parse(await res.text().catch(() => '')).Error?.Code).trim());
}

/** The answer's root element. S3 may answer 200 with an <Error> instead (CompleteMultipartUpload, CopyObject). */
async function xmlRoot(method: string, res: Response, root: string): Promise<Xml> {
  const doc = parse(await res.text());
  if (doc[root] !== undefined) return typeof doc[root] === 'object' ? doc[root] : {};
  const code = str(doc.Error?.Code).trim();
  throw fail(method, res.status, code, code ? '' : ` without a ${root}`);
}

/** Whether a 404 means no such key; a missing bucket is a configuration error, thrown. */
async function missing(method: string, res: Response): Promise<boolean> {
  if (res.status !== 404) return false;
  const e = await answerError(method, res);
  if (e.code === 'NoSuchBucket') throw e;
  return true;
}

function toObject(key: string, h: Headers): UpstreamObject {
  const meta: Record<string, string> = {};
  h.forEach((v, k) => {
    if (k.startsWith('x-amz-meta-')) meta[k.slice(11)] = v;
  });
  const http: HttpMeta = {};
  for (const [field, name] of HTTP) if (h.has(name)) http[field] = h.get(name)!;
  const total = /\/(\d+)\s*$/.exec(h.get('content-range') ?? '');
  const size = Number(total ? total[1] : (h.get('content-length') ?? 0));
  return { key, size, etag: unquote(h.get('etag') ?? ''), lastModified: new Date(h.get('last-modified') ?? 0), meta, http };
}

function writeHeaders(w: WriteMeta = {}): Record<string, string> {
  const h: Record<string, string> = {};
  for (const [k, v] of Object.entries(w.meta ?? {})) h[`x-amz-meta-${k.toLowerCase()}`] = v;
  for (const [field, name] of HTTP) if (w.http?.[field] !== undefined) h[name] = w.http[field]!;
  return h;
}

const sha256 = async (data: Uint8Array): Promise<string> => toHex(await crypto.subtle.digest('SHA-256', data as Uint8Array<ArrayBuffer>));

/** `body`, failed unless exactly `length` bytes. Its error goes to `seen`, for the caller to get back rather than the fetch failure it causes. */
function exact(body: ReadableStream<Uint8Array>, length: number, seen: { error?: unknown }, fail: () => void): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  let n = 0;
  let cancelled = false;
  return new ReadableStream<Uint8Array>({
    async pull(ctl) {
      try {
        const r = await reader.read();
        // Cancelled by the request failing: that failure, not a short body, is what happened.
        if (cancelled) return;
        n += r.done ? 0 : r.value.byteLength;
        if (n > length || (r.done && n < length))
          throw new Error(`body has ${r.done ? n : `more than ${length}`} bytes, declared ${length}`);
        if (r.done) ctl.close();
        else ctl.enqueue(r.value);
      } catch (error) {
        seen.error ??= error;
        reader.cancel(error).catch(() => {});
        // The request is aborted instead of its body errored: the runtime reports a subrequest
        // body that fails as an uncaught exception, and an aborted fetch as nothing.
        fail();
      }
    },
    cancel: (why) => {
      cancelled = true;
      return reader.cancel(why);
    },
  });
}

export class Upstream {
  private aws: AwsClient;
  private send: (req: Request) => Promise<Response>;
  private opts: Required<Omit<UpstreamOptions, 'fetch'>>;

  constructor(
    private cfg: UpstreamConfig,
    opts: UpstreamOptions = {},
  ) {
    const { accessKeyId, secretAccessKey, region } = cfg;
    this.aws = new AwsClient({ accessKeyId, secretAccessKey, region, service: 's3', retries: 0 });
    // Through a closure: workerd's fetch throws "Illegal invocation" when called as another object's method.
    const f = opts.fetch ?? fetch;
    this.send = (req) => f(req);
    this.opts = { retries: opts.retries ?? 3, baseDelayMs: opts.baseDelayMs ?? 100, timeoutMs: opts.timeoutMs ?? 30_000 };
  }

  /** null on 404 (which, without a body, may also mean the bucket is missing). */
  head(key: string): Promise<UpstreamObject | null> {
    return this.call('HEAD', key, { ok: [404] }, async (res) => (res.status === 404 ? null : toObject(key, res.headers)));
  }

  async get(
    key: string,
    range?: { offset: number; length: number },
  ): Promise<{ object: UpstreamObject; body: ReadableStream<Uint8Array> } | null> {
    if (range?.length === 0) {
      // "bytes=a-b" cannot ask for nothing.
      const object = await this.head(key);
      return object && { object, body: empty() };
    }
    const headers: Record<string, string> = range ? { range: `bytes=${range.offset}-${range.offset + range.length - 1}` } : {};
    return this.call('GET', key, { headers, ok: [404] }, async (res) =>
      (await missing('GET', res))
        ? null
        : { object: toObject(key, res.headers), body: (res.body as ReadableStream<Uint8Array> | null) ?? empty() },
    );
  }

  put(key: string, body: ReadableStream<Uint8Array> | Uint8Array | null, length: number, w?: WriteMeta): Promise<{ etag: string }> {
    return this.call('PUT', key, { headers: writeHeaders(w), body, length }, async (res) => ({ etag: await etagOf(res) }));
  }

  /** Same bucket, metadata replaced. null when `ifMatch` (the source's) or `replacing` (the destination's) no longer holds. */
  copy(
    from: string,
    to: string,
    w: WriteMeta & { ifMatch?: string; replacing?: Replacing },
  ): Promise<{ etag: string; lastModified: Date } | null> {
    const headers: Record<string, string> = {
      ...writeHeaders(w),
      ...replacingHeaders(w.replacing),
      'x-amz-copy-source': `/${this.cfg.bucket}/${encodeKey(from)}`,
      'x-amz-metadata-directive': 'REPLACE',
    };
    if (w.ifMatch) headers['x-amz-copy-source-if-match'] = `"${unquote(w.ifMatch)}"`;
    return this.call('PUT', to, { headers, ok: [412] }, async (res) => {
      if (res.status === 412) {
        await res.arrayBuffer();
        return null;
      }
      const r = await xmlRoot('PUT', res, 'CopyObjectResult');
      return { etag: unquote(str(r.ETag)), lastModified: new Date(str(r.LastModified).trim()) };
    });
  }

  /** Single DELETEs, the most portable; a few at a time, stopping at the first failure. */
  async delete(keys: string[]): Promise<void> {
    let next = 0;
    let failed = false;
    const drop: Read<void> = async (res) => {
      if (!(await missing('DELETE', res))) await res.arrayBuffer();
    };
    const worker = async () => {
      try {
        while (!failed && next < keys.length) await this.call('DELETE', keys[next++], { ok: [404] }, drop);
      } catch (e) {
        failed = true;
        throw e;
      }
    };
    await Promise.all(Array.from({ length: Math.min(CONCURRENT_DELETES, keys.length) }, worker));
  }

  async list(o: { prefix: string; delimiter?: string; startAfter?: string; token?: string; limit: number }): Promise<UpstreamListing> {
    // encoding-type=url: keys may hold characters XML 1.0 cannot carry. Decoded only if the answer says so (s3rver ignores it).
    const query = {
      'list-type': '2',
      prefix: o.prefix || undefined,
      delimiter: o.delimiter || undefined,
      'start-after': o.startAfter || undefined,
      'continuation-token': o.token || undefined,
      'max-keys': String(o.limit),
      'encoding-type': 'url',
    };
    const r = await this.call('GET', null, { query }, (res) => xmlRoot('GET', res, 'ListBucketResult'));
    const dec = str(r.EncodingType).trim() === 'url' ? (s: string) => decodeURIComponent(s.replace(/\+/g, ' ')) : (s: string) => s;
    const objects = (r.Contents ?? []) as Xml[];
    return {
      objects: objects.map((c) => ({
        key: dec(str(c.Key)),
        size: Number(str(c.Size).trim()),
        etag: unquote(str(c.ETag)),
        lastModified: new Date(str(c.LastModified).trim()),
      })),
      prefixes: ((r.CommonPrefixes ?? []) as Xml[]).map((p) => dec(str(p.Prefix))),
      truncated: str(r.IsTruncated).trim() === 'true',
      token: str(r.NextContinuationToken).trim() || undefined,
    };
  }

  async createMultipart(key: string, w?: WriteMeta): Promise<string> {
    const r = await this.call('POST', key, { query: { uploads: '' }, headers: writeHeaders(w) }, (res) =>
      xmlRoot('POST', res, 'InitiateMultipartUploadResult'),
    );
    const id = str(r.UploadId).trim();
    if (!id) throw fail('POST', 200, '', ' without an UploadId');
    return id;
  }

  uploadPart(key: string, uploadId: string, part: number, body: ReadableStream<Uint8Array>, length: number): Promise<string> {
    return this.call('PUT', key, { query: { partNumber: String(part), uploadId }, body, length }, etagOf);
  }

  /** null when `replacing` no longer holds. */
  async completeMultipart(
    key: string,
    uploadId: string,
    parts: { part: number; etag: string }[],
    replacing?: Replacing,
  ): Promise<{ etag: string } | null> {
    const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
    const xml = parts.map((p) => `<Part><PartNumber>${p.part}</PartNumber><ETag>"${esc(unquote(p.etag))}"</ETag></Part>`).join('');
    const body = new TextEncoder().encode(`<CompleteMultipartUpload>${xml}</CompleteMultipartUpload>`);
    const call = { query: { uploadId }, headers: { 'content-type': 'application/xml', ...replacingHeaders(replacing) }, body, ok: [412] };
    return this.call('POST', key, call, async (res) => {
      if (res.status === 412) {
        await res.arrayBuffer();
        return null;
      }
      const r = await xmlRoot('POST', res, 'CompleteMultipartUploadResult');
      return { etag: unquote(str(r.ETag)) };
    });
  }

  /** Best effort: an unknown upload, or a server without abort (405/501), is not an error. */
  async abortMultipart(key: string, uploadId: string): Promise<void> {
    await this.call('DELETE', key, { query: { uploadId }, ok: [404, 405, 501] }, (res) => res.arrayBuffer());
  }

  private url(key: string | null, query: Record<string, string | undefined> = {}): string {
    const { endpoint, bucket, pathStyle } = this.cfg;
    const u = new URL(endpoint);
    if (!pathStyle) u.hostname = `${bucket}.${u.hostname}`;
    const path =
      u.pathname.replace(/\/+$/, '') + (pathStyle ? `/${enc(bucket)}` : '') + (key !== null ? `/${encodeKey(key)}` : pathStyle ? '' : '/');
    const qs = Object.entries(query).flatMap(([k, v]) => (v === undefined ? [] : [`${enc(k)}=${enc(v)}`]));
    return u.origin + path + (qs.length ? `?${qs.join('&')}` : '');
  }

  /** Sends the request, retrying it unless its body is a stream, and hands a 2xx or `ok` answer to `read`. */
  private async call<T>(method: string, key: string | null, c: Call, read: Read<T>): Promise<T> {
    const url = this.url(key, c.query);
    const headers = new Headers(c.headers);
    if (c.body instanceof ReadableStream) {
      // Not replayable, so one attempt; aws4fetch hashes the body unless told it is unsigned.
      headers.set('x-amz-content-sha256', 'UNSIGNED-PAYLOAD');
      const length = c.length ?? 0;
      const seen: { error?: unknown } = {};
      const cut = new AbortController();
      const body = exact(c.body, length, seen, () => cut.abort());
      const FixedLength = (globalThis as unknown as { FixedLengthStream?: new (n: number) => TransformStream<Uint8Array, Uint8Array> })
        .FixedLengthStream;
      let init: Record<string, unknown>;
      // A failed request must not leave the body's pipeline waiting on a connection that is gone.
      const stop = new AbortController();
      if (FixedLength) {
        // workerd sends a Content-Length with a stream body only for a FixedLengthStream.
        const fixed = new FixedLength(length);
        body.pipeTo(fixed.writable, { signal: stop.signal }).catch(() => {});
        init = { body: fixed.readable };
      } else {
        headers.set('content-length', String(length));
        init = { body, duplex: 'half' };
      }
      return this.attempt(method, url, headers, init, c.ok, read, 0, cut.signal).catch((e) => {
        stop.abort(e);
        return Promise.reject(seen.error ?? e);
      });
    }
    headers.set('x-amz-content-sha256', await sha256(c.body ?? new Uint8Array(0)));
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.attempt(method, url, headers, { body: c.body ?? null }, c.ok, read, this.opts.timeoutMs);
      } catch (e) {
        if (!(e instanceof UpstreamError) || !e.retryable || attempt >= this.opts.retries) throw e;
      }
      await sleep(Math.random() * Math.min(20_000, this.opts.baseDelayMs * 2 ** attempt));
    }
  }

  private async attempt<T>(
    method: string,
    url: string,
    headers: Headers,
    init: Record<string, unknown>,
    ok: number[] = [],
    read: Read<T>,
    timeoutMs: number,
    cut?: AbortSignal,
  ): Promise<T> {
    const ctl = new AbortController();
    cut?.addEventListener('abort', () => ctl.abort(), { once: true });
    let timedOut = false;
    const timer =
      timeoutMs > 0
        ? setTimeout(() => {
            timedOut = true;
            ctl.abort();
          }, timeoutMs)
        : undefined;
    try {
      const res = await this.send(await this.aws.sign(url, { method, headers, signal: ctl.signal, ...init } as RequestInit));
      if (!res.ok && !ok.includes(res.status)) throw await answerError(method, res);
      return await read(res);
    } catch (e) {
      if (e instanceof UpstreamError) throw e;
      const why = timedOut ? `timed out after ${timeoutMs} ms` : 'unreachable';
      throw new UpstreamError(`upstream ${method} ${why}`, 0, timedOut ? 'Timeout' : 'Unreachable', true, e);
    } finally {
      if (timer !== undefined) clearTimeout(timer);
    }
  }
}

async function etagOf(res: Response): Promise<string> {
  await res.arrayBuffer();
  return unquote(res.headers.get('etag') ?? '');
}
