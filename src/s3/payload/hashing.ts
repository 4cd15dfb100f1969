// Computes the plaintext MD5 (the ETag), CRC-64/ECMA (COS's x-cos-hash-crc64ecma)
// and, when asked, the checksum S3 keeps with the object, as the body streams past. Request bodies arrive in small pieces (often 4 KiB),
// and every stage after this one pays per chunk (the store most of all), so
// pieces are gathered into chunks of at least 256 KiB, as large as a sealed segment.

import { toB64, toHex } from '../../crypto/bytes';
import { type ChecksumAlgorithm, Crc64Ecma, createChecksum } from './checksum';

const CHUNK = 256 * 1024;

export interface Tap {
  stream: TransformStream<Uint8Array, Uint8Array>;
  /** `checksum`: base64 of the `keep` algorithm's digest, when one was asked for. */
  result(): Promise<{ md5: string; crc64: string; checksum?: string }>;
}

export function hashTap(keep?: ChecksumAlgorithm): Tap {
  const kept = keep && createChecksum(keep);
  const md5 = new crypto.DigestStream('MD5');
  const w = md5.getWriter();
  const crc = new Crc64Ecma();
  let buf = new Uint8Array(CHUNK);
  let fill = 0;
  const emit = async (chunk: Uint8Array, ctl: TransformStreamDefaultController<Uint8Array>) => {
    crc.update(chunk);
    await kept?.update(chunk);
    await w.write(chunk);
    ctl.enqueue(chunk);
  };
  const stream = new TransformStream<Uint8Array, Uint8Array>({
    async transform(chunk, ctl) {
      if (fill === 0 && chunk.length >= CHUNK) return emit(chunk, ctl);
      let off = 0;
      while (off < chunk.length) {
        const n = Math.min(CHUNK - fill, chunk.length - off);
        buf.set(chunk.subarray(off, off + n), fill);
        fill += n;
        off += n;
        if (fill === CHUNK) {
          const full = buf;
          buf = new Uint8Array(CHUNK); // the emitted chunk now belongs downstream
          fill = 0;
          await emit(full, ctl);
        }
      }
    },
    async flush(ctl) {
      if (fill) await emit(buf.subarray(0, fill), ctl);
    },
  });
  return {
    stream,
    async result() {
      await w.close();
      return { md5: toHex(await md5.digest), crc64: crc.digestDecimal(), ...(kept ? { checksum: toB64(await kept.digest()) } : {}) };
    },
  };
}
