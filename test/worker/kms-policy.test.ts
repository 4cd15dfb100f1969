// KMS key policies in workerd, against the real KMS and IAM Durable Objects: the default policy,
// PutKeyPolicy's validation and lock-out check, every call authorized as its signer (root and IAM
// users made through the IAM API), and SSE-KMS through S3 judged as the S3 caller.

import { describe, expect, it } from 'vitest';
import { sigV4PostForm } from './helpers/auth-helpers';
import { createKey, kms, kmsOk, kmsSql } from './helpers/kms';
import { type Creds, kmsAs, newUser, policyOf, s3As } from './helpers/principals';
import { ORIGIN, s3, worker } from './helpers/s3';

const ROOT_ARN = 'arn:aws:iam::000000000000:root';
const keyArn = (id: string) => `arn:aws:kms:us-east-1:000000000000:key/${id}`;
const b64 = (s: string) => btoa(s);

/** A user made by root through the IAM API, with an inline identity policy of these statements when given. */
const user = (name: string, statements?: object[]): Promise<Creds> => newUser(name, statements && policyOf(...statements));
const rootAll = { Sid: 'root', Effect: 'Allow', Principal: { AWS: ROOT_ARN }, Action: 'kms:*', Resource: '*' };

describe('key policies', () => {
  it('every key has the default policy: the account root on kms:*, listed as "default"', async () => {
    const id = await createKey();
    const got = await kmsOk('GetKeyPolicy', { KeyId: id, PolicyName: 'default' });
    expect(got.PolicyName).toBe('default');
    const doc = JSON.parse(got.Policy);
    expect(doc.Statement).toEqual([
      { Sid: 'Enable IAM User Permissions', Effect: 'Allow', Principal: { AWS: ROOT_ARN }, Action: 'kms:*', Resource: '*' },
    ]);
    expect((await kmsOk('ListKeyPolicies', { KeyId: id })).PolicyNames).toEqual(['default']);
    expect((await kms('GetKeyPolicy', { KeyId: id, PolicyName: 'other' })).body.__type).toBe('NotFoundException');
  });

  it('a key stored before key policies existed (no row) answers with the default policy and is usable', async () => {
    const id = await createKey();
    await kmsSql((sql) => sql.exec('DELETE FROM key_policies WHERE key_id = ?', id));
    expect(JSON.parse((await kmsOk('GetKeyPolicy', { KeyId: id })).Policy).Statement[0].Sid).toBe('Enable IAM User Permissions');
    await kmsOk('Encrypt', { KeyId: id, Plaintext: b64('old key') });
  });

  it('PutKeyPolicy stores a valid policy and refuses a malformed one with the evaluator message', async () => {
    const id = await createKey();
    const text = policyOf(rootAll, { Sid: 'x', Effect: 'Deny', Principal: '*', Action: 'kms:ScheduleKeyDeletion', Resource: '*' });
    await kmsOk('PutKeyPolicy', { KeyId: id, PolicyName: 'default', Policy: text });
    expect((await kmsOk('GetKeyPolicy', { KeyId: id })).Policy).toBe(text);
    const bad = await kms('PutKeyPolicy', {
      KeyId: id,
      PolicyName: 'default',
      Policy: '{"Version":"2012-10-17","Statement":[{"Effect":"Maybe"}]}',
    });
    expect(bad.status).toBe(400);
    expect(bad.body.__type).toBe('MalformedPolicyDocumentException');
    expect(bad.body.message).toMatch(/Statement|Effect/);
    expect((await kms('PutKeyPolicy', { KeyId: id, Policy: 'not json' })).body.__type).toBe('MalformedPolicyDocumentException');
    // The refused policies changed nothing.
    expect((await kmsOk('GetKeyPolicy', { KeyId: id })).Policy).toBe(text);
  });

  it('CreateKey takes Policy; a key policy that denies root Encrypt refuses it, and root still repairs the policy', async () => {
    const denyEncrypt = policyOf(rootAll, {
      Sid: 'no',
      Effect: 'Deny',
      Principal: { AWS: ROOT_ARN },
      Action: 'kms:Encrypt',
      Resource: '*',
    });
    const id = (await kmsOk('CreateKey', { Policy: denyEncrypt })).KeyMetadata.KeyId;
    const r = await kms('Encrypt', { KeyId: id, Plaintext: b64('hello') });
    expect(r.status).toBe(400);
    expect(r.body.__type).toBe('AccessDeniedException');
    expect(r.body.message).toBe(
      `User: ${ROOT_ARN} is not authorized to perform: kms:Encrypt on resource: ${keyArn(id)} with an explicit deny in a resource-based policy`,
    );
    // Even a policy that denies everything to everyone cannot lock root out of GetKeyPolicy / PutKeyPolicy.
    await kmsOk('PutKeyPolicy', {
      KeyId: id,
      Policy: policyOf({ Effect: 'Deny', Principal: '*', Action: 'kms:*', Resource: '*' }),
      BypassPolicyLockoutSafetyCheck: true,
    });
    expect((await kms('DescribeKey', { KeyId: id })).body.__type).toBe('AccessDeniedException');
    await kmsOk('GetKeyPolicy', { KeyId: id });
    await kmsOk('PutKeyPolicy', { KeyId: id, Policy: policyOf(rootAll) });
    await kmsOk('Encrypt', { KeyId: id, Plaintext: b64('hello') });
  });

  it('a user-created key lets its creator administer it; the root statement delegates to the identity policy', async () => {
    const admin = await user('kp-admin', [{ Effect: 'Allow', Action: ['kms:CreateKey'], Resource: '*' }]);
    const created = await kmsAs(admin, 'CreateKey', {});
    expect(created.status, JSON.stringify(created.body)).toBe(200);
    const id = created.body.KeyMetadata.KeyId;
    const doc = JSON.parse((await kmsAs(admin, 'GetKeyPolicy', { KeyId: id })).body.Policy);
    expect(doc.Statement[1].Principal).toEqual({ AWS: 'arn:aws:iam::000000000000:user/kp-admin' });
    expect(doc.Statement[1].Action).toContain('kms:Put*');
    // Administer, yes; use, no: Encrypt is in neither the admin statement nor the creator's identity policy.
    expect((await kmsAs(admin, 'DisableKey', { KeyId: id })).status).toBe(200);
    expect((await kmsAs(admin, 'EnableKey', { KeyId: id })).status).toBe(200);
    const denied = await kmsAs(admin, 'Encrypt', { KeyId: id, Plaintext: b64('x') });
    expect(denied.body.__type).toBe('AccessDeniedException');
    expect(denied.body.message).toBe(
      `User: arn:aws:iam::000000000000:user/kp-admin is not authorized to perform: kms:Encrypt on resource: ${keyArn(id)} because no resource-based policy allows the kms:Encrypt action`,
    );

    // A user with the identity allow uses a root-created key (the account statement delegates to IAM) ...
    const rootKey = await createKey();
    const withAllow = await user('kp-with', [{ Effect: 'Allow', Action: ['kms:Encrypt', 'kms:Decrypt'], Resource: keyArn(rootKey) }]);
    const enc = await kmsAs(withAllow, 'Encrypt', { KeyId: rootKey, Plaintext: b64('x') });
    expect(enc.status, JSON.stringify(enc.body)).toBe(200);
    expect((await kmsAs(withAllow, 'Decrypt', { CiphertextBlob: enc.body.CiphertextBlob })).status).toBe(200);
    // ... a user without it does not, and neither does one whose key policy leaves out the account.
    const without = await user('kp-without');
    expect((await kmsAs(without, 'Encrypt', { KeyId: rootKey, Plaintext: b64('x') })).body.__type).toBe('AccessDeniedException');
    expect((await kmsAs(without, 'ListKeys')).body.__type).toBe('AccessDeniedException');
    const other = (
      await kmsOk('CreateKey', {
        Policy: policyOf({ ...rootAll, Principal: { AWS: 'arn:aws:iam::000000000000:user/nobody' } }),
        BypassPolicyLockoutSafetyCheck: true,
      })
    ).KeyMetadata.KeyId;
    const withAll = await user('kp-all', [{ Effect: 'Allow', Action: 'kms:*', Resource: '*' }]);
    expect((await kmsAs(withAll, 'Encrypt', { KeyId: other, Plaintext: b64('x') })).body.__type).toBe('AccessDeniedException');
    expect((await kmsAs(withAll, 'Encrypt', { KeyId: rootKey, Plaintext: b64('x') })).status).toBe(200);
  });

  it('the lock-out check refuses a policy that would not let the caller put the next one, unless bypassed', async () => {
    const u = await user('kp-lock', [{ Effect: 'Allow', Action: 'kms:*', Resource: '*' }]);
    const id = (await kmsAs(u, 'CreateKey', {})).body.KeyMetadata.KeyId;
    const rootOnly = policyOf({ ...rootAll, Principal: { AWS: 'arn:aws:iam::000000000000:user/somebody-else' } });
    const r = await kmsAs(u, 'PutKeyPolicy', { KeyId: id, Policy: rootOnly });
    expect(r.body.__type).toBe('MalformedPolicyDocumentException');
    expect(r.body.message).toBe('The new key policy will not allow you to update the key policy in the future.');
    expect((await kmsAs(u, 'CreateKey', { Policy: rootOnly })).body.__type).toBe('MalformedPolicyDocumentException');
    expect((await kmsAs(u, 'PutKeyPolicy', { KeyId: id, Policy: rootOnly, BypassPolicyLockoutSafetyCheck: true })).status).toBe(200);
    expect((await kmsAs(u, 'DescribeKey', { KeyId: id })).body.__type).toBe('AccessDeniedException');
  });

  it('alias calls need the permission on the alias and on the key', async () => {
    const id = await createKey();
    const onlyAlias = await user('kp-alias', [{ Effect: 'Allow', Action: 'kms:CreateAlias', Resource: 'arn:aws:kms:*:*:alias/*' }]);
    const r = await kmsAs(onlyAlias, 'CreateAlias', { AliasName: 'alias/kp-a', TargetKeyId: id });
    expect(r.body.__type).toBe('AccessDeniedException');
    expect(r.body.message).toContain(`on resource: ${keyArn(id)}`);
    const both = await user('kp-alias2', [
      { Effect: 'Allow', Action: 'kms:CreateAlias', Resource: ['arn:aws:kms:*:*:alias/*', keyArn(id)] },
    ]);
    expect((await kmsAs(both, 'CreateAlias', { AliasName: 'alias/kp-a', TargetKeyId: id })).status).toBe(200);
  });
});

describe('SSE-KMS through S3 is judged as the S3 caller', () => {
  const bucket = 'kms-policy-bucket';
  const s3All = { Effect: 'Allow', Action: 's3:*', Resource: [`arn:aws:s3:::${bucket}`, `arn:aws:s3:::${bucket}/*`] };
  const sse = (id: string) => ({ 'x-amz-server-side-encryption': 'aws:kms', 'x-amz-server-side-encryption-aws-kms-key-id': id });

  it('PUT needs kms:GenerateDataKey and GET kms:Decrypt on the key; without them S3 answers AccessDenied with the KMS message', async () => {
    expect((await s3('PUT', `/${bucket}`)).status).toBe(200);
    const id = await createKey();
    const plain = await user('kp-s3-plain', [s3All]);
    const put = await s3As(plain, 'PUT', `/${bucket}/a.txt`, { body: 'secret', headers: sse(id) });
    expect(put.status).toBe(403);
    const text = await put.text();
    expect(text).toContain('<Code>AccessDenied</Code>');
    expect(text).toContain(
      `User: arn:aws:iam::000000000000:user/kp-s3-plain is not authorized to perform: kms:GenerateDataKey on resource: ${keyArn(id)}`,
    );
    // Root seals it; the plain user still cannot open it.
    expect((await s3('PUT', `/${bucket}/a.txt`, { body: 'secret', headers: sse(id) })).status).toBe(200);
    const get = await s3As(plain, 'GET', `/${bucket}/a.txt`);
    expect(get.status).toBe(403);
    expect(await get.text()).toContain('kms:Decrypt on resource');

    const kmsUser = await user('kp-s3-kms', [
      s3All,
      { Effect: 'Allow', Action: ['kms:GenerateDataKey', 'kms:Decrypt'], Resource: keyArn(id) },
    ]);
    expect((await s3As(kmsUser, 'PUT', `/${bucket}/b.txt`, { body: 'mine', headers: sse(id) })).status).toBe(200);
    expect(await (await s3As(kmsUser, 'GET', `/${bucket}/b.txt`)).text()).toBe('mine');
    expect(await (await s3As(kmsUser, 'GET', `/${bucket}/a.txt`)).text()).toBe('secret');
  });

  it("a POST Object form with SSE-KMS is judged as the form's signer", async () => {
    const id = await createKey();
    const plain = await user('kp-s3-post', [s3All]);
    const fd = await sigV4PostForm(
      plain,
      bucket,
      { key: 'post.txt', 'x-amz-server-side-encryption': 'aws:kms', 'x-amz-server-side-encryption-aws-kms-key-id': id },
      { body: 'form' },
    );
    const r = await worker(new Request(`${ORIGIN}/${bucket}`, { method: 'POST', body: fd, redirect: 'manual' }));
    expect(r.status).toBe(403);
    expect(await r.text()).toContain('kms:GenerateDataKey on resource');
  });

  it('a key policy condition sees kms:ViaService and the object ARN as kms:EncryptionContext:aws:s3:arn', async () => {
    const id = (
      await kmsOk('CreateKey', {
        Policy: policyOf(rootAll, {
          Effect: 'Deny',
          Principal: '*',
          Action: 'kms:GenerateDataKey',
          Resource: '*',
          Condition: {
            StringEquals: { 'kms:ViaService': 's3.us-east-1.amazonaws.com' },
            StringNotLike: { 'kms:EncryptionContext:aws:s3:arn': `arn:aws:s3:::${bucket}/allowed/*` },
          },
        }),
      })
    ).KeyMetadata.KeyId;
    expect((await s3('PUT', `/${bucket}/allowed/x`, { body: 'ok', headers: sse(id) })).status).toBe(200);
    const r = await s3('PUT', `/${bucket}/elsewhere/x`, { body: 'no', headers: sse(id) });
    expect(r.status).toBe(403);
    expect(await r.text()).toContain('with an explicit deny');
    // The KMS API called directly is not "via S3": the deny does not apply there.
    expect((await kms('GenerateDataKey', { KeyId: id, KeySpec: 'AES_256' })).status).toBe(200);
  });
});
