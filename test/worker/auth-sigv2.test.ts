// AWS Signature Version 2 inside workerd: the S3 developer guide's examples as vectors, refusals,
// the SIGV2 switch, and V2 requests and POST forms through the whole Worker. The signer here is
// written independently of src/ (WebCrypto HMAC-SHA1 over a StringToSign built by hand); the extra
// vectors were computed with botocore's HmacV1Auth / HmacV1QueryAuth.
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { app } from '../../src/app';
import { authenticate, USE_V4 } from '../../src/auth';
import { verifyPolicySignature } from '../../src/auth/post-policy';
import { canonicalResourcesV2, verifyPresignedV2, verifySigV2 } from '../../src/auth/sigv2';
import { readConfig } from '../../src/config';
import type { Env } from '../../src/env';
import { expectS3Error, lookupOf } from './helpers/auth-helpers';
import { TEST_BINDINGS } from './helpers/bindings';
import { bytes, ORIGIN, s3, sameBytes, worker } from './helpers/s3';

// The developer guide's credentials and examples ("Signing and authenticating REST requests").
const DOC_AK = 'AKIAIOSFODNN7EXAMPLE';
const DOC_SK = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const docLookup = lookupOf({ [DOC_AK]: DOC_SK });
const VHOST = { hostBucket: 'johnsmith' };

function docRequest(url: string, sig: string, headers: Record<string, string>, init: RequestInit = {}) {
  return new Request(url, { ...init, headers: { ...headers, Authorization: `AWS ${DOC_AK}:${sig}` } });
}
const at = (date: string) => new Date(Date.parse(date));

describe('the developer guide examples (header)', () => {
  it('Object GET (virtual-hosted: the bucket enters the resource)', async () => {
    const date = 'Tue, 27 Mar 2007 19:36:42 +0000';
    const req = docRequest('https://johnsmith.s3.amazonaws.com/photos/puppy.jpg', 'bWq2s1WEIj+Ydj0vQ697zp+IXMU=', { Date: date });
    expect(await verifySigV2(req, docLookup, { ...VHOST, now: at(date) })).toMatchObject({
      accessKeyId: DOC_AK,
      dialect: 'amz',
      method: 'sigv2',
      payload: { kind: 'unsigned' },
    });
    // Path-style, the same resource comes from the path.
    const path = docRequest('https://s3.amazonaws.com/johnsmith/photos/puppy.jpg', 'bWq2s1WEIj+Ydj0vQ697zp+IXMU=', { Date: date });
    expect((await verifySigV2(path, docLookup, { now: at(date) })).method).toBe('sigv2');
    // Virtual-hosted without the bucket in the resource does not match.
    await expectS3Error(verifySigV2(req, docLookup, { now: at(date) }), 'SignatureDoesNotMatch');
  });

  it('Object PUT (Content-Type is signed)', async () => {
    const date = 'Tue, 27 Mar 2007 21:15:45 +0000';
    const init = { method: 'PUT', body: 'jpeg bytes' };
    const req = (type: string) =>
      docRequest(
        'https://johnsmith.s3.amazonaws.com/photos/puppy.jpg',
        'MyyxeRY7whkBe+bq8fHCL/2kKUg=',
        { Date: date, 'Content-Type': type },
        init,
      );
    expect((await verifySigV2(req('image/jpeg'), docLookup, { ...VHOST, now: at(date) })).method).toBe('sigv2');
    await expectS3Error(verifySigV2(req('image/png'), docLookup, { ...VHOST, now: at(date) }), 'SignatureDoesNotMatch');
  });

  it('List (prefix, max-keys and marker stay out of the resource)', async () => {
    const date = 'Tue, 27 Mar 2007 19:42:41 +0000';
    const req = docRequest('https://johnsmith.s3.amazonaws.com/?prefix=photos&max-keys=50&marker=puppy', 'htDYFYduRNen8P9ZfE/s9SuKy0U=', {
      Date: date,
    });
    expect((await verifySigV2(req, docLookup, { ...VHOST, now: at(date) })).method).toBe('sigv2');
    // Path-style "/johnsmith" (no slash, as botocore sends it) with the "/johnsmith/" resource botocore signs.
    const path = docRequest('https://s3.amazonaws.com/johnsmith?prefix=photos&max-keys=50&marker=puppy', 'htDYFYduRNen8P9ZfE/s9SuKy0U=', {
      Date: date,
    });
    expect((await verifySigV2(path, docLookup, { now: at(date) })).method).toBe('sigv2');
  });

  it('Fetch (?acl is a sub-resource)', async () => {
    const date = 'Tue, 27 Mar 2007 19:44:46 +0000';
    const req = docRequest('https://johnsmith.s3.amazonaws.com/?acl', 'c2WLPFtWHVgbEmeEG93a4cG37dM=', { Date: date });
    expect((await verifySigV2(req, docLookup, { ...VHOST, now: at(date) })).method).toBe('sigv2');
    const without = docRequest('https://johnsmith.s3.amazonaws.com/', 'c2WLPFtWHVgbEmeEG93a4cG37dM=', { Date: date });
    await expectS3Error(verifySigV2(without, docLookup, { ...VHOST, now: at(date) }), 'SignatureDoesNotMatch');
  });

  it('Delete (x-amz-date overrides Date, in the example\'s form and in the "empty Date" form)', async () => {
    const headers = { Date: 'Tue, 27 Mar 2007 21:20:27 +0000', 'x-amz-date': 'Tue, 27 Mar 2007 21:20:26 +0000' };
    const now = at('Tue, 27 Mar 2007 21:20:26 +0000');
    const url = 'https://s3.amazonaws.com/johnsmith/photos/puppy.jpg';
    const req = docRequest(url, 'lx3byBScXR6KzyMaifNkardMwNk=', headers, { method: 'DELETE' });
    expect((await verifySigV2(req, docLookup, { now })).method).toBe('sigv2');
    // StringToSign "DELETE\n\n\n\nx-amz-date:Tue, 27 Mar 2007 21:20:26 +0000\n/johnsmith/photos/puppy.jpg" (boto2, s3cmd).
    const empty = docRequest(url, 'R4dJ53KECjStyBO5iTBJZ4XVOaI=', headers, { method: 'DELETE' });
    expect((await verifySigV2(empty, docLookup, { now })).method).toBe('sigv2');
    // The time that counts is x-amz-date's: the Date header alone may be far off.
    const farDate = docRequest(
      url,
      'R4dJ53KECjStyBO5iTBJZ4XVOaI=',
      { ...headers, Date: 'Mon, 01 Jan 2001 00:00:00 +0000' },
      { method: 'DELETE' },
    );
    expect((await verifySigV2(farDate, docLookup, { now })).method).toBe('sigv2');
  });

  it('Upload (Content-MD5, x-amz-* headers sorted and lowercased, a CNAME bucket)', async () => {
    const date = 'Tue, 27 Mar 2007 21:06:08 +0000';
    const req = docRequest(
      'http://static.johnsmith.net:8080/db-backup.dat.gz',
      'ilyl83RwaSoYIEdixDQcA4OnAnc=',
      {
        Date: date,
        'x-amz-acl': 'public-read',
        'content-type': 'application/x-download',
        'Content-MD5': '4gJE4saaMU4BqNR0kLY+lw==',
        // The example sends X-Amz-Meta-ReviewedBy twice; V2 joins repeated values with "," as here.
        'X-Amz-Meta-ReviewedBy': 'joe@johnsmith.net,jane@johnsmith.net',
        'X-Amz-Meta-FileChecksum': '0x02661779',
        'X-Amz-Meta-ChecksumAlgorithm': 'crc32',
        'Content-Disposition': 'attachment; filename=database.dat',
        'Content-Encoding': 'gzip',
      },
      { method: 'PUT', body: 'x' },
    );
    expect((await verifySigV2(req, docLookup, { hostBucket: 'static.johnsmith.net', now: at(date) })).method).toBe('sigv2');
  });
});

describe('the developer guide examples (presigned)', () => {
  const url = `https://johnsmith.s3.amazonaws.com/photos/puppy.jpg?AWSAccessKeyId=${DOC_AK}&Signature=NpgCjnDzrM%2BWFzoENXmpNDUsSn8%3D&Expires=1175139620`;
  const before = new Date(1175139620_000 - 60_000);

  it('Query string authentication: Expires stands in for Date', async () => {
    expect(await verifyPresignedV2(new Request(url), docLookup, { ...VHOST, now: before })).toMatchObject({
      accessKeyId: DOC_AK,
      method: 'sigv2-presigned',
    });
    // A literal "+" in the signature is the base64 character, not a space.
    const plus = url.replace('%2B', '+');
    expect((await verifyPresignedV2(new Request(plus), docLookup, { ...VHOST, now: before })).method).toBe('sigv2-presigned');
  });

  it('response-* overrides and versionId enter the resource decoded and sorted (botocore HmacV1QueryAuth vector)', async () => {
    const signed =
      'https://johnsmith.s3.amazonaws.com/photos/puppy.jpg?versionId=v1&response-content-type=text%2Fplain%3B%20charset%3Dutf-8' +
      `&AWSAccessKeyId=${DOC_AK}&Signature=j50uQXyzvnwIK9%2Bm8L5wA5QPqhs%3D&Expires=1175139620`;
    expect(canonicalResourcesV2(new URL(signed), 'johnsmith')).toEqual([
      '/johnsmith/photos/puppy.jpg?response-content-type=text/plain; charset=utf-8&versionId=v1',
    ]);
    expect((await verifyPresignedV2(new Request(signed), docLookup, { ...VHOST, now: before })).method).toBe('sigv2-presigned');
    // Another version, or another override, is another resource.
    await expectS3Error(
      verifyPresignedV2(new Request(signed.replace('versionId=v1', 'versionId=v2')), docLookup, { ...VHOST, now: before }),
      'SignatureDoesNotMatch',
    );
    await expectS3Error(
      verifyPresignedV2(new Request(signed.replace('text%2Fplain', 'text%2Fhtml')), docLookup, { ...VHOST, now: before }),
      'SignatureDoesNotMatch',
    );
    // A sub-resource smuggled in percent-encoded is read by the handlers as one, so it counts as one here too.
    await expectS3Error(
      verifyPresignedV2(new Request(`${url}&%76ersionId=v9`), docLookup, { ...VHOST, now: before }),
      'SignatureDoesNotMatch',
    );
  });

  it('x-amz-* headers are signed (botocore vector: PUT with Content-Type and x-amz-server-side-encryption)', async () => {
    const signed = `https://s3.amazonaws.com/johnsmith/photos/puppy.jpg?AWSAccessKeyId=${DOC_AK}&Signature=t6aqEUwh4wFFe0iazV80eIVk6EE%3D&Expires=1175139620`;
    const put = (headers: Record<string, string>) => new Request(signed, { method: 'PUT', body: 'x', headers });
    const ok = { 'content-type': 'text/plain', 'x-amz-server-side-encryption': 'AES256' };
    expect((await verifyPresignedV2(put(ok), docLookup, { now: before })).method).toBe('sigv2-presigned');
    await expectS3Error(
      verifyPresignedV2(put({ ...ok, 'x-amz-server-side-encryption': 'aws:kms' }), docLookup, { now: before }),
      'SignatureDoesNotMatch',
    );
    await expectS3Error(verifyPresignedV2(put({ ...ok, 'x-amz-meta-extra': '1' }), docLookup, { now: before }), 'SignatureDoesNotMatch');
    await expectS3Error(verifyPresignedV2(put({ 'content-type': 'text/plain' }), docLookup, { now: before }), 'SignatureDoesNotMatch');
  });

  it('expired, too long-lived, malformed and repeated parameters are refused', async () => {
    const e = await expectS3Error(
      verifyPresignedV2(new Request(url), docLookup, { ...VHOST, now: new Date(1175139621_000) }),
      'AccessDenied',
      'Request has expired',
    );
    expect(e.fields.Expires).toBe('2007-03-29T03:40:20.000Z');
    // Valid for more than a week from now: refused, as SigV4's X-Amz-Expires cap.
    await expectS3Error(
      verifyPresignedV2(new Request(url), docLookup, { ...VHOST, now: new Date(1175139620_000 - 8 * 86400_000) }),
      'AccessDenied',
      /at most 604800 seconds/,
    );
    await expectS3Error(
      verifyPresignedV2(new Request(url.replace('Expires=1175139620', 'Expires=soon')), docLookup, { now: before }),
      'AccessDenied',
      /seconds since epoch/,
    );
    await expectS3Error(
      verifyPresignedV2(new Request(url.replace(/&Expires=\d+/, '')), docLookup, { now: before }),
      'AccessDenied',
      /requires the Signature, Expires and AWSAccessKeyId/,
    );
    await expectS3Error(
      verifyPresignedV2(new Request(`${url}&Signature=other`), docLookup, { ...VHOST, now: before }),
      'AccessDenied',
      /more than once/,
    );
    await expectS3Error(verifyPresignedV2(new Request(url), lookupOf({}), { ...VHOST, now: before }), 'InvalidAccessKeyId');
  });

  it('x-amz-* query parameters (which botocore moves there) are refused, not silently ignored', async () => {
    const withSse = `${url}&x-amz-server-side-encryption-customer-algorithm=AES256`;
    await expectS3Error(
      verifyPresignedV2(new Request(withSse), docLookup, { ...VHOST, now: before }),
      'InvalidRequest',
      /x-amz-server-side-encryption-customer-algorithm/,
    );
  });
});

describe('what V2 cannot sign is refused', () => {
  const date = 'Tue, 27 Mar 2007 19:36:42 +0000';
  const now = at(date);
  it('query parameters that are neither a sub-resource nor a listing filter', async () => {
    // ?encryption would turn a signed DeleteBucket into DeleteBucketEncryption (and back).
    const req = docRequest('https://s3.amazonaws.com/johnsmith/?encryption', 'x', { Date: date }, { method: 'DELETE' });
    const e = await expectS3Error(
      verifySigV2(req, docLookup, { now }),
      'AccessDenied',
      'There were query parameters present in the request which were not signed',
    );
    expect(e.fields.ParametersNotSigned).toBe('encryption');
  });
  it('x-cos-* headers (V2 signs only x-amz-* ones)', async () => {
    // StringToSign "GET\n\n\nTue, 27 Mar 2007 19:36:42 +0000\n/johnsmith/photos/puppy.jpg": valid, but x-cos-copy-source rides along.
    const req = docRequest('https://s3.amazonaws.com/johnsmith/photos/puppy.jpg', 'bWq2s1WEIj+Ydj0vQ697zp+IXMU=', {
      Date: date,
      'x-cos-copy-source': 'other/key',
    });
    const e = await expectS3Error(
      verifySigV2(req, docLookup, { now }),
      'AccessDenied',
      'There were headers present in the request which were not signed',
    );
    expect(e.fields.HeadersNotSigned).toBe('x-cos-copy-source');
  });
});

describe('header refusals', () => {
  const date = 'Tue, 27 Mar 2007 19:36:42 +0000';
  const url = 'https://s3.amazonaws.com/johnsmith/photos/puppy.jpg';
  const good = 'bWq2s1WEIj+Ydj0vQ697zp+IXMU=';
  it('a wrong signature, a wrong secret, an unknown key', async () => {
    await expectS3Error(
      verifySigV2(docRequest(url, 'AAAAAAAAAAAAAAAAAAAAAAAAAAA=', { Date: date }), docLookup, { now: at(date) }),
      'SignatureDoesNotMatch',
    );
    await expectS3Error(
      verifySigV2(docRequest(url, good, { Date: date }), lookupOf({ [DOC_AK]: 'other' }), { now: at(date) }),
      'SignatureDoesNotMatch',
    );
    await expectS3Error(verifySigV2(docRequest(url, good, { Date: date }), lookupOf({}), { now: at(date) }), 'InvalidAccessKeyId');
  });
  it('more than 15 minutes of skew is RequestTimeTooSkewed; no date at all is AccessDenied', async () => {
    const later = new Date(at(date).getTime() + 15 * 60_000 + 1000);
    const e = await expectS3Error(verifySigV2(docRequest(url, good, { Date: date }), docLookup, { now: later }), 'RequestTimeTooSkewed');
    expect(e.status).toBe(403);
    expect(e.fields).toMatchObject({ RequestTime: date, MaxAllowedSkewMilliseconds: '900000' });
    const earlier = new Date(at(date).getTime() - 15 * 60_000 - 1000);
    await expectS3Error(verifySigV2(docRequest(url, good, { Date: date }), docLookup, { now: earlier }), 'RequestTimeTooSkewed');
    // Within the window it passes.
    expect(
      (await verifySigV2(docRequest(url, good, { Date: date }), docLookup, { now: new Date(at(date).getTime() + 14 * 60_000) })).method,
    ).toBe('sigv2');
    await expectS3Error(verifySigV2(docRequest(url, good, {}), docLookup, { now: at(date) }), 'AccessDenied', /valid Date or x-amz-date/);
  });
  it('a malformed Authorization header', async () => {
    const twoHeaders = `AWS ${DOC_AK}:${good}, AWS ${DOC_AK}:${good}`;
    for (const authz of ['AWS AKIAIOSFODNN7EXAMPLE', 'AWS :sig', 'AWS AKIAIOSFODNN7EXAMPLE:', 'AWS AK:not base64!', twoHeaders]) {
      const req = new Request(url, { headers: { Date: date, Authorization: authz } });
      await expectS3Error(verifySigV2(req, docLookup, { now: at(date) }), 'InvalidArgument', /Expected AwsAccessKeyId:signature/);
    }
  });
  it('a signed x-amz-content-sha256 is honoured; signed chunked payloads need V4', async () => {
    // Signed with this module's own StringToSign, checked against an independent HMAC below.
    const hash = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
    const headers = { Date: date, 'x-amz-content-sha256': hash };
    const sts = `GET\n\n\n${date}\nx-amz-content-sha256:${hash}\n/johnsmith/photos/puppy.jpg`;
    const req = docRequest(url, await sign(DOC_SK, sts), headers);
    expect((await verifySigV2(req, docLookup, { now: at(date) })).payload).toEqual({ kind: 'sha256', hex: hash });
    const chunked = { Date: date, 'x-amz-content-sha256': 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD' };
    const sts2 = `GET\n\n\n${date}\nx-amz-content-sha256:STREAMING-AWS4-HMAC-SHA256-PAYLOAD\n/johnsmith/photos/puppy.jpg`;
    await expectS3Error(verifySigV2(docRequest(url, await sign(DOC_SK, sts2), chunked), docLookup, { now: at(date) }), 'InvalidRequest');
  });
});

describe('authenticate: the SIGV2 switch and mixed mechanisms', () => {
  const date = 'Tue, 27 Mar 2007 19:36:42 +0000';
  const header = () => docRequest('https://s3.amazonaws.com/johnsmith/photos/puppy.jpg', 'bWq2s1WEIj+Ydj0vQ697zp+IXMU=', { Date: date });
  const query = `https://johnsmith.s3.amazonaws.com/photos/puppy.jpg?AWSAccessKeyId=${DOC_AK}&Signature=NpgCjnDzrM%2BWFzoENXmpNDUsSn8%3D&Expires=1175139620`;
  it('on: header and presigned V2 are verified', async () => {
    expect((await authenticate(header(), docLookup, at(date), { sigV2: true })).method).toBe('sigv2');
    const presigned = await authenticate(new Request(query), docLookup, at(date), { sigV2: true, hostBucket: 'johnsmith' });
    expect(presigned.method).toBe('sigv2-presigned');
  });
  it("off: refused with S3's answer, before any secret is looked up", async () => {
    const noLookup = async () => {
      throw new Error('looked up');
    };
    await expectS3Error(authenticate(header(), noLookup, at(date), { sigV2: false }), 'InvalidRequest', USE_V4);
    await expectS3Error(authenticate(new Request(query), noLookup, at(date)), 'InvalidRequest', USE_V4);
  });
  it('V2 query parameters together with a header, V4 or COS query parameters are refused', async () => {
    const both = new Request(query, { headers: { Date: date, Authorization: `AWS ${DOC_AK}:bWq2s1WEIj+Ydj0vQ697zp+IXMU=` } });
    await expectS3Error(authenticate(both, docLookup, at(date), { sigV2: true }), 'InvalidArgument', /Only one auth mechanism/);
    await expectS3Error(
      authenticate(new Request(`${query}&X-Amz-Signature=x`), docLookup, at(date), { sigV2: true }),
      'InvalidArgument',
      /Only one auth mechanism/,
    );
    await expectS3Error(
      authenticate(new Request(`${query}&q-signature=x`), docLookup, at(date), { sigV2: true }),
      'InvalidArgument',
      /Only one auth mechanism/,
    );
  });
  it('config: on by default, SIGV2 = "off" turns it off', () => {
    const base = env as unknown as Env;
    expect(readConfig(base).sigV2).toBe(true);
    expect(readConfig({ ...base, SIGV2: 'off' }).sigV2).toBe(false);
    expect(readConfig({ ...base, SIGV2: 'OFF' }).sigV2).toBe(false);
  });
});

// --- through the Worker --------------------------------------------------------------------

const AK = TEST_BINDINGS.ACCESS_KEY_ID;
const SK = TEST_BINDINGS.SECRET_ACCESS_KEY;
const B = 'sigv2-bucket';

async function sign(secret: string, text: string): Promise<string> {
  const k = await crypto.subtle.importKey('raw', new TextEncoder().encode(secret), { name: 'HMAC', hash: 'SHA-1' }, false, ['sign']);
  return btoa(String.fromCharCode(...new Uint8Array(await crypto.subtle.sign('HMAC', k, new TextEncoder().encode(text)))));
}

/** A V2 header-signed request, signed over exactly what it sends (path-style). */
async function v2(method: string, path: string, o: { body?: Uint8Array; headers?: Record<string, string> } = {}) {
  const headers: Record<string, string> = { date: new Date().toUTCString(), ...o.headers };
  const amz = Object.entries(headers)
    .map(([k, v]) => [k.toLowerCase(), v.trim()])
    .filter(([k]) => k.startsWith('x-amz-'))
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([k, v]) => `${k}:${v}\n`)
    .join('');
  const resource = path.replace(/\?(?!(acl|uploads|uploadId|partNumber|delete|versionId)\b).*$/, '');
  const sts = `${method}\n${headers['content-md5'] ?? ''}\n${headers['content-type'] ?? ''}\n${headers.date}\n${amz}${resource}`;
  headers.authorization = `AWS ${AK}:${await sign(SK, sts)}`;
  return new Request(ORIGIN + path, { method, headers, body: o.body ?? null });
}

async function presignV2(method: string, path: string, expiresIn = 300) {
  const expires = String(Math.floor(Date.now() / 1000) + expiresIn);
  const sig = await sign(SK, `${method}\n\n\n${expires}\n${path}`);
  return `${ORIGIN}${path}?AWSAccessKeyId=${AK}&Expires=${expires}&Signature=${encodeURIComponent(sig)}`;
}

describe('V2 through the Worker', () => {
  it('header-signed CreateBucket, PUT (sealed, Content-MD5 still checked), GET, DELETE', async () => {
    expect((await worker(await v2('PUT', `/${B}`))).status).toBe(200);
    const data = bytes(70_000, 3);
    const md5 = btoa(String.fromCharCode(...new Uint8Array(await crypto.subtle.digest('MD5', data))));
    const put = await worker(
      await v2('PUT', `/${B}/obj`, { body: data, headers: { 'content-md5': md5, 'content-type': 'application/x-test' } }),
    );
    expect(put.status, await put.clone().text()).toBe(200);
    expect(put.headers.get('x-amz-server-side-encryption')).toBe('AES256');
    const get = await worker(await v2('GET', `/${B}/obj`));
    expect(get.status).toBe(200);
    expect(get.headers.get('content-type')).toBe('application/x-test');
    expect(sameBytes(new Uint8Array(await get.arrayBuffer()), data)).toBe(true);
    // The body is not signed by V2, but a signed Content-MD5 still binds it.
    const bad = await worker(await v2('PUT', `/${B}/bad`, { body: bytes(10, 1), headers: { 'content-md5': md5, 'content-type': 'x/y' } }));
    expect(bad.status).toBe(400);
    expect(await bad.text()).toContain('<Code>BadDigest</Code>');
    expect((await s3('GET', `/${B}/bad`)).status).toBe(404);
    expect((await worker(await v2('DELETE', `/${B}/obj`))).status).toBe(204);
  });

  it('SSE-C by V2 headers over https: the key is a signed x-amz-* header', async () => {
    const key = bytes(32, 9);
    const ck = {
      'x-amz-server-side-encryption-customer-algorithm': 'AES256',
      'x-amz-server-side-encryption-customer-key': btoa(String.fromCharCode(...key)),
      'x-amz-server-side-encryption-customer-key-md5': btoa(String.fromCharCode(...new Uint8Array(await crypto.subtle.digest('MD5', key)))),
    };
    const https = async (method: string, path: string, o: { body?: Uint8Array; headers?: Record<string, string> } = {}) => {
      const r = await v2(method, path, o);
      return worker(new Request(r.url.replace(ORIGIN, 'https://gw.test'), r));
    };
    const data = bytes(1000, 4);
    const put = await https('PUT', `/${B}/ssec`, { body: data, headers: { ...ck, 'content-type': 'a/b' } });
    expect(put.status, await put.clone().text()).toBe(200);
    expect((await https('GET', `/${B}/ssec`)).status).toBe(400);
    const get = await https('GET', `/${B}/ssec`, { headers: ck });
    expect(sameBytes(new Uint8Array(await get.arrayBuffer()), data)).toBe(true);
  });

  it('presigned GET works by plain fetch; an expired one is 403 "Request has expired"', async () => {
    const data = bytes(5000, 5);
    expect((await s3('PUT', `/${B}/pre`, { body: data })).status).toBe(200);
    const ok = await worker(new Request(await presignV2('GET', `/${B}/pre`)));
    expect(ok.status).toBe(200);
    expect(sameBytes(new Uint8Array(await ok.arrayBuffer()), data)).toBe(true);
    const old = await worker(new Request(await presignV2('GET', `/${B}/pre`, -10)));
    expect(old.status).toBe(403);
    expect(await old.text()).toContain('<Message>Request has expired</Message>');
    // Signed for GET, it cannot DELETE.
    const del = await worker(new Request(await presignV2('GET', `/${B}/pre`), { method: 'DELETE' }));
    expect(del.status).toBe(403);
    expect(await del.text()).toContain('<Code>SignatureDoesNotMatch</Code>');
  });

  it('operator endpoints (/-/admin/) refuse V2, header or presigned; SigV4 still reaches them', async () => {
    for (const req of [await v2('GET', '/-/admin/keyring'), new Request(await presignV2('GET', '/-/admin/keyring'))]) {
      const r = await worker(req);
      expect(r.status).toBe(403);
      expect(await r.text()).toContain('Operator endpoints need Signature Version 4.');
    }
    expect((await s3('GET', '/-/admin/keyring')).status).toBe(200);
  });

  it('SIGV2 = "off": the same requests are refused with InvalidRequest', async () => {
    const off = { ...(env as unknown as Env), SIGV2: 'off' };
    const r = await app.fetch(await v2('GET', `/${B}/pre`), off);
    expect(r.status).toBe(400);
    expect(await r.text()).toContain(USE_V4);
    const p = await app.fetch(new Request(await presignV2('GET', `/${B}/pre`)), off);
    expect(p.status).toBe(400);
  });
});

describe('POST forms signed with Signature Version 2', () => {
  const b64 = (s: string) => btoa(s);
  async function v2Form(conditions: unknown[], o: { secret?: string; ak?: string } = {}) {
    const policy = b64(JSON.stringify({ expiration: new Date(Date.now() + 3600_000).toISOString(), conditions }));
    return { AWSAccessKeyId: o.ak ?? AK, policy, signature: await sign(o.secret ?? SK, policy) };
  }
  async function post(fields: Record<string, string>, data: Uint8Array, init: { env?: Env } = {}) {
    const fd = new FormData();
    for (const [k, v] of Object.entries(fields)) fd.append(k, v);
    fd.append('file', new File([data], 'f.bin', { type: 'application/octet-stream' }));
    const req = new Request(`${ORIGIN}/${B}`, { method: 'POST', body: fd });
    if (!init.env) return worker(req);
    // app.fetch gets no Content-Length from a FormData stream; give it the bytes, as the network would.
    const body = await req.arrayBuffer();
    const headers = { 'content-type': req.headers.get('content-type')!, 'content-length': String(body.byteLength) };
    return app.fetch(new Request(req.url, { method: 'POST', body, headers }), init.env);
  }

  it('uploads with x-amz-server-side-encryption=AES256; AWSAccessKeyId and signature need no condition', async () => {
    const data = bytes(3000, 7);
    const fields = { key: 'form/v2', 'x-amz-server-side-encryption': 'AES256' };
    const r = await post(
      { ...fields, ...(await v2Form([{ bucket: B }, { key: 'form/v2' }, { 'x-amz-server-side-encryption': 'AES256' }])) },
      data,
    );
    expect(r.status, await r.clone().text()).toBe(204);
    expect(r.headers.get('x-amz-server-side-encryption')).toBe('AES256');
    const g = await s3('GET', `/${B}/form/v2`);
    expect(sameBytes(new Uint8Array(await g.arrayBuffer()), data)).toBe(true);
  });

  it('refuses a wrong signature, a wrong secret, a tampered policy, an unknown key and a missing field', async () => {
    const conds = [{ bucket: B }, { key: 'form/bad' }];
    const f = await v2Form(conds);
    const code = async (r: Response) => [r.status, /<Code>([^<]+)<\/Code>/.exec(await r.text())?.[1]];
    expect(await code(await post({ key: 'form/bad', ...f, signature: 'AAAAAAAAAAAAAAAAAAAAAAAAAAA=' }, bytes(3)))).toEqual([
      403,
      'SignatureDoesNotMatch',
    ]);
    expect(await code(await post({ key: 'form/bad', ...(await v2Form(conds, { secret: 'nope' })) }, bytes(3)))).toEqual([
      403,
      'SignatureDoesNotMatch',
    ]);
    const other = await v2Form([{ bucket: B }, ['starts-with', '$key', '']]);
    expect(await code(await post({ key: 'form/bad', ...f, policy: other.policy }, bytes(3)))).toEqual([403, 'SignatureDoesNotMatch']);
    expect(await code(await post({ key: 'form/bad', ...(await v2Form(conds, { ak: 'AKIDUNKNOWN' })) }, bytes(3)))).toEqual([
      403,
      'InvalidAccessKeyId',
    ]);
    const { signature: _, ...unsigned } = f;
    expect(await code(await post({ key: 'form/bad', ...unsigned }, bytes(3)))).toEqual([400, 'InvalidArgument']);
    expect((await s3('GET', `/${B}/form/bad`)).status).toBe(404);
  });

  it('a form signed both V2 and V4 is refused; SIGV2 = "off" refuses V2 forms', async () => {
    const f = await v2Form([{ bucket: B }, { key: 'form/x' }]);
    const mixed = await post({ key: 'form/x', ...f, 'x-amz-algorithm': 'AWS4-HMAC-SHA256' }, bytes(3));
    expect(mixed.status).toBe(400);
    expect(await mixed.text()).toContain('Only one auth mechanism');
    const off = await post({ key: 'form/x', ...f }, bytes(3), { env: { ...(env as unknown as Env), SIGV2: 'off' } });
    expect(off.status).toBe(400);
    expect(await off.text()).toContain(USE_V4);
    // verifyPolicySignature itself refuses unless told V2 is on.
    const m = new Map(Object.entries({ awsaccesskeyid: AK, policy: f.policy, signature: f.signature }));
    await expectS3Error(verifyPolicySignature(m, 'amz', lookupOf({ [AK]: SK }), new Uint8Array(), new Date()), 'InvalidRequest', USE_V4);
    expect((await verifyPolicySignature(m, 'amz', lookupOf({ [AK]: SK }), new Uint8Array(), new Date(), true)).method).toBe(
      'sigv2-post-policy',
    );
  });
});
