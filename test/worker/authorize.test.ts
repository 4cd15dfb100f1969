// What each S3 request is to IAM: the router's operation for every route, its action and resource
// (AWS's "Amazon S3 API operations and the policy actions"), and the condition keys read from
// headers, presigned queries and POST form fields; decided with fabricated principals.

import { describe, expect, it } from 'vitest';
import { readConfig } from '../../src/config';
import { parsePolicy } from '../../src/iam/policy';
import { httpRequestKeys } from '../../src/iam/request-keys';
import type { Principal } from '../../src/iam/types';
import { ACTIONS, type Operation, requestFields, s3Keys } from '../../src/s3/authorize';
import type { Ctx } from '../../src/s3/context';
import { route } from '../../src/s3/router';

/** A request as the router sees it, with no store behind it (route() only names the operation). */
function ctxOf(method: string, path: string, headers: Record<string, string> = {}): Ctx {
  const url = new URL(`http://gw.test${path}`);
  const [, bucket = '', ...rest] = url.pathname.split('/');
  return {
    req: new Request(url, { method, headers }),
    url,
    config: readConfig({} as never),
    auth: { accessKeyId: 'AK', dialect: 'amz', method: 'sigv4', payload: { kind: 'unsigned' } },
    principal: { kind: 'root', accessKeyId: 'AK', arn: 'arn:aws:iam::000000000000:root' },
    dialect: 'amz',
    requestId: 'r',
    bucket,
    key: decodeURIComponent(rest.join('/')),
    layouts: { of: () => ({ checkKey() {} }) } as never,
    sealer: undefined as never,
    secure: false,
  };
}

const COPY = { 'x-amz-copy-source': '/src/k' };
/** Every route the router serves, with the operation and action it must be. */
const ROUTES: [string, string, Record<string, string>, Operation, string][] = [
  ['GET', '/', {}, 'ListBuckets', 's3:ListAllMyBuckets'],
  ['PUT', '/b', {}, 'CreateBucket', 's3:CreateBucket'],
  ['HEAD', '/b', {}, 'HeadBucket', 's3:ListBucket'],
  ['DELETE', '/b', {}, 'DeleteBucket', 's3:DeleteBucket'],
  ['GET', '/b?location', {}, 'GetBucketLocation', 's3:GetBucketLocation'],
  ['GET', '/b', {}, 'ListObjects', 's3:ListBucket'],
  ['GET', '/b?list-type=2', {}, 'ListObjects', 's3:ListBucket'],
  ['GET', '/b?versions', {}, 'ListObjectVersions', 's3:ListBucketVersions'],
  ['GET', '/b?uploads', {}, 'ListMultipartUploads', 's3:ListBucketMultipartUploads'],
  ['GET', '/b?versioning', {}, 'GetBucketVersioning', 's3:GetBucketVersioning'],
  ['PUT', '/b?versioning', {}, 'PutBucketVersioning', 's3:PutBucketVersioning'],
  ['GET', '/b?cors', {}, 'GetBucketCors', 's3:GetBucketCORS'],
  ['PUT', '/b?cors', {}, 'PutBucketCors', 's3:PutBucketCORS'],
  ['DELETE', '/b?cors', {}, 'DeleteBucketCors', 's3:PutBucketCORS'],
  ['GET', '/b?acl', {}, 'GetBucketAcl', 's3:GetBucketAcl'],
  ['PUT', '/b?acl', {}, 'PutBucketAcl', 's3:PutBucketAcl'],
  ['GET', '/b?encryption', {}, 'GetBucketEncryption', 's3:GetEncryptionConfiguration'],
  ['PUT', '/b?encryption', {}, 'PutBucketEncryption', 's3:PutEncryptionConfiguration'],
  ['DELETE', '/b?encryption', {}, 'DeleteBucketEncryption', 's3:PutEncryptionConfiguration'],
  ['GET', '/b?policy', {}, 'GetBucketPolicy', 's3:GetBucketPolicy'],
  ['PUT', '/b?policy', {}, 'PutBucketPolicy', 's3:PutBucketPolicy'],
  ['DELETE', '/b?policy', {}, 'DeleteBucketPolicy', 's3:DeleteBucketPolicy'],
  ['GET', '/b?policyStatus', {}, 'GetBucketPolicyStatus', 's3:GetBucketPolicyStatus'],
  ['POST', '/b?delete', {}, 'DeleteObjects', 'per-key'],
  ['GET', '/b/k', {}, 'GetObject', 's3:GetObject'],
  ['HEAD', '/b/k', {}, 'HeadObject', 's3:GetObject'],
  ['PUT', '/b/k', {}, 'PutObject', 's3:PutObject'],
  ['PUT', '/b/k', COPY, 'CopyObject', 's3:PutObject'],
  ['DELETE', '/b/k', {}, 'DeleteObject', 's3:DeleteObject'],
  ['GET', '/b/k?attributes', {}, 'GetObjectAttributes', 's3:GetObjectAttributes'],
  ['GET', '/b/k?acl', {}, 'GetObjectAcl', 's3:GetObjectAcl'],
  ['PUT', '/b/k?acl', {}, 'PutObjectAcl', 's3:PutObjectAcl'],
  ['GET', '/b/k?tagging', {}, 'GetObjectTagging', 's3:GetObjectTagging'],
  ['PUT', '/b/k?tagging', {}, 'PutObjectTagging', 's3:PutObjectTagging'],
  ['DELETE', '/b/k?tagging', {}, 'DeleteObjectTagging', 's3:DeleteObjectTagging'],
  ['POST', '/b/k?uploads', {}, 'CreateMultipartUpload', 's3:PutObject'],
  ['PUT', '/b/k?partNumber=1&uploadId=u', {}, 'UploadPart', 's3:PutObject'],
  ['PUT', '/b/k?partNumber=1&uploadId=u', COPY, 'UploadPartCopy', 's3:PutObject'],
  ['POST', '/b/k?uploadId=u', {}, 'CompleteMultipartUpload', 's3:PutObject'],
  ['DELETE', '/b/k?uploadId=u', {}, 'AbortMultipartUpload', 's3:AbortMultipartUpload'],
  ['GET', '/b/k?uploadId=u', {}, 'ListParts', 's3:ListMultipartUploadParts'],
];

describe('operation -> action', () => {
  it('every route names its operation, and every operation has its documented action', () => {
    for (const [method, path, headers, op, action] of ROUTES) {
      expect(route(ctxOf(method, path, headers)).op, `${method} ${path}`).toBe(op);
      const rule = ACTIONS[op];
      expect(rule === 'per-key' ? rule : rule.action, op).toBe(action);
    }
  });

  it('no operation is left without a route here: a new one fails this test until it is listed above', () => {
    expect(new Set(ROUTES.map((r) => r.at(3)))).toEqual(new Set(Object.keys(ACTIONS)));
  });

  it('versioned requests have their version actions; resources are bucket, object or "*"', () => {
    expect(ACTIONS.GetObject).toMatchObject({ versioned: 's3:GetObjectVersion', on: 'object' });
    expect(ACTIONS.DeleteObject).toMatchObject({ versioned: 's3:DeleteObjectVersion', on: 'object' });
    expect(ACTIONS.ListObjects).toMatchObject({ on: 'bucket' });
    expect(ACTIONS.ListBuckets).toMatchObject({ on: 'account' });
  });

  it('policy is served now; subresources still unserved answer NotImplemented before any authorization', () => {
    expect(() => route(ctxOf('GET', '/b?lifecycle'))).toThrow(/lifecycle/);
    expect(() => route(ctxOf('GET', '/b/k?policy'))).toThrow(/policy/);
  });
});

describe('condition keys', () => {
  const keysOf = (method: string, path: string, headers: Record<string, string>, authMethod = 'sigv4', list = false) => {
    const url = new URL(`http://gw.test${path}`);
    return s3Keys(requestFields(new Request(url, { method, headers }), url), {
      method: authMethod,
      list: list ? url.searchParams : undefined,
    });
  };

  it('from headers (S3 and COS names), absent ones undefined', () => {
    const k = keysOf('PUT', '/b/k', {
      'x-amz-server-side-encryption': 'aws:kms',
      'x-amz-server-side-encryption-aws-kms-key-id': 'alias/a',
      'x-amz-acl': 'private',
      'x-amz-copy-source': '/b/src',
      'x-amz-metadata-directive': 'COPY',
      'x-amz-storage-class': 'STANDARD',
      'x-amz-content-sha256': 'UNSIGNED-PAYLOAD',
      'x-amz-tagging': 'project=apollo&team=a%20b',
    });
    expect(k).toMatchObject({
      's3:x-amz-server-side-encryption': ['aws:kms'],
      's3:x-amz-server-side-encryption-aws-kms-key-id': ['alias/a'],
      's3:x-amz-acl': ['private'],
      's3:x-amz-copy-source': ['/b/src'],
      's3:x-amz-metadata-directive': ['COPY'],
      's3:x-amz-storage-class': ['STANDARD'],
      's3:x-amz-content-sha256': ['UNSIGNED-PAYLOAD'],
      's3:RequestObjectTag/project': ['apollo'],
      's3:RequestObjectTag/team': ['a b'],
      's3:RequestObjectTagKeys': ['project', 'team'],
      's3:authType': ['REST-HEADER'],
      's3:signatureversion': ['AWS4-HMAC-SHA256'],
    });
    expect(k['s3:x-amz-server-side-encryption-customer-algorithm']).toBeUndefined();
    const cos = keysOf(
      'PUT',
      '/b/k',
      { 'x-cos-server-side-encryption': 'cos/kms', 'x-cos-server-side-encryption-customer-algorithm': 'AES256' },
      'cos',
    );
    expect(cos['s3:x-amz-server-side-encryption']).toEqual(['aws:kms']);
    expect(cos['s3:x-amz-server-side-encryption-customer-algorithm']).toEqual(['AES256']);
    expect(cos['s3:signatureversion']).toBeUndefined();
    expect(keysOf('GET', '/b/k', {}, 'sigv2')['s3:signatureversion']).toEqual(['AWS']);
  });

  it('from a presigned query', () => {
    const k = keysOf('PUT', '/b/k?x-amz-server-side-encryption=AES256&X-Amz-Signature=x', {}, 'sigv4-presigned');
    expect(k['s3:x-amz-server-side-encryption']).toEqual(['AES256']);
    expect(k['s3:authType']).toEqual(['REST-QUERY-STRING']);
  });

  it('listing keys only for listings', () => {
    const k = keysOf('GET', '/b?prefix=home/&delimiter=/&max-keys=10', {}, 'sigv4', true);
    expect(k).toMatchObject({ 's3:prefix': ['home/'], 's3:delimiter': ['/'], 's3:max-keys': ['10'] });
    expect(keysOf('GET', '/b?prefix=home/', {})['s3:prefix']).toBeUndefined();
  });

  it('from POST form fields', () => {
    const f = new Map([['x-amz-server-side-encryption', 'AES256']]);
    const k = s3Keys((n) => f.get(n) ?? null, { method: 'sigv4-post', post: true });
    expect(k['s3:x-amz-server-side-encryption']).toEqual(['AES256']);
    expect(k['s3:authType']).toEqual(['POST']);
  });

  it("request keys: the time, transport and source address (the evaluator adds the principal's own)", () => {
    const now = new Date('2026-12-08T01:02:03.456Z');
    const url = new URL('https://gw.test/b/k');
    expect(httpRequestKeys(new Request(url, { headers: { 'cf-connecting-ip': '203.0.113.7' } }), url, now)).toEqual({
      'aws:CurrentTime': ['2026-12-08T01:02:03Z'],
      'aws:EpochTime': [String(Math.floor(now.getTime() / 1000))],
      'aws:SecureTransport': ['true'],
      'aws:SourceIp': ['203.0.113.7'],
    });
    const plain = new URL('http://gw.test/');
    expect(httpRequestKeys(new Request(plain), plain, now)).toMatchObject({ 'aws:SecureTransport': ['false'], 'aws:SourceIp': undefined });
  });

  it('a user principal carries its policies: the keys decide a condition', async () => {
    const { decide } = await import('../../src/iam/policy');
    const policy = parsePolicy(
      JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          { Effect: 'Allow', Action: 's3:ListBucket', Resource: 'arn:aws:s3:::b', Condition: { StringLike: { 's3:prefix': 'home/u/*' } } },
        ],
      }),
      'identity',
    );
    const user: Principal = {
      kind: 'user',
      accessKeyId: 'AK',
      arn: 'arn:aws:iam::000000000000:user/u',
      userName: 'u',
      userId: 'AIDAX',
      policies: [policy],
    };
    const ask = (path: string) =>
      decide({ principal: user, action: 's3:ListBucket', resource: 'arn:aws:s3:::b', context: keysOf('GET', path, {}, 'sigv4', true) });
    expect(ask('/b?prefix=home/u/docs')).toBe('Allow');
    expect(ask('/b?prefix=home/v/')).toBe('ImplicitDeny');
    expect(ask('/b')).toBe('ImplicitDeny');
  });
});
