// Segmented AEAD stream (AES-256-GCM), in the manner of Tink's streaming AEAD
// and age's STREAM: the plaintext is cut into fixed-size segments, each sealed
// with nonce = prefix(7) || segment index (u32 BE) || last-segment flag.
// An empty plaintext still yields one (final, empty) segment, so truncation to
// nothing is detected. The segment key, nonce prefix and a key commitment are
// all derived from the data key with HKDF over the stream's bound context.

import { concat, utf8 } from './bytes';
import { gcmKey, hkdf } from './kdf';

export const TAG_SIZE = 16;
const PREFIX_SIZE = 7;
const SEGMENTS_LABEL = utf8('sealbucket/v1 segments');

/** The ciphertext did not authenticate: tampered, truncated, reordered or under another key. */
export class IntegrityError extends Error {}
/** The plaintext fed to a sealer was not the length announced for it. */
export class LengthError extends Error {
  constructor(
    readonly expected: number,
    readonly got: number,
  ) {
    super(`stream length ${got} does not match declared ${expected}`);
  }
}

export interface SegmentKey {
  key: CryptoKey;
  prefix: Uint8Array;
}

export const segmentCount = (plainLen: number, seg: number): number => (plainLen === 0 ? 1 : Math.ceil(plainLen / seg));
export const cipherLength = (plainLen: number, seg: number): number => plainLen + segmentCount(plainLen, seg) * TAG_SIZE;

/** Inverse of cipherLength; null when no plaintext length maps to this size. */
export function plainLength(cipherLen: number, seg: number): number | null {
  const n = Math.max(1, Math.ceil(cipherLen / (seg + TAG_SIZE)));
  const p = cipherLen - n * TAG_SIZE;
  return p >= 0 && segmentCount(p, seg) === n ? p : null;
}

/** Derives the segment key, nonce prefix and 32-byte key commitment of one stream. */
export async function deriveStream(
  dataKey: Uint8Array,
  salt: Uint8Array,
  context: Uint8Array,
): Promise<{ key: SegmentKey; commitment: Uint8Array }> {
  const okm = await hkdf(dataKey, salt, concat(SEGMENTS_LABEL, context), 32 + 32 + PREFIX_SIZE);
  return {
    key: { key: await gcmKey(okm.subarray(0, 32), ['encrypt', 'decrypt']), prefix: okm.slice(64) },
    commitment: okm.slice(32, 64),
  };
}

function nonce(prefix: Uint8Array, index: number, last: boolean): Uint8Array {
  const n = new Uint8Array(12);
  n.set(prefix);
  new DataView(n.buffer).setUint32(PREFIX_SIZE, index);
  n[11] = last ? 1 : 0;
  return n;
}

/** Plaintext size of segment i of a stream. */
const plainSegSize = (i: number, n: number, plainLen: number, seg: number): number => (i < n - 1 ? seg : plainLen - (n - 1) * seg);

/**
 * Fills fixed-size records from arbitrarily split chunks and hands each
 * complete record to `emit`, without copying records that arrive whole.
 */
class Framer {
  private buf: Uint8Array;
  private fill = 0;
  constructor(
    max: number,
    private size: () => number,
    private emit: (rec: Uint8Array) => Promise<void>,
  ) {
    this.buf = new Uint8Array(max);
  }
  async push(chunk: Uint8Array): Promise<void> {
    let off = 0;
    while (off < chunk.length) {
      const want = this.size() - this.fill;
      if (want <= 0) throw new IntegrityError('data after the final segment');
      if (this.fill === 0 && chunk.length - off >= want) {
        await this.emit(chunk.subarray(off, off + want));
        off += want;
        continue;
      }
      const take = Math.min(want, chunk.length - off);
      this.buf.set(chunk.subarray(off, off + take), this.fill);
      this.fill += take;
      off += take;
      if (this.fill === this.size()) {
        this.fill = 0;
        await this.emit(this.buf.subarray(0, this.size()));
      }
    }
  }
  get pending(): number {
    return this.fill;
  }
}

/** Seals a plaintext of exactly plainLen bytes; output length is cipherLength(plainLen, seg). */
export function encryptStream(sk: SegmentKey, plainLen: number, seg: number): TransformStream<Uint8Array, Uint8Array> {
  const n = segmentCount(plainLen, seg);
  let index = 0;
  let seen = 0;
  let ctl!: TransformStreamDefaultController<Uint8Array>;
  const seal = async (pt: Uint8Array) => {
    const iv = nonce(sk.prefix, index, index === n - 1);
    ctl.enqueue(new Uint8Array(await crypto.subtle.encrypt({ name: 'AES-GCM', iv }, sk.key, pt)));
    index++;
  };
  const framer = new Framer(seg, () => (index < n ? plainSegSize(index, n, plainLen, seg) : 0), seal);
  return new TransformStream({
    start(c) {
      ctl = c;
    },
    async transform(chunk) {
      seen += chunk.length;
      if (seen > plainLen) throw new LengthError(plainLen, seen);
      await framer.push(chunk);
    },
    async flush() {
      if (seen !== plainLen) throw new LengthError(plainLen, seen);
      if (plainLen === 0) await seal(new Uint8Array(0));
    },
  });
}

/** Which stored bytes a plaintext range [start, end] needs, and how to trim the result. */
export interface SegmentSpan {
  first: number;
  last: number;
  offset: number; // ciphertext byte offset of segment `first`
  length: number; // ciphertext bytes covering first..last
  skip: number; // plaintext bytes to drop from the first segment
  take: number; // plaintext bytes to emit in all
}

export function segmentSpan(plainLen: number, seg: number, start: number, end: number): SegmentSpan {
  const n = segmentCount(plainLen, seg);
  const first = plainLen === 0 ? 0 : Math.floor(start / seg);
  const last = plainLen === 0 ? 0 : Math.floor(end / seg);
  const offset = first * (seg + TAG_SIZE);
  let length = 0;
  for (let i = first; i <= last; i++) length += plainSegSize(i, n, plainLen, seg) + TAG_SIZE;
  return { first, last, offset, length, skip: start - first * seg, take: plainLen === 0 ? 0 : end - start + 1 };
}

/**
 * Opens segments span.first..span.last of a stream whose plaintext is plainLen
 * bytes, emitting only the requested plaintext bytes. Any authentication
 * failure, missing segment or trailing byte errors the stream with IntegrityError.
 */
export function decryptStream(sk: SegmentKey, plainLen: number, seg: number, span: SegmentSpan): TransformStream<Uint8Array, Uint8Array> {
  const opener = segmentOpener(sk, plainLen, seg, span);
  let ctl!: TransformStreamDefaultController<Uint8Array>;
  const framer = new Framer(seg + TAG_SIZE, opener.size, async (ct) => {
    const out = await opener.open(ct);
    if (out.length) ctl.enqueue(out);
  });
  return new TransformStream({
    start(c) {
      ctl = c;
    },
    transform: (chunk) => framer.push(chunk),
    flush() {
      if (!opener.finished() || framer.pending) throw new IntegrityError('ciphertext truncated');
    },
  });
}

/** Plaintext bytes decryptBody hands on per chunk (whole segments, at least one). */
export const READ_BATCH = 1 << 20;

/**
 * decryptStream applied to `body`. A byte stream (R2's, fetch's) is read whole
 * segments at a time (`batch` bytes of plaintext's worth per read) straight into
 * the buffer that is decrypted, and each read leaves as one chunk: in workerd
 * every chunk that crosses between JavaScript and the platform costs far more
 * than its bytes, and stores hand bodies out in small chunks (4 KiB locally).
 */
export function decryptBody(
  sk: SegmentKey,
  plainLen: number,
  seg: number,
  span: SegmentSpan,
  body: ReadableStream<Uint8Array>,
  batch = READ_BATCH,
): ReadableStream<Uint8Array> {
  let reader: ReadableStreamBYOBReader;
  try {
    reader = body.getReader({ mode: 'byob' });
  } catch {
    return body.pipeThrough(decryptStream(sk, plainLen, seg, span));
  }
  const opener = segmentOpener(sk, plainLen, seg, span);
  const most = Math.max(1, Math.floor(batch / seg));
  let spare: ArrayBuffer | null = null;
  return new ReadableStream<Uint8Array>({
    async pull(ctl) {
      for (;;) {
        const sizes: number[] = [];
        for (let s = opener.size(0); s && sizes.length < most; s = opener.size(sizes.length)) sizes.push(s);
        if (!sizes.length) {
          const after = await reader.read(new Uint8Array(1));
          if (!after.done) throw new IntegrityError('data after the final segment');
          return ctl.close();
        }
        const size = sizes.reduce((a, b) => a + b, 0);
        // The last read's buffer is free once opened: reuse it rather than allocate a fresh one.
        const into = spare && spare.byteLength >= size ? new Uint8Array(spare, 0, size) : new Uint8Array(size);
        const got = await reader.readAtLeast(size, into);
        if (got.done || !got.value || got.value.length < size) throw new IntegrityError('ciphertext truncated');
        const outs: Uint8Array[] = [];
        for (let o = 0, i = 0; i < sizes.length; o += sizes[i++]) outs.push(await opener.open(got.value.subarray(o, o + sizes[i])));
        spare = got.value.buffer;
        const out = outs.length === 1 ? outs[0] : concat(...outs);
        if (out.length) return ctl.enqueue(out);
      }
    },
    cancel: (why) => reader.cancel(why),
  });
}

/** Opens segments span.first..span.last in order, trimming to the span's plaintext bytes. */
function segmentOpener(sk: SegmentKey, plainLen: number, seg: number, span: SegmentSpan) {
  const n = segmentCount(plainLen, seg);
  let index = span.first;
  let skip = span.skip;
  let left = span.take;
  return {
    /** Stored size of the segment `ahead` after the next one; 0 past the span. */
    size: (ahead = 0) => (index + ahead <= span.last ? plainSegSize(index + ahead, n, plainLen, seg) + TAG_SIZE : 0),
    finished: () => index === span.last + 1,
    async open(ct: Uint8Array): Promise<Uint8Array> {
      const iv = nonce(sk.prefix, index, index === n - 1);
      let pt: Uint8Array;
      try {
        pt = new Uint8Array(await crypto.subtle.decrypt({ name: 'AES-GCM', iv }, sk.key, ct));
      } catch {
        throw new IntegrityError(`segment ${index} failed authentication`);
      }
      index++;
      const out = pt.subarray(skip, skip + left);
      skip = 0;
      left -= out.length;
      return out;
    },
  };
}
