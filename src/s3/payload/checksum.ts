// Incremental checksums: the CRCs S3 and COS use, plus SHA/MD5 via DigestStream.
// The CRCs run over every byte of every upload and download, so they use
// slicing-by-8 tables and keep 64-bit state as two uint32 halves (no BigInt in
// the loop). All of them are the reflected (LSB-first) variety. (Slicing-by-16
// measured no faster in workerd.)

import { toB64 } from '../../crypto/bytes';

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** Eight 256-entry tables: t[k*256+i] is the CRC of byte i followed by k zero bytes. */
function tables32(poly: number): Uint32Array {
  const t = new Uint32Array(8 * 256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let j = 0; j < 8; j++) c = c & 1 ? (c >>> 1) ^ poly : c >>> 1;
    t[i] = c;
  }
  for (let i = 0; i < 256; i++) for (let k = 1; k < 8; k++) t[k * 256 + i] = (t[(k - 1) * 256 + i] >>> 8) ^ t[t[(k - 1) * 256 + i] & 0xff];
  return t;
}

function update32(t: Uint32Array, crc: number, b: Uint8Array): number {
  let i = 0;
  const n = b.length;
  // Bytewise up to a 4-byte boundary so the bulk can be read as aligned words.
  while (i < n && (!LITTLE_ENDIAN || (b.byteOffset + i) & 3)) crc = t[(crc ^ b[i++]) & 0xff] ^ (crc >>> 8);
  const words = (n - i) >>> 3;
  if (words > 0) {
    const w = new Uint32Array(b.buffer, b.byteOffset + i, words * 2);
    for (let j = 0; j < w.length; j += 2) {
      const a = crc ^ w[j];
      const h = w[j + 1];
      crc =
        t[1792 + (a & 0xff)] ^
        t[1536 + ((a >>> 8) & 0xff)] ^
        t[1280 + ((a >>> 16) & 0xff)] ^
        t[1024 + (a >>> 24)] ^
        t[768 + (h & 0xff)] ^
        t[512 + ((h >>> 8) & 0xff)] ^
        t[256 + ((h >>> 16) & 0xff)] ^
        t[h >>> 24];
    }
    i += words * 8;
  }
  while (i < n) crc = t[(crc ^ b[i++]) & 0xff] ^ (crc >>> 8);
  return crc;
}

/** Eight 64-bit tables as separate low and high halves; `poly` is the reflected polynomial. */
function tables64(polyHi: number, polyLo: number): [Uint32Array, Uint32Array] {
  const lo = new Uint32Array(8 * 256);
  const hi = new Uint32Array(8 * 256);
  for (let i = 0; i < 256; i++) {
    let l = i;
    let h = 0;
    for (let j = 0; j < 8; j++) {
      const odd = l & 1;
      l = (l >>> 1) | (h << 31);
      h >>>= 1;
      if (odd) {
        l ^= polyLo;
        h ^= polyHi;
      }
    }
    lo[i] = l;
    hi[i] = h;
  }
  for (let k = 1; k < 8; k++) {
    for (let i = 0; i < 256; i++) {
      const pl = lo[(k - 1) * 256 + i];
      const ph = hi[(k - 1) * 256 + i];
      const x = pl & 0xff;
      lo[k * 256 + i] = ((pl >>> 8) | (ph << 24)) ^ lo[x];
      hi[k * 256 + i] = (ph >>> 8) ^ hi[x];
    }
  }
  return [lo, hi];
}

/** Returns the new state in `st`; a plain function over typed arrays optimises best in V8. */
function update64(TL: Uint32Array, TH: Uint32Array, st: Uint32Array, b: Uint8Array): void {
  let l = st[0];
  let h = st[1];
  let i = 0;
  const n = b.length;
  while (i < n && (!LITTLE_ENDIAN || (b.byteOffset + i) & 3)) {
    const x = (l ^ b[i++]) & 0xff;
    l = ((l >>> 8) | (h << 24)) ^ TL[x];
    h = (h >>> 8) ^ TH[x];
  }
  const words = (n - i) >>> 3;
  if (words > 0) {
    const w = new Uint32Array(b.buffer, b.byteOffset + i, words * 2);
    for (let j = 0; j < w.length; j += 2) {
      const a = l ^ w[j];
      const c = h ^ w[j + 1];
      const i7 = 1792 + (a & 0xff),
        i6 = 1536 + ((a >>> 8) & 0xff),
        i5 = 1280 + ((a >>> 16) & 0xff),
        i4 = 1024 + (a >>> 24);
      const i3 = 768 + (c & 0xff),
        i2 = 512 + ((c >>> 8) & 0xff),
        i1 = 256 + ((c >>> 16) & 0xff),
        i0 = c >>> 24;
      l = TL[i7] ^ TL[i6] ^ TL[i5] ^ TL[i4] ^ TL[i3] ^ TL[i2] ^ TL[i1] ^ TL[i0];
      h = TH[i7] ^ TH[i6] ^ TH[i5] ^ TH[i4] ^ TH[i3] ^ TH[i2] ^ TH[i1] ^ TH[i0];
    }
    i += words * 8;
  }
  while (i < n) {
    const x = (l ^ b[i++]) & 0xff;
    l = ((l >>> 8) | (h << 24)) ^ TL[x];
    h = (h >>> 8) ^ TH[x];
  }
  st[0] = l;
  st[1] = h;
}

abstract class Crc64 {
  /** [low, high] halves of the running state. */
  protected readonly st = new Uint32Array([0xffffffff, 0xffffffff]);
  constructor(private readonly t: [Uint32Array, Uint32Array]) {}

  update(b: Uint8Array): void {
    update64(this.t[0], this.t[1], this.st, b);
  }

  /** Big-endian bytes of the final value, the form AWS headers carry in base64. */
  digest(): Uint8Array {
    const out = new Uint8Array(8);
    const v = new DataView(out.buffer);
    v.setUint32(0, ~this.st[1] >>> 0);
    v.setUint32(4, ~this.st[0] >>> 0);
    return out;
  }

  digestBase64(): string {
    return toB64(this.digest());
  }
}

abstract class Crc32Base {
  private crc = 0xffffffff;
  constructor(private readonly t: Uint32Array) {}
  update(b: Uint8Array): void {
    this.crc = update32(this.t, this.crc, b);
  }
  value(): number {
    return ~this.crc >>> 0;
  }
  digest(): Uint8Array {
    const out = new Uint8Array(4);
    new DataView(out.buffer).setUint32(0, this.value());
    return out;
  }
  digestBase64(): string {
    return toB64(this.digest());
  }
}

const CRC32_T = tables32(0xedb88320);
const CRC32C_T = tables32(0x82f63b78);
const CRC64_NVME_T = tables64(0x9a6c9329, 0xac4bc9b5);
const CRC64_ECMA_T = tables64(0xc96c5795, 0xd7870f42);

/** CRC-32 (IEEE 802.3), as in x-amz-checksum-crc32. */
export class Crc32 extends Crc32Base {
  constructor() {
    super(CRC32_T);
  }
}

/** CRC-32C (Castagnoli), as in x-amz-checksum-crc32c. */
export class Crc32c extends Crc32Base {
  constructor() {
    super(CRC32C_T);
  }
}

/** CRC-64/NVME, as in x-amz-checksum-crc64nvme. */
export class Crc64Nvme extends Crc64 {
  constructor() {
    super(CRC64_NVME_T);
  }
}

/** CRC-64/XZ (ECMA-182 polynomial, reflected), which COS reports as x-cos-hash-crc64ecma. */
export class Crc64Ecma extends Crc64 {
  constructor() {
    super(CRC64_ECMA_T);
  }
  /** COS prints the value as an unsigned decimal string; BigInt only runs once, here. */
  digestDecimal(): string {
    return ((BigInt(~this.st[1] >>> 0) << 32n) | BigInt(~this.st[0] >>> 0)).toString();
  }
}

export type ChecksumAlgorithm = 'crc32' | 'crc32c' | 'crc64nvme' | 'sha1' | 'sha256';
export const CHECKSUM_ALGORITHMS: readonly ChecksumAlgorithm[] = ['crc32', 'crc32c', 'crc64nvme', 'sha1', 'sha256'];
export const CHECKSUM_LENGTH: Record<ChecksumAlgorithm, number> = { crc32: 4, crc32c: 4, crc64nvme: 8, sha1: 20, sha256: 32 };

/** One interface over the sync CRCs and the async DigestStream hashes. */
export interface Checksum {
  update(bytes: Uint8Array): void | Promise<void>;
  digest(): Promise<Uint8Array>;
}

class StreamDigest implements Checksum {
  private readonly stream: DigestStream;
  private readonly writer: WritableStreamDefaultWriter<ArrayBuffer | ArrayBufferView>;
  constructor(alg: 'SHA-1' | 'SHA-256' | 'MD5') {
    this.stream = new crypto.DigestStream(alg);
    this.writer = this.stream.getWriter();
  }
  // Awaited by callers so the bytes are consumed before the chunk moves downstream.
  update(bytes: Uint8Array): Promise<void> {
    return this.writer.write(bytes);
  }
  async digest(): Promise<Uint8Array> {
    await this.writer.close();
    return new Uint8Array(await this.stream.digest);
  }
}

class SyncCrc implements Checksum {
  constructor(private readonly crc: { update(b: Uint8Array): void; digest(): Uint8Array }) {}
  update(bytes: Uint8Array): void {
    this.crc.update(bytes);
  }
  async digest(): Promise<Uint8Array> {
    return this.crc.digest();
  }
}

export function createChecksum(alg: ChecksumAlgorithm | 'md5'): Checksum {
  switch (alg) {
    case 'crc32':
      return new SyncCrc(new Crc32());
    case 'crc32c':
      return new SyncCrc(new Crc32c());
    case 'crc64nvme':
      return new SyncCrc(new Crc64Nvme());
    case 'sha1':
      return new StreamDigest('SHA-1');
    case 'sha256':
      return new StreamDigest('SHA-256');
    case 'md5':
      return new StreamDigest('MD5');
  }
}

/**
 * CRC of A‖B from the CRCs of A and B and B's length, as zlib's crc32_combine does:
 * the CRC of A is carried across len(B) zero bytes by repeated squaring of the
 * one-zero-bit operator (a GF(2) matrix), then B's CRC is added. For reflected CRCs
 * whose initial value and final xor are all ones (every CRC here): the init/xorout
 * terms cancel out of the combination. Multipart objects get whole-object CRCs
 * from their parts' without reading the data again; BigInt, once per part.
 */
function crcCombine(width: 32 | 64, poly: bigint, crcA: bigint, crcB: bigint, lengthB: number): bigint {
  const MASK = (1n << BigInt(width)) - 1n;
  const times = (mat: bigint[], vec: bigint) => {
    let sum = 0n;
    for (let i = 0; vec; i++, vec >>= 1n) if (vec & 1n) sum ^= mat[i];
    return sum;
  };
  const square = (mat: bigint[]) => mat.map((row) => times(mat, row));
  let crc = crcA;
  let len = BigInt(lengthB);
  if (len === 0n) return crcA;
  // odd: the operator for one zero bit; squared twice, four zero bits.
  let odd = [poly, ...Array.from({ length: width - 1 }, (_, n) => (1n << BigInt(n)) & MASK)];
  let even = square(odd);
  odd = square(even);
  for (;;) {
    even = square(odd); // advance by one zero byte, then doubling
    if (len & 1n) crc = times(even, crc);
    len >>= 1n;
    if (!len) break;
    odd = square(even);
    if (len & 1n) crc = times(odd, crc);
    len >>= 1n;
    if (!len) break;
  }
  return (crc ^ crcB) & MASK;
}

/** CRC-64/ECMA (XZ) of A‖B, in COS's unsigned decimal strings. */
export function crc64EcmaCombine(crcA: string, crcB: string, lengthB: number): string {
  return crcCombine(64, 0xc96c5795d7870f42n, BigInt(crcA), BigInt(crcB), lengthB).toString();
}

const bytesToBig = (b: Uint8Array) => b.reduce((acc, x) => (acc << 8n) | BigInt(x), 0n);
const bigToBytes = (v: bigint, n: number) => Uint8Array.from({ length: n }, (_, i) => Number((v >> BigInt(8 * (n - 1 - i))) & 0xffn));

/** The reflected polynomial and width of each CRC S3 can combine into a full-object checksum. */
export const COMBINABLE = {
  crc32: { width: 32, poly: 0xedb88320n },
  crc32c: { width: 32, poly: 0x82f63b78n },
  crc64nvme: { width: 64, poly: 0x9a6c9329ac4bc9b5n },
} as const;
export type CombinableAlgorithm = keyof typeof COMBINABLE;
export const isCombinable = (alg: ChecksumAlgorithm): alg is CombinableAlgorithm => Object.hasOwn(COMBINABLE, alg);

/** CRC of A‖B from the big-endian CRC bytes (as in x-amz-checksum-*) of A and B and B's length. */
export function crcCombineBytes(alg: CombinableAlgorithm, a: Uint8Array, b: Uint8Array, lengthB: number): Uint8Array {
  const { width, poly } = COMBINABLE[alg];
  return bigToBytes(crcCombine(width, poly, bytesToBig(a), bytesToBig(b), lengthB), width / 8);
}
