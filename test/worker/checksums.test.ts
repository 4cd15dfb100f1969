// Checksums kept with objects: the combination rules (checked against checksums
// computed here independently, bit by bit), the record codec, and the gateway's
// answers: ChecksumMode on GET/HEAD, multipart COMPOSITE and FULL_OBJECT,
// ListParts, GetObjectAttributes, and a whole read refused when the stored checksum is wrong.

import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  decodeManifest,
  decodeObjectRecord,
  decodePartRecord,
  decodeUploadCustom,
  encodeManifest,
  encodeObjectRecord,
  encodePartRecord,
  encodeUploadCustom,
  type ObjectChecksum,
} from '../../src/layout/record';
import { multipartChecksum } from '../../src/s3/checksums';
import { Crc32, Crc32c, Crc64Nvme } from '../../src/s3/payload/checksum';
import { IntegrityError } from '../../src/sse';
import { bytes, errorCode, rawStore, s3, sameBytes } from './helpers/s3';

const B = 'cks-bucket';
const MiB = 1024 * 1024;

// --- independent reference implementations: bit at a time, BigInt, no tables ---

const REFLECTED = { crc32: [32, 0xedb88320n], crc32c: [32, 0x82f63b78n], crc64nvme: [64, 0x9a6c9329ac4bc9b5n] } as const;

function refCrc(alg: keyof typeof REFLECTED, data: Uint8Array): Uint8Array {
  const [width, poly] = REFLECTED[alg];
  const mask = (1n << BigInt(width)) - 1n;
  let c = mask;
  for (const b of data) {
    c ^= BigInt(b);
    for (let k = 0; k < 8; k++) c = c & 1n ? (c >> 1n) ^ poly : c >> 1n;
  }
  c ^= mask;
  return Uint8Array.from({ length: width / 8 }, (_, i) => Number((c >> BigInt(8 * (width / 8 - 1 - i))) & 0xffn));
}

/** The gateway's table-driven CRCs, for megabytes (the bitwise reference is too slow there); checked against the reference below. */
function fastCrc(alg: keyof typeof REFLECTED, data: Uint8Array): Uint8Array {
  const c = alg === 'crc32' ? new Crc32() : alg === 'crc32c' ? new Crc32c() : new Crc64Nvme();
  c.update(data);
  return c.digest();
}

const b64 = (b: Uint8Array) => btoa(String.fromCharCode(...b));
const concatBytes = (...parts: Uint8Array[]) => {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
};
const sha = async (alg: 'SHA-1' | 'SHA-256', b: Uint8Array) => new Uint8Array(await crypto.subtle.digest(alg, b));
const tag = (xml: string, t: string) => new RegExp(`<${t}>([^<]*)</${t}>`).exec(xml)?.[1];
const tags = (xml: string, t: string) => [...xml.matchAll(new RegExp(`<${t}>([^<]*)</${t}>`, 'g'))].map((m) => m[1]);

describe('combining part checksums', () => {
  it('the reference CRCs give the catalogued check values of "123456789"', () => {
    const nine = new TextEncoder().encode('123456789');
    const hex = (b: Uint8Array) => [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
    expect(hex(refCrc('crc32', nine))).toBe('cbf43926');
    expect(hex(refCrc('crc32c', nine))).toBe('e3069283');
    expect(hex(refCrc('crc64nvme', nine))).toBe('ae8b14860a799888');
    const data = bytes(3001, 9);
    for (const alg of ['crc32', 'crc32c', 'crc64nvme'] as const) expect(fastCrc(alg, data)).toEqual(refCrc(alg, data));
  });

  it('FULL_OBJECT: the CRC of the parts combined is the CRC of the whole object', async () => {
    const data = bytes(20_000, 11);
    for (const alg of ['crc32', 'crc32c', 'crc64nvme'] as const) {
      for (const cuts of [
        [0, 20_000],
        [1, 19_999],
        [7_000, 7_000, 6_000],
        [0, 0, 20_000],
        [20_000, 0],
      ]) {
        let o = 0;
        const parts = cuts.map((size) => {
          const p = data.subarray(o, o + size);
          o += size;
          return { size, checksum: { alg, value: b64(refCrc(alg, p)) } };
        });
        const got = await multipartChecksum({ alg, type: 'FULL_OBJECT' }, parts);
        expect(got, `${alg} ${cuts}`).toEqual({ alg, type: 'FULL_OBJECT', value: b64(refCrc(alg, data)) });
      }
    }
  });

  it('COMPOSITE: the checksum of the concatenated binary part checksums, then "-<parts>"', async () => {
    const parts = [bytes(1000, 1), bytes(1, 2), bytes(0, 3), bytes(4096, 4)];
    const crcs = parts.map((p) => refCrc('crc32', p));
    const got = await multipartChecksum(
      { alg: 'crc32', type: 'COMPOSITE' },
      parts.map((p, i) => ({ size: p.length, checksum: { alg: 'crc32' as const, value: b64(crcs[i]) } })),
    );
    expect(got.value).toBe(`${b64(refCrc('crc32', concatBytes(...crcs)))}-4`);
    const shas = await Promise.all(parts.map((p) => sha('SHA-256', p)));
    const s = await multipartChecksum(
      { alg: 'sha256', type: 'COMPOSITE' },
      parts.map((p, i) => ({ size: p.length, checksum: { alg: 'sha256' as const, value: b64(shas[i]) } })),
    );
    expect(s.value).toBe(`${b64(await sha('SHA-256', concatBytes(...shas)))}-4`);
  });
});

describe('the record codec keeps checksums', () => {
  const stored = (custom: Record<string, string>) => ({ key: 'k', size: 0, etag: 'e', uploaded: new Date(0), custom, http: {} });
  const base = { size: 5, etag: '0'.repeat(32), crc64: '1', meta: {}, location: { kind: 'entry' as const, id: 'abc' } };

  it('round-trips object, part, manifest and upload checksums', () => {
    for (const checksum of [
      { alg: 'crc64nvme', type: 'FULL_OBJECT', value: 'AAAAAAAAAAA=' },
      { alg: 'crc32', type: 'COMPOSITE', value: 'AAAAAA==-10000' },
      { alg: 'sha256', type: 'FULL_OBJECT', value: `${'A'.repeat(43)}=` },
      { alg: 'sha1', type: 'COMPOSITE', value: `${'A'.repeat(27)}=-2` },
    ] as ObjectChecksum[]) {
      const rec = decodeObjectRecord(stored(encodeObjectRecord({ ...base, checksum })));
      expect(rec?.checksum).toEqual(checksum);
    }
    expect(decodeObjectRecord(stored(encodeObjectRecord(base)))?.checksum).toBeUndefined();

    const part = {
      size: 3,
      etag: 'e',
      crc64: '2',
      checksum: { alg: 'crc32c' as const, value: 'AAAAAA==' },
      location: { kind: 'entry' as const, id: 'p' },
    };
    expect(decodePartRecord(encodePartRecord(part)).checksum).toEqual(part.checksum);
    const manifest = {
      upload: 'u',
      parts: [
        { n: 1, size: 3, etag: 'e', checksum: part.checksum, location: part.location },
        { n: 2, size: 3, etag: 'e', location: part.location },
      ],
    };
    expect(decodeManifest(encodeManifest(manifest))).toEqual(manifest);
    const tags = [{ key: 'k', value: 'v' }];
    const upload = decodeUploadCustom(encodeUploadCustom(undefined, { a: 'b' }, tags, { alg: 'sha1', type: 'COMPOSITE' }));
    expect(upload).toEqual({ envelope: undefined, meta: { a: 'b' }, tags, checksum: { alg: 'sha1', type: 'COMPOSITE' } });
    expect(decodeUploadCustom(encodeUploadCustom(undefined, {})).checksum).toBeUndefined();
  });

  it('refuses, as an IntegrityError, a stored checksum no write produces', () => {
    const good = encodeObjectRecord({ ...base, checksum: { alg: 'crc32', type: 'FULL_OBJECT', value: 'AAAAAA==' } });
    for (const bad of [
      'crc32:F:AAAAAA',
      'crc32:F:AAAAAAAA',
      'md5:F:AAAAAA==',
      'crc32:C:AAAAAA==',
      'crc32:F:AAAAAA==-2',
      'crc32:X:AAAAAA==',
      'crc32:F:AAAAAA==:x',
    ]) {
      expect(() => decodeObjectRecord(stored({ ...good, 'sb-cks': bad })), bad).toThrow(IntegrityError);
    }
  });
});

beforeAll(async () => {
  expect((await s3('PUT', `/${B}`)).status).toBe(200);
});

async function put(key: string, body: Uint8Array, headers: Record<string, string> = {}) {
  const r = await s3('PUT', `/${B}/${key}`, { body, headers });
  expect(r.status, await r.clone().text()).toBe(200);
  return r;
}

const ENABLED = { 'x-amz-checksum-mode': 'ENABLED' };

describe('single-stream objects', () => {
  it('keeps the checksum the client sent and returns it only with ChecksumMode ENABLED, never on a range', async () => {
    const data = bytes(70_000, 21);
    const crc32 = b64(refCrc('crc32', data));
    const p = await put('sent.bin', data, { 'x-amz-checksum-crc32': crc32 });
    expect(p.headers.get('x-amz-checksum-crc32')).toBe(crc32);
    expect((await s3('HEAD', `/${B}/sent.bin`)).headers.get('x-amz-checksum-crc32')).toBeNull();
    for (const method of ['GET', 'HEAD']) {
      const r = await s3(method, `/${B}/sent.bin`, { headers: ENABLED });
      expect(r.headers.get('x-amz-checksum-crc32')).toBe(crc32);
      expect(r.headers.get('x-amz-checksum-type')).toBe('FULL_OBJECT');
      if (method === 'GET') expect(sameBytes(new Uint8Array(await r.arrayBuffer()), data)).toBe(true);
    }
    const ranged = await s3('GET', `/${B}/sent.bin`, { headers: { ...ENABLED, range: 'bytes=0-99' } });
    expect(ranged.status).toBe(206);
    expect(ranged.headers.get('x-amz-checksum-crc32')).toBeNull();
    await ranged.arrayBuffer();
  });

  it('keeps a SHA-256 sent as the only checksum', async () => {
    const data = bytes(5000, 22);
    const sum = b64(await sha('SHA-256', data));
    await put('sha.bin', data, { 'x-amz-checksum-sha256': sum });
    const r = await s3('HEAD', `/${B}/sha.bin`, { headers: ENABLED });
    expect(r.headers.get('x-amz-checksum-sha256')).toBe(sum);
  });

  it('computes CRC64NVME when the client sends none, and the algorithm x-amz-sdk-checksum-algorithm names', async () => {
    const data = bytes(300_000, 23);
    await put('none.bin', data);
    const r = await s3('HEAD', `/${B}/none.bin`, { headers: ENABLED });
    expect(r.headers.get('x-amz-checksum-crc64nvme')).toBe(b64(fastCrc('crc64nvme', data)));
    expect(r.headers.get('x-amz-checksum-type')).toBe('FULL_OBJECT');
    await put('sdk.bin', data, { 'x-amz-sdk-checksum-algorithm': 'CRC32C' });
    const s = await s3('HEAD', `/${B}/sdk.bin`, { headers: ENABLED });
    expect(s.headers.get('x-amz-checksum-crc32c')).toBe(b64(fastCrc('crc32c', data)));
  });

  it("CopyObject keeps the source's full-object algorithm, or the one x-amz-checksum-algorithm names, and reports it", async () => {
    const data = bytes(9000, 25);
    await put('copy-src.bin', data, { 'x-amz-checksum-sha256': b64(await sha('SHA-256', data)) });
    const same = await s3('PUT', `/${B}/copy-same.bin`, { headers: { 'x-amz-copy-source': `/${B}/copy-src.bin` } });
    const sx = await same.text();
    expect(same.status, sx).toBe(200);
    expect(tag(sx, 'ChecksumSHA256')).toBe(b64(await sha('SHA-256', data)));
    expect((await s3('HEAD', `/${B}/copy-same.bin`, { headers: ENABLED })).headers.get('x-amz-checksum-sha256')).toBe(
      b64(await sha('SHA-256', data)),
    );
    const other = await s3('PUT', `/${B}/copy-crc.bin`, {
      headers: { 'x-amz-copy-source': `/${B}/copy-src.bin`, 'x-amz-checksum-algorithm': 'CRC32C' },
    });
    expect(tag(await other.text(), 'ChecksumCRC32C')).toBe(b64(refCrc('crc32c', data)));
  });

  it('GetObjectAttributes: the attributes asked for, Last-Modified, no ObjectParts for a single-stream object', async () => {
    const data = bytes(1234, 24);
    const crc = b64(refCrc('crc32c', data));
    await put('attrs.bin', data, { 'x-amz-checksum-crc32c': crc });
    const r = await s3('GET', `/${B}/attrs.bin?attributes`, {
      headers: { 'x-amz-object-attributes': 'ETag,Checksum,ObjectParts,StorageClass,ObjectSize' },
    });
    const x = await r.text();
    expect(r.status, x).toBe(200);
    expect(r.headers.get('last-modified')).toBeTruthy();
    expect(x).toContain('<GetObjectAttributesResponse');
    expect(tag(x, 'ETag')).toMatch(/^[0-9a-f]{32}$/);
    expect(tag(x, 'ChecksumCRC32C')).toBe(crc);
    expect(tag(x, 'ChecksumType')).toBe('FULL_OBJECT');
    expect(tag(x, 'StorageClass')).toBe('STANDARD');
    expect(tag(x, 'ObjectSize')).toBe('1234');
    expect(x).not.toContain('<ObjectParts>');
    const only = await (await s3('GET', `/${B}/attrs.bin?attributes`, { headers: { 'x-amz-object-attributes': 'ObjectSize' } })).text();
    expect(only).not.toContain('<ETag>');
    expect(tag(only, 'ObjectSize')).toBe('1234');
    for (const bad of [undefined, '', 'ETag,Colour']) {
      const e = await s3('GET', `/${B}/attrs.bin?attributes`, { headers: bad === undefined ? {} : { 'x-amz-object-attributes': bad } });
      expect(e.status).toBe(400);
      expect(await errorCode(e)).toBe('InvalidArgument');
    }
    const missing = await s3('GET', `/${B}/nope.bin?attributes`, { headers: { 'x-amz-object-attributes': 'ETag' } });
    expect(await errorCode(missing)).toBe('NoSuchKey');
    // ?versionId= names a version as for GetObject: "null" is the object, any other id none here.
    const nullVersion = await s3('GET', `/${B}/attrs.bin?attributes&versionId=null`, {
      headers: { 'x-amz-object-attributes': 'ObjectSize' },
    });
    expect(tag(await nullVersion.text(), 'ObjectSize')).toBe('1234');
    const other = await s3('GET', `/${B}/attrs.bin?attributes&versionId=${'a'.repeat(32)}`, {
      headers: { 'x-amz-object-attributes': 'ObjectSize' },
    });
    expect(await errorCode(other)).toBe('NoSuchVersion');
  });
});

async function createUpload(key: string, headers: Record<string, string>) {
  const r = await s3('POST', `/${B}/${key}?uploads`, { headers });
  const x = await r.text();
  expect(r.status, x).toBe(200);
  return { id: tag(x, 'UploadId')!, headers: r.headers };
}

async function uploadPart(key: string, id: string, n: number, body: Uint8Array, headers: Record<string, string> = {}) {
  const r = await s3('PUT', `/${B}/${key}?partNumber=${n}&uploadId=${id}`, { body, headers });
  expect(r.status, await r.clone().text()).toBe(200);
  return r;
}

const completeBody = (parts: { n: number; etag: string; extra?: string }[]) =>
  `<CompleteMultipartUpload>${parts.map((p) => `<Part><PartNumber>${p.n}</PartNumber><ETag>${p.etag}</ETag>${p.extra ?? ''}</Part>`).join('')}</CompleteMultipartUpload>`;

describe('multipart objects', () => {
  const one = bytes(5 * MiB, 31);
  const two = bytes(MiB + 7, 32);
  const whole = concatBytes(one, two);
  const crcs = [fastCrc('crc32', one), fastCrc('crc32', two)];

  it('COMPOSITE CRC32: parts, ListParts, Complete, HEAD, part GET and GetObjectAttributes agree with S3', async () => {
    const key = 'composite.bin';
    const { id, headers } = await createUpload(key, { 'x-amz-checksum-algorithm': 'CRC32' });
    expect(headers.get('x-amz-checksum-algorithm')).toBe('CRC32');
    expect(headers.get('x-amz-checksum-type')).toBe('COMPOSITE');
    // Part 1 carries its checksum; part 2 none (computed by the gateway).
    const p1 = await uploadPart(key, id, 1, one, { 'x-amz-checksum-crc32': b64(crcs[0]) });
    expect(p1.headers.get('x-amz-checksum-crc32')).toBe(b64(crcs[0]));
    const p2 = await uploadPart(key, id, 2, two);
    expect(p2.headers.get('x-amz-checksum-crc32')).toBe(b64(crcs[1]));
    // A checksum of another algorithm is refused for an upload created with CRC32.
    const wrong = await s3('PUT', `/${B}/${key}?partNumber=3&uploadId=${id}`, {
      body: two,
      headers: { 'x-amz-checksum-crc32c': b64(fastCrc('crc32c', two)) },
    });
    expect(await errorCode(wrong)).toBe('InvalidRequest');

    const lp = await (await s3('GET', `/${B}/${key}?uploadId=${id}`)).text();
    expect(tag(lp, 'ChecksumAlgorithm')).toBe('CRC32');
    expect(tag(lp, 'ChecksumType')).toBe('COMPOSITE');
    expect(tags(lp, 'ChecksumCRC32')).toEqual(crcs.map(b64));

    const etags = [p1.headers.get('etag')!, p2.headers.get('etag')!];
    // A part listed without its checksum, or with a wrong one, is refused and the upload stays open.
    const missing = await s3('POST', `/${B}/${key}?uploadId=${id}`, {
      body: completeBody([
        { n: 1, etag: etags[0], extra: `<ChecksumCRC32>${b64(crcs[0])}</ChecksumCRC32>` },
        { n: 2, etag: etags[1] },
      ]),
    });
    expect(await errorCode(missing)).toBe('InvalidRequest');
    const mismatch = await s3('POST', `/${B}/${key}?uploadId=${id}`, {
      body: completeBody([
        { n: 1, etag: etags[0], extra: `<ChecksumCRC32>${b64(crcs[1])}</ChecksumCRC32>` },
        { n: 2, etag: etags[1], extra: `<ChecksumCRC32>${b64(crcs[1])}</ChecksumCRC32>` },
      ]),
    });
    expect(await errorCode(mismatch)).toBe('InvalidPart');

    const expected = `${b64(refCrc('crc32', concatBytes(...crcs)))}-2`;
    const done = await s3('POST', `/${B}/${key}?uploadId=${id}`, {
      body: completeBody(etags.map((etag, i) => ({ n: i + 1, etag, extra: `<ChecksumCRC32>${b64(crcs[i])}</ChecksumCRC32>` }))),
    });
    const dx = await done.text();
    expect(done.status, dx).toBe(200);
    expect(tag(dx, 'ChecksumCRC32')).toBe(expected);
    expect(tag(dx, 'ChecksumType')).toBe('COMPOSITE');

    const h = await s3('HEAD', `/${B}/${key}`, { headers: ENABLED });
    expect(h.headers.get('x-amz-checksum-crc32')).toBe(expected);
    expect(h.headers.get('x-amz-checksum-type')).toBe('COMPOSITE');
    const g = await s3('GET', `/${B}/${key}`, { headers: ENABLED });
    expect(sameBytes(new Uint8Array(await g.arrayBuffer()), whole)).toBe(true);
    const p = await s3('GET', `/${B}/${key}?partNumber=2`, { headers: ENABLED });
    expect(p.headers.get('x-amz-checksum-crc32')).toBe(b64(crcs[1]));
    await p.arrayBuffer();

    const attrs = await s3('GET', `/${B}/${key}?attributes`, {
      headers: { 'x-amz-object-attributes': 'Checksum,ObjectParts,ObjectSize', 'x-amz-max-parts': '1' },
    });
    const ax = await attrs.text();
    expect(attrs.status, ax).toBe(200);
    // The object's composite checksum without its "-2"; the count is PartsCount.
    expect(tag(ax, 'ChecksumCRC32')).toBe(expected.slice(0, -2));
    expect(tag(ax, 'PartsCount')).toBe('2');
    expect(tag(ax, 'MaxParts')).toBe('1');
    expect(tag(ax, 'IsTruncated')).toBe('true');
    expect(tag(ax, 'NextPartNumberMarker')).toBe('1');
    expect(tags(ax, 'PartNumber')).toEqual(['1']);
    expect(tags(ax, 'Size')).toEqual([String(one.length)]);
    const next = await (
      await s3('GET', `/${B}/${key}?attributes`, { headers: { 'x-amz-object-attributes': 'ObjectParts', 'x-amz-part-number-marker': '1' } })
    ).text();
    expect(tags(next, 'PartNumber')).toEqual(['2']);
    expect(tags(next, 'ChecksumCRC32')).toEqual([b64(crcs[1])]);
    expect(tag(next, 'IsTruncated')).toBe('false');
  });

  it('FULL_OBJECT CRC64NVME: the CRC of the whole object, checked against the header Complete sends', async () => {
    const key = 'full.bin';
    const { id, headers } = await createUpload(key, { 'x-amz-checksum-algorithm': 'CRC64NVME' });
    expect(headers.get('x-amz-checksum-type')).toBe('FULL_OBJECT');
    const etags = [
      (await uploadPart(key, id, 1, one, { 'x-amz-checksum-crc64nvme': b64(fastCrc('crc64nvme', one)) })).headers.get('etag')!,
      (await uploadPart(key, id, 2, two)).headers.get('etag')!,
    ];
    const expected = b64(fastCrc('crc64nvme', whole));
    const body = completeBody(etags.map((etag, i) => ({ n: i + 1, etag })));
    const bad = await s3('POST', `/${B}/${key}?uploadId=${id}`, {
      body,
      headers: { 'x-amz-checksum-crc64nvme': b64(fastCrc('crc64nvme', one)), 'x-amz-checksum-type': 'FULL_OBJECT' },
    });
    expect(await errorCode(bad)).toBe('BadDigest');
    const done = await s3('POST', `/${B}/${key}?uploadId=${id}`, {
      body,
      headers: { 'x-amz-checksum-crc64nvme': expected, 'x-amz-checksum-type': 'FULL_OBJECT' },
    });
    const dx = await done.text();
    expect(done.status, dx).toBe(200);
    expect(tag(dx, 'ChecksumCRC64NVME')).toBe(expected);
    expect(tag(dx, 'ChecksumType')).toBe('FULL_OBJECT');
    const g = await s3('GET', `/${B}/${key}`, { headers: ENABLED });
    expect(g.headers.get('x-amz-checksum-crc64nvme')).toBe(expected);
    expect(sameBytes(new Uint8Array(await g.arrayBuffer()), whole)).toBe(true);
  });

  it('an upload created without an algorithm gets CRC64NVME of the whole object, as S3 computes', async () => {
    const key = 'default.bin';
    const { id, headers } = await createUpload(key, {});
    expect(headers.get('x-amz-checksum-algorithm')).toBeNull();
    const etags = [(await uploadPart(key, id, 1, one)).headers.get('etag')!, (await uploadPart(key, id, 2, two)).headers.get('etag')!];
    const done = await s3('POST', `/${B}/${key}?uploadId=${id}`, { body: completeBody(etags.map((etag, i) => ({ n: i + 1, etag }))) });
    expect(tag(await done.text(), 'ChecksumCRC64NVME')).toBe(b64(fastCrc('crc64nvme', whole)));
  });

  it('refuses checksum settings S3 refuses at CreateMultipartUpload', async () => {
    for (const headers of <Record<string, string>[]>[
      { 'x-amz-checksum-algorithm': 'SHA256', 'x-amz-checksum-type': 'FULL_OBJECT' },
      { 'x-amz-checksum-algorithm': 'CRC64NVME', 'x-amz-checksum-type': 'COMPOSITE' },
      { 'x-amz-checksum-algorithm': 'MD4' },
      { 'x-amz-checksum-type': 'COMPOSITE' },
    ]) {
      const r = await s3('POST', `/${B}/refused.bin?uploads`, { headers });
      expect(await errorCode(r), JSON.stringify(headers)).toBe('InvalidRequest');
    }
  });
});

describe('a whole read is checked against the stored checksum', () => {
  const errors = vi.spyOn(console, 'error');
  afterEach(() => errors.mockClear());

  /** Rewrites the record's sb-cks with a checksum of other bytes, as an attacker or a bug might. */
  async function damage(key: string, other: Uint8Array, alg: 'crc32' | 'crc64nvme' = 'crc64nvme') {
    const rec = (await rawStore().head(`o/${B}/${key}`))!;
    const stored = rec.customMetadata!['sb-cks'];
    const [a, t, v] = stored.split(':');
    expect(a).toBe(alg);
    const value = `${b64(fastCrc(alg, other))}${v.includes('-') ? v.slice(v.indexOf('-')) : ''}`;
    // The record's body (a multipart object's manifest) stays as it is.
    const body = await (await rawStore().get(`o/${B}/${key}`))!.arrayBuffer();
    await rawStore().put(`o/${B}/${key}`, body, { customMetadata: { ...rec.customMetadata, 'sb-cks': `${a}:${t}:${value}` } });
  }
  const logged = () =>
    errors.mock.calls.some(([m]) => typeof m === 'string' && m.includes('"integrity-failure"') && m.includes('checksum'));

  it('a small object: an error response, logged', async () => {
    await put('dmg-small', bytes(1000, 41));
    await damage('dmg-small', bytes(1000, 42));
    const g = await s3('GET', `/${B}/dmg-small`);
    expect(g.status).toBe(500);
    expect(await errorCode(g)).toBe('InternalError');
    expect(logged()).toBe(true);
    // A range is not the whole object: it is served (its bytes are authenticated by the seal).
    const r = await s3('GET', `/${B}/dmg-small`, { headers: { range: 'bytes=0-9' } });
    expect(r.status).toBe(206);
    await r.arrayBuffer();
  });

  it('a large object: the body aborts before its end, logged', async () => {
    await put('dmg-large', bytes(3 * MiB, 43));
    await damage('dmg-large', bytes(10, 44));
    const g = await s3('GET', `/${B}/dmg-large`);
    expect(g.status).toBe(200);
    await expect(g.arrayBuffer()).rejects.toThrow();
    expect(logged()).toBe(true);
  });

  it('a composite multipart object', async () => {
    const key = 'dmg-mp';
    const { id } = await createUpload(key, { 'x-amz-checksum-algorithm': 'CRC32' });
    const a = bytes(5 * MiB, 46);
    const b = bytes(100, 47);
    const e1 = (await uploadPart(key, id, 1, a)).headers.get('etag')!;
    const e2 = (await uploadPart(key, id, 2, b)).headers.get('etag')!;
    const done = await s3('POST', `/${B}/${key}?uploadId=${id}`, {
      body: completeBody([
        { n: 1, etag: e1, extra: `<ChecksumCRC32>${b64(fastCrc('crc32', a))}</ChecksumCRC32>` },
        { n: 2, etag: e2, extra: `<ChecksumCRC32>${b64(refCrc('crc32', b))}</ChecksumCRC32>` },
      ]),
    });
    expect(done.status, await done.text()).toBe(200);
    const ok = await s3('GET', `/${B}/${key}`);
    expect(sameBytes(new Uint8Array(await ok.arrayBuffer()), concatBytes(a, b))).toBe(true);
    await damage(key, b, 'crc32');
    const g = await s3('GET', `/${B}/${key}`);
    expect(g.status).toBe(200);
    await expect(g.arrayBuffer()).rejects.toThrow();
    expect(logged()).toBe(true);
  });
});
