// KMS grants in workerd, against the real KMS and IAM Durable Objects: CreateGrant, ListGrants,
// RevokeGrant, RetireGrant and ListRetirableGrants, a grant as an Allow beside the key policy
// (constraints on the encryption context; an explicit Deny still wins), and SSE-KMS through S3 by a grantee.

import { describe, expect, it } from 'vitest';
import { createKey, kms, kmsOk, kmsSql } from './helpers/kms';
import { type Creds, kmsAs, newUser, policyOf, s3As, userArn } from './helpers/principals';
import { s3 } from './helpers/s3';

const ROOT_ARN = 'arn:aws:iam::000000000000:root';
const keyArn = (id: string) => `arn:aws:kms:us-east-1:000000000000:key/${id}`;
const b64 = (s: string) => btoa(s);

/** A user made by root through the IAM API, with an inline identity policy of these statements when given. */
const user = (name: string, statements?: object[]): Promise<Creds> => newUser(name, statements && policyOf(...statements));
const rootAll = { Sid: 'root', Effect: 'Allow', Principal: { AWS: ROOT_ARN }, Action: 'kms:*', Resource: '*' };

describe('grants', () => {
  it('a grant for Encrypt lets a user with no policy access encrypt, but not decrypt; RevokeGrant ends it', async () => {
    const id = await createKey();
    const u = await user('gr-enc');
    const denied = await kmsAs(u, 'Encrypt', { KeyId: id, Plaintext: b64('x') });
    expect(denied.body.__type).toBe('AccessDeniedException');

    const g = await kmsOk('CreateGrant', { KeyId: id, GranteePrincipal: userArn('gr-enc'), Operations: ['Encrypt'], Name: 'enc' });
    expect(g.GrantId).toMatch(/^[0-9a-f]{64}$/);
    expect(typeof g.GrantToken).toBe('string');
    const enc = await kmsAs(u, 'Encrypt', { KeyId: id, Plaintext: b64('granted'), GrantTokens: [g.GrantToken] });
    expect(enc.status, JSON.stringify(enc.body)).toBe(200);
    const dec = await kmsAs(u, 'Decrypt', { CiphertextBlob: enc.body.CiphertextBlob });
    expect(dec.body.__type).toBe('AccessDeniedException');
    expect(atob((await kmsOk('Decrypt', { CiphertextBlob: enc.body.CiphertextBlob })).Plaintext)).toBe('granted');

    // The same Name and parameters again: the same grant, as AWS's idempotent CreateGrant.
    const again = await kmsOk('CreateGrant', { KeyId: id, GranteePrincipal: userArn('gr-enc'), Operations: ['Encrypt'], Name: 'enc' });
    expect(again.GrantId).toBe(g.GrantId);

    const listed = await kmsOk('ListGrants', { KeyId: id });
    expect(listed.Grants).toHaveLength(1);
    expect(listed.Grants[0]).toMatchObject({
      KeyId: keyArn(id),
      GrantId: g.GrantId,
      Name: 'enc',
      GranteePrincipal: userArn('gr-enc'),
      IssuingAccount: ROOT_ARN,
      Operations: ['Encrypt'],
    });
    expect(listed.Truncated).toBe(false);

    await kmsOk('RevokeGrant', { KeyId: id, GrantId: g.GrantId });
    expect((await kmsAs(u, 'Encrypt', { KeyId: id, Plaintext: b64('x') })).body.__type).toBe('AccessDeniedException');
    expect((await kmsOk('ListGrants', { KeyId: id })).Grants).toEqual([]);
    expect((await kms('RevokeGrant', { KeyId: id, GrantId: g.GrantId })).body.__type).toBe('NotFoundException');
    expect((await kms('RevokeGrant', { KeyId: id, GrantId: 'nope' })).body.__type).toBe('InvalidGrantIdException');
  });

  it('validates CreateGrant as AWS: operations from the enum, constraints only with context operations', async () => {
    const id = await createKey();
    const base = { KeyId: id, GranteePrincipal: userArn('someone') };
    expect((await kms('CreateGrant', { ...base, Operations: [] })).body.__type).toBe('ValidationException');
    expect((await kms('CreateGrant', { ...base, Operations: ['Fly'] })).body.__type).toBe('ValidationException');
    expect((await kms('CreateGrant', { KeyId: id, Operations: ['Encrypt'] })).body.__type).toBe('ValidationException');
    const withDescribe = await kms('CreateGrant', {
      ...base,
      Operations: ['DescribeKey'],
      Constraints: { EncryptionContextSubset: { a: 'b' } },
    });
    expect(withDescribe.body.__type).toBe('ValidationException');
    expect((await kms('CreateGrant', { ...base, KeyId: 'no-such-key', Operations: ['Encrypt'] })).body.__type).toBe('NotFoundException');
  });

  it('constraints: the grant applies only when the encryption context equals / contains the constraint', async () => {
    const id = await createKey();
    const u = await user('gr-ctx');
    await kmsOk('CreateGrant', {
      KeyId: id,
      GranteePrincipal: userArn('gr-ctx'),
      Operations: ['Encrypt', 'Decrypt'],
      Constraints: { EncryptionContextSubset: { project: 'alpha' } },
    });
    const enc = (ec?: object) => kmsAs(u, 'Encrypt', { KeyId: id, Plaintext: b64('x'), ...(ec ? { EncryptionContext: ec } : {}) });
    expect((await enc()).body.__type).toBe('AccessDeniedException');
    expect((await enc({ project: 'beta' })).body.__type).toBe('AccessDeniedException');
    const ok = await enc({ project: 'alpha', more: '1' });
    expect(ok.status).toBe(200);
    const dec = await kmsAs(u, 'Decrypt', { CiphertextBlob: ok.body.CiphertextBlob, EncryptionContext: { project: 'alpha', more: '1' } });
    expect(dec.status).toBe(200);

    const id2 = await createKey();
    await kmsOk('CreateGrant', {
      KeyId: id2,
      GranteePrincipal: userArn('gr-ctx'),
      Operations: ['Encrypt'],
      Constraints: { EncryptionContextEquals: { project: 'alpha' } },
    });
    const enc2 = (ec: object) => kmsAs(u, 'Encrypt', { KeyId: id2, Plaintext: b64('x'), EncryptionContext: ec });
    expect((await enc2({ project: 'alpha', more: '1' })).body.__type).toBe('AccessDeniedException');
    expect((await enc2({ project: 'alpha' })).status).toBe(200);
  });

  it('RetireGrant: by the retiring principal (by token), by a grantee holding RetireGrant (by id), not by others', async () => {
    const id = await createKey();
    const grantee = await user('gr-grantee');
    const retirer = await user('gr-retirer', [{ Effect: 'Allow', Action: 'kms:ListRetirableGrants', Resource: '*' }]);
    const g = await kmsOk('CreateGrant', {
      KeyId: id,
      GranteePrincipal: userArn('gr-grantee'),
      RetiringPrincipal: userArn('gr-retirer'),
      Operations: ['Encrypt'],
    });
    const retirable = await kmsAs(retirer, 'ListRetirableGrants', { RetiringPrincipal: userArn('gr-retirer') });
    expect(retirable.status, JSON.stringify(retirable.body)).toBe(200);
    expect(retirable.body.Grants.map((x: { GrantId: string }) => x.GrantId)).toEqual([g.GrantId]);
    expect((await kmsAs(grantee, 'ListRetirableGrants', { RetiringPrincipal: userArn('gr-retirer') })).body.__type).toBe(
      'AccessDeniedException',
    );

    const byGrantee = await kmsAs(grantee, 'RetireGrant', { GrantToken: g.GrantToken });
    expect(byGrantee.body.__type).toBe('AccessDeniedException');
    expect((await kmsAs(retirer, 'RetireGrant', { GrantToken: g.GrantToken })).status).toBe(200);
    expect((await kmsAs(grantee, 'Encrypt', { KeyId: id, Plaintext: b64('x') })).body.__type).toBe('AccessDeniedException');
    expect((await kmsAs(retirer, 'RetireGrant', { GrantToken: g.GrantToken })).body.__type).toBe('InvalidGrantTokenException');

    const self = await kmsOk('CreateGrant', { KeyId: id, GranteePrincipal: userArn('gr-grantee'), Operations: ['Encrypt', 'RetireGrant'] });
    expect((await kmsAs(grantee, 'RetireGrant', { KeyId: id, GrantId: self.GrantId })).status).toBe(200);
    expect((await kms('RetireGrant', { KeyId: id })).body.__type).toBe('ValidationException');
  });

  it('ListGrants pages with Limit and Marker, and filters by GranteePrincipal', async () => {
    const id = await createKey();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++)
      ids.push((await kmsOk('CreateGrant', { KeyId: id, GranteePrincipal: userArn(`pager-${i % 2}`), Operations: ['Encrypt'] })).GrantId);
    const seen: string[] = [];
    let marker: string | undefined;
    for (let pages = 0; pages < 10; pages++) {
      const p = await kmsOk('ListGrants', { KeyId: id, Limit: 2, ...(marker ? { Marker: marker } : {}) });
      expect(p.Grants.length).toBeLessThanOrEqual(2);
      seen.push(...p.Grants.map((x: { GrantId: string }) => x.GrantId));
      if (!p.Truncated) break;
      marker = p.NextMarker;
    }
    expect(seen.sort()).toEqual([...ids].sort());
    const zero = await kmsOk('ListGrants', { KeyId: id, GranteePrincipal: userArn('pager-0') });
    expect(zero.Grants).toHaveLength(3);
    expect((await kmsOk('ListGrants', { KeyId: id, GrantId: ids[4] })).Grants.map((x: { GrantId: string }) => x.GrantId)).toEqual([ids[4]]);
  });

  it('an explicit Deny in the key policy beats a grant', async () => {
    const id = await createKey();
    const u = await user('gr-denied');
    await kmsOk('CreateGrant', { KeyId: id, GranteePrincipal: userArn('gr-denied'), Operations: ['Encrypt'] });
    expect((await kmsAs(u, 'Encrypt', { KeyId: id, Plaintext: b64('x') })).status).toBe(200);
    await kmsOk('PutKeyPolicy', {
      KeyId: id,
      Policy: policyOf(rootAll, { Effect: 'Deny', Principal: { AWS: userArn('gr-denied') }, Action: 'kms:Encrypt', Resource: '*' }),
    });
    const r = await kmsAs(u, 'Encrypt', { KeyId: id, Plaintext: b64('x') });
    expect(r.body.__type).toBe('AccessDeniedException');
    expect(r.body.message).toContain('explicit deny');
  });

  it("an explicit Deny in the grantee's identity policy beats a grant", async () => {
    const id = await createKey();
    const u = await user('gr-self-denied', [{ Effect: 'Deny', Action: 'kms:Encrypt', Resource: '*' }]);
    await kmsOk('CreateGrant', { KeyId: id, GranteePrincipal: userArn('gr-self-denied'), Operations: ['Encrypt', 'DescribeKey'] });
    expect((await kmsAs(u, 'DescribeKey', { KeyId: id })).status).toBe(200);
    const r = await kmsAs(u, 'Encrypt', { KeyId: id, Plaintext: b64('x') });
    expect(r.body.__type).toBe('AccessDeniedException');
    expect(r.body.message).toContain('explicit deny');
  });

  it('CreateGrant is authorized by the key policy with its condition keys; a grantee with CreateGrant passes on fewer operations only', async () => {
    const id = await createKey();
    const maker = await user('gr-maker');
    await kmsOk('PutKeyPolicy', {
      KeyId: id,
      Policy: policyOf(rootAll, {
        Effect: 'Allow',
        Principal: { AWS: userArn('gr-maker') },
        Action: 'kms:CreateGrant',
        Resource: '*',
        Condition: { 'ForAllValues:StringEquals': { 'kms:GrantOperations': ['Encrypt', 'Decrypt'] } },
      }),
    });
    const ok = await kmsAs(maker, 'CreateGrant', { KeyId: id, GranteePrincipal: userArn('x'), Operations: ['Encrypt'] });
    expect(ok.status, JSON.stringify(ok.body)).toBe(200);
    const wide = await kmsAs(maker, 'CreateGrant', { KeyId: id, GranteePrincipal: userArn('x'), Operations: ['Encrypt', 'DescribeKey'] });
    expect(wide.body.__type).toBe('AccessDeniedException');
    expect((await kmsAs(maker, 'ListGrants', { KeyId: id })).body.__type).toBe('AccessDeniedException');

    const sub = await user('gr-sub');
    await kmsOk('CreateGrant', { KeyId: id, GranteePrincipal: userArn('gr-sub'), Operations: ['Encrypt', 'CreateGrant'] });
    expect((await kmsAs(sub, 'CreateGrant', { KeyId: id, GranteePrincipal: userArn('y'), Operations: ['Encrypt'] })).status).toBe(200);
    expect((await kmsAs(sub, 'CreateGrant', { KeyId: id, GranteePrincipal: userArn('y'), Operations: ['Decrypt'] })).body.__type).toBe(
      'AccessDeniedException',
    );
  });

  it('a key deleted after its waiting period takes its grants with it', async () => {
    const id = await createKey();
    await kmsOk('CreateGrant', { KeyId: id, GranteePrincipal: userArn('gone'), Operations: ['Encrypt'] });
    await kmsOk('ScheduleKeyDeletion', { KeyId: id, PendingWindowInDays: 7 });
    expect((await kms('CreateGrant', { KeyId: id, GranteePrincipal: userArn('gone'), Operations: ['Encrypt'] })).body.__type).toBe(
      'KMSInvalidStateException',
    );
    await kmsSql((sql) => sql.exec('UPDATE keys SET deletion_date = ? WHERE id = ?', Date.now() / 1000 - 1, id));
    expect((await kms('ListGrants', { KeyId: id })).body.__type).toBe('NotFoundException');
    expect(await kmsSql((sql) => sql.exec('SELECT COUNT(*) AS n FROM grants WHERE key_id = ?', id).one().n)).toBe(0);
  });
});

describe('SSE-KMS through S3 by a grantee', () => {
  const bucket = 'kms-grants-bucket';
  const s3All = { Effect: 'Allow', Action: 's3:*', Resource: [`arn:aws:s3:::${bucket}`, `arn:aws:s3:::${bucket}/*`] };
  const sse = (id: string) => ({ 'x-amz-server-side-encryption': 'aws:kms', 'x-amz-server-side-encryption-aws-kms-key-id': id });

  it('a PUT by a grantee with GenerateDataKey succeeds; its GET needs Decrypt in the grant too', async () => {
    expect((await s3('PUT', `/${bucket}`)).status).toBe(200);
    const id = await createKey();
    const u = await user('gr-s3', [s3All]);
    expect((await s3As(u, 'PUT', `/${bucket}/a.txt`, { body: 'secret', headers: sse(id) })).status).toBe(403);
    await kmsOk('CreateGrant', { KeyId: id, GranteePrincipal: userArn('gr-s3'), Operations: ['GenerateDataKey'] });
    const put = await s3As(u, 'PUT', `/${bucket}/a.txt`, { body: 'secret', headers: sse(id) });
    expect(put.status, await put.clone().text()).toBe(200);
    expect((await s3As(u, 'GET', `/${bucket}/a.txt`)).status).toBe(403);
    await kmsOk('CreateGrant', {
      KeyId: id,
      GranteePrincipal: userArn('gr-s3'),
      Operations: ['Decrypt'],
      Constraints: { EncryptionContextSubset: { 'aws:s3:arn': `arn:aws:s3:::${bucket}/a.txt` } },
    });
    expect(await (await s3As(u, 'GET', `/${bucket}/a.txt`)).text()).toBe('secret');
  });
});
