// Object tagging and storage classes, inside workerd over the R2 layout: the tag rules
// (S3's limits, codes and messages) as functions, then every way tags reach an object.

import { beforeAll, describe, expect, it } from 'vitest';
import { decodeTags, encodeObjectRecord, encodeTags } from '../../src/layout/record';
import { S3Error } from '../../src/s3/protocol/errors';
import { checkTags, parseTagging, requestTags, type TagSet } from '../../src/s3/protocol/tagging';
import { IntegrityError } from '../../src/sse/errors';
import { bytes, errorCode, rawStore, s3, sameBytes } from './helpers/s3';

const B = 'tag-bucket';
const text = (n: number) => 'a'.repeat(n);
const doc = (tags: [string, string][]) =>
  `<Tagging><TagSet>${tags.map(([k, v]) => `<Tag><Key>${k}</Key><Value>${v}</Value></Tag>`).join('')}</TagSet></Tagging>`;
const pairs = (tags: TagSet | undefined) => (tags ?? []).map((t) => [t.key, t.value]);
const header = (v: string) => requestTags((s) => (s === 'tagging' ? v : null), 'amz');

function refusal(f: () => unknown): S3Error {
  try {
    f();
  } catch (e) {
    if (e instanceof S3Error) return e;
    throw e;
  }
  throw new Error('not refused');
}
const refused = (f: () => unknown) => {
  const e = refusal(f);
  return { code: e.code, status: e.status, message: e.message, ...e.fields };
};

describe('tag rules', () => {
  it('accepts what S3 accepts: letters, numbers and spaces of any script, + - = . _ : / @, empty values, up to 10 tags', () => {
    const ten = Array.from({ length: 10 }, (_, i) => ({ key: `k${i}`, value: '' }));
    expect(checkTags(ten)).toEqual(ten);
    const edge = [
      { key: text(128), value: text(256) },
      { key: 'Straße 中文 ١٢٣', value: '+ - = . _ : / @' },
      // Counted as S3 counts, in UTF-16 code units: 128 BMP letters fit.
      { key: 'é'.repeat(128), value: '' },
    ];
    expect(checkTags(edge)).toEqual(edge);
  });

  it('refuses keys and values S3 refuses, with its codes, messages and fields', () => {
    const invalidKey = (TagKey: string) => ({
      code: 'InvalidTag',
      status: 400,
      message: 'The TagKey you have provided is invalid',
      TagKey,
    });
    const invalidValue = (TagValue: string) => ({
      code: 'InvalidTag',
      status: 400,
      message: 'The TagValue you have provided is invalid',
      TagKey: 'k',
      TagValue,
    });
    expect(refused(() => checkTags([{ key: text(129), value: '' }]))).toEqual(invalidKey(text(129)));
    expect(refused(() => checkTags([{ key: '', value: 'v' }]))).toEqual(invalidKey(''));
    expect(refused(() => checkTags([{ key: 'k', value: text(257) }]))).toEqual(invalidValue(text(257)));
    for (const bad of ['a,b', 'a;b', 'a?b', 'a!b', 'a*b', 'a#b', 'a%b', 'a(b)', 'a\tb', '😀', 'a&b', 'a<b']) {
      expect(refused(() => checkTags([{ key: bad, value: 'v' }]))).toEqual(invalidKey(bad));
      expect(refused(() => checkTags([{ key: 'k', value: bad }]))).toEqual(invalidValue(bad));
    }
    for (const TagKey of ['aws:cost', 'AWS:cost']) {
      expect(refused(() => checkTags([{ key: TagKey, value: 'v' }]))).toEqual({
        code: 'InvalidTag',
        status: 400,
        message: 'System tags cannot be added/updated by requester',
        TagKey,
      });
    }
    expect(
      refused(() =>
        checkTags([
          { key: 'a', value: '1' },
          { key: 'a', value: '2' },
        ]),
      ),
    ).toEqual({ code: 'InvalidTag', status: 400, message: 'Cannot provide multiple Tags with the same key', TagKey: 'a' });
    const eleven = Array.from({ length: 11 }, (_, i) => ({ key: `key-${i}`, value: '' }));
    expect(refused(() => checkTags(eleven))).toEqual({ code: 'BadRequest', status: 400, message: 'Object tags cannot be greater than 10' });
  });

  it('reads a Tagging document; a document of another shape is MalformedXML, an empty body MissingRequestBodyError', () => {
    expect(
      pairs(
        parseTagging(
          doc([
            ['a', '1'],
            ['b b', ''],
          ]),
        ),
      ),
    ).toEqual([
      ['a', '1'],
      ['b b', ''],
    ]);
    expect(pairs(parseTagging('<Tagging xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><TagSet/></Tagging>'))).toEqual([]);
    // Indented, as hand-written documents are.
    const pretty = '<Tagging>\n  <TagSet>\n    <Tag>\n      <Key>a</Key>\n      <Value> b </Value>\n    </Tag>\n  </TagSet>\n</Tagging>\n';
    expect(pairs(parseTagging(pretty))).toEqual([['a', ' b ']]);
    expect(pairs(parseTagging(doc([['x y', '&#x4E2D;']])))).toEqual([['x y', '中']]);
    for (const bad of [
      '<Tagging><TagSet>',
      '<Tagging></Tagging>',
      '<Tagging><TagSet><Tag><Key>a</Key></Tag></TagSet></Tagging>',
      '<Tagging><TagSet><Tag><Value>a</Value></Tag></TagSet></Tagging>',
      '<Tags><TagSet></TagSet></Tags>',
      '<Tagging><TagSet><Tag><Key><b/></Key><Value/></Tag></TagSet></Tagging>',
      '<Tagging><TagSet>loose text</TagSet></Tagging>',
      '<Tagging><TagSet></TagSet><TagSet></TagSet></Tagging>',
    ]) {
      expect(refusal(() => parseTagging(bad)).code, bad).toBe('MalformedXML');
    }
    expect(refused(() => parseTagging(''))).toEqual({ code: 'MissingRequestBodyError', status: 400, message: 'Request Body is empty' });
  });

  it('reads x-amz-tagging as URL-encoded query parameters', () => {
    expect(pairs(header('a=1&b=2'))).toEqual([
      ['a', '1'],
      ['b', '2'],
    ]);
    expect(pairs(header('a&b='))).toEqual([
      ['a', ''],
      ['b', ''],
    ]);
    expect(pairs(header('a%20b=c%2Bd&e+f=g=h'))).toEqual([
      ['a b', 'c+d'],
      ['e f', 'g=h'],
    ]);
    expect(pairs(header('%C3%BC=%E6%96%87'))).toEqual([['ü', '文']]);
    expect(pairs(header(''))).toEqual([]);
    expect(requestTags(() => null, 'amz')).toBeUndefined();
  });

  it('refuses an x-amz-tagging header S3 refuses', () => {
    const invalid = (ArgumentValue: string, name = 'x-amz-tagging') => ({
      code: 'InvalidArgument',
      status: 400,
      message: `The header '${name}' shall be encoded as UTF-8 then URLEncoded URL query parameters without tag name duplicates.`,
      ArgumentName: name,
      ArgumentValue,
    });
    for (const v of ['a=1&a=2', '=1', 'a=%FF', 'a=%zz']) expect(refused(() => header(v))).toEqual(invalid(v));
    expect(refused(() => requestTags(() => 'a=1&a=2', 'cos'))).toEqual(invalid('a=1&a=2', 'x-cos-tagging'));
    expect(refusal(() => header(Array.from({ length: 11 }, (_, i) => `key-${i}=`).join('&'))).code).toBe('BadRequest');
    expect(refused(() => header('a,b=1'))).toMatchObject({ code: 'InvalidTag', TagKey: 'a,b' });
    expect(refused(() => header('aws:cost=1'))).toMatchObject({ code: 'InvalidTag', TagKey: 'aws:cost' });
  });

  it('round-trips through the record codec, and a broken stored tag set is an integrity failure', () => {
    const tags = [
      { key: 'a "quoted" \\ key', value: '中文' },
      { key: '1', value: '' },
    ];
    expect(decodeTags(encodeTags(tags))).toEqual(tags);
    for (const bad of ['{', '{}', '[["a"]]', '[["a",1]]', '["ab"]']) expect(() => decodeTags(bad), bad).toThrow(IntegrityError);
    const custom = encodeObjectRecord({ size: 1, etag: 'e', crc64: '', meta: {}, tags, location: { kind: 'self' } });
    expect(custom['sb-tags']).toBe(encodeTags(tags));
    expect(
      encodeObjectRecord({ size: 1, etag: 'e', crc64: '', meta: {}, tags: [], location: { kind: 'self' } })['sb-tags'],
    ).toBeUndefined();
  });
});

// --- through the gateway ---

const tagging = (key: string) => `/${B}/${encodeURIComponent(key)}?tagging`;
async function getTags(key: string): Promise<[string, string][]> {
  const r = await s3('GET', tagging(key));
  const x = await r.text();
  expect(r.status, x).toBe(200);
  expect(x).toContain('<Tagging xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><TagSet>');
  return [...x.matchAll(/<Tag><Key>([^<]*)<\/Key><Value>([^<]*)<\/Value><\/Tag>/g)].map((m) => [m[1], m[2]]);
}
const putTags = (key: string, tags: [string, string][]) => s3('PUT', tagging(key), { body: doc(tags), signBody: true });
const put = (key: string, body: BodyInit, headers: Record<string, string> = {}) =>
  s3('PUT', `/${B}/${encodeURIComponent(key)}`, { body, headers });
const recordOf = async (key: string) => (await rawStore().head(`o/${B}/${key}`))!.customMetadata!;

beforeAll(async () => {
  expect((await s3('PUT', `/${B}`)).status).toBe(200);
});

describe('object tagging', () => {
  it('PutObject with x-amz-tagging stores the tags; GET/HEAD report x-amz-tagging-count; GetObjectTagging lists them', async () => {
    const r = await put('t1', 'hello', { 'x-amz-tagging': 'project=blue&empty&a%20b=c%2Fd' });
    expect(r.status, await r.clone().text()).toBe(200);
    expect(await getTags('t1')).toEqual([
      ['project', 'blue'],
      ['empty', ''],
      ['a b', 'c/d'],
    ]);
    const h = await s3('HEAD', `/${B}/t1`);
    expect(h.headers.get('x-amz-tagging-count')).toBe('3');
    const g = await s3('GET', `/${B}/t1`);
    expect(g.headers.get('x-amz-tagging-count')).toBe('3');
    expect(await g.text()).toBe('hello');
    // Tags are metadata, stored in the clear next to the sealed data.
    expect((await recordOf('t1'))['sb-tags']).toBe('[["project","blue"],["empty",""],["a b","c/d"]]');
  });

  it('an object without tags has an empty TagSet and no tagging count', async () => {
    expect((await put('plain', 'x')).status).toBe(200);
    expect(await getTags('plain')).toEqual([]);
    expect((await s3('HEAD', `/${B}/plain`)).headers.get('x-amz-tagging-count')).toBeNull();
  });

  it('PutObjectTagging replaces the tags and DeleteObjectTagging removes them, over the same data', async () => {
    const data = bytes(300_000, 7);
    expect((await put('t2', data, { 'x-amz-tagging': 'a=1' })).status).toBe(200);
    const before = await recordOf('t2');
    const r = await putTags('t2', [
      ['x', '1'],
      ['y', '文'],
    ]);
    expect(r.status, await r.clone().text()).toBe(200);
    expect(await getTags('t2')).toEqual([
      ['x', '1'],
      ['y', '文'],
    ]);
    const after = await recordOf('t2');
    expect(after['sb-data']).toBe(before['sb-data']);
    expect(after['sb-env']).toBe(before['sb-env']);
    const g = await s3('GET', `/${B}/t2`);
    expect(g.headers.get('x-amz-tagging-count')).toBe('2');
    expect(sameBytes(new Uint8Array(await g.arrayBuffer()), data)).toBe(true);

    const d = await s3('DELETE', tagging('t2'));
    expect(d.status).toBe(204);
    expect(await getTags('t2')).toEqual([]);
    expect((await recordOf('t2'))['sb-tags']).toBeUndefined();
    expect((await recordOf('t2'))['sb-data']).toBe(before['sb-data']);
    expect(sameBytes(new Uint8Array(await (await s3('GET', `/${B}/t2`)).arrayBuffer()), data)).toBe(true);
  });

  it('tagging an SSE-C object needs no customer key (tags are not sealed)', async () => {
    const key = bytes(32, 3);
    const b64 = (b: Uint8Array) => btoa(String.fromCharCode(...b));
    const sseC = {
      'x-amz-server-side-encryption-customer-algorithm': 'AES256',
      'x-amz-server-side-encryption-customer-key': b64(key),
      'x-amz-server-side-encryption-customer-key-md5': b64(new Uint8Array(await crypto.subtle.digest('MD5', key))),
    };
    const r = await s3('PUT', `/${B}/ssec`, { body: 'secret', headers: sseC, origin: 'https://gw.test' });
    expect(r.status, await r.clone().text()).toBe(200);
    const body = doc([['k', 'v']]);
    const md5 = btoa(String.fromCharCode(...new Uint8Array(await crypto.subtle.digest('MD5', new TextEncoder().encode(body)))));
    // Unsigned, with Content-MD5 (as the COS SDK sends it).
    expect((await s3('PUT', `/${B}/ssec?tagging`, { body, headers: { 'content-md5': md5 }, origin: 'https://gw.test' })).status).toBe(200);
    const tags = await s3('GET', `/${B}/ssec?tagging`, { origin: 'https://gw.test' });
    expect(await tags.text()).toContain('<Tag><Key>k</Key><Value>v</Value></Tag>');
    const g = await s3('GET', `/${B}/ssec`, { headers: sseC, origin: 'https://gw.test' });
    expect(await g.text()).toBe('secret');
  });

  it('answers NoSuchKey / NoSuchBucket for a missing object, and never brings a deleted object back', async () => {
    for (const m of ['GET', 'DELETE']) expect(await errorCode(await s3(m, tagging('missing')))).toBe('NoSuchKey');
    expect(await errorCode(await putTags('missing', [['a', '1']]))).toBe('NoSuchKey');
    expect(await errorCode(await s3('GET', '/no-such-tag-bucket/k?tagging'))).toBe('NoSuchBucket');
    expect((await put('gone', 'x')).status).toBe(200);
    expect((await s3('DELETE', `/${B}/gone`)).status).toBe(204);
    expect(await errorCode(await putTags('gone', [['a', '1']]))).toBe('NoSuchKey');
    expect(await rawStore().head(`o/${B}/gone`)).toBeNull();
  });

  it('refuses bad tag sets without touching the object', async () => {
    expect((await put('t3', 'x', { 'x-amz-tagging': 'keep=1' })).status).toBe(200);
    const eleven = Array.from({ length: 11 }, (_, i): [string, string] => [`k${i}`, '']);
    const cases: [string, Response][] = [
      ['BadRequest', await putTags('t3', eleven)],
      ['InvalidTag', await putTags('t3', [['aws:x', '1']])],
      ['InvalidTag', await putTags('t3', [['a*', '1']])],
      ['MalformedXML', await s3('PUT', tagging('t3'), { body: '<Tagging></Tagging>', signBody: true })],
      ['MissingRequestBodyError', await s3('PUT', tagging('t3'), { body: '', signBody: true })],
      // An unsigned body needs a digest, as S3 demands of PutObjectTagging.
      ['InvalidRequest', await s3('PUT', tagging('t3'), { body: doc([['a', '1']]) })],
    ];
    for (const [code, r] of cases) {
      expect(r.status).toBe(400);
      expect(await errorCode(r)).toBe(code);
    }
    expect(await getTags('t3')).toEqual([['keep', '1']]);
    // A new object with refused tags is not stored at all.
    const r = await put('t3-new', 'x', { 'x-amz-tagging': 'a=1&a=2' });
    expect(await errorCode(r)).toBe('InvalidArgument');
    expect(await rawStore().head(`o/${B}/t3-new`)).toBeNull();
  });

  it('a tag set over the record budget is refused with MetadataTooLarge, and nothing is half-written', async () => {
    // Ten tags of 128 + 256 three-byte characters: valid tags, far over 2 KiB of metadata.
    const big = Array.from({ length: 10 }, (_, i): [string, string] => [`${i}${'文'.repeat(127)}`, '文'.repeat(256)]);
    expect((await put('t4', 'data', { 'x-amz-tagging': 'small=1' })).status).toBe(200);
    const before = await recordOf('t4');
    const r = await putTags('t4', big);
    expect(r.status).toBe(400);
    expect(await errorCode(r)).toBe('MetadataTooLarge');
    expect(await recordOf('t4')).toEqual(before);
    const header = big.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&');
    expect(await errorCode(await put('t4-new', 'data', { 'x-amz-tagging': header }))).toBe('MetadataTooLarge');
    expect(await rawStore().head(`o/${B}/t4-new`)).toBeNull();
  });

  it('a tag change racing overwrites never loses the overwrite nor mixes records and data', async () => {
    expect((await put('race', bytes(1000, 1))).status).toBe(200);
    for (let i = 2; i < 8; i++) {
      const data = bytes(1000 + i, i);
      const [w, t] = await Promise.all([put('race', data), putTags('race', [['round', String(i)]])]);
      expect(w.status).toBe(200);
      expect([200, 409]).toContain(t.status);
      const g = await s3('GET', `/${B}/race`);
      expect(g.status).toBe(200);
      expect(sameBytes(new Uint8Array(await g.arrayBuffer()), data)).toBe(true);
    }
  });

  it('a tag change racing a DELETE never brings the object back: it is gone, or intact with its data', async () => {
    for (let i = 0; i < 6; i++) {
      const data = bytes(2000 + i, 40 + i);
      expect((await put('race-del', data)).status).toBe(200);
      const [d, t] = await Promise.all([s3('DELETE', `/${B}/race-del`), putTags('race-del', [['round', String(i)]])]);
      expect(d.status).toBe(204);
      expect([200, 404, 409]).toContain(t.status);
      // The DELETE answered last or first; either way it is the last word on the object.
      const g = await s3('GET', `/${B}/race-del`);
      expect(g.status).toBe(404);
      await g.body?.cancel();
    }
  });

  it('CopyObject copies the source tags by default and takes the request tags with REPLACE', async () => {
    expect((await put('src', 'copy me', { 'x-amz-tagging': 'from=source' })).status).toBe(200);
    const copy = (key: string, headers: Record<string, string>) =>
      s3('PUT', `/${B}/${key}`, { headers: { 'x-amz-copy-source': `/${B}/src`, ...headers } });
    expect((await copy('c1', {})).status).toBe(200);
    expect(await getTags('c1')).toEqual([['from', 'source']]);
    // COPY ignores the request's tags, as S3 does.
    expect((await copy('c2', { 'x-amz-tagging-directive': 'COPY', 'x-amz-tagging': 'x=1' })).status).toBe(200);
    expect(await getTags('c2')).toEqual([['from', 'source']]);
    expect((await copy('c3', { 'x-amz-tagging-directive': 'REPLACE', 'x-amz-tagging': 'x=1&y=2' })).status).toBe(200);
    expect(await getTags('c3')).toEqual([
      ['x', '1'],
      ['y', '2'],
    ]);
    expect((await copy('c4', { 'x-amz-tagging-directive': 'REPLACE' })).status).toBe(200);
    expect(await getTags('c4')).toEqual([]);
    const bad = await copy('c5', { 'x-amz-tagging-directive': 'MERGE' });
    expect(await bad.text()).toContain('<ArgumentName>x-amz-tagging-directive</ArgumentName>');
    expect(bad.status).toBe(400);
    // A copy onto itself that re-wraps (SSE-COS -> SSE-KMS is not available here; REPLACE metadata) keeps or replaces tags too.
    const self = await s3('PUT', `/${B}/src`, {
      headers: {
        'x-amz-copy-source': `/${B}/src`,
        'x-amz-metadata-directive': 'REPLACE',
        'x-amz-tagging-directive': 'REPLACE',
        'x-amz-tagging': 'new=1',
      },
    });
    expect(self.status, await self.clone().text()).toBe(200);
    expect(await getTags('src')).toEqual([['new', '1']]);
    // Tags alone do not make a copy onto itself legal (S3 names metadata, storage class, redirect, encryption).
    const tagsOnly = await s3('PUT', `/${B}/src`, {
      headers: { 'x-amz-copy-source': `/${B}/src`, 'x-amz-tagging-directive': 'REPLACE', 'x-amz-tagging': 'other=1' },
    });
    expect(await errorCode(tagsOnly)).toBe('InvalidRequest');
    expect(await getTags('src')).toEqual([['new', '1']]);
    expect(await (await s3('GET', `/${B}/src`)).text()).toBe('copy me');
  });

  it('CreateMultipartUpload with x-amz-tagging: the completed object has the tags', async () => {
    const c = await s3('POST', `/${B}/mp?uploads`, { headers: { 'x-amz-tagging': 'stage=upload' } });
    const x = await c.text();
    expect(c.status, x).toBe(200);
    const id = /<UploadId>([^<]+)</.exec(x)![1];
    const p = await s3('PUT', `/${B}/mp?partNumber=1&uploadId=${id}`, { body: 'part one' });
    expect(p.status).toBe(200);
    const done = await s3('POST', `/${B}/mp?uploadId=${id}`, {
      body: `<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>${p.headers.get('etag')}</ETag></Part></CompleteMultipartUpload>`,
    });
    expect(done.status, await done.clone().text()).toBe(200);
    expect(await getTags('mp')).toEqual([['stage', 'upload']]);
    expect((await s3('HEAD', `/${B}/mp`)).headers.get('x-amz-tagging-count')).toBe('1');
    expect((await putTags('mp', [['stage', 'done']])).status).toBe(200);
    expect(await getTags('mp')).toEqual([['stage', 'done']]);
    expect(await (await s3('GET', `/${B}/mp`)).text()).toBe('part one');
    const refusedUpload = await s3('POST', `/${B}/mp2?uploads`, { headers: { 'x-amz-tagging': 'aws:x=1' } });
    expect(await errorCode(refusedUpload)).toBe('InvalidTag');
  });

  it('a presigned PUT takes x-amz-tagging and x-amz-storage-class from its (signed) query, where SDK presigners put them', async () => {
    const q = (v: Record<string, string>) => new URLSearchParams(v).toString();
    const ok = await s3('PUT', `/${B}/presigned?${q({ 'x-amz-tagging': 'via=query' })}`, { body: 'p', signQuery: true });
    expect(ok.status, await ok.clone().text()).toBe(200);
    expect(await getTags('presigned')).toEqual([['via', 'query']]);
    const ia = await s3('PUT', `/${B}/presigned-ia?${q({ 'x-amz-storage-class': 'STANDARD_IA' })}`, { body: 'p', signQuery: true });
    expect(await errorCode(ia)).toBe('InvalidStorageClass');
    expect(await rawStore().head(`o/${B}/presigned-ia`)).toBeNull();
    // With a signature in the Authorization header, the query is not where these fields come from.
    const header = await s3('PUT', `/${B}/header-signed?${q({ 'x-amz-tagging': 'via=query' })}`, { body: 'p' });
    expect(header.status).toBe(200);
    expect(await getTags('header-signed')).toEqual([]);
  });

  it('?versionId=null names the object; another version id is NoSuchVersion and tags nothing', async () => {
    expect((await put('versioned', 'v', { 'x-amz-tagging': 'a=1' })).status).toBe(200);
    const v = await s3('GET', `${tagging('versioned')}&versionId=null`);
    expect(await v.text()).toContain('<Tag><Key>a</Key><Value>1</Value></Tag>');
    const other = 'A'.repeat(32);
    for (const r of [
      await s3('GET', `${tagging('versioned')}&versionId=${other}`),
      await s3('PUT', `${tagging('versioned')}&versionId=${other}`, { body: doc([['b', '2']]), signBody: true }),
      await s3('DELETE', `${tagging('versioned')}&versionId=${other}`),
    ]) {
      expect(r.status).toBe(404);
      expect(await errorCode(r)).toBe('NoSuchVersion');
    }
    expect(await errorCode(await s3('GET', `${tagging('versioned')}&versionId=bad`))).toBe('InvalidArgument');
    expect(await getTags('versioned')).toEqual([['a', '1']]);
    expect((await s3('PUT', `${tagging('versioned')}&versionId=null`, { body: doc([['b', '2']]), signBody: true })).status).toBe(200);
    expect(await getTags('versioned')).toEqual([['b', '2']]);
  });

  it('bucket ?tagging stays NotImplemented; object ?tagging is served', async () => {
    for (const m of ['GET', 'PUT', 'DELETE']) {
      const r = await s3(m, `/${B}?tagging`);
      expect(r.status).toBe(501);
      expect(await errorCode(r)).toBe('NotImplemented');
    }
    expect((await s3('POST', tagging('plain'))).status).toBe(405);
  });
});

describe('storage classes', () => {
  it('STANDARD is accepted; listings report STANDARD and HEAD reports none, as S3 does for STANDARD', async () => {
    expect((await put('std', 'x', { 'x-amz-storage-class': 'STANDARD' })).status).toBe(200);
    expect((await put('std-cos', 'x', { 'x-cos-storage-class': 'STANDARD' })).status).toBe(200);
    expect((await s3('HEAD', `/${B}/std`)).headers.get('x-amz-storage-class')).toBeNull();
    const l = await (await s3('GET', `/${B}?list-type=2&prefix=std`)).text();
    expect([...l.matchAll(/<StorageClass>([^<]+)</g)].map((m) => m[1])).toEqual(['STANDARD', 'STANDARD']);
  });

  it('any other class is refused with InvalidStorageClass before anything is stored, on every write', async () => {
    const expectRefused = async (r: Response, requested: string) => {
      const x = await r.text();
      expect(r.status, x).toBe(400);
      expect(x).toContain('<Code>InvalidStorageClass</Code>');
      expect(x).toContain('<Message>The storage class you specified is not valid</Message>');
      expect(x).toContain(`<StorageClassRequested>${requested}</StorageClassRequested>`);
    };
    for (const cls of ['STANDARD_IA', 'GLACIER', 'standard', 'NOPE']) {
      await expectRefused(await put('ia', 'x', { 'x-amz-storage-class': cls }), cls);
    }
    await expectRefused(await put('ia', 'x', { 'x-cos-storage-class': 'ARCHIVE' }), 'ARCHIVE');
    expect(await rawStore().head(`o/${B}/ia`)).toBeNull();
    expect((await put('ia-src', 'x')).status).toBe(200);
    await expectRefused(
      await s3('PUT', `/${B}/ia-copy`, { headers: { 'x-amz-copy-source': `/${B}/ia-src`, 'x-amz-storage-class': 'ONEZONE_IA' } }),
      'ONEZONE_IA',
    );
    expect(await rawStore().head(`o/${B}/ia-copy`)).toBeNull();
    await expectRefused(await s3('POST', `/${B}/ia-mp?uploads`, { headers: { 'x-amz-storage-class': 'DEEP_ARCHIVE' } }), 'DEEP_ARCHIVE');
    const uploads = await (await s3('GET', `/${B}?uploads`)).text();
    expect(uploads).not.toContain('ia-mp');
  });
});
