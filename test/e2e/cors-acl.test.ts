// Bucket CORS and ACLs with real clients: @aws-sdk/client-s3, the aws CLI and the COS SDK,
// plus preflights as a browser sends them (unsigned OPTIONS). Runs on both layouts.

import { join } from 'node:path';
import {
  CreateBucketCommand,
  DeleteBucketCorsCommand,
  GetBucketAclCommand,
  GetBucketCorsCommand,
  GetObjectAclCommand,
  GetObjectCommand,
  PutBucketAclCommand,
  PutBucketCorsCommand,
  PutObjectAclCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import type COS from 'cos-nodejs-sdk-v5';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  aws,
  COS_APPID,
  COS_REGION,
  cosClient,
  cosError,
  gateway,
  hasAws,
  s3Client,
  s3Error,
  signedFetch,
  tempDir,
  uniq,
  writeFileSync,
} from './helpers';

const BUCKET = uniq('e2e-cors').toLowerCase();
const APP = 'https://app.example';
const files = tempDir();
let s3: S3Client;

/** An unsigned request as a browser makes it. */
const raw = (method: string, path: string, headers: Record<string, string>) => fetch(gateway().endpoint + path, { method, headers });

beforeAll(async () => {
  s3 = s3Client();
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
  await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'hello.txt', Body: 'hello' }));
});

afterAll(() => files.cleanup());

describe('CORS with the AWS SDK', () => {
  it('puts, gets and deletes the configuration; GetBucketCors of none is NoSuchCORSConfiguration', async () => {
    const none = await s3Error(s3.send(new GetBucketCorsCommand({ Bucket: BUCKET })));
    expect(none).toMatchObject({ name: 'NoSuchCORSConfiguration', status: 404 });
    const CORSRules = [
      {
        ID: 'app',
        AllowedOrigins: [APP],
        AllowedMethods: ['GET', 'PUT'],
        AllowedHeaders: ['content-type', 'x-amz-*'],
        ExposeHeaders: ['ETag'],
        MaxAgeSeconds: 600,
      },
      { AllowedOrigins: ['*'], AllowedMethods: ['HEAD'] },
    ];
    await s3.send(new PutBucketCorsCommand({ Bucket: BUCKET, CORSConfiguration: { CORSRules } }));
    const got = await s3.send(new GetBucketCorsCommand({ Bucket: BUCKET }));
    expect(got.CORSRules).toEqual(CORSRules);
    const bad = await s3Error(
      s3.send(
        new PutBucketCorsCommand({
          Bucket: BUCKET,
          CORSConfiguration: { CORSRules: [{ AllowedOrigins: [APP], AllowedMethods: ['PATCH'] }] },
        }),
      ),
    );
    expect(bad).toMatchObject({ name: 'InvalidRequest', status: 400 });
    expect(bad.message).toBe('Found unsupported HTTP method in CORS config. Unsupported method is PATCH');
    // The refused configuration left the stored one alone.
    expect((await s3.send(new GetBucketCorsCommand({ Bucket: BUCKET }))).CORSRules).toEqual(CORSRules);
  });

  it('answers preflights from the rules without a signature, and adds the headers to signed answers (errors too)', async () => {
    const ok = await raw('OPTIONS', `/${BUCKET}/upload.bin`, {
      origin: APP,
      'access-control-request-method': 'PUT',
      'access-control-request-headers': 'content-type,x-amz-meta-note',
    });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('access-control-allow-origin')).toBe(APP);
    expect(ok.headers.get('access-control-allow-methods')).toBe('GET, PUT');
    expect(ok.headers.get('access-control-allow-headers')).toBe('content-type, x-amz-meta-note');
    expect(ok.headers.get('access-control-allow-credentials')).toBe('true');
    expect(ok.headers.get('access-control-max-age')).toBe('600');
    const refused = await raw('OPTIONS', `/${BUCKET}/upload.bin`, {
      origin: 'https://evil.example',
      'access-control-request-method': 'PUT',
    });
    expect(refused.status).toBe(403);
    expect(await refused.text()).toContain('<Code>AccessForbidden</Code>');
    expect((await raw('OPTIONS', `/${BUCKET}/upload.bin`, {})).status).toBe(400);

    // A signed GET from the allowed origin (the SDK adds the Origin header through middleware).
    const seen: Record<string, string>[] = [];
    const withOrigin = s3Client();
    withOrigin.middlewareStack.add(
      (next) => async (args) => {
        (args.request as { headers: Record<string, string> }).headers.origin = APP;
        const out = await next(args);
        seen.push((out.response as { headers: Record<string, string> }).headers);
        return out;
      },
      { step: 'build' },
    );
    const body = await (await withOrigin.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'hello.txt' }))).Body!.transformToString();
    expect(body).toBe('hello');
    expect(seen[0]['access-control-allow-origin']).toBe(APP);
    expect(seen[0]['access-control-expose-headers']).toBe('ETag');
    // An error answer carries them too (so a page can read S3's error document).
    const missing = await signedFetch('GET', `/${BUCKET}/missing.txt`, { headers: { origin: APP } });
    expect(missing.status).toBe(404);
    expect(missing.headers.get('access-control-allow-origin')).toBe(APP);
    expect(await missing.text()).toContain('<Code>NoSuchKey</Code>');

    // CORS adds headers, never access: the same GET unsigned is refused.
    const anonymous = await raw('GET', `/${BUCKET}/hello.txt`, { origin: APP });
    expect(anonymous.status).toBe(403);
    expect(await anonymous.text()).toContain('<Code>AccessDenied</Code>');

    await s3.send(new DeleteBucketCorsCommand({ Bucket: BUCKET }));
    expect((await s3Error(s3.send(new GetBucketCorsCommand({ Bucket: BUCKET })))).name).toBe('NoSuchCORSConfiguration');
    const disabled = await raw('OPTIONS', `/${BUCKET}/upload.bin`, { origin: APP, 'access-control-request-method': 'PUT' });
    expect(disabled.status).toBe(403);
    expect(await disabled.text()).toContain('CORSResponse: CORS is not enabled for this bucket.');
  });
});

describe('a large CORS configuration', () => {
  it('100 rules (past the bucket record’s metadata) round-trip and answer preflights, on either layout', async () => {
    const bucket = uniq('e2e-cors-large').toLowerCase();
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    const CORSRules = Array.from({ length: 100 }, (_, i) => ({
      ID: `rule-${i}`,
      AllowedOrigins: [`https://app-${i}.example.com`],
      AllowedMethods: ['GET'],
    }));
    await s3.send(new PutBucketCorsCommand({ Bucket: bucket, CORSConfiguration: { CORSRules } }));
    expect((await s3.send(new GetBucketCorsCommand({ Bucket: bucket }))).CORSRules).toEqual(CORSRules);
    const last = await raw('OPTIONS', `/${bucket}/k`, { origin: 'https://app-99.example.com', 'access-control-request-method': 'GET' });
    expect(last.status).toBe(200);
    expect(last.headers.get('access-control-allow-origin')).toBe('https://app-99.example.com');
    await s3.send(new DeleteBucketCorsCommand({ Bucket: bucket }));
    expect((await s3Error(s3.send(new GetBucketCorsCommand({ Bucket: bucket })))).name).toBe('NoSuchCORSConfiguration');
  });
});

describe('ACLs with the AWS SDK', () => {
  it('answers the owner’s FULL_CONTROL for the bucket and an object; NoSuchKey for a missing one', async () => {
    const id = gateway().accessKeyId;
    for (const acl of [
      await s3.send(new GetBucketAclCommand({ Bucket: BUCKET })),
      await s3.send(new GetObjectAclCommand({ Bucket: BUCKET, Key: 'hello.txt' })),
    ]) {
      expect(acl.Owner).toEqual({ ID: id, DisplayName: id });
      expect(acl.Grants).toEqual([{ Grantee: { Type: 'CanonicalUser', ID: id, DisplayName: id }, Permission: 'FULL_CONTROL' }]);
    }
    expect(await s3Error(s3.send(new GetObjectAclCommand({ Bucket: BUCKET, Key: 'missing.txt' })))).toMatchObject({
      name: 'NoSuchKey',
      status: 404,
    });
  });

  it('accepts private and bucket-owner ACLs, refuses public ones with AccessControlListNotSupported', async () => {
    await s3.send(new PutObjectAclCommand({ Bucket: BUCKET, Key: 'hello.txt', ACL: 'private' }));
    await s3.send(new PutBucketAclCommand({ Bucket: BUCKET, ACL: 'private' }));
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'owned.txt', Body: 'x', ACL: 'bucket-owner-full-control' }));
    // One at a time (thunks): a refusal is awaited as soon as it happens.
    for (const send of [
      () => s3.send(new PutObjectAclCommand({ Bucket: BUCKET, Key: 'hello.txt', ACL: 'public-read' })),
      () => s3.send(new PutBucketAclCommand({ Bucket: BUCKET, ACL: 'public-read-write' })),
      () => s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'public.txt', Body: 'x', ACL: 'public-read' })),
      () =>
        s3.send(
          new PutObjectCommand({
            Bucket: BUCKET,
            Key: 'public.txt',
            Body: 'x',
            GrantRead: 'uri="http://acs.amazonaws.com/groups/global/AllUsers"',
          }),
        ),
    ]) {
      const e = await s3Error(send());
      expect(e).toMatchObject({ name: 'AccessControlListNotSupported', status: 400 });
      expect(e.message).toBe('The bucket does not allow ACLs');
    }
    expect((await s3Error(s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'public.txt' })))).name).toBe('NoSuchKey');
  });
});

describe.skipIf(!hasAws)('the aws CLI', () => {
  it('put-bucket-cors, get-bucket-cors, get-object-acl and a refused put-object-acl', async () => {
    const cfg = join(files.dir, 'cors.json');
    writeFileSync(cfg, JSON.stringify({ CORSRules: [{ AllowedOrigins: [APP], AllowedMethods: ['GET'], MaxAgeSeconds: 30 }] }));
    const put = await aws(['s3api', 'put-bucket-cors', '--bucket', BUCKET, '--cors-configuration', `file://${cfg}`]);
    expect(put.code, put.stderr).toBe(0);
    const get = await aws(['s3api', 'get-bucket-cors', '--bucket', BUCKET]);
    expect(get.code, get.stderr).toBe(0);
    expect(JSON.parse(get.stdout)).toEqual({ CORSRules: [{ AllowedOrigins: [APP], AllowedMethods: ['GET'], MaxAgeSeconds: 30 }] });
    const acl = await aws(['s3api', 'get-object-acl', '--bucket', BUCKET, '--key', 'hello.txt']);
    expect(acl.code, acl.stderr).toBe(0);
    const id = gateway().accessKeyId;
    expect(JSON.parse(acl.stdout)).toEqual({
      Owner: { DisplayName: id, ID: id },
      Grants: [{ Grantee: { DisplayName: id, ID: id, Type: 'CanonicalUser' }, Permission: 'FULL_CONTROL' }],
    });
    const pub = await aws(['s3api', 'put-object-acl', '--bucket', BUCKET, '--key', 'hello.txt', '--acl', 'public-read']);
    expect(pub.code).not.toBe(0);
    expect(pub.stderr).toContain('AccessControlListNotSupported');
    const del = await aws(['s3api', 'delete-bucket-cors', '--bucket', BUCKET]);
    expect(del.code, del.stderr).toBe(0);
  });
});

describe('the COS SDK', () => {
  const Bucket = `${uniq('e2e-cors-cos').toLowerCase()}-${COS_APPID}`;
  const Region = COS_REGION;
  let cos: COS;
  beforeAll(async () => {
    cos = cosClient();
    expect((await cos.putBucket({ Bucket, Region })).statusCode).toBe(200);
    expect((await cos.putObject({ Bucket, Region, Key: 'a.txt', Body: 'a' })).statusCode).toBe(200);
  });

  it('PUT/GET/DELETE Bucket cors, and a preflight on the virtual-hosted name', async () => {
    const CORSRules = [
      { AllowedOrigin: [APP], AllowedMethod: ['GET', 'PUT'], AllowedHeader: ['*'], ExposeHeader: ['ETag'], MaxAgeSeconds: 60 },
    ];
    expect((await cos.putBucketCors({ Bucket, Region, CORSRules })).statusCode).toBe(200);
    const got = await cos.getBucketCors({ Bucket, Region });
    // The SDK hands the rules back under S3's plural names.
    expect(got.CORSRules).toEqual([
      { AllowedOrigins: [APP], AllowedMethods: ['GET', 'PUT'], AllowedHeaders: ['*'], ExposeHeaders: ['ETag'], MaxAgeSeconds: '60' },
    ]);
    const g = gateway();
    const pre = await new Promise<{ status: number; headers: Record<string, unknown> }>((resolve, reject) => {
      import('node:http').then(({ request }) => {
        const r = request(
          {
            host: '127.0.0.1',
            port: g.port,
            method: 'OPTIONS',
            path: '/a.txt',
            headers: { host: `${Bucket}.${g.cosBaseDomain}:${g.port}`, origin: APP, 'access-control-request-method': 'PUT' },
          },
          (res) => {
            res.resume();
            res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers }));
          },
        );
        r.on('error', reject);
        r.end();
      }, reject);
    });
    expect(pre.status).toBe(200);
    expect(pre.headers['access-control-allow-origin']).toBe(APP);
    expect((await cos.deleteBucketCors({ Bucket, Region })).statusCode).toBe(204);
    // The SDK turns the 404 NoSuchCORSConfiguration it gets into an empty rule list.
    const none = await cos.getBucketCors({ Bucket, Region });
    expect(none).toMatchObject({ statusCode: 404, CORSRules: [] });
  });

  it('GET Object/Bucket acl in the COS shape; x-cos-acl public-read refused, private accepted', async () => {
    const id = gateway().accessKeyId;
    const acl = await cos.getObjectAcl({ Bucket, Region, Key: 'a.txt' });
    expect(acl.statusCode).toBe(200);
    expect(acl.Owner).toMatchObject({ ID: id });
    expect(acl.Grants).toEqual([expect.objectContaining({ Grantee: expect.objectContaining({ ID: id }), Permission: 'FULL_CONTROL' })]);
    expect((await cos.getBucketAcl({ Bucket, Region })).statusCode).toBe(200);
    expect((await cos.putObjectAcl({ Bucket, Region, Key: 'a.txt', ACL: 'private' })).statusCode).toBe(200);
    const e = await cosError(cos.putObjectAcl({ Bucket, Region, Key: 'a.txt', ACL: 'public-read' }));
    expect(e).toMatchObject({ statusCode: 400, code: 'AccessControlListNotSupported' });
    const put = await cosError(cos.putObject({ Bucket, Region, Key: 'b.txt', Body: 'b', ACL: 'public-read' }));
    expect(put).toMatchObject({ statusCode: 400, code: 'AccessControlListNotSupported' });
    expect((await cosError(cos.getObjectAcl({ Bucket, Region, Key: 'missing.txt' }))).statusCode).toBe(404);
  });
});
