// Who may use a CMK: the key policy (every key has one, named "default"), judged with the
// caller's identity policies by the one evaluator (iam/policy.ts), and the condition keys a KMS
// request carries. The caller is absent only when the gateway itself acts (rotation, rewrap by
// the operator); those calls are not authorized here.

import { decide, decideWithKeyPolicy, PolicyError, parsePolicy } from '../iam/policy';
import { requestKeys } from '../iam/request-keys';
import { ACCOUNT_ID, type PolicyDocument, type Principal, ROOT_ARN } from '../iam/types';

/** What the request tells about its caller besides the principal: plain data, sent over RPC. */
export interface CallFacts {
  /** The gateway's region: the one key ARNs are judged in. */
  region: string;
  sourceIp?: string;
  secure: boolean;
  /** "s3.<region>.amazonaws.com" when S3 calls the KMS for an SSE-KMS object. */
  viaService?: string;
}

export interface Caller {
  principal: Principal;
  facts: CallFacts;
}

export const DEFAULT_POLICY_NAME = 'default';

/** AWS's key-administrator actions (the console's default key policy, "Allow access for Key Administrators"). */
const KEY_ADMIN_ACTIONS = [
  'kms:Create*',
  'kms:Describe*',
  'kms:Enable*',
  'kms:List*',
  'kms:Put*',
  'kms:Update*',
  'kms:Revoke*',
  'kms:Disable*',
  'kms:Get*',
  'kms:Delete*',
  'kms:TagResource',
  'kms:UntagResource',
  'kms:ScheduleKeyDeletion',
  'kms:CancelKeyDeletion',
  'kms:RotateKeyOnDemand',
];

/** The key policy a key gets when CreateKey names none (and every key created before key policies existed). */
export function defaultKeyPolicy(creator?: Principal): string {
  const statements: object[] = [
    { Sid: 'Enable IAM User Permissions', Effect: 'Allow', Principal: { AWS: ROOT_ARN }, Action: 'kms:*', Resource: '*' },
  ];
  if (creator?.kind === 'user')
    statements.push({
      Sid: 'Allow access for Key Administrators',
      Effect: 'Allow',
      Principal: { AWS: creator.arn },
      Action: KEY_ADMIN_ACTIONS,
      Resource: '*',
    });
  return JSON.stringify({ Version: '2012-10-17', Id: 'key-default-1', Statement: statements }, null, 2);
}

/**
 * The policy of the gateway-managed default key (alias/sealbucket/default), as AWS gives aws/s3:
 * any principal of the account may use it through S3; the account reads it.
 */
export function managedKeyPolicy(): string {
  return JSON.stringify(
    {
      Version: '2012-10-17',
      Id: 'auto-s3-2',
      Statement: [
        {
          Sid: 'Allow access through S3 for all principals in the account that are authorized to use S3',
          Effect: 'Allow',
          Principal: { AWS: '*' },
          Action: ['kms:Encrypt', 'kms:Decrypt', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:DescribeKey'],
          Resource: '*',
          Condition: { StringEquals: { 'kms:CallerAccount': ACCOUNT_ID }, StringLike: { 'kms:ViaService': 's3.*.amazonaws.com' } },
        },
        {
          Sid: 'Allow direct access to key metadata to the account',
          Effect: 'Allow',
          Principal: { AWS: ROOT_ARN },
          Action: ['kms:Describe*', 'kms:Get*', 'kms:List*'],
          Resource: '*',
        },
      ],
    },
    null,
    2,
  );
}

/** Parses a key policy, or throws PolicyError with the evaluator's message. */
export const parseKeyPolicy = (text: string): PolicyDocument => parsePolicy(text, 'resource');

/** The condition keys of one KMS call. */
export function conditionKeys(caller: Caller, encryptionContext?: Record<string, string>): Record<string, string[] | undefined> {
  const keys: Record<string, string[] | undefined> = {
    ...requestKeys({ now: new Date(), secure: caller.facts.secure, sourceIp: caller.facts.sourceIp }),
    'kms:CallerAccount': [ACCOUNT_ID],
    'kms:ViaService': caller.facts.viaService ? [caller.facts.viaService] : undefined,
  };
  if (encryptionContext) {
    const names = Object.keys(encryptionContext);
    if (names.length) keys['kms:EncryptionContextKeys'] = names;
    for (const [k, v] of Object.entries(encryptionContext)) keys[`kms:EncryptionContext:${k}`] = [v];
  }
  return keys;
}

/** A refusal in AWS's words; undefined when the call is allowed. */
export type Refusal = { message: string } | undefined;

function refusal(p: Principal, action: string, resource: string, explicit: boolean, kind: 'resource' | 'identity'): Refusal {
  const why = explicit
    ? `with an explicit deny in a${kind === 'resource' ? ' resource-based' : 'n identity-based'} policy`
    : `because no ${kind === 'resource' ? 'resource-based' : 'identity-based'} policy allows the ${action} action`;
  return { message: `User: ${p.arn} is not authorized to perform: ${action} on resource: ${resource} ${why}` };
}

/** What else decides a key call: the call's own condition keys (CreateGrant's), and whether a grant allows it. */
export interface KeyCallExtras {
  keys?: Record<string, string[] | undefined>;
  /** A grant on the key lets this caller do this action with this encryption context: an Allow beside the key policy. */
  granted?: boolean;
}

/** May the caller perform `action` on the key with ARN `keyArn` under `policyText` (and the key's grants)? */
export function onKey(
  caller: Caller,
  action: string,
  keyArn: string,
  policyText: string,
  ec?: Record<string, string>,
  extras: KeyCallExtras = {},
): Refusal {
  let policy: PolicyDocument;
  try {
    policy = parseKeyPolicy(policyText);
  } catch (e) {
    // A stored policy that no longer parses allows nothing (fail closed); root can still repair it.
    if (!(e instanceof PolicyError)) throw e;
    policy = { version: '2012-10-17', statements: [] };
  }
  const context = { ...conditionKeys(caller, ec), ...extras.keys };
  const d = decideWithKeyPolicy({ principal: caller.principal, action, resource: keyArn, context }, policy);
  // A grant allows; it never overrides an explicit Deny in the key policy or an identity policy.
  if (d === 'ImplicitDeny' && extras.granted) return undefined;
  return d === 'Allow' ? undefined : refusal(caller.principal, action, keyArn, d === 'ExplicitDeny', 'resource');
}

/** May the caller perform an action that has no key (resource "*") or names an alias? Identity policies decide. */
export function onAccount(caller: Caller, action: string, resource = '*'): Refusal {
  const d = decide({ principal: caller.principal, action, resource, context: conditionKeys(caller) });
  return d === 'Allow' ? undefined : refusal(caller.principal, action, resource, d === 'ExplicitDeny', 'identity');
}
