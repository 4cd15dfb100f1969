// Turns a request body into its plaintext stream: undoes aws-chunked framing,
// checks chunk and trailer signatures, checksums, Content-MD5, the signed
// SHA-256 and the decoded length. Every failure errors the stream with an
// S3Error, and the last piece is held back until all checks pass, so a
// downstream writer never sees a successful end of a bad body.

import { EMPTY_SHA256, hmacHex } from '../../auth/canonical';
import type { Payload } from '../../auth/types';
import { parseB64, timingSafeEqual, toHex } from '../../crypto/bytes';
import { S3Error } from '../protocol/errors';
import { CHECKSUM_ALGORITHMS, CHECKSUM_LENGTH, type Checksum, type ChecksumAlgorithm, createChecksum } from './checksum';

/** Filled in when the stream completes successfully (left empty on pass-through). */
export interface PayloadInfo {
  decodedLength?: number;
  /** Verified checksums, base64, keyed by algorithm. */
  checksums: Partial<Record<ChecksumAlgorithm, string>>;
  /** Set at once: the algorithms the request carries a checksum of (header or declared trailer), in that order. */
  declared?: ChecksumAlgorithm[];
}

const NAMES: Record<ChecksumAlgorithm, string> = {
  crc32: 'CRC32',
  crc32c: 'CRC32C',
  crc64nvme: 'CRC64NVME',
  sha1: 'SHA1',
  sha256: 'SHA256',
};
const MAX_LINE = 4096;
const MIN_SIGNED_CHUNK = 8192;

const incomplete = () => new S3Error('IncompleteBody');
const malformed = (why: string) => new S3Error('InvalidRequest', `Malformed aws-chunked body: ${why}`);
const sameBytes = (a: Uint8Array, b: Uint8Array) => timingSafeEqual(a, b);

/** Pull-based reader that hands out views of the source chunks (no copies) and CRLF lines that may span reads. */
class Source {
  private buf: Uint8Array = new Uint8Array(0);
  private pos = 0;
  private readonly text = new TextDecoder();
  constructor(private readonly reader: ReadableStreamDefaultReader<Uint8Array>) {}

  private async more(): Promise<boolean> {
    for (;;) {
      const { value, done } = await this.reader.read();
      if (done) return false;
      if (value.byteLength) {
        this.buf = value;
        this.pos = 0;
        return true;
      }
    }
  }

  async take(max: number): Promise<Uint8Array | null> {
    if (this.pos >= this.buf.length && !(await this.more())) return null;
    const n = Math.min(max, this.buf.length - this.pos);
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  /** A CRLF-terminated line without its CRLF; null only at a clean end of stream. */
  async line(): Promise<string | null> {
    let line = '';
    for (;;) {
      if (this.pos >= this.buf.length && !(await this.more())) {
        if (line === '') return null;
        throw incomplete();
      }
      const nl = this.buf.indexOf(0x0a, this.pos);
      const end = nl < 0 ? this.buf.length : nl;
      if (line.length + end - this.pos > MAX_LINE) throw malformed('line too long');
      line += this.text.decode(this.buf.subarray(this.pos, end));
      this.pos = nl < 0 ? end : nl + 1;
      if (nl >= 0) {
        if (!line.endsWith('\r')) throw malformed('expected CRLF');
        return line.slice(0, -1);
      }
    }
  }
}

type Signed = Extract<Payload, { kind: 'chunked-signed' }>;

async function* plain(reader: ReadableStreamDefaultReader<Uint8Array>): AsyncGenerator<Uint8Array, void, undefined> {
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    if (value.byteLength) yield value;
  }
}

/** Yields chunk data as it arrives; a chunk's signature is checked once its last byte is in. */
async function* chunks(
  src: Source,
  signed: Signed | undefined,
  trailers: Map<string, string>,
): AsyncGenerator<Uint8Array, void, undefined> {
  let prev = signed?.seed ?? '';
  let short = false;
  for (;;) {
    const header = await src.line();
    if (header === null) throw incomplete();
    const [sizeHex, ...exts] = header.split(';');
    if (!/^[0-9a-fA-F]{1,12}$/.test(sizeHex)) throw malformed('bad chunk size');
    const size = parseInt(sizeHex, 16);
    const sig = exts.find((e) => e.startsWith('chunk-signature='))?.slice(16);
    if (signed) {
      if (!sig || !/^[0-9a-f]{64}$/.test(sig)) throw malformed('missing chunk-signature');
      if (size > 0 && short) throw new S3Error('InvalidChunkSizeError');
      short = size < MIN_SIGNED_CHUNK;
    }
    const hash = signed && size ? createChecksum('sha256') : undefined;
    for (let left = size; left > 0; ) {
      const piece = await src.take(left);
      if (!piece) throw incomplete();
      left -= piece.length;
      await hash?.update(piece);
      yield piece;
    }
    if (signed) {
      const dataHash = hash ? toHex(await hash.digest()) : EMPTY_SHA256;
      const sts = ['AWS4-HMAC-SHA256-PAYLOAD', signed.datetime, signed.scope, prev, EMPTY_SHA256, dataHash].join('\n');
      if (!timingSafeEqual(await hmacHex(signed.signingKey, sts), sig!)) throw new S3Error('SignatureDoesNotMatch');
      prev = sig!;
    }
    if (size === 0) break;
    if ((await src.line()) !== '') throw malformed('chunk data not followed by CRLF');
  }

  // Trailers end with an empty line; a body that simply stops after the last chunk is tolerated.
  let trailerSig: string | undefined;
  for (let line = await src.line(); line; line = await src.line()) {
    const i = line.indexOf(':');
    if (i <= 0) throw malformed('bad trailer');
    const name = line.slice(0, i).trim().toLowerCase();
    const value = line.slice(i + 1).trim();
    if (name === 'x-amz-trailer-signature') trailerSig = value;
    else trailers.set(name, value);
  }
  if (signed?.trailer) {
    if (!trailerSig) throw new S3Error('SignatureDoesNotMatch', 'The trailing headers were not signed.');
    const canonical = [...trailers]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([k, v]) => `${k}:${v}\n`)
      .join('');
    const sum = createChecksum('sha256');
    await sum.update(new TextEncoder().encode(canonical));
    const sts = ['AWS4-HMAC-SHA256-TRAILER', signed.datetime, signed.scope, prev, toHex(await sum.digest())].join('\n');
    if (!timingSafeEqual(await hmacHex(signed.signingKey, sts), trailerSig)) throw new S3Error('SignatureDoesNotMatch');
  }
  if (await src.take(1)) throw malformed('data after the final chunk');
}

interface Expected {
  alg: ChecksumAlgorithm;
  sum: Checksum;
  /** From a request header; trailers are read when the body ends. */
  header?: string;
}

function checksumValue(alg: ChecksumAlgorithm, value: string, where: string): Uint8Array {
  const bytes = parseB64(value.trim());
  if (!bytes || bytes.length !== CHECKSUM_LENGTH[alg])
    throw new S3Error('InvalidRequest', `Value for x-amz-checksum-${alg} ${where} is invalid.`);
  return bytes;
}

/**
 * Header problems (bad Content-MD5, unknown trailer, malformed checksum header)
 * throw at once; body problems error the returned stream. `objectChecksumHeaders`:
 * the request's x-amz-checksum-* headers describe an object, not this body
 * (CompleteMultipartUpload), and are left to the handler.
 */
export function decodePayload(
  body: ReadableStream<Uint8Array>,
  payload: Payload,
  headers: Headers,
  info?: PayloadInfo,
  opts: { objectChecksumHeaders?: boolean } = {},
): ReadableStream<Uint8Array> {
  const isChunked = payload.kind === 'chunked-signed' || payload.kind === 'chunked-unsigned-trailer';

  const md5Header = headers.get('content-md5');
  const md5 = md5Header == null ? undefined : parseB64(md5Header.trim());
  if (md5Header != null && md5?.length !== 16) throw new S3Error('InvalidDigest');

  const expected: Expected[] = [];
  for (const alg of CHECKSUM_ALGORITHMS) {
    const v = opts.objectChecksumHeaders ? null : headers.get(`x-amz-checksum-${alg}`);
    if (v != null) {
      checksumValue(alg, v, 'header');
      expected.push({ alg, sum: createChecksum(alg), header: v });
    }
  }
  if (isChunked) {
    for (const name of (headers.get('x-amz-trailer') ?? '')
      .split(',')
      .map((s) => s.trim().toLowerCase())
      .filter(Boolean)) {
      const alg = name.slice('x-amz-checksum-'.length) as ChecksumAlgorithm;
      if (!name.startsWith('x-amz-checksum-') || !CHECKSUM_ALGORITHMS.includes(alg))
        throw new S3Error('InvalidRequest', `The value specified in the x-amz-trailer header is not supported: ${name}`);
      if (!expected.some((e) => e.alg === alg)) expected.push({ alg, sum: createChecksum(alg) });
    }
  }

  if (info) info.declared = expected.map((e) => e.alg);

  let decodedLength: number | undefined;
  const dl = headers.get('x-amz-decoded-content-length');
  if (isChunked && dl != null) {
    if (!/^\d{1,15}$/.test(dl))
      throw new S3Error('InvalidArgument', 'x-amz-decoded-content-length is invalid', {
        fields: { ArgumentName: 'x-amz-decoded-content-length', ArgumentValue: dl },
      });
    decodedLength = Number(dl);
  }

  if (!isChunked && payload.kind !== 'sha256' && !md5 && !expected.length) return body;

  const md5Sum = md5 && createChecksum('md5');
  const shaSum = payload.kind === 'sha256' ? createChecksum('sha256') : undefined;
  const trailers = new Map<string, string>();
  const reader = body.getReader();
  const pieces = isChunked ? chunks(new Source(reader), payload.kind === 'chunked-signed' ? payload : undefined, trailers) : plain(reader);
  let count = 0;
  let held: Uint8Array | undefined;

  async function observe(piece: Uint8Array) {
    count += piece.length;
    if (decodedLength !== undefined && count > decodedLength) throw incomplete();
    await md5Sum?.update(piece);
    await shaSum?.update(piece);
    for (const e of expected) await e.sum.update(piece);
  }

  async function finish() {
    if (decodedLength !== undefined && count !== decodedLength) throw incomplete();
    if (md5Sum && !sameBytes(await md5Sum.digest(), md5!)) throw new S3Error('BadDigest');
    if (shaSum && payload.kind === 'sha256') {
      const got = toHex(await shaSum.digest());
      if (got !== payload.hex)
        throw new S3Error('XAmzContentSHA256Mismatch', undefined, {
          fields: { ClientComputedContentSHA256: payload.hex, S3ComputedContentSHA256: got },
        });
    }
    const verified: PayloadInfo['checksums'] = {};
    for (const e of expected) {
      const value = e.header ?? trailers.get(`x-amz-checksum-${e.alg}`);
      if (value === undefined) throw new S3Error('InvalidRequest', `x-amz-checksum-${e.alg} was declared in x-amz-trailer but not sent.`);
      if (!sameBytes(await e.sum.digest(), checksumValue(e.alg, value, 'trailing header'))) {
        throw new S3Error('BadDigest', `The ${NAMES[e.alg]} you specified did not match the calculated checksum.`);
      }
      verified[e.alg] = value.trim();
    }
    if (info) {
      info.decodedLength = count;
      info.checksums = verified;
    }
  }

  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          for (;;) {
            const next = await pieces.next();
            if (next.done) {
              await finish();
              if (held) controller.enqueue(held);
              controller.close();
              return;
            }
            await observe(next.value);
            const out = held;
            held = next.value;
            if (out) return controller.enqueue(out);
          }
        } catch (e) {
          // A client that disconnects mid-body surfaces as a plain stream error.
          controller.error(e instanceof S3Error ? e : incomplete());
          reader.cancel(e).catch(() => {});
        }
      },
      cancel(reason) {
        return reader.cancel(reason);
      },
      // Nothing is read before the consumer asks (a write refused first leaves the body unread).
    },
    { highWaterMark: 0 },
  );
}
