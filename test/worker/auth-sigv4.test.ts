import { AwsV4Signer } from 'aws4fetch';
import { describe, expect, it } from 'vitest';
import { authenticate } from '../../src/auth';
import { canonicalQuery, canonicalUri, verifyPresignedV4, verifySigV4 } from '../../src/auth/sigv4';
import { decodePayload } from '../../src/s3/payload/chunked';
import { enc, expectS3Error, lookupOf, readAll, sha256Hex } from './helpers/auth-helpers';

// --- AWS SigV4 test suite -------------------------------------------------
// Expected signatures: awslabs/aws-c-auth, tests/aws-signing-test-suite/v4/<case>/header-signed-request.txt
// (the published aws-sig-v4-test-suite: service "service", us-east-1, 20150830T123600Z).
const SUITE_AK = 'AKIDEXAMPLE';
const SUITE_SK = 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY';
const SUITE_NOW = new Date('2015-08-30T12:36:00Z');
const suiteLookup = lookupOf({ [SUITE_AK]: SUITE_SK });

function suite(path: string, signedHeaders: string, signature: string, extra: Record<string, string> = {}, init: RequestInit = {}) {
  return new Request(`https://example.amazonaws.com${path}`, {
    ...init,
    headers: {
      Host: 'example.amazonaws.com',
      'X-Amz-Date': '20150830T123600Z',
      ...extra,
      Authorization: `AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=${signedHeaders}, Signature=${signature}`,
    },
  });
}
const verifySuite = (req: Request) => verifySigV4(req, suiteLookup, { service: 'service', now: SUITE_NOW });

describe('AWS SigV4 test suite (service "service")', () => {
  const cases: [string, string, string, string, Record<string, string>?][] = [
    ['get-vanilla', '/', 'host;x-amz-date', '5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31'],
    [
      'get-vanilla-query-order-key-case',
      '/?Param2=value2&Param1=value1',
      'host;x-amz-date',
      'b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500',
    ],
    [
      'get-header-value-trim',
      '/',
      'host;my-header1;my-header2;x-amz-date',
      'acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736',
      { 'My-Header1': ' value1', 'My-Header2': '"a   b   c"' },
    ],
    [
      'get-unreserved',
      '/-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz',
      'host;x-amz-date',
      '07ef7494c76fa4850883e2b006601f940f8a34d404d0cfa977f52a65bbf5f24f',
    ],
    ['get-utf8', '/ሴ', 'host;x-amz-date', '8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85'],
    ['get-space-unnormalized', '/example space/', 'host;x-amz-date', '652487583200325589f1fba4c7e578f72c47cb61beeca81406b39ddec1366741'],
    ['get-vanilla-utf8-query', '/?ሴ=bar', 'host;x-amz-date', '2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04'],
    [
      'get-vanilla-query-unreserved',
      '/?-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz=-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz',
      'host;x-amz-date',
      '9c3e54bfcdf0b19771a7f523ee5669cdf59bc7cc0884027167c21bb143a40197',
    ],
  ];
  for (const [name, path, signed, sig, extra] of cases) {
    it(name, async () => {
      const auth = await verifySuite(suite(path, signed, sig, extra));
      expect(auth).toMatchObject({ accessKeyId: SUITE_AK, dialect: 'amz', method: 'sigv4', region: 'us-east-1' });
    });
  }

  it('post-x-www-form-urlencoded (signed content-length, content-type and body hash)', async () => {
    const req = suite(
      '/',
      'content-length;content-type;host;x-amz-content-sha256;x-amz-date',
      'd3875051da38690788ef43de4db0d8f280229d82040bfac253562e56c3f20e0b',
      {
        'Content-Type': 'application/x-www-form-urlencoded',
        'Content-Length': '13',
        'x-amz-content-sha256': '9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e',
      },
      { method: 'POST', body: 'Param1=value1' },
    );
    const auth = await verifySuite(req);
    expect(auth.payload).toEqual({ kind: 'sha256', hex: '9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e' });
    expect(new TextDecoder().decode(await readAll(decodePayload(req.body!, auth.payload, req.headers)))).toBe('Param1=value1');
  });

  it('a non-S3 service may omit x-amz-content-sha256: the body is hashed here', async () => {
    // get-vanilla has no body and no x-amz-content-sha256; the empty-body hash is what was signed.
    const auth = await verifySuite(suite('/', 'host;x-amz-date', '5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31'));
    expect(auth.payload).toEqual({ kind: 'sha256', hex: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855' });
  });
});

// --- S3 worked examples -----------------------------------------------------
// docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html (GET Object, PUT Object,
// GET Bucket list), sigv4-query-string-auth.html (presigned URL) and sigv4-streaming.html.
// The values are the published ones, as reproduced verbatim by several independent
// test suites found with the code search (e.g. the s3s, aws.signature and erlcloud tests).
const AK = 'AKIAIOSFODNN7EXAMPLE';
const SK = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const S3_NOW = new Date('2013-05-24T00:00:00Z');
const s3Lookup = lookupOf({ [AK]: SK });
const EMPTY = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
const cred = `Credential=${AK}/20130524/us-east-1/s3/aws4_request`;

const getObject = (over: Record<string, string> = {}, url = 'https://examplebucket.s3.amazonaws.com/test.txt') =>
  new Request(url, {
    headers: {
      Range: 'bytes=0-9',
      'x-amz-content-sha256': EMPTY,
      'x-amz-date': '20130524T000000Z',
      Authorization: `AWS4-HMAC-SHA256 ${cred},SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41`,
      ...over,
    },
  });
const putObject = (path: string) =>
  new Request(`https://examplebucket.s3.amazonaws.com${path}`, {
    method: 'PUT',
    body: 'Welcome to Amazon S3.',
    headers: {
      Date: 'Fri, 24 May 2013 00:00:00 GMT',
      'x-amz-date': '20130524T000000Z',
      'x-amz-storage-class': 'REDUCED_REDUNDANCY',
      'x-amz-content-sha256': '44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072',
      Authorization: `AWS4-HMAC-SHA256 ${cred},SignedHeaders=date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class,Signature=98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd`,
    },
  });
const listObjects = (query = '?max-keys=2&prefix=J') =>
  new Request(`https://examplebucket.s3.amazonaws.com/${query}`, {
    headers: {
      'x-amz-content-sha256': EMPTY,
      'x-amz-date': '20130524T000000Z',
      Authorization: `AWS4-HMAC-SHA256 ${cred},SignedHeaders=host;x-amz-content-sha256;x-amz-date,Signature=34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7`,
    },
  });
const PRESIGNED =
  'https://examplebucket.s3.amazonaws.com/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404';

describe('S3 worked examples', () => {
  it('GET Object with Range', async () => {
    const auth = await verifySigV4(getObject(), s3Lookup, { now: S3_NOW });
    expect(auth).toMatchObject({ accessKeyId: AK, dialect: 'amz', method: 'sigv4', payload: { kind: 'sha256', hex: EMPTY } });
  });

  it('PUT Object, whichever way the client spells `$` in the path', async () => {
    for (const path of ['/test%24file.text', '/test$file.text']) {
      const req = putObject(path);
      const auth = await verifySigV4(req, s3Lookup, { now: S3_NOW });
      expect(auth.payload).toEqual({ kind: 'sha256', hex: '44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072' });
      expect(new TextDecoder().decode(await readAll(decodePayload(req.body!, auth.payload, req.headers)))).toBe('Welcome to Amazon S3.');
    }
  });

  it('GET Bucket (list objects) with a query', async () => {
    await verifySigV4(listObjects(), s3Lookup, { now: S3_NOW });
    await verifySigV4(listObjects('?prefix=J&max-keys=2'), s3Lookup, { now: S3_NOW }); // order does not matter
  });

  it('presigned GET URL', async () => {
    const auth = await verifyPresignedV4(new Request(PRESIGNED), s3Lookup, { now: new Date('2013-05-24T12:00:00Z') });
    expect(auth).toMatchObject({ accessKeyId: AK, dialect: 'amz', method: 'sigv4-presigned', payload: { kind: 'unsigned' } });
    // The dispatcher reaches the same verifier.
    expect((await authenticate(new Request(PRESIGNED), s3Lookup, S3_NOW)).method).toBe('sigv4-presigned');
  });

  it('STREAMING-AWS4-HMAC-SHA256-PAYLOAD seed signature (66560 bytes of "a" in 64 KiB chunks)', async () => {
    const a = (n: number) => enc('a'.repeat(n));
    const body = new Blob([
      '10000;chunk-signature=ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648\r\n',
      a(65536),
      '\r\n',
      '400;chunk-signature=0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497\r\n',
      a(1024),
      '\r\n',
      '0;chunk-signature=b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9\r\n\r\n',
    ]);
    expect(body.size).toBe(66824);
    const req = new Request('https://s3.amazonaws.com/examplebucket/chunkObject.txt', {
      method: 'PUT',
      body: body.stream(),
      headers: {
        'x-amz-date': '20130524T000000Z',
        'x-amz-storage-class': 'REDUCED_REDUNDANCY',
        'x-amz-content-sha256': 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD',
        'Content-Encoding': 'aws-chunked',
        'x-amz-decoded-content-length': '66560',
        'Content-Length': '66824',
        Authorization: `AWS4-HMAC-SHA256 ${cred},SignedHeaders=content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class,Signature=4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9`,
      },
      duplex: 'half',
    } as RequestInit);
    const auth = await verifySigV4(req, s3Lookup, { now: S3_NOW });
    expect(auth.payload).toMatchObject({
      kind: 'chunked-signed',
      scope: '20130524/us-east-1/s3/aws4_request',
      datetime: '20130524T000000Z',
      seed: '4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9',
      trailer: false,
    });
    const out = await readAll(decodePayload(req.body!, auth.payload, req.headers));
    expect(out.length).toBe(66560);
    expect(out.every((b) => b === 0x61)).toBe(true);
  });
});

describe('SigV4 refusals', () => {
  const now = { now: S3_NOW };
  it('wrong secret', () => expectS3Error(verifySigV4(getObject(), lookupOf({ [AK]: `${SK}x` }), now), 'SignatureDoesNotMatch'));
  it('unknown access key', () => expectS3Error(verifySigV4(getObject(), lookupOf({}), now), 'InvalidAccessKeyId'));
  it('tampered signed header', () =>
    expectS3Error(verifySigV4(getObject({ Range: 'bytes=0-10' }), s3Lookup, now), 'SignatureDoesNotMatch'));
  it('tampered query', () => expectS3Error(verifySigV4(listObjects('?max-keys=2&prefix=K'), s3Lookup, now), 'SignatureDoesNotMatch'));
  it('extra query parameter', () =>
    expectS3Error(verifySigV4(listObjects('?max-keys=2&prefix=J&delimiter=%2F'), s3Lookup, now), 'SignatureDoesNotMatch'));
  it('tampered path', () =>
    expectS3Error(verifySigV4(getObject({}, 'https://examplebucket.s3.amazonaws.com/test.txu'), s3Lookup, now), 'SignatureDoesNotMatch'));
  it('an encoded slash is not a path separator', () =>
    expectS3Error(
      verifySigV4(getObject({}, 'https://examplebucket.s3.amazonaws.com/test%2Etxt/'), s3Lookup, now),
      'SignatureDoesNotMatch',
    ));
  it('tampered payload hash', () =>
    expectS3Error(verifySigV4(getObject({ 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' }), s3Lookup, now), 'SignatureDoesNotMatch'));

  it('clock skew over 15 minutes', async () => {
    await verifySigV4(getObject(), s3Lookup, { now: new Date(S3_NOW.getTime() + 14 * 60_000) });
    const e = await expectS3Error(
      verifySigV4(getObject(), s3Lookup, { now: new Date(S3_NOW.getTime() + 16 * 60_000) }),
      'RequestTimeTooSkewed',
    );
    expect(e.status).toBe(403);
    await expectS3Error(verifySigV4(getObject(), s3Lookup, { now: new Date(S3_NOW.getTime() - 16 * 60_000) }), 'RequestTimeTooSkewed');
  });

  it('malformed Authorization header', async () => {
    const e = await expectS3Error(
      verifySigV4(getObject({ Authorization: `AWS4-HMAC-SHA256 ${cred}, Signature=abc` }), s3Lookup, now),
      'AuthorizationHeaderMalformed',
    );
    expect(e.status).toBe(400);
    await expectS3Error(
      verifySigV4(
        getObject({
          Authorization: `AWS4-HMAC-SHA256 Credential=${AK}/20130524/us-east-1/ec2/aws4_request, SignedHeaders=host, Signature=00`,
        }),
        s3Lookup,
        now,
      ),
      'AuthorizationHeaderMalformed',
    );
    await expectS3Error(
      verifySigV4(
        getObject({
          Authorization: `AWS4-HMAC-SHA256 Credential=${AK}/20130525/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=00`,
        }),
        s3Lookup,
        now,
      ),
      'AuthorizationHeaderMalformed',
    );
    await expectS3Error(
      verifySigV4(getObject({ Authorization: `AWS4-HMAC-SHA256 ${cred}, SignedHeaders=range;x-amz-date, Signature=00` }), s3Lookup, now),
      'AuthorizationHeaderMalformed',
    );
  });

  it('x-amz-content-sha256 is required for S3 and must be a known value', async () => {
    const req = getObject();
    const h = new Headers(req.headers);
    h.delete('x-amz-content-sha256');
    await expectS3Error(
      verifySigV4(new Request(req.url, { headers: h }), s3Lookup, now),
      'InvalidRequest',
      'Missing required header for this request: x-amz-content-sha256',
    );
    await expectS3Error(verifySigV4(getObject({ 'x-amz-content-sha256': 'STREAMING-NOPE' }), s3Lookup, now), 'InvalidArgument');
  });

  it('presigned: expired, not yet valid, bad expiry, missing parameters, tampered', async () => {
    const later = (s: number) => ({ now: new Date(S3_NOW.getTime() + s * 1000) });
    await verifyPresignedV4(new Request(PRESIGNED), s3Lookup, later(86400));
    await expectS3Error(verifyPresignedV4(new Request(PRESIGNED), s3Lookup, later(86401)), 'AccessDenied', 'Request has expired');
    await expectS3Error(verifyPresignedV4(new Request(PRESIGNED), s3Lookup, later(-16 * 60)), 'AccessDenied');
    await expectS3Error(
      verifyPresignedV4(new Request(PRESIGNED.replace('X-Amz-Expires=86400', 'X-Amz-Expires=604801')), s3Lookup, now),
      'AuthorizationQueryParametersError',
    );
    await expectS3Error(
      verifyPresignedV4(new Request(PRESIGNED.replace('X-Amz-Expires=86400', 'X-Amz-Expires=0')), s3Lookup, now),
      'AuthorizationQueryParametersError',
    );
    await expectS3Error(
      verifyPresignedV4(new Request(PRESIGNED.replace('&X-Amz-Date=20130524T000000Z', '')), s3Lookup, now),
      'AuthorizationQueryParametersError',
    );
    await expectS3Error(verifyPresignedV4(new Request(PRESIGNED.replace('/test.txt', '/test.tx')), s3Lookup, now), 'SignatureDoesNotMatch');
    await expectS3Error(
      verifyPresignedV4(new Request(`${PRESIGNED}&response-content-type=text%2Fhtml`), s3Lookup, now),
      'SignatureDoesNotMatch',
    );
    await expectS3Error(verifyPresignedV4(new Request(PRESIGNED), lookupOf({}), now), 'InvalidAccessKeyId');
  });
});

describe('dispatch (authenticate)', () => {
  it('no credentials at all is AccessDenied, never anonymous', async () => {
    const e = await expectS3Error(authenticate(new Request('https://x/bucket/key'), s3Lookup), 'AccessDenied');
    expect(e.status).toBe(403);
  });
  it('SigV2 is refused with a hint unless the caller turns it on (config SIGV2)', async () => {
    await expectS3Error(
      authenticate(
        new Request('https://x/b/k', { headers: { Authorization: 'AWS AKIAIOSFODNN7EXAMPLE:frJIUN8DYpKDtOLCwo//yllqDzg=' } }),
        s3Lookup,
      ),
      'InvalidRequest',
      'The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.',
    );
    await expectS3Error(
      authenticate(new Request('https://x/b/k?AWSAccessKeyId=AK&Expires=1&Signature=x'), s3Lookup),
      'InvalidRequest',
      'The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.',
    );
  });
  it('header and query credentials together are refused', async () => {
    await expectS3Error(
      authenticate(new Request(PRESIGNED, { headers: { Authorization: getObject().headers.get('authorization')! } }), s3Lookup, S3_NOW),
      'InvalidArgument',
    );
  });
  it('header SigV4 goes to the SigV4 verifier with dialect amz', async () => {
    expect(await authenticate(getObject(), s3Lookup, S3_NOW)).toMatchObject({ dialect: 'amz', method: 'sigv4' });
  });
});

describe('round trips with aws4fetch', () => {
  const secret = 'Secr3t/with+odd=chars';
  const lookup = lookupOf({ AKTEST: secret });
  const datetime = '20260101T120000Z';
  const now = new Date('2026-01-01T12:00:00Z');
  const keys = [
    'plain.txt',
    'a b c.txt',
    'plus+sign',
    'tilde~x',
    "sub/dir/!'()*.bin",
    'ünïcødé/ключ/日本語',
    '$&=,;@:.txt',
    '100%.txt',
    'x%2Fy',
  ];
  const urlFor = (key: string, query = '') => `https://gateway.example/bucket/${key.split('/').map(encodeURIComponent).join('/')}${query}`;

  for (const key of keys) {
    it(`header-signed: ${key}`, async () => {
      const signer = new AwsV4Signer({
        url: urlFor(key, '?x-id=GetObject&prefix=a%20b+c&empty='),
        method: 'GET',
        accessKeyId: 'AKTEST',
        secretAccessKey: secret,
        service: 's3',
        region: 'auto',
        datetime,
      });
      const s = await signer.sign();
      const auth = await verifySigV4(new Request(s.url.toString(), { method: s.method, headers: s.headers }), lookup, { now });
      expect(auth).toMatchObject({ accessKeyId: 'AKTEST', region: 'auto', payload: { kind: 'unsigned' } });
    });
    it(`presigned: ${key}`, async () => {
      const signer = new AwsV4Signer({
        url: urlFor(key),
        method: 'PUT',
        accessKeyId: 'AKTEST',
        secretAccessKey: secret,
        service: 's3',
        region: 'us-east-1',
        datetime,
        signQuery: true,
      });
      const s = await signer.sign();
      const auth = await authenticate(new Request(s.url.toString(), { method: 'PUT', body: 'x', headers: s.headers }), lookup, now);
      expect(auth).toMatchObject({ method: 'sigv4-presigned', payload: { kind: 'unsigned' } });
    });
  }

  it('clients that escape unreserved characters still verify', async () => {
    const signer = new AwsV4Signer({
      url: 'https://gateway.example/bucket/a~b',
      accessKeyId: 'AKTEST',
      secretAccessKey: secret,
      service: 's3',
      region: 'auto',
      datetime,
    });
    const s = await signer.sign();
    await verifySigV4(new Request('https://gateway.example/bucket/a%7Eb', { headers: s.headers }), lookup, { now });
    await verifySigV4(new Request('https://gateway.example/bucket/%61~b', { headers: s.headers }), lookup, { now });
  });

  it('a streaming PUT returns the chunk-signing context', async () => {
    const signer = new AwsV4Signer({
      url: urlFor('big.bin'),
      method: 'PUT',
      accessKeyId: 'AKTEST',
      secretAccessKey: secret,
      service: 's3',
      region: 'auto',
      datetime,
      headers: {
        'x-amz-content-sha256': 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER',
        'x-amz-trailer': 'x-amz-checksum-crc32',
        'x-amz-decoded-content-length': '9',
      },
    });
    const s = await signer.sign();
    const auth = await verifySigV4(new Request(s.url.toString(), { method: 'PUT', headers: s.headers }), lookup, { now });
    expect(auth.payload).toMatchObject({ kind: 'chunked-signed', trailer: true, datetime, scope: '20260101/auto/s3/aws4_request' });
  });

  it('service is a parameter (KMS-style JSON POST without x-amz-content-sha256, its body hashed by the caller)', async () => {
    const body = JSON.stringify({ KeyId: 'alias/x', Plaintext: 'aGk=' });
    const signer = new AwsV4Signer({
      url: 'https://kms.gateway.example/',
      method: 'POST',
      body,
      headers: { 'X-Amz-Target': 'TrentService.Encrypt', 'Content-Type': 'application/x-amz-json-1.1' },
      accessKeyId: 'AKTEST',
      secretAccessKey: secret,
      service: 'kms',
      region: 'us-east-1',
      datetime,
    });
    const s = await signer.sign();
    const req = new Request(s.url.toString(), { method: 'POST', headers: s.headers, body });
    const payloadHash = await sha256Hex(body);
    expect(await verifySigV4(req, lookup, { service: 'kms', now, payloadHash })).toMatchObject({ method: 'sigv4' });
    expect(await req.text()).toBe(body); // the verifier never reads the body itself
    await expectS3Error(
      verifySigV4(new Request(s.url.toString(), { method: 'POST', headers: s.headers, body: `${body} ` }), lookup, {
        service: 'kms',
        now,
        payloadHash: await sha256Hex(`${body} `),
      }),
      'SignatureDoesNotMatch',
    );
    // A body the caller has not hashed is never read by the verifier.
    await expectS3Error(
      verifySigV4(new Request(s.url.toString(), { method: 'POST', headers: s.headers, body }), lookup, { service: 'kms', now }),
      'InvalidRequest',
    );
    await expectS3Error(
      verifySigV4(new Request(s.url.toString(), { method: 'POST', headers: s.headers, body }), lookup, { now }),
      'AuthorizationHeaderMalformed',
    );
  });
});

describe('canonical forms', () => {
  it('path segments are decoded then encoded once; dot segments are kept', () => {
    expect(canonicalUri('/a%20b/c+d/%7e/ሴ/$/%2F')).toBe('/a%20b/c%2Bd/~/%E1%88%B4/%24/%2F');
    expect(canonicalUri('')).toBe('/');
    expect(canonicalUri('/bucket/./x')).toBe('/bucket/./x');
  });
  it('query pairs are re-encoded and sorted by name then value', () => {
    expect(canonicalQuery('?b=2&a=x+y&a=%2B&c&A=0')).toBe('A=0&a=%2B&a=x%20y&b=2&c=');
    expect(canonicalQuery('?X-Amz-Signature=abc&z=1', 'X-Amz-Signature')).toBe('z=1');
  });
});
