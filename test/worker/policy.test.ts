// biome-ignore-all lint/suspicious/noTemplateCurlyInString: IAM policy variables are written ${...} in plain strings.
// The policy evaluator (src/iam/policy.ts): AWS's documented evaluation examples as a table
// (policy-cases.ts), validation messages, and properties over random policies and requests:
// an applicable Deny always wins, no Allow statement means no Allow, valid documents parse, and
// garbage fails with PolicyError only.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decide, decideWithKeyPolicy, judge, POLICY_LIMITS, PolicyError, parsePolicy, ROOT_NEVER_DENIED } from '../../src/iam/policy';
import { ACCOUNT_ID, type AuthzRequest, type PolicyDocument, type Principal, ROOT_ARN, userArn } from '../../src/iam/types';
import { EVAL_CASES, type EvalCase, INVALID_CASES } from './policy-cases';

const ROOT: Principal = { kind: 'root', accessKeyId: 'AKIAROOT', arn: ROOT_ARN };
const user = (name: string, policies: PolicyDocument[] = []): Principal => ({
  kind: 'user',
  accessKeyId: `AKIA${name.toUpperCase()}`,
  arn: userArn(name),
  userName: name,
  userId: `AIDA${name.toUpperCase()}`,
  policies,
});

const identity = (doc: object) => parsePolicy(JSON.stringify(doc), 'identity');
const resource = (doc: object) => parsePolicy(JSON.stringify(doc), 'resource');

function run(c: EvalCase) {
  const principal = c.who === 'root' ? ROOT : user(c.who.user, (c.who.policies ?? []).map(identity));
  const req: AuthzRequest = { principal, action: c.action, resource: c.resource, context: c.context ?? {} };
  return c.keyPolicy ? decideWithKeyPolicy(req, resource(c.keyPolicy)) : decide(req, c.bucketPolicy && resource(c.bucketPolicy));
}

describe('policy evaluation: AWS documented examples', () => {
  it.each(EVAL_CASES.map((c) => [c.name, c] as const))('%s', (_, c) => {
    expect(run(c)).toBe(c.expect);
  });
});

describe('policy validation', () => {
  it.each(INVALID_CASES.map((c) => [c.name, c] as const))('%s', (_, c) => {
    expect(() => parsePolicy(c.text, c.kind)).toThrow(PolicyError);
    expect(() => parsePolicy(c.text, c.kind)).toThrow(c.message);
  });

  it('accepts a single Statement object, Version absent, Id, Sid, NotPrincipal and every operator form', () => {
    const doc = resource({
      Id: 'p1',
      Statement: {
        Sid: 'All forms',
        Effect: 'Deny',
        NotPrincipal: { AWS: [ROOT_ARN, ACCOUNT_ID, userArn('alice'), '*'], Service: 'cloudtrail.amazonaws.com' },
        NotAction: ['s3:Get*', 'kms:Decrypt'],
        NotResource: ['arn:aws:s3:::b/*', `arn:aws:kms:*:${ACCOUNT_ID}:alias/*`],
        Condition: {
          'ForAllValues:StringLikeIfExists': { 'aws:TagKeys': ['a*'] },
          'ForAnyValue:StringEquals': { 'aws:TagKeys': 'x' },
          NumericGreaterThanEqualsIfExists: { 's3:max-keys': 1 },
          DateLessThanIfExists: { 'aws:CurrentTime': '2030-01-01' },
          BoolIfExists: { 'aws:SecureTransport': true },
          NotIpAddressIfExists: { 'aws:SourceIp': ['::1', '10.0.0.0/8', '2001:db8::/32', '::ffff:192.0.2.0/120'] },
          ArnLikeIfExists: { 'aws:SourceArn': 'arn:aws:s3:::*' },
          BinaryEqualsIfExists: { 'x:b': 'AAEC' },
          Null: { 's3:prefix': false },
        },
      },
    });
    expect(doc.version).toBe('2008-10-17');
    expect(doc.id).toBe('p1');
    expect(doc.statements).toHaveLength(1);
    expect(doc.statements[0].sid).toBe('All forms');
    // Plain data: it crosses Durable Object RPC.
    expect(JSON.parse(JSON.stringify(doc))).toEqual(doc);
  });

  it('applies the size limit the caller picks', () => {
    const statement = { Effect: 'Allow', Action: 's3:GetObject', Resource: `arn:aws:s3:::b/${'x'.repeat(2100)}` };
    const text = JSON.stringify({ Version: '2012-10-17', Statement: statement });
    expect(() => parsePolicy(text, 'identity', POLICY_LIMITS.inlineUserPolicy)).toThrow(
      'Policies are limited to 2048 characters (not counting whitespace)',
    );
    expect(parsePolicy(text, 'identity', POLICY_LIMITS.managedPolicy).statements).toHaveLength(1);
    // IAM counts user policies without whitespace: indentation does not use up the quota.
    const small = JSON.stringify({ Version: '2012-10-17', Statement: { ...statement, Resource: 'arn:aws:s3:::b/*' } });
    const padded = small.replace(/,/g, `,\n${' '.repeat(1000)}`);
    expect(padded.length).toBeGreaterThan(2048);
    expect(() => parsePolicy(padded, 'identity', POLICY_LIMITS.inlineUserPolicy)).not.toThrow();
    const big = JSON.stringify({ Statement: { ...statement, Principal: '*', Resource: `arn:aws:s3:::b/${'x'.repeat(21000)}` } });
    expect(() => parsePolicy(big, 'resource', POLICY_LIMITS.bucketPolicy)).toThrow('Policies are limited to 20480 characters');
    expect(parsePolicy(big, 'resource', POLICY_LIMITS.keyPolicy).statements).toHaveLength(1);
  });

  it('judge reports per document: deny beats allow, none when nothing applies', () => {
    const req: AuthzRequest = { principal: user('alice'), action: 's3:GetObject', resource: 'arn:aws:s3:::b/k', context: {} };
    const allow = { Effect: 'Allow', Action: 's3:*', Resource: '*' };
    expect(judge(identity({ Statement: allow }), req)).toBe('allow');
    expect(judge(identity({ Statement: [allow, { ...allow, Effect: 'Deny' }] }), req)).toBe('deny');
    expect(judge(identity({ Statement: { ...allow, Action: 'kms:*' } }), req)).toBe('none');
  });

  it('every policy-management action root keeps is exempt from a Deny for root only', () => {
    const denyAll = resource({ Statement: { Effect: 'Deny', Principal: '*', Action: '*', Resource: '*' } });
    for (const action of ['s3:PutBucketPolicy', 's3:GetBucketPolicy', 's3:DeleteBucketPolicy', 'kms:PutKeyPolicy', 'kms:GetKeyPolicy']) {
      expect(ROOT_NEVER_DENIED.has(action.toLowerCase())).toBe(true);
      const req = (principal: Principal): AuthzRequest => ({ principal, action, resource: '*', context: {} });
      expect(decide(req(ROOT), denyAll)).toBe('Allow');
      expect(decideWithKeyPolicy(req(ROOT), denyAll)).toBe('Allow');
      expect(decide(req(user('alice')), denyAll)).toBe('ExplicitDeny');
    }
  });
});

// --- properties ---

const KEY = `arn:aws:kms:us-east-1:${ACCOUNT_ID}:key/k1`;
const ACTIONS = [
  's3:GetObject',
  's3:PutObject',
  's3:ListBucket',
  's3:DeleteObject',
  'kms:Decrypt',
  'kms:GenerateDataKey',
  'iam:CreateUser',
];
const RESOURCES = ['arn:aws:s3:::b/k', 'arn:aws:s3:::b', 'arn:aws:s3:::c/x/y', KEY, '*'];
const ACTION_PATTERNS = ['*', 's3:*', 's3:Get*', 'kms:*', 'iam:*', 's3:?utObject', ...ACTIONS];
const RESOURCE_PATTERNS = [
  '*',
  'arn:aws:s3:::b',
  'arn:aws:s3:::b/*',
  'arn:aws:s3:::*/x/*',
  `arn:aws:kms:*:${ACCOUNT_ID}:key/*`,
  'arn:aws:s3:::${aws:username}/*',
  ...RESOURCES.filter((r) => r !== '*'),
];
const KEYS = ['s3:prefix', 's3:max-keys', 'aws:SourceIp', 'aws:SecureTransport', 'aws:CurrentTime', 'aws:username', 'aws:TagKeys'];
const VALUES = ['a', 'home/*', '10', '5', '10.0.0.0/8', '::1', 'true', 'false', '2026-12-08T00:00:00Z', '${aws:username}', 'alice', '*'];
const PRINCIPALS = [
  '*',
  { AWS: '*' },
  { AWS: ROOT_ARN },
  { AWS: ACCOUNT_ID },
  { AWS: userArn('alice') },
  { AWS: [userArn('bob'), ROOT_ARN] },
  { Service: 's3.amazonaws.com' },
];

/** Operators with values each accepts, so the generated documents are valid. */
const OPERATOR_VALUES: [string, string[]][] = [
  ['StringEquals', VALUES],
  ['StringNotEquals', VALUES],
  ['StringLike', VALUES],
  ['StringNotLikeIfExists', VALUES],
  ['StringEqualsIgnoreCase', VALUES],
  ['ForAnyValue:StringEquals', VALUES],
  ['ForAllValues:StringLike', VALUES],
  ['NumericLessThanEquals', ['10', '5', '0.5']],
  ['NumericGreaterThanIfExists', ['10', '5']],
  ['DateLessThan', ['2026-12-08T00:00:00Z', '1796688000']],
  ['Bool', ['true', 'false']],
  ['IpAddress', ['10.0.0.0/8', '::1', '192.0.2.0/24']],
  ['NotIpAddress', ['10.0.0.0/8']],
  ['ArnLike', ['arn:aws:s3:::*', 'arn:aws:iam::000000000000:user/*']],
  ['Null', ['true', 'false']],
];

const conditionArb = fc
  .array(fc.tuple(fc.constantFrom(...OPERATOR_VALUES), fc.constantFrom(...KEYS), fc.integer({ min: 1, max: 3 }), fc.nat()), {
    minLength: 1,
    maxLength: 3,
  })
  .map((entries) => {
    const out: Record<string, Record<string, string[]>> = {};
    for (const [[op, values], key, n, seed] of entries) {
      out[op] ??= {};
      out[op][key] = Array.from({ length: n }, (_, i) => values[(seed + i * 7) % values.length]);
    }
    return out;
  });

const oneOrMore = <T>(arb: fc.Arbitrary<T>) => fc.oneof(arb, fc.array(arb, { minLength: 1, maxLength: 3 }));

function statementArb(kind: 'identity' | 'resource', effect?: 'Allow' | 'Deny') {
  return fc
    .record({
      Sid: fc.option(fc.string({ maxLength: 8 }), { nil: undefined }),
      Effect: effect ? fc.constant(effect) : fc.constantFrom('Allow', 'Deny'),
      negAction: fc.boolean(),
      actions: oneOrMore(fc.constantFrom(...ACTION_PATTERNS)),
      negResource: fc.boolean(),
      resources: oneOrMore(fc.constantFrom(...RESOURCE_PATTERNS)),
      negPrincipal: fc.boolean(),
      principal: fc.constantFrom(...PRINCIPALS),
      Condition: fc.option(conditionArb, { nil: undefined }),
    })
    .map((s) => ({
      ...(s.Sid !== undefined ? { Sid: s.Sid } : {}),
      Effect: s.Effect,
      [s.negAction ? 'NotAction' : 'Action']: s.actions,
      [s.negResource ? 'NotResource' : 'Resource']: s.resources,
      ...(kind === 'resource' ? { [s.negPrincipal ? 'NotPrincipal' : 'Principal']: s.principal } : {}),
      ...(s.Condition ? { Condition: s.Condition } : {}),
    }));
}

const documentArb = (kind: 'identity' | 'resource', effect?: 'Allow' | 'Deny') =>
  fc
    .record({
      Version: fc.constantFrom('2012-10-17', '2008-10-17', undefined),
      Statement: fc.oneof(statementArb(kind, effect), fc.array(statementArb(kind, effect), { minLength: 1, maxLength: 4 })),
    })
    .map((d) => (d.Version === undefined ? { Statement: d.Statement } : d));

const contextArb = fc.dictionary(fc.constantFrom(...KEYS), fc.array(fc.constantFrom(...VALUES, '10.1.2.3', '4'), { maxLength: 2 }), {
  maxKeys: 4,
});

const requestArb = fc.record({
  root: fc.boolean(),
  identityDocs: fc.array(documentArb('identity'), { maxLength: 2 }),
  bucketPolicy: fc.option(documentArb('resource'), { nil: undefined }),
  keyPolicy: documentArb('resource'),
  action: fc.constantFrom(...ACTIONS),
  resource: fc.constantFrom(...RESOURCES),
  context: contextArb,
});

type RequestCase = typeof requestArb extends fc.Arbitrary<infer T> ? T : never;

function requestOf(r: RequestCase, identityDocs = r.identityDocs): AuthzRequest {
  const principal = r.root ? ROOT : user('alice', identityDocs.map(identity));
  return { principal, action: r.action, resource: r.resource, context: r.context };
}

describe('policy properties', () => {
  it('an applicable Deny statement always yields ExplicitDeny (identity, bucket or key policy; root included)', () => {
    const denyArb = fc.record({
      action: fc.boolean(),
      resource: fc.boolean(),
      // Conditions that hold for any request: a key no request has is absent.
      condition: fc.constantFrom(undefined, { Null: { 'sealbucket:absent': 'true' } }, { StringNotEquals: { 'sealbucket:absent': 'x' } }),
      where: fc.constantFrom('identity', 'bucket', 'key'),
      principal: fc.constantFrom('*', { AWS: '*' }, { AWS: ACCOUNT_ID }, { AWS: ROOT_ARN }),
    });
    fc.assert(
      fc.property(requestArb, denyArb, (r, d) => {
        const base = requestOf(r);
        const deny = {
          Effect: 'Deny',
          Action: d.action ? '*' : r.action,
          Resource: d.resource ? '*' : r.resource,
          ...(d.condition ? { Condition: d.condition } : {}),
        };
        const withDeny = (doc: { Statement: unknown }, kind: 'identity' | 'resource') => ({
          ...doc,
          Statement: [...[doc.Statement].flat(), kind === 'resource' ? { ...deny, Principal: d.principal } : deny],
        });
        const where = r.root && d.where === 'identity' ? 'bucket' : d.where;
        const identityDocs =
          where === 'identity' ? [...r.identityDocs.map(identity), identity(withDeny({ Statement: [] }, 'identity'))] : undefined;
        const req = identityDocs ? { ...base, principal: user('alice', identityDocs) } : base;
        const bucket =
          where === 'bucket'
            ? resource(withDeny(r.bucketPolicy ?? { Statement: [] }, 'resource'))
            : r.bucketPolicy && resource(r.bucketPolicy);
        const key = resource(where === 'key' ? withDeny(r.keyPolicy, 'resource') : r.keyPolicy);
        if (where !== 'key') expect(decide(req, bucket)).toBe('ExplicitDeny');
        if (where !== 'bucket') expect(decideWithKeyPolicy(req, key)).toBe('ExplicitDeny');
      }),
      { numRuns: 300 },
    );
  });

  it('without Allow statements a user is never allowed', () => {
    fc.assert(
      fc.property(requestArb, (r) => {
        const ids = r.identityDocs.map((d) => {
          const p = identity(d);
          return { ...p, statements: p.statements.filter((s) => s.effect !== 'Allow') };
        });
        const req: AuthzRequest = { principal: user('alice', ids), action: r.action, resource: r.resource, context: r.context };
        const strip = (d: object) => {
          const p = resource(d);
          return { ...p, statements: p.statements.filter((s) => s.effect !== 'Allow') };
        };
        expect(decide(req, r.bucketPolicy && strip(r.bucketPolicy))).not.toBe('Allow');
        expect(decideWithKeyPolicy(req, strip(r.keyPolicy))).not.toBe('Allow');
      }),
      { numRuns: 300 },
    );
  });

  it('generated valid documents always parse, and re-parse to the same document', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          documentArb('identity').map((d) => [d, 'identity'] as const),
          documentArb('resource').map((d) => [d, 'resource'] as const),
        ),
        ([d, kind]) => {
          const parsed = parsePolicy(JSON.stringify(d), kind);
          expect(parsed.statements.length).toBeGreaterThan(0);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('garbage never throws anything but PolicyError', () => {
    const mutated = fc.tuple(documentArb('resource'), fc.nat(), fc.string({ maxLength: 3 })).map(([d, at, s]) => {
      const t = JSON.stringify(d);
      const i = at % (t.length + 1);
      return t.slice(0, i) + s + t.slice(i + s.length);
    });
    const structured = fc.record({
      Version: fc.anything(),
      Statement: fc.oneof(
        fc.anything(),
        fc.array(
          fc.dictionary(
            fc.constantFrom('Effect', 'Action', 'NotAction', 'Resource', 'Principal', 'NotPrincipal', 'Condition', 'Sid'),
            fc.anything(),
          ),
        ),
      ),
    });
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.json(),
          mutated,
          structured.map((x) => JSON.stringify(x)),
        ),
        fc.constantFrom('identity', 'resource') as fc.Arbitrary<'identity' | 'resource'>,
        (text, kind) => {
          try {
            const doc = parsePolicy(text, kind);
            // Whatever parses can be evaluated.
            decide({
              principal: user('alice', kind === 'identity' ? [doc] : []),
              action: 's3:GetObject',
              resource: 'arn:aws:s3:::b/k',
              context: {},
            });
          } catch (e) {
            if (!(e instanceof PolicyError)) throw e;
          }
        },
      ),
      { numRuns: 1000 },
    );
  });
});
