// The one policy evaluator: identity policies, bucket policies and KMS key policies, in IAM's JSON
// policy language. parsePolicy validates a document once (its PolicyError message is what users see
// as MalformedPolicy / MalformedPolicyDocument); decide / decideWithKeyPolicy answer one AuthzRequest.
//
// Evaluation (same account, as AWS documents it):
//   any statement that applies with Effect Deny          -> ExplicitDeny
//   else root, or an identity or resource policy allows   -> Allow
//   else                                                  -> ImplicitDeny
// Root passes every identity check but not an explicit Deny, except for the policy-management
// actions (ROOT_NEVER_DENIED), so that root can always repair a policy that locks everyone out.
// A Principal naming the account (its id or root ARN) covers every principal of it in a Deny; in an
// Allow it delegates to the principal's identity policies.
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

/**
 * AWS's size quotas, for callers to pick theirs. IAM counts user policies without whitespace; S3
 * and KMS count the document as sent.
 */
export const POLICY_LIMITS = {
  inlineUserPolicy: { chars: 2048, ignoreWhitespace: true },
  managedPolicy: { chars: 6144, ignoreWhitespace: true },
  bucketPolicy: { chars: 20 * 1024, ignoreWhitespace: false },
  keyPolicy: { chars: 32 * 1024, ignoreWhitespace: false },
} as const;
export type PolicyLimit = { chars: number; ignoreWhitespace: boolean };

/** The limit parsePolicy applies when the caller names none (the largest a document may be). */
const DEFAULT_LIMIT: PolicyLimit = POLICY_LIMITS.keyPolicy;

/** Actions root may always perform, whatever a Deny says: the way out of a lock-out. */
export const ROOT_NEVER_DENIED = new Set(
  ['s3:PutBucketPolicy', 's3:GetBucketPolicy', 's3:DeleteBucketPolicy', 'kms:PutKeyPolicy', 'kms:GetKeyPolicy'].map((a) => a.toLowerCase()),
);

// ---------------------------------------------------------------------------------------------
// Parsing and validation
// ---------------------------------------------------------------------------------------------

const isObject = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);

function strings(v: unknown, where: string, field: string): string[] {
  const a = Array.isArray(v) ? v : [v];
  if (!a.length) throw new PolicyError(`${where}: ${field} must not be an empty list`);
  if (a.some((x) => typeof x !== 'string')) throw new PolicyError(`${where}: ${field} must be a string or a list of strings`);
  return a as string[];
}

const ACCOUNT_RE = /^\d{12}$/;
// No wildcards inside a principal ARN: AWS accepts only "*" on its own.
const PRINCIPAL_ARN_RE = /^arn:aws:(iam|sts)::\d{12}:(root|(user|role|assumed-role|federated-user)\/[^*?]+)$/;
const PRINCIPAL_TYPES = ['AWS', 'Service', 'Federated', 'CanonicalUser'];

function principalSpec(v: unknown, where: string, field: string): PrincipalSpec {
  if (v === '*') return '*';
  if (!isObject(v) || !Object.keys(v).length) throw new PolicyError(`${where}: Invalid principal in policy (${field})`);
  const out: Record<string, string[]> = {};
  for (const [type, ids] of Object.entries(v)) {
    if (!PRINCIPAL_TYPES.includes(type)) throw new PolicyError(`${where}: Invalid principal in policy: unknown principal type ${type}`);
    out[type] = strings(ids, where, `${field}.${type}`);
    for (const id of out[type]) {
      const ok =
        type === 'AWS'
          ? id === '*' || ACCOUNT_RE.test(id) || PRINCIPAL_ARN_RE.test(id)
          : type === 'Service'
            ? /^[a-z0-9.-]+$/.test(id)
            : id.length > 0;
      if (!ok) throw new PolicyError(`${where}: Invalid principal in policy: ${JSON.stringify(id)}`);
    }
  }
  return out;
}

const ACTION_RE = /^[a-zA-Z0-9-]+:[a-zA-Z0-9*?]+$/;
function validateAction(a: string, where: string): void {
  if (a === '*') return;
  if (!a.includes(':')) throw new PolicyError(`${where}: Policy has invalid action ${JSON.stringify(a)} (no service prefix)`);
  if (!ACTION_RE.test(a)) throw new PolicyError(`${where}: Policy has invalid action ${JSON.stringify(a)}`);
}

/** arn:partition:service:region:account:resource, the resource part possibly holding more colons. */
function validateResource(r: string, where: string): void {
  if (r === '*') return;
  const parts = r.split(':');
  if (parts.length < 6 || parts[0] !== 'arn' || !parts[1] || !parts[2] || !parts.slice(5).join(':'))
    throw new PolicyError(`${where}: Policy has invalid resource ${JSON.stringify(r)} (not an ARN)`);
}

const QUALIFIERS = ['ForAnyValue:', 'ForAllValues:'];

function conditionBlock(v: unknown, where: string): ConditionBlock {
  if (!isObject(v)) throw new PolicyError(`${where}: Condition must be an object`);
  const out: ConditionBlock = {};
  for (const [op, keys] of Object.entries(v)) {
    const o = operatorOf(op);
    if (!o) throw new PolicyError(`${where}: Invalid Condition operator ${op}`);
    if (!isObject(keys) || !Object.keys(keys).length) throw new PolicyError(`${where}: Condition ${op} must map condition keys to values`);
    out[op] = {};
    for (const [key, values] of Object.entries(keys)) {
      if (!key) throw new PolicyError(`${where}: Condition ${op} has an empty condition key`);
      const arr = Array.isArray(values) ? values : [values];
      if (!arr.length) throw new PolicyError(`${where}: Condition ${op} ${key} must not be an empty list`);
      if (arr.some((x) => typeof x !== 'string' && typeof x !== 'number' && typeof x !== 'boolean'))
        throw new PolicyError(`${where}: Condition ${op} ${key}: values must be strings, numbers or booleans`);
      const strs = arr.map(String);
      for (const s of strs)
        if (!s.includes('${') && !o.family.valid(s))
          throw new PolicyError(`${where}: Invalid value ${JSON.stringify(s)} for Condition ${op} ${key}`);
      out[op][key] = strs;
    }
  }
  return out;
}

const STATEMENT_FIELDS = ['Sid', 'Effect', 'Principal', 'NotPrincipal', 'Action', 'NotAction', 'Resource', 'NotResource', 'Condition'];

function statement(v: unknown, kind: PolicyKind, where: string): Statement {
  if (!isObject(v)) throw new PolicyError(`${where}: a statement must be an object`);
  const unknown = Object.keys(v).find((k) => !STATEMENT_FIELDS.includes(k));
  if (unknown) throw new PolicyError(`${where}: Unknown field ${unknown}`);
  const s = v;
  if (s.Effect === undefined) throw new PolicyError(`${where}: Missing required field Effect`);
  if (s.Effect !== 'Allow' && s.Effect !== 'Deny') throw new PolicyError(`${where}: Effect must be "Allow" or "Deny"`);
  const pair = (a: string, notA: string) => {
    if (s[a] !== undefined && s[notA] !== undefined) throw new PolicyError(`${where}: ${a} and ${notA} cannot both be present`);
  };
  pair('Action', 'NotAction');
  pair('Resource', 'NotResource');
  pair('Principal', 'NotPrincipal');
  if (s.Action === undefined && s.NotAction === undefined) throw new PolicyError(`${where}: Missing required field Action`);
  if (s.Resource === undefined && s.NotResource === undefined) throw new PolicyError(`${where}: Missing required field Resource`);
  const hasPrincipal = s.Principal !== undefined || s.NotPrincipal !== undefined;
  if (kind === 'identity' && hasPrincipal) throw new PolicyError(`${where}: Policy document should not specify a principal`);
  if (kind === 'resource' && !hasPrincipal) throw new PolicyError(`${where}: Missing required field Principal`);
  const out: Statement = { effect: s.Effect };
  if (s.Sid !== undefined) {
    if (typeof s.Sid !== 'string') throw new PolicyError(`${where}: Sid must be a string`);
    out.sid = s.Sid;
  }
  if (s.Principal !== undefined) out.principal = principalSpec(s.Principal, where, 'Principal');
  if (s.NotPrincipal !== undefined) out.notPrincipal = principalSpec(s.NotPrincipal, where, 'NotPrincipal');
  if (s.Action !== undefined) out.action = strings(s.Action, where, 'Action');
  if (s.NotAction !== undefined) out.notAction = strings(s.NotAction, where, 'NotAction');
  if (s.Resource !== undefined) out.resource = strings(s.Resource, where, 'Resource');
  if (s.NotResource !== undefined) out.notResource = strings(s.NotResource, where, 'NotResource');
  for (const a of [...(out.action ?? []), ...(out.notAction ?? [])]) validateAction(a, where);
  for (const r of [...(out.resource ?? []), ...(out.notResource ?? [])]) validateResource(r, where);
  if (s.Condition !== undefined) out.condition = conditionBlock(s.Condition, where);
  return out;
}

/**
 * Parses and validates a policy document; throws PolicyError saying what is wrong and where
 * ("Statement 2: ..." counts from 1). `limit` is the caller's size quota (POLICY_LIMITS).
 */
export function parsePolicy(text: string, kind: PolicyKind, limit: PolicyLimit = DEFAULT_LIMIT): PolicyDocument {
  if (typeof text !== 'string') throw new PolicyError('Policies must be valid JSON');
  const size = limit.ignoreWhitespace ? text.replace(/\s/g, '').length : text.length;
  if (size > limit.chars)
    throw new PolicyError(`Policies are limited to ${limit.chars} characters${limit.ignoreWhitespace ? ' (not counting whitespace)' : ''}`);
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw new PolicyError('Policies must be valid JSON');
  }
  if (!isObject(v)) throw new PolicyError('A policy must be a JSON object');
  const unknown = Object.keys(v).find((k) => !['Version', 'Id', 'Statement'].includes(k));
  if (unknown) throw new PolicyError(`Unknown field ${unknown}`);
  // AWS: a policy without Version is read as 2008-10-17, where ${...} is literal text.
  const version = v.Version ?? '2008-10-17';
  if (version !== '2012-10-17' && version !== '2008-10-17')
    throw new PolicyError(`Invalid Version ${JSON.stringify(version)}: must be "2012-10-17" or "2008-10-17"`);
  if (v.Id !== undefined && typeof v.Id !== 'string') throw new PolicyError('Id must be a string');
  if (v.Statement === undefined) throw new PolicyError('Missing required field Statement');
  const raw = Array.isArray(v.Statement) ? v.Statement : [v.Statement];
  if (!raw.length) throw new PolicyError('Statement must not be an empty list');
  const statements = raw.map((s, i) =>
    statement(s, kind, `Statement ${i + 1}${isObject(s) && typeof s.Sid === 'string' && s.Sid ? ` (${s.Sid})` : ''}`),
  );
  return { version, ...(v.Id !== undefined ? { id: v.Id as string } : {}), statements };
}

// ---------------------------------------------------------------------------------------------
// Patterns: wildcards, policy variables
// ---------------------------------------------------------------------------------------------

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const globRe = (literal: string) => escapeRe(literal).replace(/\\\*/g, '.*').replace(/\\\?/g, '.');

/** A pattern split into literal text (with wildcards) and ${...} variables, compiled on first use. */
type Piece = { text: string } | { escaped: string } | { variable: string; fallback?: string };

const VARIABLE_RE = /\$\{([^}]*)\}/g;
const ESCAPES = new Set(['*', '?', '$']);

function pieces(pattern: string, variables: boolean): Piece[] {
  if (!variables || !pattern.includes('${')) return [{ text: pattern }];
  const out: Piece[] = [];
  let last = 0;
  for (const m of pattern.matchAll(VARIABLE_RE)) {
    if (m.index > last) out.push({ text: pattern.slice(last, m.index) });
    const inner = m[1].trim();
    const withDefault = /^([^,]+?)\s*,\s*'((?:[^']|'')*)'$/.exec(inner);
    if (ESCAPES.has(inner)) out.push({ escaped: inner });
    else if (withDefault) out.push({ variable: withDefault[1].toLowerCase(), fallback: withDefault[2].replace(/''/g, "'") });
    else out.push({ variable: inner.toLowerCase() });
    last = m.index + m[0].length;
  }
  if (last < pattern.length) out.push({ text: pattern.slice(last) });
  return out;
}

/** Values the request context and the principal give policy variables and condition keys. */
type Values = Map<string, string[]>;

/**
 * A pattern's regular expression for this request, or undefined when a variable in it has no
 * value (AWS: the element then does not match). A variable's value, and the escapes ${*} ${?} ${$},
 * are literal text; `wild` makes * and ? in the written text wildcards.
 */
function patternRe(ps: Piece[], values: Values, wild: boolean): string | undefined {
  let re = '';
  for (const p of ps) {
    if ('text' in p) re += wild ? globRe(p.text) : escapeRe(p.text);
    else if ('escaped' in p) re += escapeRe(p.escaped);
    else {
      const v = values.get(p.variable);
      // A multivalued key is no variable (AWS); nor is an absent one, unless a default is given.
      const value = v && v.length === 1 ? v[0] : p.fallback;
      if (value === undefined) return undefined;
      re += escapeRe(value);
    }
  }
  return re;
}

const regexCache = new Map<string, RegExp>();
function regex(source: string, flags: string): RegExp {
  const k = `${flags}/${source}`;
  let re = regexCache.get(k);
  if (!re) {
    if (regexCache.size > 2000) regexCache.clear();
    re = new RegExp(`^${source}$`, flags);
    regexCache.set(k, re);
  }
  return re;
}

/** Compiled forms of a document's patterns, kept beside the plain-data document. */
const compiled = new WeakMap<object, Piece[][]>();
function compiledPieces(owner: string[], variables: boolean): Piece[][] {
  let c = compiled.get(owner);
  if (!c) {
    c = owner.map((p) => pieces(p, variables));
    compiled.set(owner, c);
  }
  return c;
}

function matchesAny(patterns: string[], value: string, values: Values, variables: boolean, caseless: boolean): boolean {
  const ps = compiledPieces(patterns, variables);
  return ps.some((p) => {
    const src = patternRe(p, values, true);
    return src !== undefined && regex(src, caseless ? 'is' : 's').test(value);
  });
}

// ---------------------------------------------------------------------------------------------
// Condition operators
// ---------------------------------------------------------------------------------------------

/** One operator family: whether a policy value is valid, and whether a request value matches it. */
interface Family {
  valid: (policyValue: string) => boolean;
  matches: (policyValue: string, requestValue: string, values: Values, variables: boolean) => boolean;
}

const always = () => true;
const num = (s: string) => (/^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$/.test(s) ? Number(s) : Number.NaN);
/** ISO 8601 or epoch seconds, as milliseconds. */
function date(s: string): number {
  if (/^-?\d+(\.\d+)?$/.test(s)) return Number(s) * 1000;
  return /^\d{4}-\d{2}-\d{2}/.test(s) ? Date.parse(s) : Number.NaN;
}

/** A policy value with its variables resolved (literal), or undefined if one has no value. */
function resolved(pv: string, values: Values, variables: boolean): string | undefined {
  if (!variables || !pv.includes('${')) return pv;
  let out = '';
  for (const p of pieces(pv, true)) {
    if ('text' in p) out += p.text;
    else if ('escaped' in p) out += p.escaped;
    else {
      const v = values.get(p.variable);
      const value = v && v.length === 1 ? v[0] : p.fallback;
      if (value === undefined) return undefined;
      out += value;
    }
  }
  return out;
}

const compare =
  (parse: (s: string) => number, test: (a: number, b: number) => boolean): Family['matches'] =>
  (pv, rv, values, variables) => {
    const p = resolved(pv, values, variables);
    if (p === undefined) return false;
    const a = parse(rv);
    const b = parse(p);
    return !Number.isNaN(a) && !Number.isNaN(b) && test(a, b);
  };

const stringFamily = (caseless: boolean): Family => ({
  valid: always,
  matches: (pv, rv, values, variables) => {
    const p = resolved(pv, values, variables);
    return p !== undefined && (caseless ? p.toLowerCase() === rv.toLowerCase() : p === rv);
  },
});

const likeFamily: Family = {
  valid: always,
  matches: (pv, rv, values, variables) => {
    const src = patternRe(pieces(pv, variables), values, true);
    return src !== undefined && regex(src, 's').test(rv);
  },
};

/** ARNs match component by component (arn:partition:service:region:account:resource), case-sensitively. */
const arnFamily = (like: boolean): Family => ({
  valid: (pv) => pv === '*' || pv.split(':').length >= 6,
  matches: (pv, rv, values, variables) => {
    if (pv === '*' && like) return true;
    const p = resolved(pv, values, variables);
    if (p === undefined) return false;
    const pp = p.split(':');
    const rp = rv.split(':');
    if (pp.length < 6 || rp.length < 6) return false;
    const six = (a: string[]) => [...a.slice(0, 5), a.slice(5).join(':')];
    const [ps, rs] = [six(pp), six(rp)];
    return ps.every((x, i) => (like ? regex(globRe(x), 's').test(rs[i]) : x === rs[i]));
  },
});

/** An IPv4 or IPv6 address as a bigint and its width, or undefined. */
function ipBits(addr: string): { value: bigint; bits: number } | undefined {
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(addr)) {
    const o = addr.split('.').map(Number);
    if (o.some((x) => x > 255)) return undefined;
    return { value: o.reduce((acc, x) => (acc << 8n) | BigInt(x), 0n), bits: 32 };
  }
  if (!/^[0-9a-fA-F:.]+$/.test(addr) || !addr.includes(':')) return undefined;
  let a = addr;
  // An embedded IPv4 tail (::ffff:1.2.3.4) becomes two hex groups.
  const v4 = /(\d{1,3}(\.\d{1,3}){3})$/.exec(a);
  if (v4) {
    const t = ipBits(v4[1]);
    if (!t) return undefined;
    a = `${a.slice(0, -v4[1].length)}${(t.value >> 16n).toString(16)}:${(t.value & 0xffffn).toString(16)}`;
  }
  const halves = a.split('::');
  if (halves.length > 2) return undefined;
  const groups = (s: string) => (s ? s.split(':') : []);
  const head = groups(halves[0]);
  const tail = halves.length === 2 ? groups(halves[1]) : [];
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined;
  const all = [...head, ...Array(halves.length === 2 ? missing : 0).fill('0'), ...tail];
  if (all.some((g) => !/^[0-9a-fA-F]{1,4}$/.test(g))) return undefined;
  return { value: all.reduce((acc, g) => (acc << 16n) | BigInt(Number.parseInt(g, 16)), 0n), bits: 128 };
}

function cidr(s: string): { value: bigint; bits: number; prefix: number } | undefined {
  const [addr, len, extra] = s.trim().split('/');
  if (extra !== undefined) return undefined;
  const ip = ipBits(addr);
  if (!ip) return undefined;
  const prefix = len === undefined ? ip.bits : /^\d{1,3}$/.test(len) ? Number(len) : -1;
  if (prefix < 0 || prefix > ip.bits) return undefined;
  return { ...ip, prefix };
}

const ipFamily: Family = {
  valid: (pv) => cidr(pv) !== undefined,
  matches: (pv, rv) => {
    const net = cidr(pv);
    const ip = ipBits(rv.trim());
    if (!net || !ip || net.bits !== ip.bits) return false;
    const shift = BigInt(net.bits - net.prefix);
    return ip.value >> shift === net.value >> shift;
  },
};

const isBool = (s: string) => s.toLowerCase() === 'true' || s.toLowerCase() === 'false';

/** Base operator -> its family and whether it is negated ("matches none of the values"). */
const OPERATORS: Record<string, { family: Family; negated: boolean }> = {
  StringEquals: { family: stringFamily(false), negated: false },
  StringNotEquals: { family: stringFamily(false), negated: true },
  StringEqualsIgnoreCase: { family: stringFamily(true), negated: false },
  StringNotEqualsIgnoreCase: { family: stringFamily(true), negated: true },
  StringLike: { family: likeFamily, negated: false },
  StringNotLike: { family: likeFamily, negated: true },
  NumericEquals: { family: { valid: (p) => !Number.isNaN(num(p)), matches: compare(num, (a, b) => a === b) }, negated: false },
  NumericNotEquals: { family: { valid: (p) => !Number.isNaN(num(p)), matches: compare(num, (a, b) => a === b) }, negated: true },
  NumericLessThan: { family: { valid: (p) => !Number.isNaN(num(p)), matches: compare(num, (a, b) => a < b) }, negated: false },
  NumericLessThanEquals: { family: { valid: (p) => !Number.isNaN(num(p)), matches: compare(num, (a, b) => a <= b) }, negated: false },
  NumericGreaterThan: { family: { valid: (p) => !Number.isNaN(num(p)), matches: compare(num, (a, b) => a > b) }, negated: false },
  NumericGreaterThanEquals: { family: { valid: (p) => !Number.isNaN(num(p)), matches: compare(num, (a, b) => a >= b) }, negated: false },
  DateEquals: { family: { valid: (p) => !Number.isNaN(date(p)), matches: compare(date, (a, b) => a === b) }, negated: false },
  DateNotEquals: { family: { valid: (p) => !Number.isNaN(date(p)), matches: compare(date, (a, b) => a === b) }, negated: true },
  DateLessThan: { family: { valid: (p) => !Number.isNaN(date(p)), matches: compare(date, (a, b) => a < b) }, negated: false },
  DateLessThanEquals: { family: { valid: (p) => !Number.isNaN(date(p)), matches: compare(date, (a, b) => a <= b) }, negated: false },
  DateGreaterThan: { family: { valid: (p) => !Number.isNaN(date(p)), matches: compare(date, (a, b) => a > b) }, negated: false },
  DateGreaterThanEquals: { family: { valid: (p) => !Number.isNaN(date(p)), matches: compare(date, (a, b) => a >= b) }, negated: false },
  Bool: {
    family: {
      valid: isBool,
      matches: (pv, rv, values, variables) => resolved(pv, values, variables)?.toLowerCase() === rv.toLowerCase(),
    },
    negated: false,
  },
  BinaryEquals: { family: { valid: (p) => /^[A-Za-z0-9+/]*={0,2}$/.test(p), matches: (pv, rv) => pv === rv }, negated: false },
  IpAddress: { family: ipFamily, negated: false },
  NotIpAddress: { family: ipFamily, negated: true },
  ArnEquals: { family: arnFamily(false), negated: false },
  ArnNotEquals: { family: arnFamily(false), negated: true },
  ArnLike: { family: arnFamily(true), negated: false },
  ArnNotLike: { family: arnFamily(true), negated: true },
};

const NULL_FAMILY: Family = { valid: isBool, matches: () => false };

interface Operator {
  base: string;
  family: Family;
  negated: boolean;
  ifExists: boolean;
  qualifier?: 'any' | 'all';
}

/** Reads an operator as written ("ForAllValues:StringLikeIfExists"), or undefined if invalid. */
function operatorOf(op: string): Operator | undefined {
  let rest = op;
  let qualifier: Operator['qualifier'];
  for (const q of QUALIFIERS)
    if (rest.startsWith(q)) {
      qualifier = q === 'ForAnyValue:' ? 'any' : 'all';
      rest = rest.slice(q.length);
    }
  const ifExists = rest.endsWith('IfExists');
  const base = ifExists ? rest.slice(0, -'IfExists'.length) : rest;
  if (base === 'Null') return ifExists || qualifier ? undefined : { base, family: NULL_FAMILY, negated: false, ifExists };
  const o = Object.hasOwn(OPERATORS, base) ? OPERATORS[base] : undefined;
  return o ? { base, ...o, ifExists, qualifier } : undefined;
}

/** Whether one condition key holds: AWS's rules for absent keys, negation, and set qualifiers. */
function keyHolds(o: Operator, pvs: string[], rvs: string[] | undefined, values: Values, variables: boolean): boolean {
  if (o.base === 'Null') {
    const absent = rvs === undefined || rvs.length === 0;
    return pvs.some((pv) => (pv.toLowerCase() === 'true') === absent);
  }
  // A policy value whose variable has no value makes the whole condition not match (AWS).
  // IfExists: an absent key passes, whatever the operator or qualifier.
  if ((rvs === undefined || rvs.length === 0) && o.ifExists) return true;
  if (variables && pvs.some((pv) => pv.includes('${') && resolvedOrPattern(o, pv, values) === undefined)) return false;
  const matchesSome = (rv: string) => pvs.some((pv) => o.family.matches(pv, rv, values, variables));
  // A value passes the operator: equals one of the values, or for a negated operator equals none.
  const passes = (rv: string) => (o.negated ? !matchesSome(rv) : matchesSome(rv));
  if (o.qualifier === 'all') return rvs === undefined || rvs.every(passes);
  if (o.qualifier === 'any') return rvs?.some(passes) ?? false;
  if (rvs === undefined || rvs.length === 0) return o.ifExists || o.negated;
  return o.negated ? !rvs.some(matchesSome) : rvs.some(matchesSome);
}

const resolvedOrPattern = (o: Operator, pv: string, values: Values) =>
  o.family === likeFamily ? patternRe(pieces(pv, true), values, true) : resolved(pv, values, true);

function conditionsHold(block: ConditionBlock | undefined, values: Values, variables: boolean): boolean {
  if (!block) return true;
  return Object.entries(block).every(([op, keys]) => {
    const o = operatorOf(op);
    if (!o) return false;
    return Object.entries(keys).every(([key, pvs]) => keyHolds(o, pvs, values.get(key.toLowerCase()), values, variables));
  });
}

/**
 * The request's condition keys, lowercased, with what the principal itself says (aws:username,
 * aws:userid, aws:PrincipalArn, aws:PrincipalAccount, aws:PrincipalType) where the caller gave none.
 */
const contexts = new WeakMap<AuthzRequest, Values>();
function valuesOf(req: AuthzRequest): Values {
  let m = contexts.get(req);
  if (m) return m;
  m = new Map();
  const p = req.principal;
  m.set('aws:principalarn', [p.arn]);
  m.set('aws:principalaccount', [ACCOUNT_ID]);
  m.set('aws:principaltype', [p.kind === 'root' ? 'Account' : 'User']);
  m.set('aws:userid', [p.kind === 'root' ? ACCOUNT_ID : p.userId]);
  if (p.kind === 'user') m.set('aws:username', [p.userName]);
  for (const [k, v] of Object.entries(req.context)) if (v !== undefined) m.set(k.toLowerCase(), v);
  contexts.set(req, m);
  return m;
}

// ---------------------------------------------------------------------------------------------
// Principals and statements
// ---------------------------------------------------------------------------------------------

const namesAccountId = (id: string) => id === ACCOUNT_ID || id === ROOT_ARN;

/** Whether a Principal element names this principal itself ("*", its ARN; the account names root). */
function namesPrincipal(spec: PrincipalSpec, p: Principal): boolean {
  if (spec === '*') return true;
  return (spec.AWS ?? []).some((id) => id === '*' || id === p.arn || (p.kind === 'root' && namesAccountId(id)));
}

/** Whether a Principal element names the account itself, which covers every principal in it. */
const namesAccount = (spec: PrincipalSpec) => spec === '*' || (spec.AWS ?? []).some((id) => id === '*' || namesAccountId(id));

/**
 * NotPrincipal excludes a principal only if it names the principal and its account: AWS evaluates
 * a user's request for the user and for the account it belongs to, so naming the user alone still
 * leaves the account, and the statement applies.
 */
const excludedBy = (spec: PrincipalSpec, p: Principal) => namesPrincipal(spec, p) && namesAccount(spec);

/**
 * Whether a statement applies. `account` also lets a Principal that names the account cover any
 * principal in it: always so for a Deny; for an Allow it is a delegation to the principal's own
 * identity policies, which the callers below weigh separately.
 */
function applies(s: Statement, req: AuthzRequest, variables: boolean, account = false): boolean {
  const p = req.principal;
  if (s.principal && !namesPrincipal(s.principal, p) && !(account && namesAccount(s.principal))) return false;
  if (s.notPrincipal && excludedBy(s.notPrincipal, p)) return false;
  const values = valuesOf(req);
  if (s.action && !matchesAny(s.action, req.action, values, false, true)) return false;
  if (s.notAction && matchesAny(s.notAction, req.action, values, false, true)) return false;
  if (s.resource && !matchesAny(s.resource, req.resource, values, variables, false)) return false;
  if (s.notResource && matchesAny(s.notResource, req.resource, values, variables, false)) return false;
  return conditionsHold(s.condition, values, variables);
}

/** Policy variables are read only in documents of Version 2012-10-17. */
const hasVariables = (doc: PolicyDocument) => doc.version === '2012-10-17';

/** What one document says about a request: an explicit deny beats an allow within it. */
export function judge(doc: PolicyDocument, req: AuthzRequest): 'deny' | 'allow' | 'none' {
  const variables = hasVariables(doc);
  let allow = false;
  for (const st of doc.statements) {
    if (st.effect === 'Deny' ? applies(st, req, variables, true) : applies(st, req, variables)) {
      if (st.effect === 'Deny') return 'deny';
      allow = true;
    }
  }
  return allow ? 'allow' : 'none';
}

const identityPolicies = (p: Principal): PolicyDocument[] => (p.kind === 'user' ? p.policies : []);
const rootNeverDenied = (req: AuthzRequest) => req.principal.kind === 'root' && ROOT_NEVER_DENIED.has(req.action.toLowerCase());

/** S3, IAM and admin requests: identity policies and (optionally) the resource's policy. */
export function decide(req: AuthzRequest, resourcePolicy?: PolicyDocument): Decision {
  if (rootNeverDenied(req)) return 'Allow';
  const verdicts = [...identityPolicies(req.principal), ...(resourcePolicy ? [resourcePolicy] : [])].map((d) => judge(d, req));
  if (verdicts.includes('deny')) return 'ExplicitDeny';
  if (req.principal.kind === 'root' || verdicts.includes('allow')) return 'Allow';
  return 'ImplicitDeny';
}

/** KMS requests: the key policy decides, delegating to identity policies where it allows the account. */
export function decideWithKeyPolicy(req: AuthzRequest, keyPolicy: PolicyDocument): Decision {
  if (rootNeverDenied(req)) return 'Allow';
  const identity = identityPolicies(req.principal).map((d) => judge(d, req));
  if (identity.includes('deny') || judge(keyPolicy, req) === 'deny') return 'ExplicitDeny';
  const variables = hasVariables(keyPolicy);
  let direct = false;
  let delegated = false;
  for (const st of keyPolicy.statements) {
    if (st.effect !== 'Allow') continue;
    if (applies(st, req, variables)) direct = true;
    else if (applies(st, req, variables, true)) delegated = true;
  }
  if (direct || (delegated && identity.includes('allow'))) return 'Allow';
  return 'ImplicitDeny';
}
