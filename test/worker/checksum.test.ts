import { describe, expect, it } from 'vitest';
import { parseB64 as fromBase64, toB64 as toBase64 } from '../../src/crypto/bytes';
import { Crc32, Crc32c, Crc64Ecma, Crc64Nvme, createChecksum } from '../../src/s3/payload/checksum';

const CHECK = new TextEncoder().encode('123456789');
const hex = (b: Uint8Array) => [...b].map((x) => x.toString(16).padStart(2, '0')).join('');

// Check values are the "check=" entries of the RevEng CRC catalogue
// (https://reveng.sourceforge.io/crc-catalogue/): the CRC of ASCII "123456789".
describe('CRC check values', () => {
  it('CRC-32/ISO-HDLC', () => {
    const c = new Crc32();
    c.update(CHECK);
    expect(c.value()).toBe(0xcbf43926);
    expect(hex(c.digest())).toBe('cbf43926');
  });
  it('CRC-32/ISCSI (CRC-32C)', () => {
    const c = new Crc32c();
    c.update(CHECK);
    expect(c.value()).toBe(0xe3069283);
  });
  it('CRC-64/NVME', () => {
    const c = new Crc64Nvme();
    c.update(CHECK);
    expect(hex(c.digest())).toBe('ae8b14860a799888');
  });
  it('CRC-64/XZ, as COS crc64ecma (decimal)', () => {
    const c = new Crc64Ecma();
    c.update(CHECK);
    expect(hex(c.digest())).toBe('995dc9bbdf1939fa');
    expect(c.digestDecimal()).toBe(BigInt('0x995DC9BBDF1939FA').toString());
  });
  it('empty input gives the init ^ xorout value (zero)', () => {
    expect(new Crc64Ecma().digestDecimal()).toBe('0');
    expect(new Crc32().value()).toBe(0);
  });
  it('AWS base64 form is the big-endian digest', () => {
    const c = new Crc32();
    c.update(CHECK);
    expect(c.digestBase64()).toBe(toBase64(new Uint8Array([0xcb, 0xf4, 0x39, 0x26])));
    expect(fromBase64(c.digestBase64())).toEqual(new Uint8Array([0xcb, 0xf4, 0x39, 0x26]));
    expect(fromBase64('not base64!')).toBeUndefined();
  });
});

describe('incremental updates equal one-shot', () => {
  // Unaligned subarrays and odd split points exercise the byte-wise head and tail paths.
  const data = new Uint8Array(100_003);
  crypto.getRandomValues(data.subarray(0, 65536));
  crypto.getRandomValues(data.subarray(65536));
  const makers = [() => new Crc32(), () => new Crc32c(), () => new Crc64Nvme(), () => new Crc64Ecma()];
  for (const make of makers) {
    it(make().constructor.name, () => {
      const one = make();
      one.update(data);
      for (let round = 0; round < 20; round++) {
        const inc = make();
        let i = 0;
        while (i < data.length) {
          const n = Math.min(data.length - i, Math.floor(Math.random() * (round < 10 ? 17 : 9000)));
          inc.update(data.subarray(i, i + n));
          i += n;
        }
        expect(hex(inc.digest())).toBe(hex(one.digest()));
      }
      // Byte at a time over a short prefix must agree with the table-driven bulk path.
      const a = make();
      const b = make();
      for (let i = 0; i < 777; i++) a.update(data.subarray(i, i + 1));
      b.update(data.subarray(0, 777));
      expect(hex(a.digest())).toBe(hex(b.digest()));
    });
  }
});

describe('createChecksum', () => {
  it('sha256 and md5 via DigestStream, split arbitrarily', async () => {
    const s = createChecksum('sha256');
    await s.update(CHECK.subarray(0, 4));
    await s.update(CHECK.subarray(4));
    expect(hex(await s.digest())).toBe('15e2b0d3c33891ebb0f1ef609ec419420c20e320ce94c65fbc8c3312448eb225');
    const m = createChecksum('md5');
    await m.update(CHECK);
    expect(hex(await m.digest())).toBe('25f9e794323b453885f5181f1b624d0b');
  });
});
