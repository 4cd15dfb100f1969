// An in-process, in-memory S3-compatible bucket, as a `fetch` function: just the REST calls
// src/store/upstream.ts makes, with S3's answers and XML errors. Path-style addressing only
// (`<endpoint>/<bucket>/<key>`); signatures are not checked.
//
// What it keeps to, because the proxy layout depends on it:
//  - an ETag is the MD5 of the bytes (also after a CopyObject, which keeps it when only the
//    metadata is replaced), and MD5-of-the-parts'-MD5s "-N" after CompleteMultipartUpload;
//  - Last-Modified has whole seconds, as S3's does;
//  - a metadata value with other than printable ASCII is answered RFC 2047-encoded, as S3 documents;
//  - keys over 1024 bytes of UTF-8 are refused (KeyTooLongError), and user metadata over 2 KB
//    (MetadataTooLarge: names and values, in UTF-8); listings are in UTF-8 byte order;
//  - CompleteMultipartUpload refuses a non-final part under `minPart` bytes (EntityTooSmall),
//    a part it does not hold or whose ETag differs (InvalidPart), and parts out of order;
//  - CopyObject and CompleteMultipartUpload honour S3's conditional writes on their destination
//    (If-None-Match: *, If-Match: <etag>; 412 PreconditionFailed), checked as the object is set.

interface Stored {
  bytes: Uint8Array;
  etag: string;
  lastModified: Date;
  meta: Record<string, string>;
  http: Record<string, string>;
}

interface Upload {
  key: string;
  meta: Record<string, string>;
  http: Record<string, string>;
  parts: Map<number, { bytes: Uint8Array; etag: string }>;
}

/** Response headers S3 stores with an object and answers it with. */
const HTTP_HEADERS = ['content-type', 'content-encoding', 'content-disposition', 'content-language', 'cache-control', 'expires'];
const MAX_KEY_BYTES = 1024;
const MAX_META_BYTES = 2048;
const utf8 = (s: string) => new TextEncoder().encode(s);
const hex = (b: ArrayBuffer) => [...new Uint8Array(b)].map((x) => x.toString(16).padStart(2, '0')).join('');
const md5 = async (b: Uint8Array) => hex(await crypto.subtle.digest('MD5', b));
const unquote = (s: string) => s.trim().replace(/^"(.*)"$/, '$1');
const xmlEscape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const xmlUnescape = (s: string) =>
  s
    .replace(/&quot;/g, '"')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
/** S3 times have whole seconds. */
const now = () => new Date(Math.floor(Date.now() / 1000) * 1000);

/** UTF-8 byte order, which is code point order (JS's < compares UTF-16 units). */
function compare(a: string, b: string): number {
  const x = [...a];
  const y = [...b];
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const d = x[i].codePointAt(0)! - y[i].codePointAt(0)!;
    if (d) return d;
  }
  return x.length - y.length;
}

class S3Failure extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message = code,
  ) {
    super(message);
  }
}

function xml(root: string, body: string, status = 200): Response {
  return new Response(`<?xml version="1.0" encoding="UTF-8"?>\n<${root}>${body}</${root}>`, {
    status,
    headers: { 'content-type': 'application/xml' },
  });
}

const el = (name: string, v: string | number) => `<${name}>${xmlEscape(String(v))}</${name}>`;

function pick(h: Headers): { meta: Record<string, string>; http: Record<string, string> } {
  const meta: Record<string, string> = {};
  const http: Record<string, string> = {};
  h.forEach((v, k) => {
    if (k.startsWith('x-amz-meta-')) meta[k.slice(11)] = v;
    else if (HTTP_HEADERS.includes(k)) http[k] = v;
  });
  const size = Object.entries(meta).reduce((a, [k, v]) => a + utf8(k).length + utf8(v).length, 0);
  if (size > MAX_META_BYTES)
    throw new S3Failure(400, 'MetadataTooLarge', 'Your metadata headers exceed the maximum allowed metadata size.');
  return { meta, http };
}

export interface FakeUpstreamOptions {
  /** The bucket it holds (requests for another answer NoSuchBucket). */
  bucket: string;
  /** Smallest non-final part CompleteMultipartUpload accepts (S3: 5 MiB). */
  minPart?: number;
  /**
   * S3's conditional writes on a CopyObject or CompleteMultipartUpload destination: honoured
   * (S3, the default), ignored (as s3rver does), or refused with 501 NotImplemented.
   */
  conditionalWrites?: 'honour' | 'ignore' | 'refuse';
}

export class FakeUpstream {
  readonly objects = new Map<string, Stored>();
  readonly uploads = new Map<string, Upload>();
  private readonly bucket: string;
  private readonly minPart: number;
  private readonly conditionalWrites: 'honour' | 'ignore' | 'refuse';

  constructor(o: FakeUpstreamOptions) {
    this.bucket = o.bucket;
    this.minPart = o.minPart ?? 5 * 1024 * 1024;
    this.conditionalWrites = o.conditionalWrites ?? 'honour';
  }

  /** The upstream as a fetch function (for ProxyLayout's third argument). */
  readonly fetch: typeof fetch = async (input, init) => {
    const req = new Request(input, init);
    try {
      return await this.handle(req);
    } catch (e) {
      if (!(e instanceof S3Failure)) throw e;
      // A HEAD answer has no body.
      if (req.method === 'HEAD') return new Response(null, { status: e.status });
      return xml('Error', el('Code', e.code) + el('Message', e.message) + el('RequestId', 'fake'), e.status);
    }
  };

  private async handle(req: Request): Promise<Response> {
    const url = new URL(req.url);
    const path = url.pathname.slice(1);
    const slash = path.indexOf('/');
    const bucket = decodeURIComponent(slash < 0 ? path : path.slice(0, slash));
    const key = slash < 0 ? null : decodeURIComponent(path.slice(slash + 1));
    const q = url.searchParams;
    if (bucket !== this.bucket) throw new S3Failure(404, 'NoSuchBucket');
    const m = req.method;
    if (key === null || key === '') {
      if (m === 'GET' && q.get('list-type') === '2') return this.list(q);
      throw new S3Failure(501, 'NotImplemented');
    }
    if (utf8(key).length > MAX_KEY_BYTES) throw new S3Failure(400, 'KeyTooLongError', 'Your key is too long');
    // The object itself, a copy onto it, or (by query) its multipart uploads.
    const on = q.has('uploads') ? 'uploads' : q.has('uploadId') ? 'upload' : req.headers.has('x-amz-copy-source') ? 'copy' : 'object';
    const id = q.get('uploadId') ?? '';
    switch (`${m} ${on}`) {
      case 'HEAD object':
      case 'GET object':
        return this.get(key, req);
      case 'PUT object':
        return this.put(key, req);
      case 'PUT copy':
        return this.copy(key, req);
      case 'DELETE object':
        this.objects.delete(key);
        return new Response(null, { status: 204 });
      case 'POST uploads':
        return this.create(key, req);
      case 'PUT upload':
        return this.part(key, req, id, q.get('partNumber'));
      case 'POST upload':
        return this.complete(key, req, id);
      case 'DELETE upload':
        this.upload(key, id);
        this.uploads.delete(id);
        return new Response(null, { status: 204 });
    }
    throw new S3Failure(501, 'NotImplemented');
  }

  private headers(o: Stored): Headers {
    const h = new Headers({ etag: `"${o.etag}"`, 'last-modified': o.lastModified.toUTCString(), 'accept-ranges': 'bytes', ...o.http });
    // S3 answers a value with other than printable ASCII RFC 2047-encoded (and takes one that way too).
    for (const [k, v] of Object.entries(o.meta))
      h.set(`x-amz-meta-${k}`, /^[\x20-\x7e]*$/.test(v) ? v : `=?UTF-8?B?${btoa(String.fromCharCode(...utf8(v)))}?=`);
    return h;
  }

  private get(key: string, req: Request): Response {
    const o = this.objects.get(key);
    if (!o) throw new S3Failure(404, 'NoSuchKey', 'The specified key does not exist.');
    const h = this.headers(o);
    const size = o.bytes.length;
    const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.get('range') ?? '');
    if (!range) {
      h.set('content-length', String(size));
      return new Response(req.method === 'HEAD' ? null : o.bytes.slice(), { status: 200, headers: h });
    }
    const start = Number(range[1]);
    const end = Math.min(range[2] ? Number(range[2]) : size - 1, size - 1);
    if (start >= size || end < start) throw new S3Failure(416, 'InvalidRange', 'The requested range is not satisfiable');
    h.set('content-range', `bytes ${start}-${end}/${size}`);
    h.set('content-length', String(end + 1 - start));
    return new Response(req.method === 'HEAD' ? null : o.bytes.slice(start, end + 1), { status: 206, headers: h });
  }

  private async put(key: string, req: Request): Promise<Response> {
    const bytes = new Uint8Array(await req.arrayBuffer());
    const { meta, http } = pick(req.headers);
    const etag = await md5(bytes);
    this.objects.set(key, { bytes, etag, lastModified: now(), meta, http });
    return new Response(null, { status: 200, headers: { etag: `"${etag}"` } });
  }

  private async copy(key: string, req: Request): Promise<Response> {
    const source = decodeURIComponent(req.headers.get('x-amz-copy-source')!.replace(/^\//, ''));
    const from = source.slice(source.indexOf('/') + 1);
    if (source.slice(0, source.indexOf('/')) !== this.bucket) throw new S3Failure(404, 'NoSuchBucket');
    const src = this.objects.get(from);
    if (!src) throw new S3Failure(404, 'NoSuchKey', 'The specified key does not exist.');
    const ifMatch = req.headers.get('x-amz-copy-source-if-match');
    if (ifMatch !== null && unquote(ifMatch) !== src.etag)
      throw new S3Failure(412, 'PreconditionFailed', 'At least one of the pre-conditions you specified did not hold');
    const replace = req.headers.get('x-amz-metadata-directive') === 'REPLACE';
    if (from === key && !replace)
      throw new S3Failure(
        400,
        'InvalidRequest',
        "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata.",
      );
    const { meta, http } = replace ? pick(req.headers) : src;
    // A copy is a new single-part object: its ETag is the MD5 of its bytes.
    const o: Stored = { bytes: src.bytes, etag: await md5(src.bytes), lastModified: now(), meta, http };
    this.replacing(key, req);
    this.objects.set(key, o);
    return xml('CopyObjectResult', el('LastModified', o.lastModified.toISOString()) + el('ETag', `"${o.etag}"`));
  }

  /** S3's conditional write on the destination, checked with no await before the object is set (so atomically). */
  private replacing(key: string, req: Request): void {
    const o = this.objects.get(key);
    const ifNoneMatch = req.headers.get('if-none-match');
    const ifMatch = req.headers.get('if-match');
    if (this.conditionalWrites === 'ignore' || (ifNoneMatch === null && ifMatch === null)) return;
    if (this.conditionalWrites === 'refuse')
      throw new S3Failure(501, 'NotImplemented', 'A header you provided implies functionality that is not implemented');
    const failed = 'At least one of the pre-conditions you specified did not hold';
    if (ifNoneMatch !== null && o) throw new S3Failure(412, 'PreconditionFailed', failed);
    if (ifMatch !== null && !o) throw new S3Failure(404, 'NoSuchKey', 'The specified key does not exist.');
    if (ifMatch !== null && o && unquote(ifMatch) !== o.etag) throw new S3Failure(412, 'PreconditionFailed', failed);
  }

  private list(q: URLSearchParams): Response {
    const prefix = q.get('prefix') ?? '';
    const delimiter = q.get('delimiter') || undefined;
    const max = Math.min(Number(q.get('max-keys') ?? 1000), 1000);
    const token = q.get('continuation-token');
    // The token names the last key or common prefix the previous page gave.
    const after = token !== null ? token.slice(2) : (q.get('start-after') ?? undefined);
    const pastPrefix = token?.startsWith('P:') ? token.slice(2) : undefined;
    const keys = [...this.objects.keys()].filter((k) => k.startsWith(prefix)).sort(compare);
    const contents: string[] = [];
    const prefixes: string[] = [];
    let last = '';
    let truncated = false;
    for (const k of keys) {
      if (after !== undefined && compare(k, after) <= 0) continue;
      if (pastPrefix !== undefined && k.startsWith(pastPrefix)) continue;
      const i = delimiter ? k.indexOf(delimiter, prefix.length) : -1;
      const common = i >= 0 ? k.slice(0, i + delimiter!.length) : undefined;
      if (common !== undefined && common === prefixes[prefixes.length - 1]) continue;
      if (contents.length + prefixes.length >= max) {
        truncated = true;
        break;
      }
      if (common !== undefined) {
        prefixes.push(common);
        last = `P:${common}`;
      } else {
        contents.push(k);
        last = `K:${k}`;
      }
    }
    const url = (s: string) => encodeURIComponent(s);
    const coded = q.get('encoding-type') === 'url' ? url : (s: string) => s;
    const body = [
      el('Name', this.bucket),
      el('Prefix', coded(prefix)),
      delimiter ? el('Delimiter', coded(delimiter)) : '',
      el('MaxKeys', max),
      el('KeyCount', contents.length + prefixes.length),
      el('IsTruncated', String(truncated)),
      q.get('encoding-type') === 'url' ? el('EncodingType', 'url') : '',
      token !== null ? el('ContinuationToken', token) : '',
      truncated ? el('NextContinuationToken', last) : '',
      ...contents.map((k) => {
        const o = this.objects.get(k)!;
        return `<Contents>${el('Key', coded(k))}${el('LastModified', o.lastModified.toISOString())}${el('ETag', `"${o.etag}"`)}${el('Size', o.bytes.length)}${el('StorageClass', 'STANDARD')}</Contents>`;
      }),
      ...prefixes.map((p) => `<CommonPrefixes>${el('Prefix', coded(p))}</CommonPrefixes>`),
    ].join('');
    return xml('ListBucketResult', body);
  }

  private create(key: string, req: Request): Response {
    const id = crypto.randomUUID().replace(/-/g, '');
    this.uploads.set(id, { key, ...pick(req.headers), parts: new Map() });
    return xml('InitiateMultipartUploadResult', el('Bucket', this.bucket) + el('Key', key) + el('UploadId', id));
  }

  private upload(key: string, id: string): Upload {
    const up = this.uploads.get(id);
    if (!up || up.key !== key) throw new S3Failure(404, 'NoSuchUpload', 'The specified upload does not exist.');
    return up;
  }

  private async part(key: string, req: Request, id: string, partNumber: string | null): Promise<Response> {
    const up = this.upload(key, id);
    const n = Number(partNumber);
    if (!Number.isInteger(n) || n < 1 || n > 10000)
      throw new S3Failure(400, 'InvalidArgument', 'Part number must be an integer between 1 and 10000, inclusive');
    const bytes = new Uint8Array(await req.arrayBuffer());
    const etag = await md5(bytes);
    up.parts.set(n, { bytes, etag });
    return new Response(null, { status: 200, headers: { etag: `"${etag}"` } });
  }

  private async complete(key: string, req: Request, id: string): Promise<Response> {
    const up = this.upload(key, id);
    const asked = [...(await req.text()).matchAll(/<Part>([\s\S]*?)<\/Part>/g)].map(([, p]) => ({
      n: Number(/<PartNumber>(\d+)<\/PartNumber>/.exec(p)?.[1]),
      etag: unquote(xmlUnescape(/<ETag>([\s\S]*?)<\/ETag>/.exec(p)?.[1] ?? '')),
    }));
    if (!asked.length) throw new S3Failure(400, 'MalformedXML');
    const parts = asked.map((a, i) => {
      if (i && a.n <= asked[i - 1].n) throw new S3Failure(400, 'InvalidPartOrder');
      const p = up.parts.get(a.n);
      if (!p || p.etag !== a.etag) throw new S3Failure(400, 'InvalidPart');
      if (i < asked.length - 1 && p.bytes.length < this.minPart) throw new S3Failure(400, 'EntityTooSmall');
      return p;
    });
    const bytes = new Uint8Array(parts.reduce((a, p) => a + p.bytes.length, 0));
    const md5s = new Uint8Array(parts.length * 16);
    let at = 0;
    parts.forEach((p, i) => {
      bytes.set(p.bytes, at);
      at += p.bytes.length;
      md5s.set(
        p.etag.match(/../g)!.map((x) => parseInt(x, 16)),
        i * 16,
      );
    });
    const etag = `${await md5(md5s)}-${parts.length}`;
    this.replacing(key, req);
    this.objects.set(key, { bytes, etag, lastModified: now(), meta: up.meta, http: up.http });
    this.uploads.delete(id);
    return xml('CompleteMultipartUploadResult', el('Bucket', this.bucket) + el('Key', key) + el('ETag', `"${etag}"`));
  }
}
