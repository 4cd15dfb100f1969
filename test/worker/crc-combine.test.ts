import { expect, it } from 'vitest';
import { Crc64Ecma, crc64EcmaCombine } from '../../src/s3/payload/checksum';
import { bytes } from './helpers/s3';

const crc = (b: Uint8Array) => {
  const c = new Crc64Ecma();
  c.update(b);
  return c.digestDecimal();
};

it('combines CRC-64/ECMA of parts into the CRC of the whole', () => {
  const data = bytes(300_000, 5);
  for (const cut of [0, 1, 13, 65536, 150_001, 299_999, 300_000]) {
    const a = data.subarray(0, cut);
    const b = data.subarray(cut);
    expect(crc64EcmaCombine(crc(a), crc(b), b.length)).toBe(crc(data));
  }
  // Several parts folded left to right, as CompleteMultipartUpload does.
  const parts = [data.subarray(0, 100), data.subarray(100, 200_000), data.subarray(200_000)];
  const folded = parts.slice(1).reduce((acc, p) => crc64EcmaCombine(acc, crc(p), p.length), crc(parts[0]));
  expect(folded).toBe(crc(data));
});
