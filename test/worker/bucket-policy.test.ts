// Bucket policies through the Worker: Put/Get/Delete/GetBucketPolicyStatus and S3's checks, the
// classic "deny unencrypted" and "deny SSE-C" policies against root (subject to explicit Deny) for
// PutObject, POST Object, multipart and CopyObject, root's way out of a lock-out, the proxy
// layout's storage, and IAM users (identity policies, bucket-policy grants, per-key DeleteObjects,
// presigned URLs that die with their key, admin endpoints).

import { describe, expect, it } from 'vitest';
import type { UpstreamMapping } from '../../src/config';
import { forgetIdentities } from '../../src/iam/identities';
import { ProxyLayout } from '../../src/layout/proxy/layout';
import { cachedBucketPolicy, loadBucketPolicyText, saveBucketPolicy } from '../../src/s3/bucket-policy';
import { sigV4PostForm } from './helpers/auth-helpers';
import { FakeUpstream } from './helpers/fake-upstream';
import { iamAsRoot, newUser, policyOf, ROOT, s3As, signer } from './helpers/principals';
import { errorCode, ORIGIN, s3, worker } from './helpers/s3';

const HTTPS = 'https://gw.test';
const enc = (s: string) => new TextEncoder().encode(s);
const hex = (b: ArrayBuffer | Uint8Array) => [...new Uint8Array(b)].map((x) => x.toString(16).padStart(2, '0')).join('');
const b64 = (b: Uint8Array) => btoa(String.fromCharCode(...b));

const putPolicy = (bucket: string, text: string) => s3('PUT', `/${bucket}?policy`, { body: text, signBody: true });

async function newBucket(name: string): Promise<void> {
  const r = await s3('PUT', `/${name}`);
  expect(r.status, await r.text()).toBe(200);
}

async function expectDenied(r: Response, message?: RegExp): Promise<void> {
  const text = await r.text();
  expect(r.status, text).toBe(403);
  expect(/<Code>([^<]+)<\/Code>/.exec(text)?.[1]).toBe('AccessDenied');
  const said = /<Message>([^<]*)<\/Message>/.exec(text)?.[1].replaceAll('&quot;', '"');
  if (message) expect(said).toMatch(message);
}

const DENY_UNENCRYPTED = (bucket: string) =>
  policyOf(
    {
      Sid: 'DenyWrongSse',
      Effect: 'Deny',
      Principal: '*',
      Action: 's3:PutObject',
      Resource: `arn:aws:s3:::${bucket}/*`,
      Condition: { StringNotEquals: { 's3:x-amz-server-side-encryption': ['AES256', 'aws:kms'] } },
    },
    {
      Sid: 'DenyNoSse',
      Effect: 'Deny',
      Principal: '*',
      Action: 's3:PutObject',
      Resource: `arn:aws:s3:::${bucket}/*`,
      Condition: { Null: { 's3:x-amz-server-side-encryption': 'true' } },
    },
  );

describe('PutBucketPolicy / GetBucketPolicy / DeleteBucketPolicy', () => {
  const B = 'policy-crud';
  it('stores the JSON as sent, answers it back, deletes it; the status is never public', async () => {
    await newBucket(B);
    let r = await s3('GET', `/${B}?policy`);
    expect(r.status).toBe(404);
    expect(await errorCode(r)).toBe('NoSuchBucketPolicy');
    const text = `{ "Version": "2012-10-17", "Statement": [{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::${B}/*"}] }`;
    r = await putPolicy(B, text);
    expect(r.status, await r.text()).toBe(204);
    r = await s3('GET', `/${B}?policy`);
    expect(r.status).toBe(200);
    expect(await r.text()).toBe(text);
    r = await s3('GET', `/${B}?policyStatus`);
    expect(await r.text()).toMatch(/<PolicyStatus[^>]*><IsPublic>false<\/IsPublic><\/PolicyStatus>/);
    r = await s3('DELETE', `/${B}?policy`);
    expect(r.status).toBe(204);
    expect(await errorCode(await s3('GET', `/${B}?policy`))).toBe('NoSuchBucketPolicy');
    // Again: 204 with nothing to delete, as S3 answers.
    expect((await s3('DELETE', `/${B}?policy`)).status).toBe(204);
  });

  it('refuses what S3 refuses, with MalformedPolicy and the reason', async () => {
    await newBucket(`${B}-bad`);
    const cases: [string, RegExp][] = [
      ['not json', /valid JSON/],
      [
        policyOf({ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::other-bucket/*' }),
        /Policy has invalid resource/,
      ],
      [
        policyOf({ Effect: 'Allow', Principal: '*', Action: 'iam:CreateUser', Resource: `arn:aws:s3:::${B}-bad/*` }),
        /Policy has invalid action/,
      ],
      [policyOf({ Effect: 'Allow', Action: 's3:GetObject', Resource: `arn:aws:s3:::${B}-bad/*` }), /Principal/],
      [policyOf({ Effect: 'Allow', Principal: '*', Action: 's3:GetObject' }), /Resource/],
      [
        policyOf({
          Sid: 'x'.repeat(21 * 1024),
          Effect: 'Allow',
          Principal: '*',
          Action: 's3:GetObject',
          Resource: `arn:aws:s3:::${B}-bad/*`,
        }),
        /20480|size|limit/i,
      ],
    ];
    for (const [text, why] of cases) {
      const r = await putPolicy(`${B}-bad`, text);
      const body = await r.text();
      expect(r.status, text).toBe(400);
      expect(body).toContain('<Code>MalformedPolicy</Code>');
      expect(/<Message>([^<]*)<\/Message>/.exec(body)?.[1], text).toMatch(why);
    }
    expect(await errorCode(await s3('GET', `/${B}-bad?policy`))).toBe('NoSuchBucketPolicy');
  });

  it('goes with its bucket: a bucket made again under the name has none', async () => {
    const name = `${B}-gone`;
    await newBucket(name);
    await putPolicy(name, policyOf({ Effect: 'Deny', Principal: '*', Action: 's3:PutObject', Resource: `arn:aws:s3:::${name}/*` }));
    expect((await s3('DELETE', `/${name}`)).status).toBe(204);
    await newBucket(name);
    expect(await errorCode(await s3('GET', `/${name}?policy`))).toBe('NoSuchBucketPolicy');
    expect((await s3('PUT', `/${name}/k`, { body: 'x' })).status).toBe(200);
  });
});

describe('deny unencrypted uploads (root is subject to an explicit Deny)', () => {
  const B = 'policy-sse-required';
  it('refuses a PUT without SSE before storing anything, accepts one with SSE', async () => {
    await newBucket(B);
    expect((await putPolicy(B, DENY_UNENCRYPTED(B))).status).toBe(204);
    await expectDenied(
      await s3('PUT', `/${B}/plain`, { body: 'x' }),
      new RegExp(
        `^User: arn:aws:iam::000000000000:root is not authorized to perform: s3:PutObject on resource: "arn:aws:s3:::${B}/plain" with an explicit deny in a resource-based policy$`,
      ),
    );
    expect(await errorCode(await s3('GET', `/${B}/plain`))).toBe('NoSuchKey');
    await expectDenied(await s3('PUT', `/${B}/wrong`, { body: 'x', headers: { 'x-amz-server-side-encryption': 'aws:kms:dsse' } }));
    const r = await s3('PUT', `/${B}/sealed`, { body: 'x', headers: { 'x-amz-server-side-encryption': 'AES256' } });
    expect(r.status, await r.text()).toBe(200);
    // Reading is not what the policy is about.
    expect(await (await s3('GET', `/${B}/sealed`)).text()).toBe('x');
  });

  it('multipart: an unsealed upload is refused at CreateMultipartUpload; a sealed one completes (parts are judged by the upload)', async () => {
    await expectDenied(await s3('POST', `/${B}/mp-plain?uploads`));
    const created = await s3('POST', `/${B}/mp?uploads`, { headers: { 'x-amz-server-side-encryption': 'AES256' } });
    const xml = await created.text();
    expect(created.status, xml).toBe(200);
    const id = /<UploadId>([^<]+)<\/UploadId>/.exec(xml)![1];
    const part = await s3('PUT', `/${B}/mp?partNumber=1&uploadId=${id}`, { body: 'part one' });
    expect(part.status, await part.text()).toBe(200);
    const etag = part.headers.get('etag');
    const body = `<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>${etag}</ETag></Part></CompleteMultipartUpload>`;
    const done = await s3('POST', `/${B}/mp?uploadId=${id}`, { body });
    expect(done.status, await done.text()).toBe(200);
    expect(await (await s3('GET', `/${B}/mp`)).text()).toBe('part one');
  });

  it('CopyObject: the destination needs SSE like a PUT', async () => {
    await expectDenied(await s3('PUT', `/${B}/copy-plain`, { headers: { 'x-amz-copy-source': `/${B}/sealed` } }));
    const r = await s3('PUT', `/${B}/copy-sealed`, {
      headers: { 'x-amz-copy-source': `/${B}/sealed`, 'x-amz-server-side-encryption': 'AES256' },
    });
    expect(r.status, await r.text()).toBe(200);
  });

  it('POST Object: the form fields are the condition keys', async () => {
    const plain = await postForm(B, 'form-plain', {});
    await expectDenied(plain);
    const sealed = await postForm(B, 'form-sealed', { 'x-amz-server-side-encryption': 'AES256' });
    expect(sealed.status, await sealed.text()).toBe(204);
    expect(await (await s3('GET', `/${B}/form-sealed`)).text()).toBe('form body');
  });
});

describe('deny SSE-C', () => {
  const B = 'policy-no-ssec';
  it('refuses a PUT that carries a customer key, accepts one without', async () => {
    await newBucket(B);
    const policy = policyOf({
      Effect: 'Deny',
      Principal: { AWS: 'arn:aws:iam::000000000000:root' },
      Action: 's3:PutObject',
      Resource: `arn:aws:s3:::${B}/*`,
      Condition: { Null: { 's3:x-amz-server-side-encryption-customer-algorithm': 'false' } },
    });
    expect((await putPolicy(B, policy)).status).toBe(204);
    const key = new Uint8Array(32).fill(7);
    const md5 = b64(new Uint8Array(await crypto.subtle.digest('MD5', key)));
    await expectDenied(
      await s3('PUT', `/${B}/c`, {
        origin: HTTPS,
        body: 'x',
        headers: {
          'x-amz-server-side-encryption-customer-algorithm': 'AES256',
          'x-amz-server-side-encryption-customer-key': b64(key),
          'x-amz-server-side-encryption-customer-key-md5': md5,
        },
      }),
    );
    expect((await s3('PUT', `/${B}/plain`, { body: 'x' })).status).toBe(200);
  });
});

describe("root's way out of a lock-out", () => {
  const B = 'policy-lockout';
  it('a policy denying everything to everyone still lets root read, replace and delete it', async () => {
    await newBucket(B);
    await s3('PUT', `/${B}/k`, { body: 'x' });
    const all = policyOf({ Effect: 'Deny', Principal: '*', Action: 's3:*', Resource: [`arn:aws:s3:::${B}`, `arn:aws:s3:::${B}/*`] });
    expect((await putPolicy(B, all)).status).toBe(204);
    await expectDenied(await s3('GET', `/${B}/k`));
    await expectDenied(await s3('GET', `/${B}?list-type=2`));
    await expectDenied(await s3('DELETE', `/${B}`));
    expect((await s3('GET', `/${B}?policy`)).status).toBe(200);
    expect((await putPolicy(B, all)).status).toBe(204);
    expect((await s3('DELETE', `/${B}?policy`)).status).toBe(204);
    expect(await (await s3('GET', `/${B}/k`)).text()).toBe('x');
  });
});

describe('the proxy layout keeps a policy beside the bucket', () => {
  it('saves, reads (cached), removes, and deletes it with the bucket', async () => {
    const upstream = new FakeUpstream({ bucket: 'upstream', minPart: 1024 });
    const mapping: UpstreamMapping = {
      name: '*',
      prefix: 'gw/{bucket}/',
      endpoint: 'https://upstream.test',
      region: 'us-east-1',
      bucket: 'upstream',
      pathStyle: true,
      credentials: 'UPSTREAM',
      minPart: 1024,
    };
    const layout = new ProxyLayout(mapping, async () => 'AKIDFAKEUPSTREAM:fake-upstream-secret', upstream.fetch);
    expect(await layout.createBucket('pb', 'owner')).toBe(true);
    const text = policyOf({ Effect: 'Deny', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::pb/*' });
    await saveBucketPolicy(layout, 'pb', text);
    expect(await loadBucketPolicyText(layout, 'pb')).toBe(text);
    expect((await cachedBucketPolicy(layout, 'pb'))?.statements[0].effect).toBe('Deny');
    await saveBucketPolicy(layout, 'pb', null);
    expect(await cachedBucketPolicy(layout, 'pb')).toBeUndefined();
    await saveBucketPolicy(layout, 'pb', text);
    expect(await layout.deleteBucket('pb')).toBe(true);
    expect(await loadBucketPolicyText(layout, 'pb')).toBeNull();
  });
});

// --- IAM users ---

describe('IAM users', () => {
  const MINE = 'user-bucket-mine';
  const OTHER = 'user-bucket-other';
  const onlyMine = policyOf({
    Effect: 'Allow',
    Action: 's3:*',
    Resource: [`arn:aws:s3:::${MINE}`, `arn:aws:s3:::${MINE}/*`],
  });

  it('a user with a policy for one bucket works there and is refused elsewhere', async () => {
    await newBucket(MINE);
    await newBucket(OTHER);
    const alice = await newUser('alice-s3', onlyMine);
    let r = await s3As(alice, 'PUT', `/${MINE}/k`, { body: 'hello' });
    expect(r.status, await r.text()).toBe(200);
    expect(await (await s3As(alice, 'GET', `/${MINE}/k`)).text()).toBe('hello');
    expect((await s3As(alice, 'GET', `/${MINE}?list-type=2`)).status).toBe(200);
    await expectDenied(
      await s3As(alice, 'PUT', `/${OTHER}/k`, { body: 'x' }),
      new RegExp(
        `^User: arn:aws:iam::000000000000:user/alice-s3 is not authorized to perform: s3:PutObject on resource: "arn:aws:s3:::${OTHER}/k" because no identity-based policy allows the s3:PutObject action$`,
      ),
    );
    await expectDenied(await s3As(alice, 'GET', `/${OTHER}?list-type=2`));
    await expectDenied(await s3As(alice, 'GET', '/'), /s3:ListAllMyBuckets on resource: "\*"/);
    // A bucket that does not exist is not revealed to someone with no right on it.
    await expectDenied(await s3As(alice, 'GET', '/no-such-bucket-here/k'));
    expect((await s3As(alice, 'HEAD', '/no-such-bucket-here')).status).toBe(403);
    // Copying from elsewhere needs s3:GetObject on the source.
    await s3('PUT', `/${OTHER}/src`, { body: 'secret' });
    await expectDenied(await s3As(alice, 'PUT', `/${MINE}/copy`, { headers: { 'x-amz-copy-source': `/${OTHER}/src` } }), /s3:GetObject/);
    // Operator endpoints are actions of their own.
    await expectDenied(await s3As(alice, 'GET', '/-/admin/keyring'), /sealbucket:GetKeyringStatus/);
    expect((await s3('GET', '/-/admin/keyring')).status).toBe(200);
    r = await s3('GET', `/${OTHER}/src`);
    expect(await r.text()).toBe('secret');
  });

  it('an admin action granted by policy opens its endpoint only', async () => {
    const op = await newUser('operator-s3', policyOf({ Effect: 'Allow', Action: 'sealbucket:GetKeyringStatus', Resource: '*' }));
    expect((await s3As(op, 'GET', '/-/admin/keyring')).status).toBe(200);
    await expectDenied(await s3As(op, 'POST', '/-/admin/rotate'), /sealbucket:RotateMasterKey/);
  });

  it('a bucket policy may grant a user what no identity policy does; its Deny beats an identity Allow', async () => {
    const B = 'user-bucket-granted';
    await newBucket(B);
    const bob = await newUser('bob-s3');
    await expectDenied(await s3As(bob, 'PUT', `/${B}/k`, { body: 'x' }));
    await putPolicy(
      B,
      policyOf(
        {
          Effect: 'Allow',
          Principal: { AWS: 'arn:aws:iam::000000000000:user/bob-s3' },
          Action: 's3:PutObject',
          Resource: `arn:aws:s3:::${B}/in/*`,
        },
        { Effect: 'Deny', Principal: { AWS: '000000000000' }, Action: 's3:PutObject', Resource: `arn:aws:s3:::${B}/in/locked` },
      ),
    );
    expect((await s3As(bob, 'PUT', `/${B}/in/k`, { body: 'x' })).status).toBe(200);
    await expectDenied(await s3As(bob, 'PUT', `/${B}/out/k`, { body: 'x' }));
    await expectDenied(await s3As(bob, 'PUT', `/${B}/in/locked`, { body: 'x' }), /explicit deny in a resource-based policy/);
  });

  it('object tags as condition keys: s3:ExistingObjectTag/<key> of the object read, s3:RequestObjectTag/<key> of the write', async () => {
    const B = 'user-bucket-tags';
    await newBucket(B);
    await s3('PUT', `/${B}/public`, { body: 'open', headers: { 'x-amz-tagging': 'security=public' } });
    await s3('PUT', `/${B}/private`, { body: 'closed', headers: { 'x-amz-tagging': 'security=secret' } });
    const tess = await newUser('tess-s3');
    await putPolicy(
      B,
      policyOf(
        {
          Effect: 'Allow',
          Principal: { AWS: 'arn:aws:iam::000000000000:user/tess-s3' },
          Action: ['s3:GetObject', 's3:GetObjectTagging'],
          Resource: `arn:aws:s3:::${B}/*`,
          Condition: { StringEquals: { 's3:ExistingObjectTag/security': 'public' } },
        },
        {
          Effect: 'Allow',
          Principal: { AWS: 'arn:aws:iam::000000000000:user/tess-s3' },
          Action: 's3:PutObject',
          Resource: `arn:aws:s3:::${B}/*`,
          Condition: {
            StringEquals: { 's3:RequestObjectTag/project': 'apollo' },
            'ForAllValues:StringEquals': { 's3:RequestObjectTagKeys': ['project'] },
          },
        },
      ),
    );
    expect(await (await s3As(tess, 'GET', `/${B}/public`)).text()).toBe('open');
    expect((await s3As(tess, 'GET', `/${B}/public?tagging`)).status).toBe(200);
    await expectDenied(await s3As(tess, 'GET', `/${B}/private`), /s3:GetObject/);
    await expectDenied(await s3As(tess, 'GET', `/${B}/nothing-here`));
    expect((await s3As(tess, 'PUT', `/${B}/new`, { body: 'x', headers: { 'x-amz-tagging': 'project=apollo' } })).status).toBe(200);
    await expectDenied(await s3As(tess, 'PUT', `/${B}/new2`, { body: 'x', headers: { 'x-amz-tagging': 'project=gemini' } }));
    await expectDenied(await s3As(tess, 'PUT', `/${B}/new3`, { body: 'x', headers: { 'x-amz-tagging': 'project=apollo&extra=1' } }));
    await expectDenied(await s3As(tess, 'PUT', `/${B}/new4`, { body: 'x' }));
  });

  it('DeleteObjects judges each key: denied keys come back as AccessDenied entries, the others are deleted', async () => {
    const B = 'user-bucket-delete';
    await newBucket(B);
    await s3('PUT', `/${B}/a/1`, { body: 'x' });
    await s3('PUT', `/${B}/b/1`, { body: 'x' });
    const carol = await newUser('carol-s3', policyOf({ Effect: 'Allow', Action: 's3:DeleteObject', Resource: `arn:aws:s3:::${B}/a/*` }));
    const body = '<Delete><Object><Key>a/1</Key></Object><Object><Key>b/1</Key></Object></Delete>';
    const r = await s3As(carol, 'POST', `/${B}?delete`, {
      body,
      headers: { 'x-amz-content-sha256': hex(await crypto.subtle.digest('SHA-256', enc(body))) },
    });
    const xml = await r.text();
    expect(r.status, xml).toBe(200);
    expect(xml).toContain('<Deleted><Key>a/1</Key></Deleted>');
    expect(xml).toMatch(/<Error><Key>b\/1<\/Key><Code>AccessDenied<\/Code>/);
    expect(await errorCode(await s3('GET', `/${B}/a/1`))).toBe('NoSuchKey');
    expect((await s3('GET', `/${B}/b/1`)).status).toBe(200);
    // Nothing allowed at all: every key an AccessDenied entry, and a missing bucket is not revealed.
    const lone = '<Delete><Object><Key>z</Key></Object></Delete>';
    const none = await s3As(carol, 'POST', '/no-such-bucket-del?delete', {
      body: lone,
      headers: { 'x-amz-content-sha256': hex(await crypto.subtle.digest('SHA-256', enc(lone))) },
    });
    const noneXml = await none.text();
    expect(none.status, noneXml).toBe(200);
    expect(noneXml).toMatch(/<Error><Key>z<\/Key><Code>AccessDenied<\/Code>/);
  });

  it("a presigned URL carries the signer's permissions at the time of use, and dies with the key", async () => {
    const B = 'user-bucket-presigned';
    await newBucket(B);
    await s3('PUT', `/${B}/k`, { body: 'shared' });
    const dave = await newUser('dave-s3', policyOf({ Effect: 'Allow', Action: 's3:GetObject', Resource: `arn:aws:s3:::${B}/*` }));
    const url = (await signer(dave, 's3').sign(`${ORIGIN}/${B}/k?X-Amz-Expires=600`, { method: 'GET', aws: { signQuery: true } })).url;
    expect(await (await worker(new Request(url))).text()).toBe('shared');
    await iamAsRoot({ Action: 'DeleteAccessKey', UserName: 'dave-s3', AccessKeyId: dave.accessKeyId });
    // Other isolates see the deletion within IAM_CACHE_SECONDS (iam.test.ts covers that bound); this one at once.
    forgetIdentities();
    const r = await worker(new Request(url));
    expect(r.status).toBe(403);
    expect(await errorCode(r)).toBe('InvalidAccessKeyId');
  });
});

// --- POST Object forms (SigV4, test/worker/helpers/auth-helpers.ts) ---

async function postForm(bucket: string, key: string, extra: Record<string, string>): Promise<Response> {
  const fd = await sigV4PostForm(ROOT, bucket, { key, ...extra }, { body: 'form body', type: 'text/plain' });
  return worker(new Request(`${ORIGIN}/${bucket}`, { method: 'POST', body: fd, redirect: 'manual' }));
}
