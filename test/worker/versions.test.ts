// ListObjectVersions, GetBucketVersioning and versionId=null, inside workerd (R2 layout).
// No bucket has versioning: every object is its null version. The e2e suite
// (test/e2e/versions.test.ts) drives the same through boto3, the AWS SDK and the COS SDK.

import { beforeAll, describe, expect, it } from 'vitest';
import { resumeAfter, versionQuery } from '../../src/s3/ops/versions';
import { S3Error } from '../../src/s3/protocol/errors';
import { parseVersionId, versionIdOnWire } from '../../src/s3/protocol/version-id';
import { errorCode, s3 } from './helpers/s3';

const B = 'versions-bucket';
const KEYS = ['a', 'b/1', 'b/2', 'b/c/3', 'c d', 'e+f', 'z'];
const WELL_FORMED = 'Zm9vYmFyYmF6cXV4eHl6enkxMjM0NTY3'; // 32 URL-safe characters, as S3's own ids
const xmlns = 'http://s3.amazonaws.com/doc/2006-03-01/';

/** Every <tag> value in `xml`, in order. */
const all = (xml: string, tag: string) => [...xml.matchAll(new RegExp(`<${tag}>([^<]*)</${tag}>`, 'g'))].map((m) => m[1]);
const one = (xml: string, tag: string) => all(xml, tag)[0];
const versionsXml = (xml: string) => [...xml.matchAll(/<Version>(.*?)<\/Version>/g)].map((m) => m[1]);

async function put(key: string, body: string) {
  const r = await s3('PUT', `/${B}/${encodeURIComponent(key).replace(/%2F/g, '/')}`, { body });
  expect(r.status, await r.clone().text()).toBe(200);
}

async function list(query: string): Promise<string> {
  const r = await s3('GET', `/${B}?versions${query}`);
  const text = await r.text();
  expect(r.status, text).toBe(200);
  return text;
}

beforeAll(async () => {
  expect((await s3('PUT', `/${B}`)).status).toBe(200);
  for (const k of KEYS) await put(k, `body of ${k}`);
});

describe('parsing', () => {
  const refusal = (f: () => unknown) => {
    try {
      f();
    } catch (e) {
      if (e instanceof S3Error) return { code: e.code, status: e.status, message: e.message, fields: e.fields };
      throw e;
    }
    throw new Error('expected a refusal');
  };

  it('parseVersionId: null and well-formed ids pass; empty and malformed ones are InvalidArgument (COS: empty names none)', () => {
    expect(parseVersionId('null', 'amz')).toBe('null');
    expect(parseVersionId(WELL_FORMED, 'amz')).toBe(WELL_FORMED);
    expect(parseVersionId('3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrH', 'amz')).toBe('3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrH');
    expect(parseVersionId('', 'cos')).toBeUndefined();
    expect(refusal(() => parseVersionId('', 'amz'))).toEqual({
      code: 'InvalidArgument',
      status: 400,
      message: 'Version id cannot be the empty string',
      fields: { ArgumentName: 'versionId', ArgumentValue: '' },
    });
    for (const bad of ['NULL', 'abc', `${WELL_FORMED}x`, 'Zm9vYmFyYmF6cXV4eHl6enkxMjM0NTY/', ' null'])
      expect(
        refusal(() => parseVersionId(bad, 'amz', 'version-id-marker')),
        bad,
      ).toEqual({
        code: 'InvalidArgument',
        status: 400,
        message: 'Invalid version id specified',
        fields: { ArgumentName: 'version-id-marker', ArgumentValue: bad },
      });
    expect(versionIdOnWire('null', 'amz')).toBe('null');
    expect(versionIdOnWire('null', 'cos')).toBe('');
    expect(versionIdOnWire(WELL_FORMED, 'cos')).toBe(WELL_FORMED);
  });

  it('versionQuery and resumeAfter: defaults, markers, and a key marker that is a common prefix', () => {
    const q = (s: string) => versionQuery(new URLSearchParams(s), 'amz');
    expect(q('versions')).toEqual({
      prefix: '',
      delimiter: undefined,
      encoding: undefined,
      maxKeys: 1000,
      keyMarker: '',
      versionIdMarker: '',
    });
    expect(q('max-keys=5000').maxKeys).toBe(1000);
    expect(resumeAfter(q(''))).toBeUndefined();
    expect(resumeAfter(q('key-marker=k'))).toEqual({ key: 'k' });
    expect(resumeAfter(q('key-marker=k&version-id-marker=null'))).toEqual({ key: 'k', versionId: 'null' });
    expect(resumeAfter(q('key-marker=d/&delimiter=/'))).toEqual({ key: 'd/\u{10FFFF}' });
    expect(resumeAfter(q('key-marker=p/d/&prefix=p/&delimiter=/'))).toEqual({ key: 'p/d/\u{10FFFF}' });
    // Not a common prefix: no delimiter, the marker is the prefix itself, or it names a version.
    expect(resumeAfter(q('key-marker=d/'))).toEqual({ key: 'd/' });
    expect(resumeAfter(q('key-marker=p/&prefix=p/&delimiter=/'))).toEqual({ key: 'p/' });
    expect(resumeAfter(q('key-marker=d/&delimiter=/&version-id-marker=null'))).toEqual({ key: 'd/', versionId: 'null' });
    expect(refusal(() => q('version-id-marker=null')).message).toBe('A version-id marker cannot be specified without a key marker.');
    expect(refusal(() => q('key-marker=k&version-id-marker=v1')).message).toBe('Invalid version id specified');
    // COS sends an empty version-id-marker back after a page whose NextVersionIdMarker was empty: no marker.
    const cos = (s: string) => versionQuery(new URLSearchParams(s), 'cos');
    expect(resumeAfter(cos('key-marker=k&version-id-marker='))).toEqual({ key: 'k' });
    expect(resumeAfter(cos('version-id-marker='))).toBeUndefined();
    expect(refusal(() => q('key-marker=k&version-id-marker=')).message).toBe('A version-id marker cannot be empty.');
  });
});

describe('GetBucketVersioning', () => {
  it('answers an empty configuration for a bucket that never had versioning', async () => {
    const r = await s3('GET', `/${B}?versioning`);
    expect(r.status).toBe(200);
    const text = await r.text();
    expect(text).toContain(`<VersioningConfiguration xmlns="${xmlns}"></VersioningConfiguration>`);
    expect(text).not.toContain('<Status>');
  });

  it('NoSuchBucket for a missing bucket; PUT stays NotImplemented (versioning cannot be turned on yet)', async () => {
    expect(await errorCode(await s3('GET', '/no-such-versions-bucket?versioning'))).toBe('NoSuchBucket');
    const body = '<VersioningConfiguration><Status>Enabled</Status></VersioningConfiguration>';
    const r = await s3('PUT', `/${B}?versioning`, { body });
    expect(r.status).toBe(501);
    expect(await errorCode(r)).toBe('NotImplemented');
    expect((await s3('GET', `/${B}?versioning`)).status).toBe(200);
  });
});

describe('ListObjectVersions', () => {
  it('lists every object as its null version, the latest, with S3 fields and no delete markers', async () => {
    const xml = await list('');
    expect(xml).toContain(`<ListVersionsResult xmlns="${xmlns}">`);
    expect(one(xml, 'Name')).toBe(B);
    expect(xml).toContain('<KeyMarker></KeyMarker><VersionIdMarker></VersionIdMarker>');
    expect(one(xml, 'MaxKeys')).toBe('1000');
    expect(one(xml, 'IsTruncated')).toBe('false');
    expect(xml).not.toContain('NextKeyMarker');
    expect(xml).not.toContain('<DeleteMarker>');
    const versions = versionsXml(xml);
    expect(versions.map((v) => one(v, 'Key'))).toEqual(KEYS);
    for (const v of versions) {
      expect(one(v, 'VersionId')).toBe('null');
      expect(one(v, 'IsLatest')).toBe('true');
      expect(one(v, 'LastModified')).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      expect(one(v, 'ETag')).toMatch(/^&quot;[0-9a-f]{32}&quot;$/);
      expect(one(v, 'Size')).toBe(String(`body of ${one(v, 'Key')}`.length));
      expect(one(v, 'StorageClass')).toBe('STANDARD');
      expect(v).toMatch(/<Owner><ID>[^<]+<\/ID><DisplayName>[^<]+<\/DisplayName><\/Owner>/);
    }
  });

  it('pages by key-marker and version-id-marker: NextKeyMarker and NextVersionIdMarker name the last version given', async () => {
    const seen: string[] = [];
    let query = '&max-keys=3';
    for (let n = 0; n < 10; n++) {
      const xml = await list(query);
      seen.push(...all(xml, 'Key'));
      if (one(xml, 'IsTruncated') === 'false') {
        expect(xml).not.toContain('<NextKeyMarker>');
        break;
      }
      const nextKey = one(xml, 'NextKeyMarker');
      expect(nextKey).toBe(all(xml, 'Key').at(-1));
      expect(one(xml, 'NextVersionIdMarker')).toBe('null');
      query = `&max-keys=3&key-marker=${encodeURIComponent(nextKey)}&version-id-marker=null`;
      // The markers sent come back as sent.
      expect(one(await list(query), 'KeyMarker')).toBe(nextKey);
      expect(one(await list(query), 'VersionIdMarker')).toBe('null');
    }
    expect(seen).toEqual(KEYS);
  });

  it('a key-marker alone resumes after the key; prefix filters', async () => {
    expect(all(await list('&key-marker=b/2'), 'Key')).toEqual(['b/c/3', 'c d', 'e+f', 'z']);
    expect(all(await list('&prefix=b/'), 'Key')).toEqual(['b/1', 'b/2', 'b/c/3']);
    expect(all(await list(`&key-marker=c%20d&version-id-marker=${WELL_FORMED}`), 'Key')).toEqual(['e+f', 'z']);
  });

  it('delimiter: common prefixes count against max-keys; a page ending on one resumes after everything under it', async () => {
    const xml = await list('&delimiter=/');
    expect(all(xml, 'Key')).toEqual(['a', 'c d', 'e+f', 'z']);
    expect(all(xml, 'Prefix').slice(1)).toEqual(['b/']);
    expect(one(xml, 'Delimiter')).toBe('/');

    const first = await list('&delimiter=/&max-keys=2');
    expect(all(first, 'Key')).toEqual(['a']);
    expect(one(first, 'IsTruncated')).toBe('true');
    expect(one(first, 'NextKeyMarker')).toBe('b/');
    expect(first).not.toContain('<NextVersionIdMarker>');
    const second = await list('&delimiter=/&max-keys=2&key-marker=b/');
    expect(all(second, 'Key')).toEqual(['c d', 'e+f']);
    expect(all(second, 'Prefix').slice(1)).toEqual([]);
  });

  it('encoding-type=url encodes keys, prefix, delimiter and markers', async () => {
    const xml = await list('&encoding-type=url&key-marker=c%20d&max-keys=1');
    expect(one(xml, 'EncodingType')).toBe('url');
    expect(one(xml, 'KeyMarker')).toBe('c%20d');
    expect(all(xml, 'Key')).toEqual(['e%2Bf']);
    expect(one(xml, 'NextKeyMarker')).toBe('e%2Bf');
    const spaced = await list('&encoding-type=url&prefix=c%20');
    expect(one(spaced, 'Prefix')).toBe('c%20');
    expect(all(spaced, 'Key')).toEqual(['c%20d']);
  });

  it('max-keys=0 lists nothing', async () => {
    const xml = await list('&max-keys=0');
    expect(all(xml, 'Key')).toEqual([]);
    expect(one(xml, 'MaxKeys')).toBe('0');
  });

  it('refuses bad parameters as S3 does', async () => {
    const refusal = async (query: string) => {
      const r = await s3('GET', `/${B}?versions${query}`);
      const text = await r.text();
      return { status: r.status, code: one(text, 'Code'), message: one(text, 'Message'), argument: one(text, 'ArgumentName') };
    };
    expect(await refusal('&version-id-marker=null')).toEqual({
      status: 400,
      code: 'InvalidArgument',
      message: 'A version-id marker cannot be specified without a key marker.',
      argument: 'version-id-marker',
    });
    expect(await refusal('&key-marker=a&version-id-marker=not-an-id')).toEqual({
      status: 400,
      code: 'InvalidArgument',
      message: 'Invalid version id specified',
      argument: 'version-id-marker',
    });
    expect(await refusal('&key-marker=a&version-id-marker=')).toEqual({
      status: 400,
      code: 'InvalidArgument',
      message: 'A version-id marker cannot be empty.',
      argument: 'version-id-marker',
    });
    // S3's order: max-keys first, then the version-id marker, then encoding-type.
    expect((await refusal('&version-id-marker=null&max-keys=x')).message).toBe('Provided max-keys not an integer or within integer range');
    expect((await refusal('&version-id-marker=&encoding-type=x')).message).toBe(
      'A version-id marker cannot be specified without a key marker.',
    );
    expect((await refusal('&key-marker=a&version-id-marker=bad&encoding-type=x')).message).toBe('Invalid version id specified');
    expect((await refusal('&max-keys=-1')).code).toBe('InvalidArgument');
    expect((await refusal('&max-keys=2147483648')).code).toBe('InvalidArgument');
    expect(all(await list('&max-keys=2147483647'), 'Key')).toEqual(KEYS);
    expect((await refusal('&encoding-type=base64')).code).toBe('InvalidArgument');
    expect(await errorCode(await s3('GET', '/no-such-versions-bucket?versions'))).toBe('NoSuchBucket');
  });

  it('is a bucket subresource only: other methods are refused, and on an object it is not served', async () => {
    expect(await errorCode(await s3('DELETE', `/${B}?versions`))).toBe('MethodNotAllowed');
    expect((await s3('HEAD', `/${B}`)).status).toBe(200);
    expect(await errorCode(await s3('GET', `/${B}/a?versions`))).toBe('NotImplemented');
  });
});

describe('versionId on object requests', () => {
  const refusal = async (r: Response) => {
    const text = await r.text();
    return {
      status: r.status,
      code: one(text, 'Code'),
      message: one(text, 'Message'),
      key: one(text, 'Key'),
      version: one(text, 'VersionId'),
    };
  };

  it('GET and HEAD: null is the object, without x-amz-version-id (the bucket is unversioned)', async () => {
    const g = await s3('GET', `/${B}/a?versionId=null`);
    expect(g.status).toBe(200);
    expect(await g.text()).toBe('body of a');
    expect(g.headers.has('x-amz-version-id')).toBe(false);
    const h = await s3('HEAD', `/${B}/a?versionId=null`);
    expect(h.status).toBe(200);
    expect(h.headers.get('content-length')).toBe('9');
    expect(h.headers.has('x-amz-version-id')).toBe(false);
  });

  it('GET and HEAD: another well-formed id, or null of a missing key, is 404 NoSuchVersion', async () => {
    expect(await refusal(await s3('GET', `/${B}/a?versionId=${WELL_FORMED}`))).toEqual({
      status: 404,
      code: 'NoSuchVersion',
      message: 'The specified version does not exist.',
      key: 'a',
      version: WELL_FORMED,
    });
    expect((await s3('HEAD', `/${B}/a?versionId=${WELL_FORMED}`)).status).toBe(404);
    expect((await refusal(await s3('GET', `/${B}/missing?versionId=null`))).code).toBe('NoSuchVersion');
    expect(await errorCode(await s3('GET', `/no-such-versions-bucket/a?versionId=null`))).toBe('NoSuchBucket');
  });

  it('GET, HEAD and DELETE: a malformed or empty id is 400 InvalidArgument', async () => {
    expect(await refusal(await s3('GET', `/${B}/a?versionId=abc`))).toMatchObject({
      status: 400,
      code: 'InvalidArgument',
      message: 'Invalid version id specified',
    });
    expect((await s3('HEAD', `/${B}/a?versionId=abc`)).status).toBe(400);
    expect(await refusal(await s3('GET', `/${B}/a?versionId=`))).toMatchObject({
      status: 400,
      code: 'InvalidArgument',
      message: 'Version id cannot be the empty string',
    });
    expect(await errorCode(await s3('DELETE', `/${B}/a?versionId=abc`))).toBe('InvalidArgument');
    expect((await s3('GET', `/${B}/a`)).status).toBe(200);
  });

  it('DELETE: null deletes the object; another well-formed id deletes nothing and is named back', async () => {
    await put('del-null', 'x');
    const d = await s3('DELETE', `/${B}/del-null?versionId=null`);
    expect(d.status).toBe(204);
    expect(d.headers.has('x-amz-version-id')).toBe(false);
    expect((await s3('HEAD', `/${B}/del-null`)).status).toBe(404);
    expect((await s3('DELETE', `/${B}/del-null?versionId=null`)).status).toBe(204);

    await put('del-other', 'x');
    const o = await s3('DELETE', `/${B}/del-other?versionId=${WELL_FORMED}`);
    expect(o.status).toBe(204);
    expect(o.headers.get('x-amz-version-id')).toBe(WELL_FORMED);
    expect((await s3('HEAD', `/${B}/del-other`)).status).toBe(200);
  });

  it('DeleteObjects: VersionId null deletes and is echoed; other ids are echoed (deleted or refused) and delete nothing', async () => {
    for (const k of ['m1', 'm2', 'm3']) await put(k, 'x');
    const body =
      '<Delete>' +
      '<Object><Key>m1</Key><VersionId>null</VersionId></Object>' +
      `<Object><Key>m2</Key><VersionId>${WELL_FORMED}</VersionId></Object>` +
      '<Object><Key>m3</Key><VersionId>bad</VersionId></Object>' +
      '<Object><Key>m3</Key></Object>' +
      '</Delete>';
    const r = await s3('POST', `/${B}?delete`, { body, signBody: true });
    const xml = await r.text();
    expect(r.status, xml).toBe(200);
    expect(xml).toContain('<Deleted><Key>m1</Key><VersionId>null</VersionId></Deleted>');
    expect(xml).toContain(`<Deleted><Key>m2</Key><VersionId>${WELL_FORMED}</VersionId></Deleted>`);
    expect(xml).toContain('<Deleted><Key>m3</Key></Deleted>');
    expect(xml).toContain(
      '<Error><Key>m3</Key><VersionId>bad</VersionId><Code>InvalidArgument</Code><Message>Invalid version id specified</Message></Error>',
    );
    expect((await s3('HEAD', `/${B}/m1`)).status).toBe(404);
    expect((await s3('HEAD', `/${B}/m2`)).status).toBe(200);
    expect((await s3('HEAD', `/${B}/m3`)).status).toBe(404);
  });

  it('copy source: ?versionId=null copies the object; another well-formed id is 404 NoSuchVersion', async () => {
    const c = await s3('PUT', `/${B}/copied`, { headers: { 'x-amz-copy-source': `/${B}/a?versionId=null` } });
    expect(c.status, await c.clone().text()).toBe(200);
    expect(await (await s3('GET', `/${B}/copied`)).text()).toBe('body of a');
    const missing = await s3('PUT', `/${B}/copied2`, { headers: { 'x-amz-copy-source': `/${B}/a?versionId=${WELL_FORMED}` } });
    expect(await refusal(missing)).toMatchObject({ status: 404, code: 'NoSuchVersion', key: 'a', version: WELL_FORMED });
    const bad = await s3('PUT', `/${B}/copied2`, { headers: { 'x-amz-copy-source': `/${B}/a?versionId=bad` } });
    expect(await refusal(bad)).toMatchObject({ status: 400, code: 'InvalidArgument', message: 'Invalid version id specified' });
    expect((await s3('HEAD', `/${B}/copied2`)).status).toBe(404);
  });

  it('UploadPartCopy: a copy source with ?versionId=null copies the part; another well-formed id is 404 NoSuchVersion', async () => {
    const id = /<UploadId>([^<]+)</.exec(await (await s3('POST', `/${B}/assembled?uploads`)).text())![1];
    const missing = await s3('PUT', `/${B}/assembled?partNumber=1&uploadId=${id}`, {
      headers: { 'x-amz-copy-source': `/${B}/a?versionId=${WELL_FORMED}` },
    });
    expect(await refusal(missing)).toMatchObject({ status: 404, code: 'NoSuchVersion', key: 'a', version: WELL_FORMED });
    const part = await s3('PUT', `/${B}/assembled?partNumber=1&uploadId=${id}`, {
      headers: { 'x-amz-copy-source': `/${B}/a?versionId=null` },
    });
    const xml = await part.text();
    expect(part.status, xml).toBe(200);
    const etag = one(xml, 'ETag').replace(/&quot;/g, '"');
    const done = await s3('POST', `/${B}/assembled?uploadId=${id}`, {
      body: `<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>${etag}</ETag></Part></CompleteMultipartUpload>`,
    });
    expect(done.status, await done.clone().text()).toBe(200);
    expect(await (await s3('GET', `/${B}/assembled`)).text()).toBe('body of a');
  });
});
