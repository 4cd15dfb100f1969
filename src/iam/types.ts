// Who is asking, and the policy language that decides what they may do (IAM's JSON policy
// grammar, parsed once by policy.ts into the types below).

/** The account every ARN the gateway produces names: one deployment is one account. */
export const ACCOUNT_ID = '000000000000';
export const ROOT_ARN = `arn:aws:iam::${ACCOUNT_ID}:root`;
export const userArn = (userName: string, path = '/'): string => `arn:aws:iam::${ACCOUNT_ID}:user${path}${userName}`;

/**
 * The identity a verified signature belongs to. The credential pairs from the secret store are the
 * account's root; every other access key belongs to an IAM user, whose identity policies (inline and
 * attached, already parsed) travel with it so that one request needs no second lookup.
 */
export type Principal =
  | { kind: 'root'; accessKeyId: string; arn: string }
  | { kind: 'user'; accessKeyId: string; arn: string; userName: string; userId: string; policies: PolicyDocument[] };

export type Effect = 'Allow' | 'Deny';

/** A statement's Principal / NotPrincipal: "*" (anyone), or lists per principal type ("AWS", "Service", ...). */
export type PrincipalSpec = '*' | Record<string, string[]>;

/** Condition block: operator (as written, e.g. "StringEqualsIfExists", "ForAnyValue:StringLike") -> key -> values. */
export type ConditionBlock = Record<string, Record<string, string[]>>;

export interface Statement {
  sid?: string;
  effect: Effect;
  principal?: PrincipalSpec;
  notPrincipal?: PrincipalSpec;
  action?: string[];
  notAction?: string[];
  resource?: string[];
  notResource?: string[];
  condition?: ConditionBlock;
}

export interface PolicyDocument {
  version: '2012-10-17' | '2008-10-17';
  id?: string;
  statements: Statement[];
}

/** One authorization question: may `principal` perform `action` on `resource`, given these condition keys? */
export interface AuthzRequest {
  principal: Principal;
  /** "s3:GetObject", "kms:Decrypt", "iam:CreateUser", "sealbucket:Rotate" ... */
  action: string;
  /** The resource ARN ("arn:aws:s3:::bucket/key", a key ARN, "*" where an action has none). */
  resource: string;
  /**
   * Condition keys with their values for this request. Names are matched case-insensitively
   * (policy.ts lowercases both sides); an absent key is undefined, which Null and ...IfExists see.
   */
  context: Record<string, string[] | undefined>;
}

/** The result of evaluation: an explicit Deny, an Allow, or nothing allowed it (the implicit deny). */
export type Decision = 'Allow' | 'ExplicitDeny' | 'ImplicitDeny';
