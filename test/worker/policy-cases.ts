// biome-ignore-all lint/suspicious/noTemplateCurlyInString: IAM policy variables are written ${...} in plain strings.
// Evaluation cases for the policy evaluator, each named after the AWS documentation example it
// follows (IAM User Guide: "Policy evaluation logic", "IAM JSON policy elements: NotAction /
// NotResource / NotPrincipal / Condition operators", "Conditions with multiple context keys or
// values", "IAM policy variables"; S3 User Guide: bucket policy examples; KMS Developer Guide:
// "Default key policy").
import type { Decision } from '../../src/iam/types';
import { ACCOUNT_ID, ROOT_ARN, userArn } from '../../src/iam/types';

type Doc = Record<string, unknown>;
export interface EvalCase {
  name: string;
  /** The requester: root, or a user with these identity policies. */
  who: 'root' | { user: string; policies?: Doc[] };
  /** A bucket policy (decide), or a key policy (decideWithKeyPolicy). */
  bucketPolicy?: Doc;
  keyPolicy?: Doc;
  action: string;
  resource: string;
  context?: Record<string, string[]>;
  expect: Decision;
}

const v12 = (...Statement: Doc[]): Doc => ({ Version: '2012-10-17', Statement });
const allowAll = v12({ Effect: 'Allow', Action: '*', Resource: '*' });
const alice = (...policies: Doc[]) => ({ user: 'alice', policies });
const KEY = `arn:aws:kms:us-east-1:${ACCOUNT_ID}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
const ALICE = userArn('alice');
const BOB = userArn('bob');

const defaultKeyPolicy = v12({
  Sid: 'Enable IAM User Permissions',
  Effect: 'Allow',
  Principal: { AWS: ROOT_ARN },
  Action: 'kms:*',
  Resource: '*',
});

const denyUnencrypted = v12(
  {
    Sid: 'DenyIncorrectEncryptionHeader',
    Effect: 'Deny',
    Principal: '*',
    Action: 's3:PutObject',
    Resource: 'arn:aws:s3:::b/*',
    Condition: { StringNotEquals: { 's3:x-amz-server-side-encryption': 'AES256' } },
  },
  {
    Sid: 'DenyUnEncryptedObjectUploads',
    Effect: 'Deny',
    Principal: '*',
    Action: 's3:PutObject',
    Resource: 'arn:aws:s3:::b/*',
    Condition: { Null: { 's3:x-amz-server-side-encryption': 'true' } },
  },
);

const s3 = (key: string) => `arn:aws:s3:::${key}`;
const withCondition = (Condition: Doc, Effect = 'Allow') => v12({ Effect, Action: 's3:*', Resource: '*', Condition });

/** A user allowed by one condition; the case's context decides. */
function cond(name: string, Condition: Doc, context: Record<string, string[]>, expect: Decision): EvalCase {
  return { name, who: alice(withCondition(Condition)), action: 's3:GetObject', resource: s3('b/k'), context, expect };
}

export const EVAL_CASES: EvalCase[] = [
  // --- Policy evaluation logic ---
  {
    name: 'evaluation logic: an explicit deny overrides an allow',
    who: alice(allowAll, v12({ Effect: 'Deny', Action: 's3:DeleteObject', Resource: '*' })),
    action: 's3:DeleteObject',
    resource: s3('b/k'),
    expect: 'ExplicitDeny',
  },
  {
    name: 'evaluation logic: an allow applies when no deny does',
    who: alice(allowAll, v12({ Effect: 'Deny', Action: 's3:DeleteObject', Resource: '*' })),
    action: 's3:GetObject',
    resource: s3('b/k'),
    expect: 'Allow',
  },
  {
    name: 'evaluation logic: the implicit deny when nothing allows',
    who: alice(v12({ Effect: 'Allow', Action: 's3:GetObject', Resource: s3('other/*') })),
    action: 's3:GetObject',
    resource: s3('b/k'),
    expect: 'ImplicitDeny',
  },
  {
    name: 'evaluation logic: a user with no policies is implicitly denied',
    who: { user: 'alice' },
    action: 's3:ListAllMyBuckets',
    resource: '*',
    expect: 'ImplicitDeny',
  },
  {
    name: 'evaluation logic: a bucket policy allowing the user directly grants without an identity policy',
    who: { user: 'alice' },
    bucketPolicy: v12({ Effect: 'Allow', Principal: { AWS: ALICE }, Action: 's3:GetObject', Resource: s3('b/*') }),
    action: 's3:GetObject',
    resource: s3('b/k'),
    expect: 'Allow',
  },
  {
    name: 'evaluation logic: a deny in the bucket policy beats the identity allow',
    who: alice(allowAll),
    bucketPolicy: v12({ Effect: 'Deny', Principal: { AWS: ALICE }, Action: 's3:*', Resource: s3('b/*') }),
    action: 's3:GetObject',
    resource: s3('b/k'),
    expect: 'ExplicitDeny',
  },
  {
    name: 'evaluation logic: a Deny with an Allow in the same statement list still wins (order does not matter)',
    who: alice(v12({ Effect: 'Deny', Action: 's3:*', Resource: '*' }, { Effect: 'Allow', Action: 's3:*', Resource: '*' })),
    action: 's3:GetObject',
    resource: s3('b/k'),
    expect: 'ExplicitDeny',
  },

  // --- NotAction ---
  {
    name: 'NotAction: deny everything except IAM (IAM is allowed)',
    who: alice(allowAll, v12({ Effect: 'Deny', NotAction: 'iam:*', Resource: '*' })),
    action: 'iam:ListUsers',
    resource: '*',
    expect: 'Allow',
  },
  {
    name: 'NotAction: deny everything except IAM (S3 is denied)',
    who: alice(allowAll, v12({ Effect: 'Deny', NotAction: 'iam:*', Resource: '*' })),
    action: 's3:GetObject',
    resource: s3('b/k'),
    expect: 'ExplicitDeny',
  },
  {
    name: 'NotAction: allow all S3 actions but s3:DeleteObject (GetObject allowed)',
    who: alice(v12({ Effect: 'Allow', NotAction: 's3:DeleteObject', Resource: s3('b/*') })),
    action: 's3:GetObject',
    resource: s3('b/k'),
    expect: 'Allow',
  },
  {
    name: 'NotAction: allow all S3 actions but s3:DeleteObject (DeleteObject not allowed)',
    who: alice(v12({ Effect: 'Allow', NotAction: 's3:DeleteObject', Resource: s3('b/*') })),
    action: 's3:DeleteObject',
    resource: s3('b/k'),
    expect: 'ImplicitDeny',
  },
  {
    name: 'NotAction: the excluded action matches case-insensitively',
    who: alice(v12({ Effect: 'Allow', NotAction: 's3:deleteobject', Resource: '*' })),
    action: 's3:DeleteObject',
    resource: s3('b/k'),
    expect: 'ImplicitDeny',
  },

  // --- NotResource ---
  {
    name: 'NotResource: deny all S3 outside one bucket (outside denied)',
    who: alice(
      v12({ Effect: 'Allow', Action: 's3:*', Resource: '*' }, { Effect: 'Deny', Action: 's3:*', NotResource: [s3('b'), s3('b/*')] }),
    ),
    action: 's3:GetObject',
    resource: s3('other/k'),
    expect: 'ExplicitDeny',
  },
  {
    name: 'NotResource: deny all S3 outside one bucket (inside allowed)',
    who: alice(
      v12({ Effect: 'Allow', Action: 's3:*', Resource: '*' }, { Effect: 'Deny', Action: 's3:*', NotResource: [s3('b'), s3('b/*')] }),
    ),
    action: 's3:ListBucket',
    resource: s3('b'),
    expect: 'Allow',
  },

  // --- wildcards ---
  {
    name: 'Resource wildcard: arn:aws:s3:::b/home/* matches deeper keys',
    who: alice(v12({ Effect: 'Allow', Action: 's3:GetObject', Resource: s3('b/home/*') })),
    action: 's3:GetObject',
    resource: s3('b/home/x/y.txt'),
    expect: 'Allow',
  },
  {
    name: 'Resource wildcard: arn:aws:s3:::b/home/* does not match b/homes',
    who: alice(v12({ Effect: 'Allow', Action: 's3:GetObject', Resource: s3('b/home/*') })),
    action: 's3:GetObject',
    resource: s3('b/homes'),
    expect: 'ImplicitDeny',
  },
  {
    name: 'Resource wildcard: ARNs are case-sensitive',
    who: alice(v12({ Effect: 'Allow', Action: 's3:GetObject', Resource: s3('b/Home/*') })),
    action: 's3:GetObject',
    resource: s3('b/home/x'),
    expect: 'ImplicitDeny',
  },
  {
    name: 'Resource wildcard: ? matches exactly one character',
    who: alice(v12({ Effect: 'Allow', Action: 's3:GetObject', Resource: s3('b/log-?.txt') })),
    action: 's3:GetObject',
    resource: s3('b/log-1.txt'),
    expect: 'Allow',
  },
  {
    name: 'Resource wildcard: ? does not match two characters',
    who: alice(v12({ Effect: 'Allow', Action: 's3:GetObject', Resource: s3('b/log-?.txt') })),
    action: 's3:GetObject',
    resource: s3('b/log-12.txt'),
    expect: 'ImplicitDeny',
  },
  {
    name: 'Resource wildcard: the bucket ARN does not cover its objects',
    who: alice(v12({ Effect: 'Allow', Action: 's3:*', Resource: s3('b') })),
    action: 's3:GetObject',
    resource: s3('b/k'),
    expect: 'ImplicitDeny',
  },
  {
    name: 'Resource wildcard: a KMS key ARN with any region',
    who: alice(v12({ Effect: 'Allow', Action: 'kms:Decrypt', Resource: `arn:aws:kms:*:${ACCOUNT_ID}:key/*` })),
    action: 'kms:Decrypt',
    resource: KEY,
    expect: 'Allow',
  },
  {
    name: 'Resource wildcard: a KMS alias ARN',
    who: alice(v12({ Effect: 'Allow', Action: 'kms:*', Resource: `arn:aws:kms:us-east-1:${ACCOUNT_ID}:alias/team-*` })),
    action: 'kms:DescribeKey',
    resource: `arn:aws:kms:us-east-1:${ACCOUNT_ID}:alias/team-a`,
    expect: 'Allow',
  },
  {
    name: 'Action wildcard: s3:Get* matches s3:GetObject, case-insensitively',
    who: alice(v12({ Effect: 'Allow', Action: 'S3:get*', Resource: '*' })),
    action: 's3:GetObject',
    resource: s3('b/k'),
    expect: 'Allow',
  },
  {
    name: 'Action wildcard: s3:Get* does not match s3:PutObject',
    who: alice(v12({ Effect: 'Allow', Action: 's3:Get*', Resource: '*' })),
    action: 's3:PutObject',
    resource: s3('b/k'),
    expect: 'ImplicitDeny',
  },
  {
    name: 'Action wildcard: s3:?etObject',
    who: alice(v12({ Effect: 'Allow', Action: 's3:?etObject', Resource: '*' })),
    action: 's3:GetObject',
    resource: s3('b/k'),
    expect: 'Allow',
  },
  {
    name: 'Action wildcard: a service prefix does not match another service',
    who: alice(v12({ Effect: 'Allow', Action: 's3:*', Resource: '*' })),
    action: 'kms:Decrypt',
    resource: KEY,
    expect: 'ImplicitDeny',
  },

  // --- condition operators: string ---
  cond(
    'StringEquals: multiple values are ORed (second matches)',
    { StringEquals: { 's3:x-amz-server-side-encryption': ['AES256', 'aws:kms'] } },
    { 's3:x-amz-server-side-encryption': ['aws:kms'] },
    'Allow',
  ),
  cond(
    'StringEquals: case-sensitive',
    { StringEquals: { 's3:x-amz-server-side-encryption': 'AES256' } },
    { 's3:x-amz-server-side-encryption': ['aes256'] },
    'ImplicitDeny',
  ),
  cond('StringEquals: an absent key does not match', { StringEquals: { 's3:x-amz-server-side-encryption': 'AES256' } }, {}, 'ImplicitDeny'),
  cond(
    'StringNotEquals: multiple values are NORed (equals one of them)',
    { StringNotEquals: { 's3:x-amz-server-side-encryption': ['AES256', 'aws:kms'] } },
    { 's3:x-amz-server-side-encryption': ['aws:kms'] },
    'ImplicitDeny',
  ),
  cond(
    'StringNotEquals: multiple values are NORed (equals none)',
    { StringNotEquals: { 's3:x-amz-server-side-encryption': ['AES256', 'aws:kms'] } },
    { 's3:x-amz-server-side-encryption': ['aws:kms:dsse'] },
    'Allow',
  ),
  cond(
    'StringNotEquals: an absent key makes a negated operator true',
    { StringNotEquals: { 's3:x-amz-server-side-encryption': 'AES256' } },
    {},
    'Allow',
  ),
  cond(
    'StringEqualsIgnoreCase: values match in any case',
    { StringEqualsIgnoreCase: { 's3:x-amz-server-side-encryption': ['aes256', 'x'] } },
    { 's3:x-amz-server-side-encryption': ['AES256'] },
    'Allow',
  ),
  cond(
    'StringNotEqualsIgnoreCase: equal in another case is not "not equal"',
    { StringNotEqualsIgnoreCase: { 's3:x-amz-server-side-encryption': 'aes256' } },
    { 's3:x-amz-server-side-encryption': ['AES256'] },
    'ImplicitDeny',
  ),
  cond(
    'StringLike: s3:prefix home/* with ? and *',
    { StringLike: { 's3:prefix': ['home/?/*', 'public/*'] } },
    { 's3:prefix': ['home/a/docs'] },
    'Allow',
  ),
  cond(
    'StringLike: no value matches',
    { StringLike: { 's3:prefix': ['home/?/*', 'public/*'] } },
    { 's3:prefix': ['private/x'] },
    'ImplicitDeny',
  ),
  cond(
    'StringNotLike: matches none of the patterns',
    { StringNotLike: { 's3:prefix': ['home/*', 'public/*'] } },
    { 's3:prefix': ['private/x'] },
    'Allow',
  ),
  cond(
    'StringNotLike: matches one pattern',
    { StringNotLike: { 's3:prefix': ['home/*', 'public/*'] } },
    { 's3:prefix': ['public/x'] },
    'ImplicitDeny',
  ),
  cond(
    'Condition keys: names are case-insensitive',
    { StringEquals: { 'S3:X-Amz-Server-Side-Encryption': 'AES256' } },
    { 's3:x-amz-server-side-encryption': ['AES256'] },
    'Allow',
  ),
  cond(
    'Multiple keys under one operator are ANDed (one fails)',
    { StringEquals: { 's3:prefix': 'a/', 's3:delimiter': '/' } },
    { 's3:prefix': ['a/'], 's3:delimiter': ['|'] },
    'ImplicitDeny',
  ),
  cond(
    'Multiple keys under one operator are ANDed (both hold)',
    { StringEquals: { 's3:prefix': 'a/', 's3:delimiter': '/' } },
    { 's3:prefix': ['a/'], 's3:delimiter': ['/'] },
    'Allow',
  ),
  cond(
    'Multiple operators are ANDed (one fails)',
    { StringEquals: { 's3:prefix': 'a/' }, NumericLessThanEquals: { 's3:max-keys': '10' } },
    { 's3:prefix': ['a/'], 's3:max-keys': ['100'] },
    'ImplicitDeny',
  ),
  cond(
    'Multiple operators are ANDed (both hold)',
    { StringEquals: { 's3:prefix': 'a/' }, NumericLessThanEquals: { 's3:max-keys': '10' } },
    { 's3:prefix': ['a/'], 's3:max-keys': ['10'] },
    'Allow',
  ),
  cond(
    'kms:EncryptionContext:<key> StringEquals',
    { StringEquals: { 'kms:EncryptionContext:purpose': 'backup' } },
    { 'kms:EncryptionContext:purpose': ['backup'] },
    'Allow',
  ),

  // --- numeric ---
  cond('NumericEquals: 10 equals 10.0', { NumericEquals: { 's3:max-keys': '10' } }, { 's3:max-keys': ['10.0'] }, 'Allow'),
  cond(
    'NumericNotEquals: NOR over values',
    { NumericNotEquals: { 's3:max-keys': ['10', '20'] } },
    { 's3:max-keys': ['20'] },
    'ImplicitDeny',
  ),
  cond('NumericLessThan: 9 < 10', { NumericLessThan: { 's3:max-keys': '10' } }, { 's3:max-keys': ['9'] }, 'Allow'),
  cond('NumericLessThan: 10 is not < 10', { NumericLessThan: { 's3:max-keys': '10' } }, { 's3:max-keys': ['10'] }, 'ImplicitDeny'),
  cond(
    'NumericLessThanEquals: the S3 "max-keys at most 10" example',
    { NumericLessThanEquals: { 's3:max-keys': 10 } },
    { 's3:max-keys': ['11'] },
    'ImplicitDeny',
  ),
  cond('NumericGreaterThan: 11 > 10', { NumericGreaterThan: { 's3:max-keys': '10' } }, { 's3:max-keys': ['11'] }, 'Allow'),
  cond('NumericGreaterThanEquals: 10 >= 10', { NumericGreaterThanEquals: { 's3:max-keys': '10' } }, { 's3:max-keys': ['10'] }, 'Allow'),
  cond(
    'Numeric: a request value that is no number does not match',
    { NumericLessThan: { 's3:max-keys': '10' } },
    { 's3:max-keys': ['ten'] },
    'ImplicitDeny',
  ),

  // --- date ---
  cond(
    'DateGreaterThan and DateLessThan: a time window (inside)',
    { DateGreaterThan: { 'aws:CurrentTime': '2026-01-01T00:00:00Z' }, DateLessThan: { 'aws:CurrentTime': '2026-12-31T23:59:59Z' } },
    { 'aws:CurrentTime': ['2026-12-08T02:00:00Z'] },
    'Allow',
  ),
  cond(
    'DateGreaterThan and DateLessThan: a time window (after)',
    { DateGreaterThan: { 'aws:CurrentTime': '2026-01-01T00:00:00Z' }, DateLessThan: { 'aws:CurrentTime': '2026-06-30T23:59:59Z' } },
    { 'aws:CurrentTime': ['2026-12-08T02:00:00Z'] },
    'ImplicitDeny',
  ),
  cond(
    'DateLessThan: epoch seconds in the policy',
    { DateLessThan: { 'aws:CurrentTime': '1893456000' } },
    { 'aws:CurrentTime': ['2026-12-08T02:00:00Z'] },
    'Allow',
  ),
  cond(
    'DateEquals: the same instant in two notations',
    { DateEquals: { 'aws:CurrentTime': '2026-12-08T00:00:00Z' } },
    { 'aws:CurrentTime': ['1796688000'] },
    'Allow',
  ),
  cond(
    'DateNotEquals: NOR over values',
    { DateNotEquals: { 'aws:CurrentTime': ['2026-12-08T00:00:00Z', '2027-01-01T00:00:00Z'] } },
    { 'aws:CurrentTime': ['2026-12-08T00:00:00Z'] },
    'ImplicitDeny',
  ),
  cond(
    'DateLessThanEquals: equal instant',
    { DateLessThanEquals: { 'aws:CurrentTime': '2026-12-08T00:00:00Z' } },
    { 'aws:CurrentTime': ['2026-12-08T00:00:00.000Z'] },
    'Allow',
  ),
  cond(
    'DateGreaterThanEquals: earlier instant fails',
    { DateGreaterThanEquals: { 'aws:CurrentTime': '2026-12-08T00:00:00Z' } },
    { 'aws:CurrentTime': ['2026-12-07T23:59:59Z'] },
    'ImplicitDeny',
  ),

  // --- Bool, Binary, IP, ARN ---
  {
    name: 'Bool: the S3 example "deny requests not over HTTPS" (aws:SecureTransport false)',
    who: alice(allowAll),
    bucketPolicy: v12({
      Effect: 'Deny',
      Principal: '*',
      Action: 's3:*',
      Resource: [s3('b'), s3('b/*')],
      Condition: { Bool: { 'aws:SecureTransport': 'false' } },
    }),
    action: 's3:GetObject',
    resource: s3('b/k'),
    context: { 'aws:SecureTransport': ['false'] },
    expect: 'ExplicitDeny',
  },
  {
    name: 'Bool: the same policy lets HTTPS requests through',
    who: alice(allowAll),
    bucketPolicy: v12({
      Effect: 'Deny',
      Principal: '*',
      Action: 's3:*',
      Resource: [s3('b'), s3('b/*')],
      Condition: { Bool: { 'aws:SecureTransport': false } },
    }),
    action: 's3:GetObject',
    resource: s3('b/k'),
    context: { 'aws:SecureTransport': ['true'] },
    expect: 'Allow',
  },
  cond(
    'BinaryEquals: the base64 value',
    { BinaryEquals: { 'key:bin': 'QmluYXJ5VmFsdWVJbkJhc2U2NA==' } },
    { 'key:bin': ['QmluYXJ5VmFsdWVJbkJhc2U2NA=='] },
    'Allow',
  ),
  cond(
    'IpAddress: the IAM example 203.0.113.0/24',
    { IpAddress: { 'aws:SourceIp': ['203.0.113.0/24', '2001:DB8:1234:5678::/64'] } },
    { 'aws:SourceIp': ['203.0.113.77'] },
    'Allow',
  ),
  cond(
    'IpAddress: an IPv6 address in the /64',
    { IpAddress: { 'aws:SourceIp': ['203.0.113.0/24', '2001:DB8:1234:5678::/64'] } },
    { 'aws:SourceIp': ['2001:db8:1234:5678:abcd::1'] },
    'Allow',
  ),
  cond(
    'IpAddress: outside both ranges',
    { IpAddress: { 'aws:SourceIp': ['203.0.113.0/24', '2001:DB8:1234:5678::/64'] } },
    { 'aws:SourceIp': ['198.51.100.1'] },
    'ImplicitDeny',
  ),
  cond(
    'IpAddress: a single address without a prefix',
    { IpAddress: { 'aws:SourceIp': '192.0.2.1' } },
    { 'aws:SourceIp': ['192.0.2.1'] },
    'Allow',
  ),
  cond(
    'NotIpAddress: inside one range',
    { NotIpAddress: { 'aws:SourceIp': ['192.0.2.0/24', '203.0.113.0/24'] } },
    { 'aws:SourceIp': ['192.0.2.5'] },
    'ImplicitDeny',
  ),
  cond(
    'NotIpAddress: outside all ranges',
    { NotIpAddress: { 'aws:SourceIp': ['192.0.2.0/24', '203.0.113.0/24'] } },
    { 'aws:SourceIp': ['10.1.2.3'] },
    'Allow',
  ),
  cond(
    'ArnEquals: exact ARN',
    { ArnEquals: { 'aws:SourceArn': 'arn:aws:sns:us-east-1:000000000000:topic' } },
    { 'aws:SourceArn': ['arn:aws:sns:us-east-1:000000000000:topic'] },
    'Allow',
  ),
  cond(
    'ArnLike: wildcards per component',
    { ArnLike: { 'aws:SourceArn': 'arn:aws:s3:::b*' } },
    { 'aws:SourceArn': ['arn:aws:s3:::bucket-1'] },
    'Allow',
  ),
  cond(
    'ArnLike: each component matches on its own (the region differs)',
    { ArnLike: { 'aws:SourceArn': 'arn:aws:sns:eu-*:000000000000:*' } },
    { 'aws:SourceArn': ['arn:aws:sns:us-east-1:000000000000:topic'] },
    'ImplicitDeny',
  ),
  cond(
    'ArnNotEquals: a different ARN',
    { ArnNotEquals: { 'aws:SourceArn': 'arn:aws:s3:::a' } },
    { 'aws:SourceArn': ['arn:aws:s3:::b'] },
    'Allow',
  ),
  cond(
    'ArnNotLike: matches the pattern',
    { ArnNotLike: { 'aws:SourceArn': 'arn:aws:s3:::*' } },
    { 'aws:SourceArn': ['arn:aws:s3:::b'] },
    'ImplicitDeny',
  ),

  // --- Null and IfExists ---
  {
    name: 'Null: the S3 example "deny uploads without SSE" refuses a PUT without the header',
    who: alice(allowAll),
    bucketPolicy: denyUnencrypted,
    action: 's3:PutObject',
    resource: s3('b/k'),
    expect: 'ExplicitDeny',
  },
  {
    name: 'Null: the S3 example "deny uploads without SSE" refuses SSE-KMS when AES256 is required',
    who: alice(allowAll),
    bucketPolicy: denyUnencrypted,
    action: 's3:PutObject',
    resource: s3('b/k'),
    context: { 's3:x-amz-server-side-encryption': ['aws:kms'] },
    expect: 'ExplicitDeny',
  },
  {
    name: 'Null: the S3 example "deny uploads without SSE" accepts AES256',
    who: alice(allowAll),
    bucketPolicy: denyUnencrypted,
    action: 's3:PutObject',
    resource: s3('b/k'),
    context: { 's3:x-amz-server-side-encryption': ['AES256'] },
    expect: 'Allow',
  },
  cond(
    'Null false: the key is present',
    { Null: { 'aws:TokenIssueTime': 'false' } },
    { 'aws:TokenIssueTime': ['2026-12-08T00:00:00Z'] },
    'Allow',
  ),
  cond('Null false: an unknown key has no value', { Null: { 'sealbucket:NoSuchKey': 'false' } }, {}, 'ImplicitDeny'),
  cond('StringEqualsIfExists: an absent key passes', { StringEqualsIfExists: { 'ec2:InstanceType': ['t1.*', 'm1.small'] } }, {}, 'Allow'),
  cond(
    'StringEqualsIfExists: a present key is checked',
    { StringEqualsIfExists: { 'ec2:InstanceType': ['t1.micro', 'm1.small'] } },
    { 'ec2:InstanceType': ['m5.large'] },
    'ImplicitDeny',
  ),
  cond('NumericLessThanEqualsIfExists: absent passes', { NumericLessThanEqualsIfExists: { 's3:max-keys': '10' } }, {}, 'Allow'),
  cond(
    'IpAddressIfExists: present and inside',
    { IpAddressIfExists: { 'aws:SourceIp': '10.0.0.0/8' } },
    { 'aws:SourceIp': ['10.9.9.9'] },
    'Allow',
  ),
  cond(
    'StringNotEqualsIfExists: present and equal',
    { StringNotEqualsIfExists: { 's3:x-amz-server-side-encryption': 'AES256' } },
    { 's3:x-amz-server-side-encryption': ['AES256'] },
    'ImplicitDeny',
  ),

  // --- set qualifiers ---
  cond(
    'ForAllValues:StringEquals: every tag key is allowed',
    { 'ForAllValues:StringEquals': { 'aws:TagKeys': ['environment', 'cost-center'] } },
    { 'aws:TagKeys': ['environment', 'cost-center'] },
    'Allow',
  ),
  cond(
    'ForAllValues:StringEquals: one tag key is not allowed',
    { 'ForAllValues:StringEquals': { 'aws:TagKeys': ['environment', 'cost-center'] } },
    { 'aws:TagKeys': ['environment', 'owner'] },
    'ImplicitDeny',
  ),
  cond('ForAllValues: an absent key is true', { 'ForAllValues:StringEquals': { 'aws:TagKeys': ['environment'] } }, {}, 'Allow'),
  cond(
    'ForAnyValue:StringEquals: one tag key matches',
    { 'ForAnyValue:StringEquals': { 'aws:TagKeys': ['environment', 'cost-center'] } },
    { 'aws:TagKeys': ['owner', 'environment'] },
    'Allow',
  ),
  cond(
    'ForAnyValue:StringEquals: none matches',
    { 'ForAnyValue:StringEquals': { 'aws:TagKeys': ['environment'] } },
    { 'aws:TagKeys': ['owner'] },
    'ImplicitDeny',
  ),
  cond('ForAnyValue: an absent key is false', { 'ForAnyValue:StringEquals': { 'aws:TagKeys': ['environment'] } }, {}, 'ImplicitDeny'),
  cond(
    'ForAnyValue:StringNotEquals: some value is none of them',
    { 'ForAnyValue:StringNotEquals': { 'aws:TagKeys': ['environment'] } },
    { 'aws:TagKeys': ['environment', 'owner'] },
    'Allow',
  ),
  cond(
    'ForAnyValue:StringEqualsIfExists: an absent key passes',
    { 'ForAnyValue:StringEqualsIfExists': { 'aws:TagKeys': ['environment'] } },
    {},
    'Allow',
  ),
  cond(
    'ForAllValues:StringLike: every key matches a pattern',
    { 'ForAllValues:StringLike': { 'aws:TagKeys': ['env*', 'cost-*'] } },
    { 'aws:TagKeys': ['environment', 'cost-center'] },
    'Allow',
  ),

  // --- policy variables ---
  {
    name: "Variables: ${aws:username} in Resource, the user's own home",
    who: alice(v12({ Effect: 'Allow', Action: 's3:*', Resource: s3('b/home/${aws:username}/*') })),
    action: 's3:GetObject',
    resource: s3('b/home/alice/x'),
    expect: 'Allow',
  },
  {
    name: "Variables: ${aws:username} in Resource, another user's home",
    who: alice(v12({ Effect: 'Allow', Action: 's3:*', Resource: s3('b/home/${aws:username}/*') })),
    action: 's3:GetObject',
    resource: s3('b/home/bob/x'),
    expect: 'ImplicitDeny',
  },
  cond(
    'Variables: ${aws:username} in a StringLike value (s3:prefix)',
    { StringLike: { 's3:prefix': ['home/${aws:username}/*'] } },
    { 's3:prefix': ['home/alice/docs'] },
    'Allow',
  ),
  cond(
    'Variables: ${aws:userid} in StringEquals',
    { StringEquals: { 'sealbucket:owner': '${aws:userid}' } },
    { 'sealbucket:owner': ['AIDAALICE'] },
    'Allow',
  ),
  cond(
    'Variables: ${aws:SourceIp} from the request context',
    { StringEquals: { 'sealbucket:client': '${aws:SourceIp}' } },
    { 'aws:SourceIp': ['192.0.2.7'], 'sealbucket:client': ['192.0.2.7'] },
    'Allow',
  ),
  {
    name: 'Variables: the escape ${*} is a literal asterisk',
    who: alice(v12({ Effect: 'Allow', Action: 's3:*', Resource: s3('b/${*}star') })),
    action: 's3:GetObject',
    resource: s3('b/*star'),
    expect: 'Allow',
  },
  {
    name: 'Variables: the escape ${*} is no wildcard',
    who: alice(v12({ Effect: 'Allow', Action: 's3:*', Resource: s3('b/${*}star') })),
    action: 's3:GetObject',
    resource: s3('b/xstar'),
    expect: 'ImplicitDeny',
  },
  {
    name: 'Variables: the escapes ${?} and ${$}',
    who: alice(v12({ Effect: 'Allow', Action: 's3:*', Resource: s3('b/${?}${$}') })),
    action: 's3:GetObject',
    resource: s3('b/?$'),
    expect: 'Allow',
  },
  {
    name: 'Variables: with no value (root has no aws:username) the element does not match',
    who: 'root',
    bucketPolicy: v12({ Effect: 'Deny', Principal: '*', Action: 's3:*', Resource: s3('b/home/${aws:username}/*') }),
    action: 's3:GetObject',
    resource: s3('b/home/${aws:username}/x'),
    expect: 'Allow',
  },
  cond(
    'Variables: with no value a condition does not match, even a negated one',
    { StringNotEquals: { 's3:prefix': '${sealbucket:missing}' } },
    { 's3:prefix': ['x'] },
    'ImplicitDeny',
  ),
  cond(
    "Variables: a default value ${key, 'default'}",
    { StringEquals: { 's3:prefix': "${sealbucket:team, 'shared'}/" } },
    { 's3:prefix': ['shared/'] },
    'Allow',
  ),
  {
    name: 'Variables: Version 2008-10-17 reads ${...} as literal text',
    who: alice({ Version: '2008-10-17', Statement: [{ Effect: 'Allow', Action: 's3:*', Resource: s3('b/${aws:username}/*') }] }),
    action: 's3:GetObject',
    resource: s3('b/${aws:username}/x'),
    expect: 'Allow',
  },
  {
    name: 'Variables: Version 2008-10-17 does not substitute',
    who: alice({ Version: '2008-10-17', Statement: [{ Effect: 'Allow', Action: 's3:*', Resource: s3('b/${aws:username}/*') }] }),
    action: 's3:GetObject',
    resource: s3('b/alice/x'),
    expect: 'ImplicitDeny',
  },
  {
    name: 'Variables: a policy without Version is 2008-10-17',
    who: alice({ Statement: [{ Effect: 'Allow', Action: 's3:*', Resource: s3('b/${aws:username}/*') }] }),
    action: 's3:GetObject',
    resource: s3('b/alice/x'),
    expect: 'ImplicitDeny',
  },

  // --- Principal, NotPrincipal, the account ---
  {
    name: 'NotPrincipal: deny everyone but the named user and its account (the user passes)',
    who: alice(allowAll),
    bucketPolicy: v12({ Effect: 'Deny', NotPrincipal: { AWS: [ALICE, ROOT_ARN] }, Action: 's3:*', Resource: s3('b/*') }),
    action: 's3:GetObject',
    resource: s3('b/k'),
    expect: 'Allow',
  },
  {
    name: 'NotPrincipal: deny everyone but the named user and its account (another user is denied)',
    who: { user: 'bob', policies: [allowAll] },
    bucketPolicy: v12({ Effect: 'Deny', NotPrincipal: { AWS: [ALICE, ROOT_ARN] }, Action: 's3:*', Resource: s3('b/*') }),
    action: 's3:GetObject',
    resource: s3('b/k'),
    expect: 'ExplicitDeny',
  },
  {
    name: 'NotPrincipal: naming the user without its account still denies the user (AWS evaluates the account too)',
    who: alice(allowAll),
    bucketPolicy: v12({ Effect: 'Deny', NotPrincipal: { AWS: ALICE }, Action: 's3:*', Resource: s3('b/*') }),
    action: 's3:GetObject',
    resource: s3('b/k'),
    expect: 'ExplicitDeny',
  },
  {
    name: 'NotPrincipal: the account named, root passes',
    who: 'root',
    bucketPolicy: v12({ Effect: 'Deny', NotPrincipal: { AWS: ACCOUNT_ID }, Action: 's3:*', Resource: s3('b/*') }),
    action: 's3:GetObject',
    resource: s3('b/k'),
    expect: 'Allow',
  },
  {
    name: 'Principal: the account in a Deny covers its users',
    who: alice(allowAll),
    bucketPolicy: v12({ Effect: 'Deny', Principal: { AWS: ACCOUNT_ID }, Action: 's3:DeleteObject', Resource: s3('b/*') }),
    action: 's3:DeleteObject',
    resource: s3('b/k'),
    expect: 'ExplicitDeny',
  },
  {
    name: 'Principal: the account in an Allow delegates to IAM (no identity allow)',
    who: { user: 'alice' },
    bucketPolicy: v12({ Effect: 'Allow', Principal: { AWS: ROOT_ARN }, Action: 's3:*', Resource: s3('b/*') }),
    action: 's3:GetObject',
    resource: s3('b/k'),
    expect: 'ImplicitDeny',
  },
  {
    name: 'Principal: the account in an Allow delegates to IAM (identity allows)',
    who: alice(v12({ Effect: 'Allow', Action: 's3:GetObject', Resource: s3('b/*') })),
    bucketPolicy: v12({ Effect: 'Allow', Principal: { AWS: ROOT_ARN }, Action: 's3:*', Resource: s3('b/*') }),
    action: 's3:GetObject',
    resource: s3('b/k'),
    expect: 'Allow',
  },
  {
    name: 'Principal: another user named does not grant',
    who: { user: 'alice' },
    bucketPolicy: v12({ Effect: 'Allow', Principal: { AWS: BOB }, Action: 's3:*', Resource: s3('b/*') }),
    action: 's3:GetObject',
    resource: s3('b/k'),
    expect: 'ImplicitDeny',
  },
  {
    name: 'Principal: {"AWS": "*"} grants anyone',
    who: { user: 'alice' },
    bucketPolicy: v12({ Effect: 'Allow', Principal: { AWS: '*' }, Action: 's3:GetObject', Resource: s3('b/*') }),
    action: 's3:GetObject',
    resource: s3('b/k'),
    expect: 'Allow',
  },
  {
    name: 'Principal: a Service principal never matches a user',
    who: { user: 'alice' },
    bucketPolicy: v12({ Effect: 'Allow', Principal: { Service: 'logging.s3.amazonaws.com' }, Action: 's3:PutObject', Resource: s3('b/*') }),
    action: 's3:PutObject',
    resource: s3('b/k'),
    expect: 'ImplicitDeny',
  },

  // --- root ---
  { name: 'root: allowed with no policy at all', who: 'root', action: 's3:DeleteBucket', resource: s3('b'), expect: 'Allow' },
  {
    name: 'root: subject to an explicit Deny for everyone in a bucket policy',
    who: 'root',
    bucketPolicy: denyUnencrypted,
    action: 's3:PutObject',
    resource: s3('b/k'),
    expect: 'ExplicitDeny',
  },
  {
    name: 'root: may always change the policy that denies everything',
    who: 'root',
    bucketPolicy: v12({ Effect: 'Deny', Principal: '*', Action: '*', Resource: '*' }),
    action: 's3:PutBucketPolicy',
    resource: s3('b'),
    expect: 'Allow',
  },
  {
    name: 'root: a user is not exempt from the deny on PutBucketPolicy',
    who: alice(allowAll),
    bucketPolicy: v12({ Effect: 'Deny', Principal: '*', Action: '*', Resource: '*' }),
    action: 's3:PutBucketPolicy',
    resource: s3('b'),
    expect: 'ExplicitDeny',
  },

  // --- KMS key policies (decideWithKeyPolicy) ---
  {
    name: 'KMS default key policy: root is allowed',
    who: 'root',
    keyPolicy: defaultKeyPolicy,
    action: 'kms:ScheduleKeyDeletion',
    resource: KEY,
    expect: 'Allow',
  },
  {
    name: 'KMS default key policy: a user with an identity allow',
    who: alice(v12({ Effect: 'Allow', Action: ['kms:Decrypt', 'kms:GenerateDataKey*'], Resource: KEY })),
    keyPolicy: defaultKeyPolicy,
    action: 'kms:GenerateDataKey',
    resource: KEY,
    expect: 'Allow',
  },
  {
    name: 'KMS default key policy: a user without an identity allow',
    who: alice(v12({ Effect: 'Allow', Action: 's3:*', Resource: '*' })),
    keyPolicy: defaultKeyPolicy,
    action: 'kms:Decrypt',
    resource: KEY,
    expect: 'ImplicitDeny',
  },
  {
    name: 'KMS default key policy: a user whose identity allow is for another key',
    who: alice(v12({ Effect: 'Allow', Action: 'kms:*', Resource: `arn:aws:kms:us-east-1:${ACCOUNT_ID}:key/other` })),
    keyPolicy: defaultKeyPolicy,
    action: 'kms:Decrypt',
    resource: KEY,
    expect: 'ImplicitDeny',
  },
  {
    name: 'KMS key policy naming the user directly: no identity policy needed',
    who: { user: 'alice' },
    keyPolicy: v12({ Effect: 'Allow', Principal: { AWS: ALICE }, Action: ['kms:Encrypt', 'kms:Decrypt'], Resource: '*' }),
    action: 'kms:Decrypt',
    resource: KEY,
    expect: 'Allow',
  },
  {
    name: 'KMS key policy without the account: an identity allow is not enough',
    who: alice(v12({ Effect: 'Allow', Action: 'kms:*', Resource: '*' })),
    keyPolicy: v12({ Effect: 'Allow', Principal: { AWS: BOB }, Action: 'kms:*', Resource: '*' }),
    action: 'kms:Decrypt',
    resource: KEY,
    expect: 'ImplicitDeny',
  },
  {
    name: 'KMS key policy without the account: root is not allowed to use the key',
    who: 'root',
    keyPolicy: v12({ Effect: 'Allow', Principal: { AWS: ALICE }, Action: 'kms:*', Resource: '*' }),
    action: 'kms:Decrypt',
    resource: KEY,
    expect: 'ImplicitDeny',
  },
  {
    name: 'KMS key policy without the account: root may still put the key policy',
    who: 'root',
    keyPolicy: v12({ Effect: 'Allow', Principal: { AWS: ALICE }, Action: 'kms:*', Resource: '*' }),
    action: 'kms:PutKeyPolicy',
    resource: KEY,
    expect: 'Allow',
  },
  {
    name: 'KMS key policy: a Deny for the account covers its users',
    who: alice(v12({ Effect: 'Allow', Action: 'kms:*', Resource: '*' })),
    keyPolicy: v12(
      { Effect: 'Allow', Principal: { AWS: ROOT_ARN }, Action: 'kms:*', Resource: '*' },
      { Effect: 'Deny', Principal: { AWS: ACCOUNT_ID }, Action: 'kms:ScheduleKeyDeletion', Resource: '*' },
    ),
    action: 'kms:ScheduleKeyDeletion',
    resource: KEY,
    expect: 'ExplicitDeny',
  },
  {
    name: 'KMS key policy: an identity Deny beats the key policy allow',
    who: alice(v12({ Effect: 'Deny', Action: 'kms:Decrypt', Resource: '*' })),
    keyPolicy: v12({ Effect: 'Allow', Principal: { AWS: ALICE }, Action: 'kms:*', Resource: '*' }),
    action: 'kms:Decrypt',
    resource: KEY,
    expect: 'ExplicitDeny',
  },
  {
    name: 'KMS key policy: kms:EncryptionContext condition in the key policy',
    who: { user: 'alice' },
    keyPolicy: v12({
      Effect: 'Allow',
      Principal: { AWS: ALICE },
      Action: 'kms:Decrypt',
      Resource: '*',
      Condition: { StringEquals: { 'kms:EncryptionContext:Department': 'IT' } },
    }),
    action: 'kms:Decrypt',
    resource: KEY,
    context: { 'kms:EncryptionContext:Department': ['HR'] },
    expect: 'ImplicitDeny',
  },
  {
    name: 'KMS key policy: kms:ViaService',
    who: { user: 'alice' },
    keyPolicy: v12({
      Effect: 'Allow',
      Principal: { AWS: ALICE },
      Action: 'kms:Decrypt',
      Resource: '*',
      Condition: { StringEquals: { 'kms:ViaService': 's3.us-east-1.amazonaws.com' } },
    }),
    action: 'kms:Decrypt',
    resource: KEY,
    context: { 'kms:ViaService': ['s3.us-east-1.amazonaws.com'] },
    expect: 'Allow',
  },
];

/** Validation: the document, its kind, and the exact message users will see. */
export const INVALID_CASES: { name: string; text: string; kind: 'identity' | 'resource'; message: string | RegExp }[] = [
  { name: 'not JSON', text: '{"Version": ', kind: 'identity', message: 'Policies must be valid JSON' },
  { name: 'not an object', text: '[1]', kind: 'identity', message: 'A policy must be a JSON object' },
  { name: 'unknown top-level field', text: '{"Version":"2012-10-17","Statment":[]}', kind: 'identity', message: 'Unknown field Statment' },
  {
    name: 'bad Version',
    text: '{"Version":"2012-10-18","Statement":[]}',
    kind: 'identity',
    message: 'Invalid Version "2012-10-18": must be "2012-10-17" or "2008-10-17"',
  },
  { name: 'missing Statement', text: '{"Version":"2012-10-17"}', kind: 'identity', message: 'Missing required field Statement' },
  {
    name: 'empty Statement',
    text: '{"Version":"2012-10-17","Statement":[]}',
    kind: 'identity',
    message: 'Statement must not be an empty list',
  },
  {
    name: 'Id not a string',
    text: '{"Id":1,"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}}',
    kind: 'identity',
    message: 'Id must be a string',
  },
  { name: 'statement not an object', text: '{"Statement":["x"]}', kind: 'identity', message: 'Statement 1: a statement must be an object' },
  {
    name: 'unknown statement field',
    text: JSON.stringify({
      Statement: [
        { Effect: 'Allow', Action: 's3:*', Resource: '*' },
        { Effect: 'Allow', Action: 's3:*', Resource: '*', Condtion: {} },
      ],
    }),
    kind: 'identity',
    message: 'Statement 2: Unknown field Condtion',
  },
  {
    name: 'missing Effect',
    text: JSON.stringify({ Statement: { Action: 's3:*', Resource: '*' } }),
    kind: 'identity',
    message: 'Statement 1: Missing required field Effect',
  },
  {
    name: 'bad Effect',
    text: JSON.stringify({ Statement: { Effect: 'allow', Action: 's3:*', Resource: '*' } }),
    kind: 'identity',
    message: 'Statement 1: Effect must be "Allow" or "Deny"',
  },
  {
    name: 'missing Action',
    text: JSON.stringify({ Statement: { Effect: 'Allow', Resource: '*' } }),
    kind: 'identity',
    message: 'Statement 1: Missing required field Action',
  },
  {
    name: 'Action and NotAction',
    text: JSON.stringify({ Statement: { Effect: 'Allow', Action: '*', NotAction: 's3:*', Resource: '*' } }),
    kind: 'identity',
    message: 'Statement 1: Action and NotAction cannot both be present',
  },
  {
    name: 'missing Resource',
    text: JSON.stringify({ Statement: { Effect: 'Allow', Action: 's3:*' } }),
    kind: 'identity',
    message: 'Statement 1: Missing required field Resource',
  },
  {
    name: 'missing Principal in a bucket policy',
    text: JSON.stringify({ Statement: { Effect: 'Allow', Action: 's3:*', Resource: '*' } }),
    kind: 'resource',
    message: 'Statement 1: Missing required field Principal',
  },
  {
    name: 'Principal in an identity policy',
    text: JSON.stringify({ Statement: { Effect: 'Allow', Principal: '*', Action: 's3:*', Resource: '*' } }),
    kind: 'identity',
    message: 'Statement 1: Policy document should not specify a principal',
  },
  {
    name: 'invalid principal',
    text: JSON.stringify({ Statement: { Effect: 'Allow', Principal: { AWS: 'alice' }, Action: 's3:*', Resource: '*' } }),
    kind: 'resource',
    message: 'Statement 1: Invalid principal in policy: "alice"',
  },
  {
    name: 'a wildcard inside a principal ARN',
    text: JSON.stringify({
      Statement: { Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::000000000000:user/*' }, Action: 's3:*', Resource: '*' },
    }),
    kind: 'resource',
    message: 'Statement 1: Invalid principal in policy: "arn:aws:iam::000000000000:user/*"',
  },
  {
    name: 'unknown principal type',
    text: JSON.stringify({ Statement: { Effect: 'Allow', Principal: { IAM: '*' }, Action: 's3:*', Resource: '*' } }),
    kind: 'resource',
    message: 'Statement 1: Invalid principal in policy: unknown principal type IAM',
  },
  {
    name: 'Principal as a bare string other than *',
    text: JSON.stringify({ Statement: { Effect: 'Allow', Principal: ROOT_ARN, Action: 's3:*', Resource: '*' } }),
    kind: 'resource',
    message: 'Statement 1: Invalid principal in policy (Principal)',
  },
  {
    name: 'action without a service prefix',
    text: JSON.stringify({ Statement: { Sid: 'Read', Effect: 'Allow', Action: 'GetObject', Resource: '*' } }),
    kind: 'identity',
    message: 'Statement 1 (Read): Policy has invalid action "GetObject" (no service prefix)',
  },
  {
    name: 'invalid action',
    text: JSON.stringify({ Statement: { Effect: 'Allow', Action: 's3:Get Object', Resource: '*' } }),
    kind: 'identity',
    message: 'Statement 1: Policy has invalid action "s3:Get Object"',
  },
  {
    name: 'empty Action list',
    text: JSON.stringify({ Statement: { Effect: 'Allow', Action: [], Resource: '*' } }),
    kind: 'identity',
    message: 'Statement 1: Action must not be an empty list',
  },
  {
    name: 'Action of the wrong type',
    text: JSON.stringify({ Statement: { Effect: 'Allow', Action: 5, Resource: '*' } }),
    kind: 'identity',
    message: 'Statement 1: Action must be a string or a list of strings',
  },
  {
    name: 'invalid resource ARN',
    text: JSON.stringify({ Statement: { Effect: 'Allow', Action: 's3:*', Resource: 'mybucket/*' } }),
    kind: 'identity',
    message: 'Statement 1: Policy has invalid resource "mybucket/*" (not an ARN)',
  },
  {
    name: 'invalid Condition operator',
    text: JSON.stringify({
      Statement: [
        { Effect: 'Allow', Action: 's3:*', Resource: '*' },
        { Effect: 'Allow', Action: 's3:*', Resource: '*', Condition: { StringEqualz: { 's3:prefix': 'a' } } },
      ],
    }),
    kind: 'identity',
    message: 'Statement 2: Invalid Condition operator StringEqualz',
  },
  {
    name: 'NullIfExists is no operator',
    text: JSON.stringify({
      Statement: { Effect: 'Allow', Action: 's3:*', Resource: '*', Condition: { NullIfExists: { 's3:prefix': 'true' } } },
    }),
    kind: 'identity',
    message: 'Statement 1: Invalid Condition operator NullIfExists',
  },
  {
    name: 'Condition not an object',
    text: JSON.stringify({ Statement: { Effect: 'Allow', Action: 's3:*', Resource: '*', Condition: [] } }),
    kind: 'identity',
    message: 'Statement 1: Condition must be an object',
  },
  {
    name: 'empty condition value list',
    text: JSON.stringify({
      Statement: { Effect: 'Allow', Action: 's3:*', Resource: '*', Condition: { StringEquals: { 's3:prefix': [] } } },
    }),
    kind: 'identity',
    message: 'Statement 1: Condition StringEquals s3:prefix must not be an empty list',
  },
  {
    name: 'a number that is none',
    text: JSON.stringify({
      Statement: { Effect: 'Allow', Action: 's3:*', Resource: '*', Condition: { NumericLessThan: { 's3:max-keys': 'ten' } } },
    }),
    kind: 'identity',
    message: 'Statement 1: Invalid value "ten" for Condition NumericLessThan s3:max-keys',
  },
  {
    name: 'a date that is none',
    text: JSON.stringify({
      Statement: { Effect: 'Allow', Action: 's3:*', Resource: '*', Condition: { DateLessThan: { 'aws:CurrentTime': 'tomorrow' } } },
    }),
    kind: 'identity',
    message: 'Statement 1: Invalid value "tomorrow" for Condition DateLessThan aws:CurrentTime',
  },
  {
    name: 'a CIDR that is none',
    text: JSON.stringify({
      Statement: { Effect: 'Allow', Action: 's3:*', Resource: '*', Condition: { IpAddress: { 'aws:SourceIp': '10.0.0.0/33' } } },
    }),
    kind: 'identity',
    message: 'Statement 1: Invalid value "10.0.0.0/33" for Condition IpAddress aws:SourceIp',
  },
  {
    name: 'Bool not true/false',
    text: JSON.stringify({
      Statement: { Effect: 'Allow', Action: 's3:*', Resource: '*', Condition: { Bool: { 'aws:SecureTransport': 'yes' } } },
    }),
    kind: 'identity',
    message: 'Statement 1: Invalid value "yes" for Condition Bool aws:SecureTransport',
  },
  {
    name: 'Sid not a string',
    text: JSON.stringify({ Statement: { Sid: 1, Effect: 'Allow', Action: 's3:*', Resource: '*' } }),
    kind: 'identity',
    message: 'Statement 1: Sid must be a string',
  },
];
