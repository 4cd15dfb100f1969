import { describe, expect, it } from 'vitest';
import { fields, fromHex, toHex } from '../../src/crypto/bytes';
import {
  cipherLength,
  decryptBody,
  decryptStream,
  deriveStream,
  encryptStream,
  IntegrityError,
  LengthError,
  plainLength,
  segmentSpan,
} from '../../src/crypto/stream';
import { Sealer } from '../../src/sse';
import { parseKeyring } from '../../src/sse/keyring';
import { sseCos } from '../../src/sse/sse-cos';
import type { Envelope } from '../../src/sse/types';
import vectors from '../vectors/format-v1.json';

/** Feeds `data` through `t` in chunks cut at random points. */
async function pump(t: TransformStream<Uint8Array, Uint8Array>, data: Uint8Array, seed = 7): Promise<Uint8Array> {
  let x = seed;
  const rnd = () => (x = (x * 1103515245 + 12345) & 0x7fffffff);
  const src = new ReadableStream<Uint8Array>({
    start(c) {
      for (let o = 0; o < data.length; ) {
        const n = Math.min(data.length - o, 1 + (rnd() % 3000));
        c.enqueue(data.slice(o, o + n));
        o += n;
      }
      c.close();
    },
  });
  return new Uint8Array(await new Response(src.pipeThrough(t)).arrayBuffer());
}

/** `data` as a byte stream (like R2's and fetch's bodies) in chunks cut at random points, through decryptBody. */
async function pumpBody(
  open: (body: ReadableStream<Uint8Array>) => ReadableStream<Uint8Array>,
  data: Uint8Array,
  seed = 11,
): Promise<Uint8Array> {
  let x = seed;
  const rnd = () => (x = (x * 1103515245 + 12345) & 0x7fffffff);
  let o = 0;
  const src = new ReadableStream({
    type: 'bytes',
    pull(c) {
      if (o >= data.length) return c.close();
      const n = Math.min(data.length - o, 1 + (rnd() % 3000));
      c.enqueue(data.slice(o, o + n));
      o += n;
    },
  }) as ReadableStream<Uint8Array>;
  return new Uint8Array(await new Response(open(src)).arrayBuffer());
}

const random = (n: number) => {
  const b = new Uint8Array(n);
  for (let o = 0; o < n; o += 65536) crypto.getRandomValues(b.subarray(o, Math.min(n, o + 65536)));
  return b;
};

const SEG = 1024;
const ctx = fields('object', 'b', 'k', 0, SEG);

async function sealed(plain: Uint8Array, seg = SEG) {
  const dk = random(32);
  const salt = random(16);
  const context = fields('object', 'b', 'k', plain.length, seg);
  const { key } = await deriveStream(dk, salt, context);
  return { key, ct: await pump(encryptStream(key, plain.length, seg), plain) };
}

const full = (len: number) => segmentSpan(len, SEG, 0, Math.max(0, len - 1));

describe('format v1 known-answer vectors (generated independently by scripts/format-vectors.mjs)', () => {
  for (const v of vectors) {
    it(`${v.name}: encrypts to the published ciphertext and opens through the envelope`, async () => {
      const plain = fromHex(v.plaintext);
      const env = v.envelope as Envelope;
      const context = fields('object', v.bucket, v.key, plain.length, v.seg);
      const salt = Uint8Array.from(
        atob(env.salt.replace(/-/g, '+').replace(/_/g, '/') + '=='.slice(0, (4 - (env.salt.length % 4)) % 4)),
        (c) => c.charCodeAt(0),
      );
      const { key } = await deriveStream(fromHex(v.dataKey), salt, context);
      expect(toHex(await pump(encryptStream(key, plain.length, v.seg), plain))).toBe(v.ciphertext);

      const ring = parseKeyring(v.masterKeyring);
      const sealer = new Sealer({ cos: sseCos(async () => ring) }, v.seg);
      const opening = await sealer.open({ bucket: v.bucket, key: v.key }, plain.length, env, {});
      const span = opening.span(0, Math.max(0, plain.length - 1));
      expect(toHex(await pumpBody((b) => opening.read(b, span), fromHex(v.ciphertext)))).toBe(v.plaintext);
    });
  }

  it('refuses the envelope of one vector on another object', async () => {
    const [a] = vectors;
    const sealer = new Sealer({ cos: sseCos(async () => parseKeyring(a.masterKeyring)) }, a.seg);
    await expect(sealer.open({ bucket: a.bucket, key: 'another-key' }, 0, a.envelope as Envelope, {})).rejects.toBeInstanceOf(
      IntegrityError,
    );
  });
});

describe('segmented stream', () => {
  it('sizes invert for every length around segment boundaries', () => {
    for (const len of [0, 1, 13, SEG - 1, SEG, SEG + 1, 5 * SEG, 5 * SEG + 7]) {
      expect(plainLength(cipherLength(len, SEG), SEG)).toBe(len);
    }
    expect(cipherLength(0, SEG)).toBe(16);
    expect(plainLength(15, SEG)).toBeNull();
  });

  for (const len of [0, 1, 13, 1024, SEG - 1, SEG + 1, 3 * SEG + 5, 200_000]) {
    it(`round-trips ${len} bytes`, async () => {
      const plain = random(len);
      const { key, ct } = await sealed(plain);
      expect(ct.length).toBe(cipherLength(len, SEG));
      expect(await pump(decryptStream(key, len, SEG, full(len)), ct, 3)).toEqual(plain);
    });
  }

  it('serves every range across segment boundaries from only the segments it needs', async () => {
    const len = 4 * SEG + 100;
    const plain = random(len);
    const { key, ct } = await sealed(plain);
    for (const [s, e] of [
      [0, 0],
      [SEG - 1, SEG],
      [SEG, SEG],
      [10, 3 * SEG + 3],
      [len - 1, len - 1],
      [4 * SEG, len - 1],
    ]) {
      const span = segmentSpan(len, SEG, s, e);
      expect(span.last - span.first).toBeLessThanOrEqual(Math.ceil((e - s + 1) / SEG));
      const out = await pump(decryptStream(key, len, SEG, span), ct.slice(span.offset, span.offset + span.length));
      expect(out).toEqual(plain.slice(s, e + 1));
    }
    // A one-byte range reads one segment.
    expect(segmentSpan(len, SEG, 2 * SEG + 5, 2 * SEG + 5).length).toBe(SEG + 16);
  });

  it('refuses plaintext longer or shorter than declared', async () => {
    const { key } = await sealed(new Uint8Array(0));
    await expect(pump(encryptStream(key, 10, SEG), random(11))).rejects.toBeInstanceOf(LengthError);
    await expect(pump(encryptStream(key, 10, SEG), random(9))).rejects.toBeInstanceOf(LengthError);
  });

  describe('reading whole segments from a byte stream (decryptBody)', () => {
    for (const len of [0, 1, SEG + 1, 3 * SEG + 5, 50_000]) {
      it(`round-trips ${len} bytes and serves ranges`, async () => {
        const plain = random(len);
        const { key, ct } = await sealed(plain);
        expect(await pumpBody((b) => decryptBody(key, len, SEG, full(len), b), ct)).toEqual(plain);
        if (len > 2) {
          const span = segmentSpan(len, SEG, 1, len - 2);
          expect(await pumpBody((b) => decryptBody(key, len, SEG, span, b), ct.slice(span.offset, span.offset + span.length))).toEqual(
            plain.slice(1, len - 1),
          );
        }
      });
    }

    it('reads several segments at once and splits them back exactly, at every batch size', async () => {
      const len = 7 * SEG + 5;
      const plain = random(len);
      const { key, ct } = await sealed(plain);
      for (const batch of [1, SEG + 16, 2 * (SEG + 16), 3 * (SEG + 16) + 7, 1 << 20]) {
        expect(await pumpBody((b) => decryptBody(key, len, SEG, full(len), b, batch), ct)).toEqual(plain);
        // ranges starting and ending inside batches, and one spanning a batch boundary
        for (const [s, e] of [
          [SEG + 3, 4 * SEG + 9],
          [2 * SEG - 1, 2 * SEG],
          [6 * SEG + 1, len - 1],
        ]) {
          const span = segmentSpan(len, SEG, s, e);
          expect(
            await pumpBody((b) => decryptBody(key, len, SEG, span, b, batch), ct.slice(span.offset, span.offset + span.length)),
          ).toEqual(plain.slice(s, e + 1));
        }
        const flipped = ct.slice();
        flipped[5 * (SEG + 16) + 3] ^= 1;
        await expect(pumpBody((b) => decryptBody(key, len, SEG, full(len), b, batch), flipped)).rejects.toBeInstanceOf(IntegrityError);
        await expect(pumpBody((b) => decryptBody(key, len, SEG, full(len), b, batch), ct.slice(0, ct.length - 1))).rejects.toBeInstanceOf(
          IntegrityError,
        );
      }
    });

    it('hands each read on as one chunk', async () => {
      const len = 9 * SEG;
      const plain = random(len);
      const { key, ct } = await sealed(plain);
      const r = decryptBody(key, len, SEG, full(len), new Blob([ct]).stream(), 4 * (SEG + 16)).getReader();
      const sizes: number[] = [];
      for (let x = await r.read(); !x.done; x = await r.read()) sizes.push(x.value.length);
      expect(sizes).toEqual([4 * SEG, 4 * SEG, SEG]);
    });

    it('refuses a flipped bit, truncation and appended bytes', async () => {
      const len = 3 * SEG + 10;
      const { key, ct } = await sealed(random(len));
      const open = (bytes: Uint8Array) => pumpBody((b) => decryptBody(key, len, SEG, full(len), b), bytes);
      const flipped = ct.slice();
      flipped[SEG + 40] ^= 1;
      const longer = new Uint8Array(ct.length + 1);
      longer.set(ct);
      for (const bad of [flipped, ct.slice(0, ct.length - 1), ct.slice(0, 3 * (SEG + 16)), longer, new Uint8Array(0)]) {
        await expect(open(bad)).rejects.toBeInstanceOf(IntegrityError);
      }
    });

    it('falls back to framing for a stream that is not a byte stream', async () => {
      const plain = random(2 * SEG + 3);
      const { key, ct } = await sealed(plain);
      const src = new ReadableStream<Uint8Array>({
        start: (c) => {
          c.enqueue(ct);
          c.close();
        },
      });
      expect(new Uint8Array(await new Response(decryptBody(key, plain.length, SEG, full(plain.length), src)).arrayBuffer())).toEqual(plain);
    });
  });

  describe('detects tampering', () => {
    const len = 3 * SEG + 10;
    const open = async (key: Awaited<ReturnType<typeof sealed>>['key'], ct: Uint8Array, plainLen = len) =>
      pump(decryptStream(key, plainLen, SEG, segmentSpan(plainLen, SEG, 0, plainLen - 1)), ct);

    it('a flipped bit in any segment', async () => {
      const { key, ct } = await sealed(random(len));
      for (const at of [0, SEG + 20, ct.length - 1]) {
        const bad = ct.slice();
        bad[at] ^= 1;
        await expect(open(key, bad)).rejects.toBeInstanceOf(IntegrityError);
      }
    });

    it('reordered segments', async () => {
      const { key, ct } = await sealed(random(len));
      const s = SEG + 16;
      const bad = new Uint8Array(ct);
      bad.set(ct.subarray(s, 2 * s), 0);
      bad.set(ct.subarray(0, s), s);
      await expect(open(key, bad)).rejects.toBeInstanceOf(IntegrityError);
    });

    it('truncation at a segment boundary, even when the size is adjusted to match', async () => {
      const { key, ct } = await sealed(random(len));
      const cut = ct.slice(0, 3 * (SEG + 16));
      await expect(open(key, cut)).rejects.toBeInstanceOf(IntegrityError);
      // The first three segments are not final segments, so claiming a 3-segment object fails too.
      await expect(open(key, cut, 3 * SEG)).rejects.toBeInstanceOf(IntegrityError);
    });

    it('truncation to empty', async () => {
      const { key } = await sealed(random(len));
      await expect(open(key, new Uint8Array(0))).rejects.toBeInstanceOf(IntegrityError);
      await expect(pump(decryptStream(key, 0, SEG, full(0)), new Uint8Array(0))).rejects.toBeInstanceOf(IntegrityError);
    });

    it('appended bytes', async () => {
      const { key, ct } = await sealed(random(len));
      const longer = new Uint8Array(ct.length + 1);
      longer.set(ct);
      await expect(open(key, longer)).rejects.toBeInstanceOf(IntegrityError);
    });

    it('a segment from another object sealed under another key', async () => {
      const a = await sealed(random(len));
      const b = await sealed(random(len));
      const mixed = a.ct.slice();
      mixed.set(b.ct.subarray(0, SEG + 16), 0);
      await expect(open(a.key, mixed)).rejects.toBeInstanceOf(IntegrityError);
    });
  });

  it('derives a different commitment when the bound context differs (size, key, bucket)', async () => {
    const dk = random(32);
    const salt = random(16);
    const base = (await deriveStream(dk, salt, ctx)).commitment;
    for (const other of [fields('object', 'b', 'k', 1, SEG), fields('object', 'b', 'k2', 0, SEG), fields('object', 'b2', 'k', 0, SEG)]) {
      expect(toHex((await deriveStream(dk, salt, other)).commitment)).not.toBe(toHex(base));
    }
  });
});
