// Computes the plaintext MD5 (the ETag) and CRC-64/ECMA (COS's x-cos-hash-crc64ecma)
// as the body streams past.

import { toHex } from '../crypto/bytes';
import { Crc64Ecma } from './checksum';

export interface Tap {
  stream: TransformStream<Uint8Array, Uint8Array>;
  result(): Promise<{ md5: string; crc64: string }>;
}

export function hashTap(): Tap {
  const md5 = new crypto.DigestStream('MD5');
  const w = md5.getWriter();
  const crc = new Crc64Ecma();
  let writes: Promise<void> = Promise.resolve();
  const stream = new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, ctl) {
      crc.update(chunk);
      writes = w.write(chunk);
      ctl.enqueue(chunk);
    },
  });
  return {
    stream,
    async result() {
      await writes;
      await w.close();
      return { md5: toHex(await md5.digest), crc64: crc.digestDecimal() };
    },
  };
}
