// A streaming multipart/form-data reader for POST Object (browser form uploads).
//
// The text fields before the `file` part are read into memory (at most
// MAX_PRE_DATA bytes of body before the file content); the file part is handed
// back with its exact length, which R2 and the sealing layer need up front.
//
// RFC 2046 makes the CRLF after the closing delimiter optional, and clients
// differ (browsers, curl, undici, Python, Go send "\r\n--B--\r\n"; workerd's
// own FormData serializer ends with "\r\n--B--"). The length cannot be known
// exactly before the end of a body that is not buffered, so:
//  - when the rest of the body after the file part's headers is at most
//    SMALL_REST bytes, it is read whole and the file ends exactly where the
//    closing delimiter starts (either form is accepted);
//  - otherwise the file is streamed with
//      length = Content-Length - (bytes before the file content) - len("\r\n--B--\r\n")
//    holding back that closing delimiter and checking it byte for byte at the
//    end. The content is also scanned for the delimiter as it streams, so a body
//    whose file is not the last part, or that ends early, errors the stream and
//    nothing becomes visible.

import { S3Error } from '../protocol/errors';

/** Body bytes allowed before the file content (fields, part headers, delimiters). */
export const MAX_PRE_DATA = 20 * 1024;

/** Up to this many bytes after the file part's headers are read whole (one default segment). */
export const SMALL_REST = 256 * 1024;

export interface FormFile {
  /** The filename of the part's Content-Disposition ('' when none). */
  filename: string;
  /** The part's Content-Type, if it has one. */
  contentType: string | undefined;
  /** Exact number of bytes `body` will deliver. */
  length: number;
  body: ReadableStream<Uint8Array>;
}

export interface Form {
  /** The fields before the file part, in order, names as sent. */
  fields: [string, string][];
  file: FormFile;
}

export const malformed = (why?: string): S3Error =>
  new S3Error('MalformedPOSTRequest', `The body of your POST request is not well-formed multipart/form-data.${why ? ` ${why}` : ''}`, {
    status: 400,
  });

const tooLarge = () =>
  new S3Error('MaxPostPreDataLengthExceeded', 'Your POST request fields preceding the upload file were too large.', { status: 400 });

const enc = new TextEncoder();
const dec = new TextDecoder();

/** The boundary of a multipart/form-data Content-Type, or a 400. */
export function boundaryOf(contentType: string | null): string {
  const ct = contentType ?? '';
  if (!/^\s*multipart\/form-data\s*(;|$)/i.test(ct)) {
    throw new S3Error('PreconditionFailed', 'Bucket POST must be of the enclosure-type multipart/form-data', {
      fields: { Condition: 'Bucket POST must be of the enclosure-type-multipart/form-data' },
    });
  }
  const m = /;\s*boundary\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;\s]+))/i.exec(ct);
  const b = m ? (m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : m[2]) : '';
  // RFC 2046: 1 to 70 characters, and none of them CR or LF.
  if (!b || b.length > 70 || /[\r\n]/.test(b)) throw malformed('The Content-Type has no valid boundary.');
  return b;
}

function indexOf(hay: Uint8Array, needle: Uint8Array, from: number, end: number): number {
  const first = needle[0];
  const last = end - needle.length;
  outer: for (let i = Math.max(0, from); i <= last; i++) {
    if (hay[i] !== first) continue;
    for (let j = 1; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

const equal = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((x, i) => x === b[i]);

/** A growable window over the body for the part before the file content. */
class Window {
  private buf = new Uint8Array(4096);
  private end = 0;
  /** Index of the next unread byte in buf. */
  pos = 0;
  /** Body offset of buf[0]. */
  private base = 0;

  constructor(private reader: ReadableStreamDefaultReader<Uint8Array>) {}

  /** Body offset of the next unread byte. */
  get offset(): number {
    return this.base + this.pos;
  }

  get available(): number {
    return this.end - this.pos;
  }

  /** Reads one more chunk; false at the end of the body. */
  async more(): Promise<boolean> {
    let r: ReadableStreamReadResult<Uint8Array>;
    try {
      r = await this.reader.read();
    } catch {
      throw new S3Error('IncompleteBody');
    }
    if (r.done) return false;
    const chunk = r.value;
    if (this.pos > 0 && this.end + chunk.length > this.buf.length) {
      this.buf.copyWithin(0, this.pos, this.end);
      this.end -= this.pos;
      this.base += this.pos;
      this.pos = 0;
    }
    if (this.end + chunk.length > this.buf.length) {
      const grown = new Uint8Array(Math.max(this.buf.length * 2, this.end + chunk.length));
      grown.set(this.buf.subarray(0, this.end));
      this.buf = grown;
    }
    this.buf.set(chunk, this.end);
    this.end += chunk.length;
    return true;
  }

  /** Ensures n unread bytes (false if the body ends first). */
  async ensure(n: number): Promise<boolean> {
    while (this.available < n) if (!(await this.more())) return false;
    return true;
  }

  peek(n: number): Uint8Array {
    return this.buf.subarray(this.pos, this.pos + n);
  }

  skip(n: number) {
    this.pos += n;
  }

  /**
   * The bytes up to the next `needle`, consuming both. The pre-data limit is
   * enforced here: no token may end beyond MAX_PRE_DATA bytes into the body.
   */
  async until(needle: Uint8Array, what: string): Promise<Uint8Array> {
    let from = this.pos;
    for (;;) {
      const i = indexOf(this.buf, needle, from, this.end);
      if (i >= 0) {
        if (this.base + i + needle.length > MAX_PRE_DATA) throw tooLarge();
        const out = this.buf.slice(this.pos, i);
        this.pos = i + needle.length;
        return out;
      }
      if (this.base + this.end > MAX_PRE_DATA + needle.length) throw tooLarge();
      const seen = this.end - this.pos;
      if (!(await this.more())) throw malformed(`The body ended inside ${what}.`);
      // The buffer may have moved; keep searching where the last search stopped.
      from = this.pos + Math.max(0, seen - needle.length + 1);
    }
  }

  /** The unread bytes, handed over to the file stream. */
  rest(): Uint8Array {
    return this.buf.slice(this.pos, this.end);
  }

  /** Reads to the end of the body, expecting exactly n more bytes. */
  async readExactly(n: number): Promise<Uint8Array> {
    while (this.available < n && (await this.more()));
    if (this.available < n) throw new S3Error('IncompleteBody');
    if (this.available > n || (await this.more()))
      throw new S3Error('IncompleteBody', 'The request body is longer than the declared content length.');
    return this.rest();
  }
}

interface PartHead {
  name: string;
  filename: string | undefined;
  contentType: string | undefined;
}

function parseParams(v: string): Map<string, string> {
  const out = new Map<string, string>();
  const re = /;\s*([^=;\s]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;]*))/g;
  for (let m = re.exec(v); m; m = re.exec(v)) {
    const name = m[1].toLowerCase();
    const raw = m[2] !== undefined ? m[2].replace(/\\(["\\])/g, '$1') : m[3].trim();
    if (!out.has(name)) out.set(name, raw);
  }
  return out;
}

function parseHead(raw: Uint8Array): PartHead {
  let disposition: string | undefined;
  let contentType: string | undefined;
  for (const line of dec.decode(raw).split('\r\n')) {
    const i = line.indexOf(':');
    if (i <= 0) throw malformed('A part header is not "Name: value".');
    const name = line.slice(0, i).trim().toLowerCase();
    const value = line.slice(i + 1).trim();
    if (name === 'content-disposition') disposition = value;
    else if (name === 'content-type') contentType = value;
  }
  if (!disposition || !/^form-data\s*(;|$)/i.test(disposition)) throw malformed('Every part needs "Content-Disposition: form-data".');
  const params = parseParams(disposition.replace(/^form-data/i, ''));
  const name = params.get('name');
  if (name === undefined) throw malformed('A part has no field name.');
  let filename = params.get('filename');
  const star = params.get('filename*');
  if (star !== undefined) {
    const m = /^utf-8''(.*)$/i.exec(star);
    try {
      if (m) filename = decodeURIComponent(m[1]);
    } catch {
      /* keep the plain filename */
    }
  }
  return { name, filename, contentType };
}

const CRLF = enc.encode('\r\n');

/**
 * Reads the fields of a multipart/form-data body up to its `file` part and
 * returns them with a stream of the file content.
 */
export async function readForm(
  body: ReadableStream<Uint8Array> | null,
  contentType: string | null,
  contentLength: string | null,
): Promise<Form> {
  const boundary = boundaryOf(contentType);
  if (contentLength === null) throw new S3Error('MissingContentLength');
  if (!/^\d{1,16}$/.test(contentLength)) throw new S3Error('InvalidArgument', 'Content-Length is not a valid number.');
  const total = Number(contentLength);
  if (!body) throw malformed('The request has no body.');

  const dash = enc.encode(`--${boundary}`);
  const delimiter = enc.encode(`\r\n--${boundary}`);
  const closing = enc.encode(`\r\n--${boundary}--\r\n`);
  const reader = body.getReader();
  const w = new Window(reader);
  const fields: [string, string][] = [];
  try {
    // The first delimiter opens the body, or follows a preamble and a CRLF.
    if (!(await w.ensure(dash.length))) throw malformed('The body does not start with the boundary.');
    if (equal(w.peek(dash.length), dash)) w.skip(dash.length);
    else await w.until(delimiter, 'the preamble (the boundary was not found)');

    for (;;) {
      // After a delimiter: "--" closes the body, else transport padding and CRLF.
      if (!(await w.ensure(2))) throw malformed('The body ended after a boundary.');
      const two = w.peek(2);
      if (two[0] === 0x2d && two[1] === 0x2d)
        throw new S3Error('InvalidArgument', 'POST requires exactly one file upload per request.', {
          fields: { ArgumentName: 'file', ArgumentValue: '0' },
        });
      while ((await w.ensure(1)) && (w.peek(1)[0] === 0x20 || w.peek(1)[0] === 0x09)) w.skip(1);
      if (!(await w.ensure(2)) || !equal(w.peek(2), CRLF)) throw malformed('A boundary is not followed by CRLF.');
      w.skip(2);

      // Part headers end with an empty line (immediately, when there are none).
      if (!(await w.ensure(2))) throw malformed('The body ended inside part headers.');
      if (equal(w.peek(2), CRLF)) throw malformed('A part has no Content-Disposition header.');
      const head = parseHead(await w.until(enc.encode('\r\n\r\n'), 'part headers'));

      if (head.name.toLowerCase() === 'file') {
        const pre = w.offset;
        if (pre > MAX_PRE_DATA) throw tooLarge();
        const restLength = total - pre;
        if (restLength < delimiter.length + 2) throw malformed('Content-Length is too small for the form it declares.');
        const file = { filename: head.filename ?? '', contentType: head.contentType };
        if (restLength <= SMALL_REST) {
          const data = smallFile(await w.readExactly(restLength), delimiter);
          return { fields, file: { ...file, length: data.length, body: bytesStream(data) } };
        }
        const length = restLength - closing.length;
        return { fields, file: { ...file, length, body: fileStream(reader, w.rest(), length, delimiter, closing) } };
      }
      const value = await w.until(delimiter, `the field ${JSON.stringify(head.name)}`);
      fields.push([head.name, dec.decode(value)]);
    }
  } catch (e) {
    await drain(reader);
    throw e;
  }
}

/** Body bytes read and discarded after an error, so that the client (a browser) sees the error response. */
export const DRAIN_LIMIT = 1024 * 1024;

/**
 * Reads and discards the rest of a refused body, up to DRAIN_LIMIT bytes,
 * then cancels it. Browsers that are still sending when the server answers
 * and closes often show a connection reset instead of the error document.
 */
async function drain(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<void> {
  let n = 0;
  try {
    while (n <= DRAIN_LIMIT) {
      const r = await reader.read();
      if (r.done) return;
      n += r.value.length;
    }
    await reader.cancel();
  } catch {
    /* the body is gone either way */
  }
}

const noCrlf = () => malformed(`The closing boundary must be followed by CRLF when the file part is larger than ${SMALL_REST} bytes.`);

const AFTER_FILE = 'The file must be the last part of the form; fields after the file are not accepted.';

/** The file content of a rest-of-body read whole: up to the closing delimiter, which must end the body. */
function smallFile(rest: Uint8Array, delimiter: Uint8Array): Uint8Array {
  const at = indexOf(rest, delimiter, 0, rest.length);
  if (at < 0) throw malformed('The closing boundary is missing.');
  const after = rest.subarray(at + delimiter.length);
  // "--", then optional transport padding and CRLF; nothing else (RFC 2046 epilogues are not accepted).
  if (after[0] !== 0x2d || after[1] !== 0x2d) throw malformed(AFTER_FILE);
  if (!/^[ \t]*(\r\n)?$/.test(dec.decode(after.subarray(2)))) throw malformed('Nothing may follow the closing boundary.');
  return rest.slice(0, at);
}

function bytesStream(data: Uint8Array): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    start(c) {
      if (data.length) c.enqueue(data);
      c.close();
    },
  });
}

/** Finds a delimiter across chunk boundaries; reports body offsets of matches. */
class Scanner {
  private carry = new Uint8Array(0);
  private seen = 0;
  constructor(private needle: Uint8Array) {}

  /** The file-relative offset of the first delimiter in chunk (continuing the previous ones), or -1. */
  push(chunk: Uint8Array): number {
    const n = this.needle.length;
    let found = -1;
    if (this.carry.length) {
      // Matches that start in the carried tail of the previous chunks.
      const region = new Uint8Array(this.carry.length + Math.min(chunk.length, n - 1));
      region.set(this.carry);
      region.set(chunk.subarray(0, n - 1), this.carry.length);
      const i = indexOf(region, this.needle, 0, region.length);
      if (i >= 0 && i < this.carry.length) found = this.seen - this.carry.length + i;
    }
    if (found < 0) {
      const i = indexOf(chunk, this.needle, 0, chunk.length);
      if (i >= 0) found = this.seen + i;
    }
    const keep = Math.min(n - 1, this.carry.length + chunk.length);
    const next = new Uint8Array(keep);
    const fromChunk = Math.min(keep, chunk.length);
    next.set(this.carry.subarray(this.carry.length - (keep - fromChunk)));
    next.set(chunk.subarray(chunk.length - fromChunk), keep - fromChunk);
    this.carry = next;
    this.seen += chunk.length;
    return found;
  }
}

/**
 * Exactly `length` bytes of file content; the `closing.length` bytes after
 * them are held back and must be the closing delimiter, and the delimiter must
 * not occur anywhere before it.
 */
function fileStream(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  first: Uint8Array,
  length: number,
  delimiter: Uint8Array,
  closing: Uint8Array,
): ReadableStream<Uint8Array> {
  const hold = closing.length;
  const scanner = new Scanner(delimiter);
  let pending = new Uint8Array(0);
  let emitted = 0;
  let started = false;

  /** Emits what is surely file content from pending + chunk; keeps the rest pending. */
  const take = (ctl: ReadableStreamDefaultController<Uint8Array>, chunk: Uint8Array): boolean => {
    const at = scanner.push(chunk);
    if (at >= 0 && at < length) throw malformed(AFTER_FILE);
    // The closing delimiter 2 bytes late: the body ends "--B--" without the CRLF the length assumed.
    if (at > length) throw at === length + 2 ? noCrlf() : malformed();
    const n = Math.min(pending.length + chunk.length - hold, length - emitted);
    let out = false;
    let a = 0;
    let b = 0;
    if (n > 0) {
      a = Math.min(n, pending.length);
      b = n - a;
      if (a > 0) ctl.enqueue(pending.slice(0, a));
      if (b > 0) ctl.enqueue(chunk.slice(0, b));
      emitted += n;
      out = true;
    }
    const rest = new Uint8Array(pending.length - a + chunk.length - b);
    rest.set(pending.subarray(a));
    rest.set(chunk.subarray(b), pending.length - a);
    pending = rest;
    if (pending.length > hold) throw new S3Error('IncompleteBody', 'The request body is longer than the declared content length.');
    return out;
  };

  const finish = (ctl: ReadableStreamDefaultController<Uint8Array>) => {
    if (emitted < length || pending.length < hold) throw new S3Error('IncompleteBody');
    if (!equal(pending, closing)) {
      if (equal(pending.subarray(2), closing.subarray(0, hold - 2))) throw noCrlf();
      throw malformed('The body must end with the closing boundary and CRLF.');
    }
    ctl.close();
  };

  return new ReadableStream<Uint8Array>(
    {
      async pull(ctl) {
        try {
          if (!started) {
            started = true;
            if (take(ctl, first)) return;
          }
          for (;;) {
            let r: ReadableStreamReadResult<Uint8Array>;
            try {
              r = await reader.read();
            } catch {
              throw new S3Error('IncompleteBody');
            }
            if (r.done) return finish(ctl);
            if (take(ctl, r.value)) return;
          }
        } catch (e) {
          await drain(reader);
          throw e;
        }
      },
      cancel: () => drain(reader),
    },
    { highWaterMark: 0 },
  );
}
