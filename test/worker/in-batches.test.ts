// inBatches (src/s3/objects.ts): a store's byte stream, which arrives in small pieces, read
// 1 MiB at a time for the stages that take stored plaintext through JavaScript (the whole-object
// checksum check of an unsealed GET, the parts of an unsealed multipart object). The bytes and
// their order stay as they were; only the chunking changes; a store's failure reaches the reader.

import { describe, expect, it } from 'vitest';
import { inBatches } from '../../src/s3/objects';

const MiB = 1 << 20;

/** A byte stream (BYOB-readable, like R2's and fetch's bodies) of `total` bytes in pieces of `piece`. */
function byteStream(total: number, piece: number, failAt?: number): ReadableStream<Uint8Array> {
  let sent = 0;
  return new ReadableStream({
    type: 'bytes',
    pull(ctl) {
      if (failAt !== undefined && sent >= failAt) return ctl.error(new Error('store failed'));
      if (sent === total) return ctl.close();
      const n = Math.min(piece, total - sent);
      const c = new Uint8Array(n);
      for (let i = 0; i < n; i++) c[i] = (sent + i) % 251;
      sent += n;
      ctl.enqueue(c);
    },
  });
}

async function chunksOf(s: ReadableStream<Uint8Array>): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  for await (const c of s) out.push(c);
  return out;
}

describe('inBatches', () => {
  it('hands on a byte stream of 4 KiB pieces as 1 MiB chunks, every byte in order', async () => {
    const total = 3 * MiB + 12_345;
    const chunks = await chunksOf(inBatches(byteStream(total, 4096)));
    expect(chunks.map((c) => c.length)).toEqual([MiB, MiB, MiB, 12_345]);
    let at = 0;
    for (const c of chunks)
      for (let i = 0; i < c.length; i++, at++) if (c[i] !== at % 251) throw new Error(`byte ${at} is ${c[i]}, not ${at % 251}`);
    expect(at).toBe(total);
  });

  it('asks for no more than the expected length, and still passes on bytes beyond it', async () => {
    expect((await chunksOf(inBatches(byteStream(5000, 512), 5000))).map((c) => c.length)).toEqual([5000]);
    // A body longer than expected is the caller's to refuse (verifiedStream): its extra bytes arrive.
    const chunks = await chunksOf(inBatches(byteStream(5003, 512), 5000));
    expect(chunks.reduce((a, c) => a + c.length, 0)).toBe(5003);
    expect(chunks[0].length).toBe(5000);
  });

  it('ends cleanly on an empty byte stream', async () => {
    expect(await chunksOf(inBatches(byteStream(0, 4096)))).toEqual([]);
  });

  it('passes a stream that is not a byte stream through as it is', async () => {
    const plain = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(new Uint8Array([1, 2, 3]));
        c.close();
      },
    });
    expect(inBatches(plain)).toBe(plain);
  });

  it("errors with the store's own failure", async () => {
    await expect(chunksOf(inBatches(byteStream(4 * MiB, 4096, 2 * MiB)))).rejects.toThrow('store failed');
  });
});
