// The one policy evaluator: identity policies, bucket policies and KMS key policies, in IAM's JSON
// policy language. parsePolicy validates a document once (MalformedPolicy text on failure);
// decide / decideWithKeyPolicy answer one AuthzRequest.
//
// Evaluation (same account, as AWS documents it):
//   any statement that applies with Effect Deny          -> ExplicitDeny
//   else root, or an identity or resource policy allows   -> Allow
//   else                                                  -> ImplicitDeny
// KMS keys: the key policy must allow, either the principal itself or the account (the root ARN),
// and in the latter case the principal's identity policy must allow too (root needs none).

import {
  ACCOUNT_ID,
  type AuthzRequest,
  type ConditionBlock,
  type Decision,
  type PolicyDocument,
  type Principal,
  type PrincipalSpec,
  ROOT_ARN,
  type Statement,
} from './types';

/** A policy that cannot be parsed or is not valid for its kind; the message says what is wrong. */
export class PolicyError extends Error {}

/** Identity policies carry no Principal; resource (bucket, key) policies must. */
export type PolicyKind = 'identity' | 'resource';

const MAX_POLICY_BYTES = 20 * 1024;

const list = (v: unknown, what: string): string[] => {
  const a = Array.isArray(v) ? v : [v];
  if (!a.length || a.some((x) => typeof x !== 'string')) throw new PolicyError(`${what} must be a string or a list of strings`);
  return a as string[];
};

function principalSpec(v: unknown, what: string): PrincipalSpec {
  if (v === '*') return '*';
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new PolicyError(`${what} must be "*" or an object such as {"AWS": [...]}`);
  const out: Record<string, string[]> = {};
  for (const [type, ids] of Object.entries(v)) out[type] = list(ids, `${what}.${type}`);
  return out;
}

function conditionBlock(v: unknown): ConditionBlock {
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new PolicyError('Condition must be an object');
  const out: ConditionBlock = {};
  for (const [op, keys] of Object.entries(v)) {
    if (!operatorOf(op)) throw new PolicyError(`Invalid Condition operator: ${op}`);
    if (!keys || typeof keys !== 'object' || Array.isArray(keys)) throw new PolicyError(`Condition ${op} must map keys to values`);
    out[op] = {};
    for (const [key, values] of Object.entries(keys)) {
      const arr = Array.isArray(values) ? values : [values];
      if (arr.some((x) => typeof x !== 'string' && typeof x !== 'number' && typeof x !== 'boolean'))
        throw new PolicyError(`Condition ${op} ${key}: values must be strings, numbers or booleans`);
      out[op][key] = arr.map(String);
    }
  }
  return out;
}

function statement(v: unknown, kind: PolicyKind, i: number): Statement {
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new PolicyError(`Statement ${i} must be an object`);
  const s = v as Record<string, unknown>;
  const known = ['Sid', 'Effect', 'Principal', 'NotPrincipal', 'Action', 'NotAction', 'Resource', 'NotResource', 'Condition'];
  const unknown = Object.keys(s).find((k) => !known.includes(k));
  if (unknown) throw new PolicyError(`Statement ${i}: unknown field ${unknown}`);
  if (s.Effect !== 'Allow' && s.Effect !== 'Deny') throw new PolicyError(`Statement ${i}: Effect must be "Allow" or "Deny"`);
  if ((s.Action === undefined) === (s.NotAction === undefined))
    throw new PolicyError(`Statement ${i}: exactly one of Action and NotAction`);
  if ((s.Resource === undefined) === (s.NotResource === undefined))
    throw new PolicyError(`Statement ${i}: exactly one of Resource and NotResource`);
  const hasPrincipal = s.Principal !== undefined || s.NotPrincipal !== undefined;
  if (kind === 'identity' && hasPrincipal) throw new PolicyError(`Statement ${i}: an identity policy has no Principal`);
  if (kind === 'resource' && !hasPrincipal) throw new PolicyError(`Statement ${i}: Missing required field Principal`);
  const out: Statement = { effect: s.Effect };
  if (s.Sid !== undefined) {
    if (typeof s.Sid !== 'string') throw new PolicyError(`Statement ${i}: Sid must be a string`);
    out.sid = s.Sid;
  }
  if (s.Principal !== undefined) out.principal = principalSpec(s.Principal, 'Principal');
  if (s.NotPrincipal !== undefined) out.notPrincipal = principalSpec(s.NotPrincipal, 'NotPrincipal');
  if (s.Action !== undefined) out.action = list(s.Action, 'Action');
  if (s.NotAction !== undefined) out.notAction = list(s.NotAction, 'NotAction');
  if (s.Resource !== undefined) out.resource = list(s.Resource, 'Resource');
  if (s.NotResource !== undefined) out.notResource = list(s.NotResource, 'NotResource');
  for (const a of [...(out.action ?? []), ...(out.notAction ?? [])])
    if (a !== '*' && !/^[a-zA-Z0-9-]+:[a-zA-Z0-9*?]+$/.test(a)) throw new PolicyError(`Invalid action: ${a}`);
  for (const r of [...(out.resource ?? []), ...(out.notResource ?? [])])
    if (r !== '*' && !r.startsWith('arn:')) throw new PolicyError(`Invalid resource: ${r}`);
  if (s.Condition !== undefined) out.condition = conditionBlock(s.Condition);
  return out;
}

/** Parses and validates a policy document; throws PolicyError with what is wrong. */
export function parsePolicy(text: string, kind: PolicyKind): PolicyDocument {
  if (new TextEncoder().encode(text).length > MAX_POLICY_BYTES) throw new PolicyError(`Policies are limited to ${MAX_POLICY_BYTES} bytes`);
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw new PolicyError('Policies must be valid JSON');
  }
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new PolicyError('A policy must be a JSON object');
  const d = v as Record<string, unknown>;
  const unknown = Object.keys(d).find((k) => !['Version', 'Id', 'Statement'].includes(k));
  if (unknown) throw new PolicyError(`Unknown field ${unknown}`);
  const version = d.Version ?? '2008-10-17';
  if (version !== '2012-10-17' && version !== '2008-10-17') throw new PolicyError('Version must be "2012-10-17" or "2008-10-17"');
  if (d.Id !== undefined && typeof d.Id !== 'string') throw new PolicyError('Id must be a string');
  if (d.Statement === undefined) throw new PolicyError('Missing required field Statement');
  const raw = Array.isArray(d.Statement) ? d.Statement : [d.Statement];
  if (!raw.length) throw new PolicyError('Statement must not be empty');
  return { version, ...(d.Id ? { id: d.Id as string } : {}), statements: raw.map((s, i) => statement(s, kind, i)) };
}

// --- matching ---

/** "*" and "?" wildcards; everything else literal. */
function glob(pattern: string, value: string, caseless: boolean): boolean {
  const re = new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
    caseless ? 'is' : 's',
  );
  return re.test(value);
}

const matchAction = (patterns: string[], action: string) => patterns.some((p) => glob(p, action, true));
const matchResource = (patterns: string[], resource: string) => patterns.some((p) => p === '*' || glob(p, resource, false));

/** Whether a Principal element names this principal. The account (its id or root ARN) names root. */
function namesPrincipal(spec: PrincipalSpec, p: Principal): boolean {
  if (spec === '*') return true;
  return (spec.AWS ?? []).some((id) => id === '*' || id === p.arn || (p.kind === 'root' && namesAccountId(id)));
}

const namesAccountId = (id: string) => id === ACCOUNT_ID || id === ROOT_ARN;
/** Whether a Principal element names the account itself, which covers every principal in it. */
const namesAccount = (spec: PrincipalSpec | undefined) => spec !== undefined && spec !== '*' && (spec.AWS ?? []).some(namesAccountId);

type OperatorTest = (policyValues: string[], requestValues: string[]) => boolean;
const anyOf =
  (f: (pv: string, rv: string) => boolean): OperatorTest =>
  (pvs, rvs) =>
    rvs.some((rv) => pvs.some((pv) => f(pv, rv)));
const OPERATORS: Record<string, OperatorTest> = {
  StringEquals: anyOf((p, r) => p === r),
  StringNotEquals: (pvs, rvs) => !anyOf((p, r) => p === r)(pvs, rvs),
  StringLike: anyOf((p, r) => glob(p, r, false)),
  StringNotLike: (pvs, rvs) => !anyOf((p, r) => glob(p, r, false))(pvs, rvs),
  Bool: anyOf((p, r) => p.toLowerCase() === r.toLowerCase()),
};

function operatorOf(op: string): { test: OperatorTest | 'null'; ifExists: boolean } | undefined {
  const ifExists = op.endsWith('IfExists');
  const base = ifExists ? op.slice(0, -'IfExists'.length) : op;
  if (base === 'Null') return ifExists ? undefined : { test: 'null', ifExists };
  const test = Object.hasOwn(OPERATORS, base) ? OPERATORS[base] : undefined;
  return test ? { test, ifExists } : undefined;
}

function conditionsHold(block: ConditionBlock | undefined, context: AuthzRequest['context']): boolean {
  if (!block) return true;
  const ctx = new Map(Object.entries(context).map(([k, v]) => [k.toLowerCase(), v]));
  return Object.entries(block).every(([op, keys]) => {
    const o = operatorOf(op);
    if (!o) return false;
    return Object.entries(keys).every(([key, pvs]) => {
      const rvs = ctx.get(key.toLowerCase());
      if (o.test === 'null') return pvs.some((pv) => (pv.toLowerCase() === 'true') === (rvs === undefined));
      if (rvs === undefined) return o.ifExists;
      return o.test(pvs, rvs);
    });
  });
}

/**
 * Whether a statement applies. `account` also lets a Principal that names the account cover any
 * principal in it: always so for a Deny; for an Allow it is a delegation to the principal's own
 * identity policies, which the callers below weigh separately.
 */
function applies(s: Statement, req: AuthzRequest, account = false): boolean {
  if (s.principal && !namesPrincipal(s.principal, req.principal) && !(account && namesAccount(s.principal))) return false;
  if (s.notPrincipal && namesPrincipal(s.notPrincipal, req.principal)) return false;
  if (s.action && !matchAction(s.action, req.action)) return false;
  if (s.notAction && matchAction(s.notAction, req.action)) return false;
  if (s.resource && !matchResource(s.resource, req.resource)) return false;
  if (s.notResource && matchResource(s.notResource, req.resource)) return false;
  return conditionsHold(s.condition, req.context);
}

/** What one document says about a request: an explicit deny beats an allow within it. */
export function judge(doc: PolicyDocument, req: AuthzRequest): 'deny' | 'allow' | 'none' {
  let allow = false;
  for (const st of doc.statements) {
    if (st.effect === 'Deny' ? applies(st, req, true) : applies(st, req)) {
      if (st.effect === 'Deny') return 'deny';
      allow = true;
    }
  }
  return allow ? 'allow' : 'none';
}

const identityPolicies = (p: Principal): PolicyDocument[] => (p.kind === 'user' ? p.policies : []);

/** S3, IAM and admin requests: identity policies and (optionally) the resource's policy. */
export function decide(req: AuthzRequest, resourcePolicy?: PolicyDocument): Decision {
  const verdicts = [...identityPolicies(req.principal), ...(resourcePolicy ? [resourcePolicy] : [])].map((d) => judge(d, req));
  if (verdicts.includes('deny')) return 'ExplicitDeny';
  if (req.principal.kind === 'root' || verdicts.includes('allow')) return 'Allow';
  return 'ImplicitDeny';
}

/** KMS requests: the key policy decides, delegating to identity policies where it allows the account. */
export function decideWithKeyPolicy(req: AuthzRequest, keyPolicy: PolicyDocument): Decision {
  const identity = identityPolicies(req.principal).map((d) => judge(d, req));
  if (identity.includes('deny') || judge(keyPolicy, req) === 'deny') return 'ExplicitDeny';
  let direct = false;
  let delegated = false;
  for (const st of keyPolicy.statements) {
    if (st.effect !== 'Allow') continue;
    if (applies(st, req)) direct = true;
    else if (applies(st, req, true)) delegated = true;
  }
  if (direct || (delegated && identity.includes('allow'))) return 'Allow';
  return 'ImplicitDeny';
}
