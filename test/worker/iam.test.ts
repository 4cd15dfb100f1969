// The IAM query API and STS GetCallerIdentity in workerd, against the real IAM Durable Object:
// XML shapes, errors and limits, who may call what, and IAM users' keys authenticating S3, KMS,
// IAM and STS requests through one cache with a bound.

import { runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { AwsClient } from 'aws4fetch';
import { XMLParser } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { app } from '../../src/app';
import type { IamStore } from '../../src/iam/durable';
import { forgetIdentities, identities } from '../../src/iam/identities';
import type { KeyRecord } from '../../src/iam/service';
import { sigV4PostForm } from './helpers/auth-helpers';
import { TEST_BINDINGS } from './helpers/bindings';
import { ORIGIN, s3, worker } from './helpers/s3';

type Creds = { accessKeyId: string; secretAccessKey: string };
const ROOT: Creds = { accessKeyId: TEST_BINDINGS.ACCESS_KEY_ID, secretAccessKey: TEST_BINDINGS.SECRET_ACCESS_KEY };
const parser = new XMLParser({ parseTagValue: false, ignoreAttributes: false });

const signer = (c: Creds, service: string) => new AwsClient({ ...c, service, region: 'us-east-1' });

// biome-ignore lint/suspicious/noExplicitAny: parsed XML, read field by field
type Xml = any;
interface Reply {
  status: number;
  text: string;
  xml: Xml;
}

/** One IAM (or STS) query call, POSTed as a form the way botocore sends it. */
async function call(
  params: Record<string, string>,
  as: Creds = ROOT,
  opts: { service?: string; send?: (r: Request) => Promise<Response> } = {},
): Promise<Reply> {
  const service = opts.service ?? 'iam';
  const body = new URLSearchParams({ Version: service === 'sts' ? '2011-06-15' : '2010-05-08', ...params }).toString();
  const req = await signer(as, service).sign(`${ORIGIN}/`, {
    method: 'POST',
    body,
    headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
  });
  const r = await (opts.send ?? worker)(req);
  const text = await r.text();
  return { status: r.status, text, xml: parser.parse(text) };
}

async function ok(params: Record<string, string>, as: Creds = ROOT): Promise<Xml> {
  const r = await call(params, as);
  if (r.status !== 200) throw new Error(`${params.Action}: ${r.status} ${r.text}`);
  const root = r.xml[`${params.Action}Response`];
  expect(root['@_xmlns']).toBe('https://iam.amazonaws.com/doc/2010-05-08/');
  expect(root.ResponseMetadata.RequestId).toMatch(/\S/);
  return root[`${params.Action}Result`];
}

async function refused(params: Record<string, string>, code: string, status: number, as: Creds = ROOT): Promise<string> {
  const r = await call(params, as);
  expect(r.status, r.text).toBe(status);
  const e = r.xml.ErrorResponse;
  expect(e.Error).toMatchObject({ Type: status >= 500 ? 'Receiver' : 'Sender', Code: code });
  expect(e.RequestId).toMatch(/\S/);
  return e.Error.Message;
}

const members = (node: Xml): Xml[] => (node?.member === undefined ? [] : [node.member].flat());

async function newUser(name: string): Promise<Creds> {
  await ok({ Action: 'CreateUser', UserName: name });
  const k = (await ok({ Action: 'CreateAccessKey', UserName: name })).AccessKey;
  return { accessKeyId: k.AccessKeyId, secretAccessKey: k.SecretAccessKey };
}

const allow = (action: string, resource = '*', extra: object = {}) =>
  JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: action, Resource: resource, ...extra }] });

const iamNs = () => (env as unknown as { IAM: DurableObjectNamespace<IamStore> }).IAM;
const iamSql = <R>(fn: (sql: SqlStorage) => R): Promise<R> =>
  runInDurableObject(iamNs().get(iamNs().idFromName('sealbucket-iam')), (_o, state) => fn(state.storage.sql));

/** An S3 request signed with these credentials. */
const s3As = async (c: Creds, method: string, path: string, send = worker) => send(await signer(c, 's3').sign(ORIGIN + path, { method }));
const codeOf = async (r: Response) => /<Code>([^<]+)</.exec(await r.text())?.[1];

describe('users', () => {
  it('CreateUser, GetUser and ListUsers answer as IAM does', async () => {
    const created = (await ok({ Action: 'CreateUser', UserName: 'alice' })).User;
    expect(created).toMatchObject({ Path: '/', UserName: 'alice', Arn: 'arn:aws:iam::000000000000:user/alice' });
    expect(created.UserId).toMatch(/^AIDA[A-Z2-7]{17}$/);
    expect(created.CreateDate).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect((await ok({ Action: 'GetUser', UserName: 'alice' })).User).toEqual(created);
    const listed = members((await ok({ Action: 'ListUsers' })).Users);
    expect(listed).toContainEqual(created);
    await ok({ Action: 'CreateUser', UserName: 'ops.bot', Path: '/team/' });
    const team = await ok({ Action: 'ListUsers', PathPrefix: '/team/' });
    expect(members(team.Users).map((u) => u.Arn)).toEqual(['arn:aws:iam::000000000000:user/team/ops.bot']);
  });

  it('refuses a taken name (names ignore case), a bad name, and unknown users', async () => {
    await ok({ Action: 'CreateUser', UserName: 'Carol' });
    expect(await refused({ Action: 'CreateUser', UserName: 'carol' }, 'EntityAlreadyExists', 409)).toBe(
      'User with name carol already exists.',
    );
    expect(await refused({ Action: 'CreateUser', UserName: 'no spaces' }, 'ValidationError', 400)).toContain("at 'userName'");
    await refused({ Action: 'CreateUser', UserName: 'x'.repeat(65) }, 'ValidationError', 400);
    await refused({ Action: 'CreateUser' }, 'ValidationError', 400);
    expect(await refused({ Action: 'GetUser', UserName: 'nobody' }, 'NoSuchEntity', 404)).toBe(
      'The user with name nobody cannot be found.',
    );
    await refused({ Action: 'DeleteUser', UserName: 'nobody' }, 'NoSuchEntity', 404);
  });

  it('pages ListUsers with MaxItems and Marker', async () => {
    for (const n of ['page-a', 'page-b', 'page-c']) await ok({ Action: 'CreateUser', UserName: n, Path: '/paged/' });
    const first = await ok({ Action: 'ListUsers', PathPrefix: '/paged/', MaxItems: '2' });
    expect(members(first.Users).map((u) => u.UserName)).toEqual(['page-a', 'page-b']);
    expect(first.IsTruncated).toBe('true');
    const rest = await ok({ Action: 'ListUsers', PathPrefix: '/paged/', MaxItems: '2', Marker: first.Marker });
    expect(members(rest.Users).map((u) => u.UserName)).toEqual(['page-c']);
    expect(rest.IsTruncated).toBe('false');
    expect(rest.Marker).toBeUndefined();
    await refused({ Action: 'ListUsers', MaxItems: '0' }, 'ValidationError', 400);
  });

  it('DeleteUser is a DeleteConflict while the user has keys, inline or attached policies', async () => {
    await newUser('leaving');
    const keyId = members((await ok({ Action: 'ListAccessKeys', UserName: 'leaving' })).AccessKeyMetadata)[0].AccessKeyId;
    expect(await refused({ Action: 'DeleteUser', UserName: 'leaving' }, 'DeleteConflict', 409)).toBe(
      'Cannot delete entity, must delete access keys first.',
    );
    await ok({ Action: 'DeleteAccessKey', UserName: 'leaving', AccessKeyId: keyId });
    await ok({ Action: 'PutUserPolicy', UserName: 'leaving', PolicyName: 'p', PolicyDocument: allow('s3:*') });
    expect(await refused({ Action: 'DeleteUser', UserName: 'leaving' }, 'DeleteConflict', 409)).toBe(
      'Cannot delete entity, must delete policies first.',
    );
    await ok({ Action: 'DeleteUserPolicy', UserName: 'leaving', PolicyName: 'p' });
    const arn = (await ok({ Action: 'CreatePolicy', PolicyName: 'leaving-p', PolicyDocument: allow('s3:*') })).Policy.Arn;
    await ok({ Action: 'AttachUserPolicy', UserName: 'leaving', PolicyArn: arn });
    expect(await refused({ Action: 'DeleteUser', UserName: 'leaving' }, 'DeleteConflict', 409)).toBe(
      'Cannot delete entity, must detach all policies first.',
    );
    await ok({ Action: 'DetachUserPolicy', UserName: 'leaving', PolicyArn: arn });
    const r = await call({ Action: 'DeleteUser', UserName: 'leaving' });
    expect(r.status).toBe(200);
    expect(r.xml.DeleteUserResponse.DeleteUserResult).toBeUndefined();
    await refused({ Action: 'GetUser', UserName: 'leaving' }, 'NoSuchEntity', 404);
  });
});

describe('access keys', () => {
  it('CreateAccessKey returns the secret once; it is stored only sealed; two keys per user', async () => {
    await ok({ Action: 'CreateUser', UserName: 'keyed' });
    const k = (await ok({ Action: 'CreateAccessKey', UserName: 'keyed' })).AccessKey;
    expect(k).toMatchObject({ UserName: 'keyed', Status: 'Active' });
    expect(k.AccessKeyId).toMatch(/^AKIASEAL[A-Z2-7]{12}$/);
    expect(k.SecretAccessKey).toMatch(/^[A-Za-z0-9+/]{40}$/);
    const listed = members((await ok({ Action: 'ListAccessKeys', UserName: 'keyed' })).AccessKeyMetadata);
    expect(listed).toEqual([{ UserName: 'keyed', AccessKeyId: k.AccessKeyId, Status: 'Active', CreateDate: k.CreateDate }]);
    const stored = await iamSql((sql) => sql.exec('SELECT * FROM access_keys').toArray());
    const dump = JSON.stringify(
      stored.map((row) => Object.values(row).map((v) => (v instanceof ArrayBuffer ? [...new Uint8Array(v)] : v))),
    );
    expect(dump).not.toContain(k.SecretAccessKey);
    expect(dump).not.toContain(JSON.stringify([...new TextEncoder().encode(k.SecretAccessKey)]).slice(1, -1));
    await ok({ Action: 'CreateAccessKey', UserName: 'keyed' });
    expect(await refused({ Action: 'CreateAccessKey', UserName: 'keyed' }, 'LimitExceeded', 409)).toBe(
      'Cannot exceed quota for AccessKeysPerUser: 2',
    );
  });

  it('concurrent CreateAccessKey calls never pass the quota', async () => {
    await ok({ Action: 'CreateUser', UserName: 'racer' });
    const replies = await Promise.all([1, 2, 3, 4].map(() => call({ Action: 'CreateAccessKey', UserName: 'racer' })));
    expect(replies.map((r) => r.status).sort()).toEqual([200, 200, 409, 409]);
    expect(members((await ok({ Action: 'ListAccessKeys', UserName: 'racer' })).AccessKeyMetadata)).toHaveLength(2);
  });

  it('a user key signs S3, KMS, IAM and STS requests; GetCallerIdentity says whose it is', async () => {
    const bob = await newUser('bob');
    // S3 requests are authorized (s3/authorize.ts): the user needs an S3 permission for them.
    await ok({ Action: 'PutUserPolicy', UserName: 'bob', PolicyName: 's3', PolicyDocument: allow('s3:ListAllMyBuckets') });
    expect((await s3As(bob, 'GET', '/')).status).toBe(200);
    const kms = await signer(bob, 'kms').sign(`${ORIGIN}/`, {
      method: 'POST',
      body: '{}',
      headers: { 'x-amz-target': 'TrentService.ListAliases', 'content-type': 'application/x-amz-json-1.1' },
    });
    expect(((await (await worker(kms)).json()) as { __type?: string }).__type).not.toBe('UnrecognizedClientException');
    const who = await call({ Action: 'GetCallerIdentity' }, bob, { service: 'sts' });
    expect(who.status).toBe(200);
    const res = who.xml.GetCallerIdentityResponse;
    expect(res['@_xmlns']).toBe('https://sts.amazonaws.com/doc/2011-06-15/');
    const userId = (await ok({ Action: 'GetUser', UserName: 'bob' })).User.UserId;
    expect(res.GetCallerIdentityResult).toEqual({ Arn: 'arn:aws:iam::000000000000:user/bob', UserId: userId, Account: '000000000000' });
    // Root's own identity, from STS and from GetUser without a UserName.
    const rootWho = (await call({ Action: 'GetCallerIdentity' }, ROOT, { service: 'sts' })).xml.GetCallerIdentityResponse
      .GetCallerIdentityResult;
    expect(rootWho).toEqual({ Arn: 'arn:aws:iam::000000000000:root', UserId: '000000000000', Account: '000000000000' });
    expect((await ok({ Action: 'GetUser' })).User.Arn).toBe('arn:aws:iam::000000000000:root');
  });

  it('a user key signs a POST Object form (browser upload) and a presigned IAM GET', async () => {
    const ivy = await newUser('ivy');
    // S3 requests are authorized (s3/authorize.ts): the user needs an S3 permission for them.
    await ok({
      Action: 'PutUserPolicy',
      UserName: 'ivy',
      PolicyName: 's3',
      PolicyDocument: allow('s3:PutObject', 'arn:aws:s3:::iam-post/*'),
    });
    expect((await s3('PUT', '/iam-post')).status).toBe(200);
    const fd = await sigV4PostForm(ivy, 'iam-post', { key: 'from-ivy' }, { body: 'hello from ivy' });
    const r = await worker(new Request(`${ORIGIN}/iam-post`, { method: 'POST', body: fd, redirect: 'manual' }));
    expect(r.status, await r.clone().text()).toBe(204);
    expect(await (await s3('GET', '/iam-post/from-ivy')).text()).toBe('hello from ivy');
    await ok({ Action: 'PutUserPolicy', UserName: 'ivy', PolicyName: 'self', PolicyDocument: allow('iam:GetUser') });
    const url = `${ORIGIN}/?Action=GetUser&Version=2010-05-08&X-Amz-Expires=300`;
    const presigned = await signer(ivy, 'iam').sign(url, { method: 'GET', aws: { signQuery: true } });
    expect(new URL(presigned.url).searchParams.has('X-Amz-Signature')).toBe(true);
    const got = await worker(new Request(presigned.url));
    const gotText = await got.text();
    expect(got.status, gotText).toBe(200);
    expect(gotText).toContain('<UserName>ivy</UserName>');
  });

  it('an Inactive or deleted key is refused at once through this isolate, InvalidAccessKeyId / InvalidClientTokenId', async () => {
    const dave = await newUser('dave');
    // S3 requests are authorized (s3/authorize.ts): the user needs an S3 permission for them.
    await ok({ Action: 'PutUserPolicy', UserName: 'dave', PolicyName: 's3', PolicyDocument: allow('s3:ListAllMyBuckets') });
    expect((await s3As(dave, 'GET', '/')).status).toBe(200);
    await ok({ Action: 'UpdateAccessKey', UserName: 'dave', AccessKeyId: dave.accessKeyId, Status: 'Inactive' });
    expect(members((await ok({ Action: 'ListAccessKeys', UserName: 'dave' })).AccessKeyMetadata)[0].Status).toBe('Inactive');
    const r = await s3As(dave, 'GET', '/');
    expect(r.status).toBe(403);
    expect(await codeOf(r)).toBe('InvalidAccessKeyId');
    expect((await call({ Action: 'GetCallerIdentity' }, dave, { service: 'sts' })).xml.ErrorResponse.Error.Code).toBe(
      'InvalidClientTokenId',
    );
    await ok({ Action: 'UpdateAccessKey', UserName: 'dave', AccessKeyId: dave.accessKeyId, Status: 'Active' });
    expect((await s3As(dave, 'GET', '/')).status).toBe(200);
    await refused({ Action: 'UpdateAccessKey', UserName: 'dave', AccessKeyId: dave.accessKeyId, Status: 'Off' }, 'ValidationError', 400);
    await ok({ Action: 'DeleteAccessKey', UserName: 'dave', AccessKeyId: dave.accessKeyId });
    expect(await codeOf(await s3As(dave, 'GET', '/'))).toBe('InvalidAccessKeyId');
    expect(await refused({ Action: 'DeleteAccessKey', UserName: 'dave', AccessKeyId: dave.accessKeyId }, 'NoSuchEntity', 404)).toBe(
      `The Access Key with id ${dave.accessKeyId} cannot be found.`,
    );
  });

  it('a change made elsewhere (another isolate) takes effect within the bound: IAM_CACHE_SECONDS', async () => {
    const erin = await newUser('erin');
    // S3 requests are authorized (s3/authorize.ts): the user needs an S3 permission for them.
    await ok({ Action: 'PutUserPolicy', UserName: 'erin', PolicyName: 's3', PolicyDocument: allow('s3:ListAllMyBuckets') });
    expect((await s3As(erin, 'GET', '/')).status).toBe(200); // cached now, for the default 5 s
    // Another isolate disables the key: this isolate's cache does not hear of it.
    await iamSql((sql) => sql.exec("UPDATE access_keys SET status = 'Inactive' WHERE id = ?", erin.accessKeyId));
    expect((await s3As(erin, 'GET', '/')).status).toBe(200);
    // Once the bound has passed (here: a bound of 0 s), the key is refused.
    const expired = (req: Request) => app.fetch(req, { ...(env as object), IAM_CACHE_SECONDS: '0' }) as Promise<Response>;
    const r = await s3As(erin, 'GET', '/', expired);
    expect(r.status).toBe(403);
    expect(await codeOf(r)).toBe('InvalidAccessKeyId');
  });

  it('the cache asks the store at most once per key per bound, remembers unknown keys, and never asks for ids that are not ours', async () => {
    forgetIdentities();
    let t = 1_000_000;
    const asked: string[] = [];
    const record: KeyRecord = {
      secret: 's'.repeat(40),
      userName: 'u',
      userId: 'AIDAXXXXXXXXXXXXXXXXX',
      arn: 'arn:aws:iam::000000000000:user/u',
      policies: [],
    };
    const ids = identities({
      root: async (ak) => (ak === 'ROOTKEY' ? 'root-secret' : undefined),
      user: async (ak) => {
        asked.push(ak);
        return ak === 'AKIASEALAAAAAAAAAAAA' ? record : undefined;
      },
      cacheSeconds: 5,
      now: () => t,
    });
    const known = 'AKIASEALAAAAAAAAAAAA';
    const unknown = 'AKIASEALBBBBBBBBBBBB';
    for (let i = 0; i < 50; i++) {
      expect(await ids.secret(known)).toBe(record.secret);
      expect(await ids.secret(unknown)).toBeUndefined();
      expect(await ids.secret('AKIAIOSFODNN7EXAMPLE')).toBeUndefined();
    }
    expect((await ids.principal(known)).arn).toBe(record.arn);
    expect(await ids.principal('ROOTKEY')).toEqual({ kind: 'root', accessKeyId: 'ROOTKEY', arn: 'arn:aws:iam::000000000000:root' });
    expect(asked).toEqual([known, unknown]);
    t += 4_999;
    await ids.secret(known);
    expect(asked).toHaveLength(2);
    t += 1;
    await ids.secret(known);
    await ids.secret(unknown);
    expect(asked).toEqual([known, unknown, known, unknown]);
    forgetIdentities();
    await ids.secret(known);
    expect(asked).toHaveLength(5);
    // Within one request, the principal is the one whose secret was handed out, even when the key goes meanwhile.
    let gone = false;
    const request = identities({ root: async () => undefined, user: async () => (gone ? undefined : record), cacheSeconds: 0 });
    expect(await request.secret(known)).toBe(record.secret);
    gone = true;
    expect((await request.principal(known)).arn).toBe(record.arn);
    expect(await request.secret(known)).toBeUndefined();
  });
});

describe('inline and managed policies', () => {
  it('PutUserPolicy validates; GetUserPolicy returns the document URL-encoded; List and Delete', async () => {
    await ok({ Action: 'CreateUser', UserName: 'pol' });
    const doc = allow('s3:GetObject', 'arn:aws:s3:::b/*');
    await ok({ Action: 'PutUserPolicy', UserName: 'pol', PolicyName: 'read-b', PolicyDocument: doc });
    const got = await ok({ Action: 'GetUserPolicy', UserName: 'pol', PolicyName: 'read-b' });
    expect(got).toMatchObject({ UserName: 'pol', PolicyName: 'read-b' });
    expect(got.PolicyDocument).not.toContain('{');
    expect(decodeURIComponent(got.PolicyDocument)).toBe(doc);
    expect(members((await ok({ Action: 'ListUserPolicies', UserName: 'pol' })).PolicyNames)).toEqual(['read-b']);
    expect(
      await refused(
        { Action: 'PutUserPolicy', UserName: 'pol', PolicyName: 'bad', PolicyDocument: '{"Statement": []}' },
        'MalformedPolicyDocument',
        400,
      ),
    ).toMatch(/\S/);
    await refused(
      { Action: 'PutUserPolicy', UserName: 'pol', PolicyName: 'bad', PolicyDocument: 'not json' },
      'MalformedPolicyDocument',
      400,
    );
    const big = JSON.stringify({
      Version: '2012-10-17',
      Statement: [
        { Effect: 'Allow', Action: 's3:GetObject', Resource: Array.from({ length: 80 }, (_, i) => `arn:aws:s3:::bucket-${i}/*`) },
      ],
    });
    await refused({ Action: 'PutUserPolicy', UserName: 'pol', PolicyName: 'big', PolicyDocument: big }, 'LimitExceeded', 409);
    await ok({ Action: 'DeleteUserPolicy', UserName: 'pol', PolicyName: 'read-b' });
    await refused({ Action: 'GetUserPolicy', UserName: 'pol', PolicyName: 'read-b' }, 'NoSuchEntity', 404);
  });

  it('CreatePolicy, GetPolicy, GetPolicyVersion, ListPolicies, attach, detach and DeletePolicy', async () => {
    await ok({ Action: 'CreateUser', UserName: 'att' });
    const doc = allow('s3:ListBucket', 'arn:aws:s3:::b');
    const p = (await ok({ Action: 'CreatePolicy', PolicyName: 'list-b', PolicyDocument: doc, Description: 'lists b' })).Policy;
    expect(p).toMatchObject({
      PolicyName: 'list-b',
      Arn: 'arn:aws:iam::000000000000:policy/list-b',
      Path: '/',
      DefaultVersionId: 'v1',
      AttachmentCount: '0',
      IsAttachable: 'true',
      Description: 'lists b',
    });
    expect(p.PolicyId).toMatch(/^ANPA[A-Z2-7]{17}$/);
    await refused({ Action: 'CreatePolicy', PolicyName: 'list-b', PolicyDocument: doc }, 'EntityAlreadyExists', 409);
    const v = (await ok({ Action: 'GetPolicyVersion', PolicyArn: p.Arn, VersionId: 'v1' })).PolicyVersion;
    expect(v).toMatchObject({ VersionId: 'v1', IsDefaultVersion: 'true' });
    expect(decodeURIComponent(v.Document)).toBe(doc);
    await refused({ Action: 'GetPolicyVersion', PolicyArn: p.Arn, VersionId: 'v2' }, 'NoSuchEntity', 404);
    await ok({ Action: 'AttachUserPolicy', UserName: 'att', PolicyArn: p.Arn });
    expect((await ok({ Action: 'GetPolicy', PolicyArn: p.Arn })).Policy.AttachmentCount).toBe('1');
    expect(members((await ok({ Action: 'ListAttachedUserPolicies', UserName: 'att' })).AttachedPolicies)).toEqual([
      { PolicyName: 'list-b', PolicyArn: p.Arn },
    ]);
    expect(
      members((await ok({ Action: 'ListPolicies', Scope: 'Local', OnlyAttached: 'true' })).Policies).map((x) => x.PolicyName),
    ).toContain('list-b');
    expect(await refused({ Action: 'DeletePolicy', PolicyArn: p.Arn }, 'DeleteConflict', 409)).toBe(
      'Cannot delete a policy attached to entities.',
    );
    await refused(
      { Action: 'AttachUserPolicy', UserName: 'att', PolicyArn: 'arn:aws:iam::aws:policy/AdministratorAccess' },
      'NoSuchEntity',
      404,
    );
    await ok({ Action: 'DetachUserPolicy', UserName: 'att', PolicyArn: p.Arn });
    await refused({ Action: 'DetachUserPolicy', UserName: 'att', PolicyArn: p.Arn }, 'NoSuchEntity', 404);
    await ok({ Action: 'DeletePolicy', PolicyArn: p.Arn });
    await refused({ Action: 'GetPolicy', PolicyArn: p.Arn }, 'NoSuchEntity', 404);
  });

  it('a user takes at most 10 managed policies', async () => {
    await ok({ Action: 'CreateUser', UserName: 'many' });
    for (let i = 0; i < 11; i++) {
      const arn = (await ok({ Action: 'CreatePolicy', PolicyName: `many-${i}`, PolicyDocument: allow('s3:GetObject') })).Policy.Arn;
      if (i < 10) await ok({ Action: 'AttachUserPolicy', UserName: 'many', PolicyArn: arn });
      else
        expect(await refused({ Action: 'AttachUserPolicy', UserName: 'many', PolicyArn: arn }, 'LimitExceeded', 409)).toBe(
          'Cannot exceed quota for PoliciesPerUser: 10',
        );
    }
    const page1 = await ok({ Action: 'ListAttachedUserPolicies', UserName: 'many', MaxItems: '4' });
    expect(members(page1.AttachedPolicies)).toHaveLength(4);
    expect(page1.IsTruncated).toBe('true');
  });
});

describe('who may call IAM', () => {
  it('a user without IAM permissions is refused with IAM AccessDenied, naming the action and resource', async () => {
    const frank = await newUser('frank');
    expect(await refused({ Action: 'ListUsers' }, 'AccessDenied', 403, frank)).toBe(
      'User: arn:aws:iam::000000000000:user/frank is not authorized to perform: iam:ListUsers on resource: arn:aws:iam::000000000000:user/',
    );
    expect(await refused({ Action: 'CreateUser', UserName: 'eve' }, 'AccessDenied', 403, frank)).toBe(
      'User: arn:aws:iam::000000000000:user/frank is not authorized to perform: iam:CreateUser on resource: arn:aws:iam::000000000000:user/eve',
    );
    await refused({ Action: 'CreateAccessKey' }, 'AccessDenied', 403, frank);
  });

  it('an inline policy, or an attached one, grants IAM actions, conditions included; an explicit Deny wins', async () => {
    const gina = await newUser('gina');
    await ok({ Action: 'PutUserPolicy', UserName: 'gina', PolicyName: 'list', PolicyDocument: allow('iam:List*') });
    expect(members((await ok({ Action: 'ListUsers' }, gina)).Users).map((u) => u.UserName)).toContain('gina');
    await refused({ Action: 'GetUser', UserName: 'gina' }, 'AccessDenied', 403, gina);
    // Own keys only: a condition on aws:username.
    const own = allow('iam:*AccessKey*', 'arn:aws:iam::000000000000:user/*', { Condition: { StringEquals: { 'aws:username': 'gina' } } });
    const managed = (await ok({ Action: 'CreatePolicy', PolicyName: 'own-keys', PolicyDocument: own })).Policy.Arn;
    await ok({ Action: 'AttachUserPolicy', UserName: 'gina', PolicyArn: managed });
    expect(members((await ok({ Action: 'ListAccessKeys' }, gina)).AccessKeyMetadata)[0].AccessKeyId).toBe(gina.accessKeyId);
    const deny = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Deny', Action: 'iam:ListUsers', Resource: '*' }] });
    await ok({ Action: 'PutUserPolicy', UserName: 'gina', PolicyName: 'no-list-users', PolicyDocument: deny });
    await refused({ Action: 'ListUsers' }, 'AccessDenied', 403, gina);
    expect((await call({ Action: 'ListPolicies' }, gina)).status).toBe(200);
  });

  it('the operator endpoints refuse users', async () => {
    const hank = await newUser('hank');
    const r = await s3As(hank, 'GET', '/-/admin/keyring');
    expect(r.status).toBe(403);
    expect(await codeOf(r)).toBe('AccessDenied');
  });
});

describe('the protocol', () => {
  it('refuses wrong signatures, unknown keys and unknown actions in IAM terms', async () => {
    expect(await refused({ Action: 'ListUsers' }, 'SignatureDoesNotMatch', 403, { ...ROOT, secretAccessKey: 'wrong' })).toMatch(
      /signature/,
    );
    await refused({ Action: 'ListUsers' }, 'InvalidClientTokenId', 403, { accessKeyId: 'AKIASEALZZZZZZZZZZZZ', secretAccessKey: 'x' });
    await refused({ Action: 'Frobnicate' }, 'InvalidAction', 400);
    const sts = await call({ Action: 'AssumeRole' }, ROOT, { service: 'sts' });
    expect(sts.xml.ErrorResponse.Error.Code).toBe('InvalidAction');
  });

  it('refuses a body other than the one signed', async () => {
    const req = await signer(ROOT, 'iam').sign(`${ORIGIN}/`, {
      method: 'POST',
      body: 'Action=ListUsers&Version=2010-05-08',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    const forged = new Request(req.url, {
      method: 'POST',
      headers: req.headers,
      body: 'Action=CreateUser&Version=2010-05-08&UserName=mallory',
    });
    const r = await worker(forged);
    expect(r.status).toBe(403);
    expect(await r.text()).toContain('<Code>SignatureDoesNotMatch</Code>');
    await refused({ Action: 'GetUser', UserName: 'mallory' }, 'NoSuchEntity', 404);
  });

  it('answers a GET with the parameters in the query', async () => {
    const req = await signer(ROOT, 'iam').sign(`${ORIGIN}/?Action=GetUser&Version=2010-05-08`, { method: 'GET' });
    const r = await worker(req);
    expect(r.status).toBe(200);
    expect(await r.text()).toContain('<Arn>arn:aws:iam::000000000000:root</Arn>');
  });
});
