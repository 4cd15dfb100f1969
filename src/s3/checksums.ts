// The checksum S3 keeps with an object (x-amz-checksum-*): which algorithm a write
// keeps, how a multipart object's checksum follows from its parts' (COMPOSITE or
// FULL_OBJECT, as "Checking object integrity" in the S3 user guide defines them),
// how it is reported, and its check when an object is read back whole.

import { parseB64, toB64 } from '../crypto/bytes';
import type { ChecksumName, ChecksumType, ObjectChecksum, PartChecksum, UploadChecksum } from '../layout/record';
import { IntegrityError } from '../sse';
import { CHECKSUM_ALGORITHMS, type Checksum, crcCombineBytes, createChecksum, isCombinable } from './payload/checksum';
import { type Dialect, hdr } from './protocol/dialect';
import { S3Error } from './protocol/errors';

/** The algorithms as S3 spells them in headers' values and XML element names. */
export const ALGORITHM_NAMES: Record<ChecksumName, string> = {
  crc32: 'CRC32',
  crc32c: 'CRC32C',
  crc64nvme: 'CRC64NVME',
  sha1: 'SHA1',
  sha256: 'SHA256',
};

/** What S3 keeps when a write carries no checksum: CRC-64/NVME of the whole object. */
export const DEFAULT_CHECKSUM: UploadChecksum = { alg: 'crc64nvme', type: 'FULL_OBJECT' };

const header = (h: Headers, suffix: string) => h.get(`x-amz-${suffix}`) ?? h.get(`x-cos-${suffix}`);

/** x-amz-checksum-mode: ENABLED asks GET and HEAD for the object's checksum. */
export const checksumModeEnabled = (h: Headers): boolean => header(h, 'checksum-mode')?.toUpperCase() === 'ENABLED';

/** An algorithm named in x-amz-checksum-algorithm or x-amz-sdk-checksum-algorithm (any case, as S3 accepts). */
export function parseAlgorithm(value: string): ChecksumName {
  const alg = value.trim().toLowerCase() as ChecksumName;
  if (!CHECKSUM_ALGORITHMS.includes(alg))
    throw new S3Error(
      'InvalidRequest',
      'Checksum algorithm provided is unsupported. Please try again with any of the valid types: [CRC32, CRC32C, CRC64NVME, SHA1, SHA256]',
    );
  return alg;
}

/**
 * The algorithm a single-stream write keeps: the one the request carries a checksum of
 * (verified as the body arrives), else the one x-amz-sdk-checksum-algorithm names, else
 * CRC64NVME, which S3 computes for every object uploaded without one.
 */
export function keptAlgorithm(h: Headers, declared: readonly ChecksumName[] = []): ChecksumName {
  if (declared.length) return declared[0];
  const sdk = header(h, 'sdk-checksum-algorithm');
  return sdk ? parseAlgorithm(sdk) : DEFAULT_CHECKSUM.alg;
}

/**
 * CreateMultipartUpload's x-amz-checksum-algorithm and x-amz-checksum-type. Without a
 * type: COMPOSITE, but for CRC64NVME, which S3 keeps only as FULL_OBJECT. FULL_OBJECT
 * needs a CRC (only CRCs combine); a type alone is refused, as S3 does.
 */
export function uploadChecksum(h: Headers): UploadChecksum | undefined {
  const algText = header(h, 'checksum-algorithm');
  const typeText = header(h, 'checksum-type');
  if (algText === null) {
    if (typeText !== null)
      throw new S3Error('InvalidRequest', 'The x-amz-checksum-type header can only be used with the x-amz-checksum-algorithm header.');
    return undefined;
  }
  const alg = parseAlgorithm(algText);
  const type = (typeText?.trim().toUpperCase() ?? (alg === 'crc64nvme' ? 'FULL_OBJECT' : 'COMPOSITE')) as ChecksumType;
  if (type !== 'COMPOSITE' && type !== 'FULL_OBJECT')
    throw new S3Error('InvalidRequest', 'Value for x-amz-checksum-type header is invalid.');
  if (type === 'FULL_OBJECT' && !isCombinable(alg))
    throw new S3Error('InvalidRequest', `The FULL_OBJECT checksum type cannot be used with the ${alg} checksum algorithm.`);
  if (type === 'COMPOSITE' && alg === 'crc64nvme')
    throw new S3Error('InvalidRequest', `The COMPOSITE checksum type cannot be used with the ${alg} checksum algorithm.`);
  return { alg, type };
}

/** x-amz-checksum-<alg> (and the type, when given) on a response, in the request's dialect. */
export function setChecksumHeaders(h: Headers, dialect: Dialect, c: { alg: ChecksumName; value: string }, type?: ChecksumType): void {
  h.set(hdr(dialect, `checksum-${c.alg}`), c.value);
  if (type) h.set(hdr(dialect, 'checksum-type'), type);
}

/** `<ChecksumCRC32>…</ChecksumCRC32>` (and `<ChecksumType>`, when given) for an XML answer. */
export function checksumXml(c: { alg: ChecksumName; value: string } | undefined, type?: ChecksumType): Record<string, string> {
  if (!c) return {};
  return { [`Checksum${ALGORITHM_NAMES[c.alg]}`]: c.value, ...(type ? { ChecksumType: type } : {}) };
}

/** The `<ChecksumCRC32>`… of one element of a request body (a Part of CompleteMultipartUpload), by algorithm. */
export function listedChecksums(get: (tag: string) => string | undefined): Partial<Record<ChecksumName, string>> {
  const out: Partial<Record<ChecksumName, string>> = {};
  for (const alg of CHECKSUM_ALGORITHMS) {
    const v = get(`Checksum${ALGORITHM_NAMES[alg]}`);
    if (v !== undefined) out[alg] = v.trim();
  }
  return out;
}

const digestOf = (c: { value: string }) => {
  const bytes = parseB64(c.value.replace(/-\d+$/, ''));
  if (!bytes) throw new IntegrityError('a stored checksum is not base64');
  return bytes;
};

/**
 * A multipart object's checksum from its parts' (in part order): COMPOSITE is the
 * algorithm over the concatenated binary part checksums, then "-<parts>"; FULL_OBJECT
 * is the CRC of the whole object, combined from the part CRCs and sizes.
 */
export async function multipartChecksum(
  setting: UploadChecksum,
  parts: { size: number; checksum: PartChecksum }[],
): Promise<ObjectChecksum> {
  const { alg, type } = setting;
  if (type === 'FULL_OBJECT') {
    if (!isCombinable(alg)) throw new Error(`${alg} does not combine`);
    let crc = digestOf(parts[0].checksum);
    for (const p of parts.slice(1)) crc = crcCombineBytes(alg, crc, digestOf(p.checksum), p.size);
    return { alg, type, value: toB64(crc) };
  }
  const sum = createChecksum(alg);
  for (const p of parts) await sum.update(digestOf(p.checksum));
  return { alg, type, value: `${toB64(await sum.digest())}-${parts.length}` };
}

/**
 * `src` (the whole plaintext, `length` bytes) with its stored checksum checked as it
 * streams: the chunk that completes the object is passed on only once the check has
 * passed, so a mismatch errors the stream (IntegrityError) before it can end as a
 * success; every other chunk goes on at once. `partSizes`: a composite checksum's
 * parts, to checksum each on its own.
 */
export function verifiedStream(
  src: ReadableStream<Uint8Array>,
  expected: ObjectChecksum,
  length: number,
  partSizes: number[] = [],
): ReadableStream<Uint8Array> {
  const composite = expected.type === 'COMPOSITE';
  const partDigests: Uint8Array[] = [];
  let part = 0;
  let left = partSizes[0] ?? 0;
  let sum: Checksum = createChecksum(expected.alg);
  let count = 0;

  const take = async (chunk: Uint8Array) => {
    if (!composite) return sum.update(chunk);
    for (let off = 0; off < chunk.length; ) {
      // Close every part that is used up (parts of 0 bytes included) before counting bytes into the next.
      while (left === 0 && part < partSizes.length - 1) {
        partDigests.push(await sum.digest());
        sum = createChecksum(expected.alg);
        left = partSizes[++part];
      }
      const n = Math.min(left, chunk.length - off);
      if (n === 0) throw new IntegrityError('the object is longer than its parts');
      await sum.update(chunk.subarray(off, off + n));
      off += n;
      left -= n;
    }
  };

  const finish = async (): Promise<string> => {
    if (!composite) return toB64(await sum.digest());
    while (part < partSizes.length) {
      partDigests.push(await sum.digest());
      sum = createChecksum(expected.alg);
      part++;
    }
    const whole = createChecksum(expected.alg);
    for (const d of partDigests) await whole.update(d);
    return `${toB64(await whole.digest())}-${partDigests.length}`;
  };

  // Pulled one chunk at a time (no pipe of its own: the reader's errors reach the consumer, and only it).
  const reader = src.getReader();
  return new ReadableStream<Uint8Array>(
    {
      async pull(ctl) {
        try {
          const r = await reader.read();
          if (!r.done) {
            count += r.value.length;
            if (count > length) throw new IntegrityError('the object is longer than its record says');
            await take(r.value);
          }
          if (r.done || count === length) {
            if (count < length) throw new IntegrityError('the object is shorter than its record says');
            if ((await finish()) !== expected.value)
              throw new IntegrityError(`the object does not match its stored ${ALGORITHM_NAMES[expected.alg]} checksum`);
            // The source's own end comes first (its last checks, bytes it has too many) before the last chunk goes on.
            for (let more = r; !more.done; more = await reader.read())
              if (more !== r && more.value.length) throw new IntegrityError('the object is longer than its record says');
            if (!r.done && r.value.length) ctl.enqueue(r.value);
            return ctl.close();
          }
          if (r.value.length) ctl.enqueue(r.value);
        } catch (e) {
          ctl.error(e);
          reader.cancel(e).catch(() => {});
        }
      },
      cancel: (reason) => reader.cancel(reason),
    },
    { highWaterMark: 0 },
  );
}
