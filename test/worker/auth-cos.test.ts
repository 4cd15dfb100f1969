import { describe, expect, it } from 'vitest';
import { authenticate } from '../../src/auth';
import { verifyCos } from '../../src/auth/cos';
import { expectS3Error, lookupOf } from './helpers/auth-helpers';

// Worked examples from Tencent Cloud's "Request Signature" page (COS API doc 436/7778,
// "Use Cases": uploading and downloading an object). SecretKey and expected q-signature
// are the published ones; the English page prints the full signatures.
const AK = 'AKIDQjz3ltompVjBni5LitkWHFlFpwkn9U5q';
const SK = 'BQYIM75p8x0iWVFSIgqEKwFprpRSVHlz';
const lookup = lookupOf({ [AK]: SK });
const HOST = 'https://examplebucket-1250000000.cos.ap-beijing.myqcloud.com';
const OBJ = '/exampleobject(%E8%85%BE%E8%AE%AF%E4%BA%91)';

const PUT_AUTH =
  'q-sign-algorithm=sha1&q-ak=AKIDQjz3ltompVjBni5LitkWHFlFpwkn9U5q&q-sign-time=1557989151;1557996351&q-key-time=1557989151;1557996351&q-header-list=content-length;content-md5;content-type;date;host;x-cos-acl;x-cos-grant-read&q-url-param-list=&q-signature=3b8851a11a569213c17ba8fa7dcf2abec6935172';
const putReq = (over: Record<string, string> = {}, path = OBJ) =>
  new Request(HOST + path, {
    method: 'PUT',
    body: 'ObjectContent',
    headers: {
      Date: 'Thu, 16 May 2019 06:45:51 GMT',
      Host: 'examplebucket-1250000000.cos.ap-beijing.myqcloud.com',
      'Content-Type': 'text/plain',
      'Content-Length': '13',
      'Content-MD5': 'mQ/fVh815F3k6TAUm8m0eg==',
      'x-cos-acl': 'private',
      'x-cos-grant-read': 'uin="100000000011"',
      Authorization: PUT_AUTH,
      ...over,
    },
  });
const PUT_NOW = new Date(1557989151_000 + 60_000);

const GET_QUERY = '?response-content-type=application%2Foctet-stream&response-cache-control=max-age%3D600';
const GET_AUTH =
  'q-sign-algorithm=sha1&q-ak=AKIDQjz3ltompVjBni5LitkWHFlFpwkn9U5q&q-sign-time=1557989753;1557996953&q-key-time=1557989753;1557996953&q-header-list=date;host&q-url-param-list=response-cache-control;response-content-type&q-signature=01681b8c9d798a678e43b685a9f1bba0f6c0e012';
const getReq = (url = HOST + OBJ + GET_QUERY, headers: Record<string, string> = { Authorization: GET_AUTH }) =>
  new Request(url, { headers: { Date: 'Thu, 16 May 2019 06:55:53 GMT', ...headers } });
const GET_NOW = new Date(1557989753_000 + 60_000);
// The same signature as a presigned URL: the q-* pairs move into the query, URL-encoded.
const PRESIGNED = `${HOST + OBJ + GET_QUERY}&${GET_AUTH.replace(/;/g, '%3B')}`;

describe('COS worked examples', () => {
  it('upload: signed headers, decoded unicode path', async () => {
    const auth = await verifyCos(putReq(), lookup, PUT_NOW);
    expect(auth).toEqual({ accessKeyId: AK, dialect: 'cos', method: 'cos', payload: { kind: 'unsigned' } });
    expect(await authenticate(putReq(), lookup, PUT_NOW)).toMatchObject({ dialect: 'cos', method: 'cos' });
  });

  it('download: signed query parameters, sorted, values re-encoded', async () => {
    await verifyCos(getReq(), lookup, GET_NOW);
    // Parameter order and the client's escaping do not matter.
    await verifyCos(
      getReq(`${HOST + OBJ}?response-cache-control=max-age=600&response-content-type=application/octet-stream`),
      lookup,
      GET_NOW,
    );
  });

  it("a host signed without its port (Tencent's Python SDK) verifies for a request sent to that port", async () => {
    const host = 'examplebucket-1250000000.cos.ap-beijing.myqcloud.com';
    await verifyCos(putReq({ Host: `${host}:8787` }), lookup, PUT_NOW);
    // Only the port may be missing from what was signed: another host is still another signature.
    await expectS3Error(verifyCos(putReq({ Host: `other-${host}:8787` }), lookup, PUT_NOW), 'SignatureDoesNotMatch');
  });

  it('download as a presigned URL', async () => {
    const auth = await authenticate(getReq(PRESIGNED, {}), lookup, GET_NOW);
    expect(auth).toEqual({ accessKeyId: AK, dialect: 'cos', method: 'cos-presigned', payload: { kind: 'unsigned' } });
  });
});

describe('COS refusals', () => {
  it('wrong secret', () => expectS3Error(verifyCos(putReq(), lookupOf({ [AK]: SK.toLowerCase() }), PUT_NOW), 'SignatureDoesNotMatch'));
  it('unknown SecretId', () => expectS3Error(verifyCos(putReq(), lookupOf({}), PUT_NOW), 'InvalidAccessKeyId'));
  it('tampered signed header', () =>
    expectS3Error(verifyCos(putReq({ 'x-cos-acl': 'public-read' }), lookup, PUT_NOW), 'SignatureDoesNotMatch'));
  it('tampered path', () => expectS3Error(verifyCos(putReq({}, '/exampleobject'), lookup, PUT_NOW), 'SignatureDoesNotMatch'));
  it('tampered signed query value', () =>
    expectS3Error(verifyCos(getReq(HOST + OBJ + GET_QUERY.replace('600', '601')), lookup, GET_NOW), 'SignatureDoesNotMatch'));
  it('tampered method', () =>
    expectS3Error(
      verifyCos(new Request(putReq().url, { method: 'POST', headers: putReq().headers, body: 'x' }), lookup, PUT_NOW),
      'SignatureDoesNotMatch',
    ));
  it('a listed header must be present', async () => {
    const h = new Headers(putReq().headers);
    h.delete('x-cos-grant-read');
    await expectS3Error(
      verifyCos(new Request(HOST + OBJ, { method: 'PUT', headers: h, body: 'ObjectContent' }), lookup, PUT_NOW),
      'SignatureDoesNotMatch',
    );
  });
  it('tampered value of a signed presigned-URL parameter', async () => {
    await expectS3Error(
      verifyCos(getReq(PRESIGNED.replace('max-age%3D600', 'max-age%3D0'), {}), lookup, GET_NOW, true),
      'SignatureDoesNotMatch',
    );
  });

  it('key time window: expired, not yet valid, 15 minutes of start skew', async () => {
    await verifyCos(putReq(), lookup, new Date(1557996351_000));
    await expectS3Error(verifyCos(putReq(), lookup, new Date(1557996352_000)), 'AccessDenied', 'Request has expired');
    await verifyCos(putReq(), lookup, new Date((1557989151 - 14 * 60) * 1000));
    const e = await expectS3Error(
      verifyCos(putReq(), lookup, new Date((1557989151 - 16 * 60) * 1000)),
      'AccessDenied',
      'Request has expired',
    );
    expect(e.status).toBe(403);
    await expectS3Error(authenticate(getReq(PRESIGNED, {}), lookup, new Date(1557996954_000)), 'AccessDenied', 'Request has expired');
  });

  it('malformed signatures', async () => {
    await expectS3Error(
      verifyCos(putReq({ Authorization: PUT_AUTH.replace(/&q-signature=.*/, '') }), lookup, PUT_NOW),
      'AuthorizationHeaderMalformed',
    );
    await expectS3Error(
      verifyCos(putReq({ Authorization: PUT_AUTH.replace('sha1', 'md5') }), lookup, PUT_NOW),
      'AuthorizationHeaderMalformed',
    );
    await expectS3Error(
      verifyCos(putReq({ Authorization: PUT_AUTH.replace('q-key-time=1557989151;1557996351', 'q-key-time=soon') }), lookup, PUT_NOW),
      'AuthorizationHeaderMalformed',
    );
    await expectS3Error(
      authenticate(getReq(PRESIGNED.replace(/&q-ak=[^&]*/, ''), {}), lookup, GET_NOW),
      'AuthorizationQueryParametersError',
    );
  });
});
