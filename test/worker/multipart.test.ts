import { beforeAll, describe, expect, it } from 'vitest';
import { Crc64Ecma } from '../../src/s3/payload/checksum';
import { tampered } from './helpers/orphans';
import { bytes, errorCode, md5hex, rawStore, s3, sameBytes } from './helpers/s3';

const B = 'mp-bucket';
const MiB = 1024 * 1024;

beforeAll(async () => {
  expect((await s3('PUT', `/${B}`)).status).toBe(200);
});

const tag = (xml: string, t: string) => new RegExp(`<${t}>([^<]*)</${t}>`).exec(xml)?.[1]?.replace(/&quot;/g, '"');

async function create(key: string, headers: Record<string, string> = {}, origin?: string) {
  const r = await s3('POST', `/${B}/${key}?uploads`, { headers, origin });
  const x = await r.text();
  expect(r.status, x).toBe(200);
  return tag(x, 'UploadId')!;
}

async function part(key: string, id: string, n: number, body: Uint8Array, headers: Record<string, string> = {}, origin?: string) {
  const r = await s3('PUT', `/${B}/${key}?partNumber=${n}&uploadId=${id}`, { body, headers, origin });
  expect(r.status, await r.clone().text()).toBe(200);
  return r.headers.get('etag')!;
}

const completeXml = (parts: [number, string][]) =>
  `<CompleteMultipartUpload>${parts.map(([n, e]) => `<Part><PartNumber>${n}</PartNumber><ETag>${e}</ETag></Part>`).join('')}</CompleteMultipartUpload>`;

async function complete(key: string, id: string, parts: [number, string][], headers: Record<string, string> = {}, origin?: string) {
  return s3('POST', `/${B}/${key}?uploadId=${id}`, { body: completeXml(parts), headers, origin });
}

/** Uploads an object from parts of the given sizes; returns its plaintext. */
async function uploadObject(key: string, sizes: number[], seed = 1) {
  const id = await create(key);
  const data = bytes(
    sizes.reduce((a, b) => a + b, 0),
    seed,
  );
  const etags: [number, string][] = [];
  let o = 0;
  for (const [i, size] of sizes.entries()) {
    etags.push([i + 1, await part(key, id, i + 1, data.slice(o, o + size))]);
    o += size;
  }
  const r = await complete(key, id, etags);
  expect(r.status, await r.clone().text()).toBe(200);
  return { id, data, etag: tag(await r.text(), 'ETag')! };
}

describe('multipart upload', () => {
  let data: Uint8Array;
  beforeAll(async () => {
    // Unequal parts, as S3 clients send them.
    ({ data } = await uploadObject('big.bin', [5 * MiB, 7 * MiB + 3, MiB + 11]));
  });

  it('serves the whole object, byte-identical, as SSE-COS with a multipart ETag', async () => {
    const g = await s3('GET', `/${B}/big.bin`);
    expect(g.status).toBe(200);
    expect(g.headers.get('etag')).toMatch(/^"[0-9a-f]{32}-3"$/);
    expect(g.headers.get('x-amz-server-side-encryption')).toBe('AES256');
    expect(g.headers.get('content-length')).toBe(String(data.length));
    const crc = new Crc64Ecma();
    crc.update(data);
    expect(g.headers.get('x-cos-hash-crc64ecma')).toBe(crc.digestDecimal());
    expect(sameBytes(new Uint8Array(await g.arrayBuffer()), data)).toBe(true);
  });

  it('computes the ETag as S3 does: MD5 of the part MD5s, dash, count', async () => {
    const sizes = [5 * MiB, 2 * MiB];
    const { data: d, etag } = await uploadObject('etag.bin', sizes, 4);
    const md5s = new Uint8Array(32);
    md5s.set(Uint8Array.from((await md5hex(d.slice(0, 5 * MiB))).match(/../g)!.map((h) => parseInt(h, 16))), 0);
    md5s.set(Uint8Array.from((await md5hex(d.slice(5 * MiB))).match(/../g)!.map((h) => parseInt(h, 16))), 16);
    expect(etag).toBe(`"${await md5hex(md5s)}-2"`);
  });

  it('serves ranges across part boundaries', async () => {
    for (const [s, e] of [
      [5 * MiB - 10, 5 * MiB + 10],
      [0, 0],
      [12 * MiB, data.length - 1],
      [5 * MiB - 1, 12 * MiB + 5],
    ]) {
      const g = await s3('GET', `/${B}/big.bin`, { headers: { range: `bytes=${s}-${e}` } });
      expect(g.status).toBe(206);
      expect(sameBytes(new Uint8Array(await g.arrayBuffer()), data.slice(s, e + 1))).toBe(true);
    }
  });

  it('serves partNumber=N on GET and HEAD', async () => {
    const h = await s3('HEAD', `/${B}/big.bin?partNumber=2`);
    expect(h.status).toBe(206);
    expect(h.headers.get('x-amz-mp-parts-count')).toBe('3');
    expect(h.headers.get('content-length')).toBe(String(7 * MiB + 3));
    const g = await s3('GET', `/${B}/big.bin?partNumber=3`);
    expect(sameBytes(new Uint8Array(await g.arrayBuffer()), data.slice(12 * MiB + 3))).toBe(true);
    expect((await s3('GET', `/${B}/big.bin?partNumber=4`)).status).toBe(416);
  });

  it('lists the object with its plaintext size, and leaves no upload bookkeeping behind', async () => {
    const x = await (await s3('GET', `/${B}?list-type=2&prefix=big`)).text();
    expect(tag(x, 'Size')).toBe(String(data.length));
    expect(await (await s3('GET', `/${B}?uploads`)).text()).not.toContain('<Key>big.bin</Key>');
    expect((await rawStore().list({ prefix: 'p/' })).objects.length).toBe(0);
  });
});

describe('upload lifecycle', () => {
  it('lists parts and uploads; abort removes the data; an abandoned upload is invisible to listings', async () => {
    const id = await create('pending.bin');
    await part('pending.bin', id, 1, bytes(1000, 1));
    await part('pending.bin', id, 2, bytes(2000, 2));
    const lp = await (await s3('GET', `/${B}/pending.bin?uploadId=${id}`)).text();
    expect([...lp.matchAll(/<PartNumber>(\d+)<\/PartNumber>/g)].map((m) => m[1])).toEqual(['1', '2']);
    expect(lp).toContain('<Size>2000</Size>');
    const lu = await (await s3('GET', `/${B}?uploads`)).text();
    expect(lu).toContain(`<UploadId>${id}</UploadId>`);
    const lo = await (await s3('GET', `/${B}?list-type=2&prefix=pending`)).text();
    expect(lo).not.toContain('<Key>pending.bin</Key>');
    expect((await s3('HEAD', `/${B}/pending.bin`)).status).toBe(404);

    const before = (await rawStore().list({ prefix: 'd/', include: ['customMetadata'] })).objects.filter(
      (o) => o.customMetadata?.upload === id,
    );
    expect(before.length).toBe(2);
    expect((await s3('DELETE', `/${B}/pending.bin?uploadId=${id}`)).status).toBe(204);
    const after = (await rawStore().list({ prefix: 'd/', include: ['customMetadata'] })).objects.filter(
      (o) => o.customMetadata?.upload === id,
    );
    expect(after.length).toBe(0);
    expect(await errorCode(await s3('GET', `/${B}/pending.bin?uploadId=${id}`))).toBe('NoSuchUpload');
  });

  it('a retried part replaces the first attempt and never reuses its key stream', async () => {
    const id = await create('retry.bin');
    await part('retry.bin', id, 1, bytes(5 * MiB, 1));
    const firstData = (await rawStore().head(`p/${id}/00001`))!.customMetadata!;
    const second = bytes(5 * MiB, 2);
    const e1 = await part('retry.bin', id, 1, second);
    const secondData = (await rawStore().head(`p/${id}/00001`))!.customMetadata!;
    expect(secondData.salt).not.toBe(firstData.salt);
    expect(await rawStore().head(`d/${firstData.data}`)).toBeNull();
    const e2 = await part('retry.bin', id, 2, bytes(10, 3));
    expect(
      (
        await complete('retry.bin', id, [
          [1, e1],
          [2, e2],
        ])
      ).status,
    ).toBe(200);
    const g = await s3('GET', `/${B}/retry.bin`, { headers: { range: `bytes=0-${5 * MiB - 1}` } });
    expect(sameBytes(new Uint8Array(await g.arrayBuffer()), second)).toBe(true);
  });

  it('validates the part list on complete', async () => {
    const id = await create('invalid.bin');
    const e1 = await part('invalid.bin', id, 1, bytes(MiB, 1));
    const e2 = await part('invalid.bin', id, 2, bytes(MiB, 2));
    expect(
      await errorCode(
        await complete('invalid.bin', id, [
          [2, e2],
          [1, e1],
        ]),
      ),
    ).toBe('InvalidPartOrder');
    expect(await errorCode(await complete('invalid.bin', id, [[1, '"00000000000000000000000000000000"']]))).toBe('InvalidPart');
    expect(
      await errorCode(
        await complete('invalid.bin', id, [
          [1, e1],
          [3, e2],
        ]),
      ),
    ).toBe('InvalidPart');
    expect(
      await errorCode(
        await complete('invalid.bin', id, [
          [1, e1],
          [2, e2],
        ]),
      ),
    ).toBe('EntityTooSmall');
    expect(await errorCode(await s3('POST', `/${B}/invalid.bin?uploadId=${id}`, { body: '<CompleteMultipartUpload>' }))).toBe(
      'MalformedXML',
    );
    expect(await errorCode(await complete('invalid.bin', 'ffffffffffffffffffffffffffffffff', [[1, e1]]))).toBe('NoSuchUpload');
    expect(await errorCode(await complete('other-key.bin', id, [[1, e1]]))).toBe('NoSuchUpload');
    // A single small part is a valid object.
    expect((await complete('invalid.bin', id, [[1, e1]])).status).toBe(200);
  });
});

describe('multipart tampering', () => {
  async function manifestOf(key: string) {
    const rec = await rawStore().get(`o/${B}/${key}`);
    const [nonce, ...rest] = (await rec!.text()).split('\n');
    return { meta: rec!.customMetadata!, nonce, manifest: JSON.parse(rest.join('\n')) };
  }
  // Rewrites the manifest but keeps the digest in the record as it was, as an attacker without keys would.
  const rewrite = (key: string, meta: Record<string, string>, manifest: unknown) =>
    rawStore().put(`o/${B}/${key}`, `tampered\n${JSON.stringify(manifest)}`, { customMetadata: meta });
  const is500 = async (key: string) => {
    const g = await s3('GET', `/${B}/${key}`);
    expect(g.status).toBe(500);
    expect(await errorCode(g)).toBe('InternalError');
  };

  it('swapped parts', async () => {
    await uploadObject('swap.bin', [5 * MiB, 5 * MiB], 11);
    const { meta, manifest } = await manifestOf('swap.bin');
    [manifest.parts[0].data, manifest.parts[1].data] = [manifest.parts[1].data, manifest.parts[0].data];
    await rewrite('swap.bin', meta, manifest);
    await is500('swap.bin');
  });

  it('the last part dropped (sizes adjusted to match)', async () => {
    await uploadObject('drop.bin', [5 * MiB, 100], 12);
    const { meta, manifest } = await manifestOf('drop.bin');
    manifest.parts.pop();
    tampered(B, 'drop.bin');
    await rewrite('drop.bin', { ...meta, 'sb-size': String(5 * MiB) }, manifest);
    await is500('drop.bin');
  });

  it('a part replaced by a part from another upload', async () => {
    await uploadObject('victim.bin', [5 * MiB, 100], 13);
    await uploadObject('donor.bin', [5 * MiB, 100], 14);
    const v = await manifestOf('victim.bin');
    const d = await manifestOf('donor.bin');
    v.manifest.parts[1] = d.manifest.parts[1];
    tampered(B, 'victim.bin');
    await rewrite('victim.bin', v.meta, v.manifest);
    await is500('victim.bin');
  });
});

describe('Complete repeated', () => {
  it('after it succeeded answers the same result while the key holds that object, as S3 does', async () => {
    const id = await create('again.bin');
    const e1 = await part('again.bin', id, 1, bytes(1000, 41));
    const first = await complete('again.bin', id, [[1, e1]]);
    expect(first.status).toBe(200);
    const again = await complete('again.bin', id, [[1, e1]]);
    expect(again.status, await again.clone().text()).toBe(200);
    const etag = (r: string) => /<ETag>([^<]*)<\/ETag>/.exec(r)?.[1];
    expect(etag(await again.text())).toBe(etag(await first.text()));
    // Once the key holds something else, the upload is gone for good.
    expect((await s3('PUT', `/${B}/again.bin`, { body: 'other' })).status).toBe(200);
    expect(await errorCode(await complete('again.bin', id, [[1, e1]]))).toBe('NoSuchUpload');
  });
});

describe('SSE-C multipart', () => {
  const HTTPS = 'https://gw.test';
  async function keyHeaders(seed: number) {
    const key = bytes(32, seed);
    return {
      'x-amz-server-side-encryption-customer-algorithm': 'AES256',
      'x-amz-server-side-encryption-customer-key': btoa(String.fromCharCode(...key)),
      'x-amz-server-side-encryption-customer-key-md5': btoa(String.fromCharCode(...new Uint8Array(await crypto.subtle.digest('MD5', key)))),
    };
  }

  it('every part must carry the initiating key', async () => {
    const A = await keyHeaders(1);
    const other = await keyHeaders(2);
    const id = await create('ssec-mp.bin', A, HTTPS);
    const missing = await s3('PUT', `/${B}/ssec-mp.bin?partNumber=1&uploadId=${id}`, { body: 'x', origin: HTTPS });
    expect(missing.status).toBe(400);
    expect(await missing.text()).toContain('Subsequent part requests must include the appropriate encryption parameters');
    const wrong = await s3('PUT', `/${B}/ssec-mp.bin?partNumber=1&uploadId=${id}`, { body: 'x', headers: other, origin: HTTPS });
    expect(wrong.status).toBe(400);
    expect(await wrong.text()).toContain('did not match the ones used originally');

    const data = bytes(5 * MiB + 7, 3);
    const e1 = await part('ssec-mp.bin', id, 1, data.slice(0, 5 * MiB), A, HTTPS);
    const e2 = await part('ssec-mp.bin', id, 2, data.slice(5 * MiB), A, HTTPS);
    const c = await complete(
      'ssec-mp.bin',
      id,
      [
        [1, e1],
        [2, e2],
      ],
      A,
      HTTPS,
    );
    expect(c.status, await c.clone().text()).toBe(200);
    expect((await s3('GET', `/${B}/ssec-mp.bin`, { origin: HTTPS })).status).toBe(400);
    expect((await s3('GET', `/${B}/ssec-mp.bin`, { headers: other, origin: HTTPS })).status).toBe(403);
    const g = await s3('GET', `/${B}/ssec-mp.bin`, { headers: { ...A, range: `bytes=${5 * MiB - 3}-${5 * MiB + 3}` }, origin: HTTPS });
    expect(g.status).toBe(206);
    expect(sameBytes(new Uint8Array(await g.arrayBuffer()), data.slice(5 * MiB - 3, 5 * MiB + 4))).toBe(true);
  });

  it('completes without the key, as S3 does (Tencent SDK, s3transfer 0.6); a key that is sent must match', async () => {
    const A = await keyHeaders(4);
    const other = await keyHeaders(5);
    const id = await create('ssec-keyless.bin', A, HTTPS);
    const data = bytes(5 * MiB + 11, 6);
    const e1 = await part('ssec-keyless.bin', id, 1, data.slice(0, 5 * MiB), A, HTTPS);
    const e2 = await part('ssec-keyless.bin', id, 2, data.slice(5 * MiB), A, HTTPS);
    const parts: [number, string][] = [
      [1, e1],
      [2, e2],
    ];
    const wrong = await complete('ssec-keyless.bin', id, parts, other, HTTPS);
    expect(wrong.status).toBe(400);
    expect(await wrong.text()).toContain('did not match the ones used originally');
    const c = await complete('ssec-keyless.bin', id, parts, {}, HTTPS);
    expect(c.status, await c.clone().text()).toBe(200);
    expect(c.headers.get('x-amz-server-side-encryption-customer-algorithm')).toBe('AES256');
    // Still sealed under the customer's key: nothing without it, everything with it.
    expect((await s3('GET', `/${B}/ssec-keyless.bin`, { origin: HTTPS })).status).toBe(400);
    expect((await s3('GET', `/${B}/ssec-keyless.bin`, { headers: other, origin: HTTPS })).status).toBe(403);
    const g = await s3('GET', `/${B}/ssec-keyless.bin`, { headers: A, origin: HTTPS });
    expect(g.status).toBe(200);
    expect(sameBytes(new Uint8Array(await g.arrayBuffer()), data)).toBe(true);
  });

  it('a part sent again with the same bytes keeps its ETag (clients complete with the first), still not its MD5', async () => {
    const A = await keyHeaders(7);
    const id = await create('ssec-resend.bin', A, HTTPS);
    const data = bytes(5 * MiB + 9, 8);
    const first = await part('ssec-resend.bin', id, 1, data.slice(0, 5 * MiB), A, HTTPS);
    const again = await part('ssec-resend.bin', id, 1, data.slice(0, 5 * MiB), A, HTTPS);
    expect(again).toBe(first);
    const md5 = await md5hex(data.slice(0, 5 * MiB));
    expect(first).not.toContain(md5);
    const other = await part('ssec-resend.bin', id, 2, data.slice(5 * MiB), A, HTTPS);
    const c = await complete(
      'ssec-resend.bin',
      id,
      [
        [1, first],
        [2, other],
      ],
      A,
      HTTPS,
    );
    expect(c.status, await c.clone().text()).toBe(200);
  });
});
