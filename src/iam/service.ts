// IAM users, their access keys, inline policies, managed policies and attachments, in the SQLite
// storage of one Durable Object (./durable.ts). Every method runs inside that object, and its
// synchronous runs of sql.exec are atomic, so the names, limits and conflicts below hold exactly.
//
// Secret access keys are stored only sealed (AES-256-GCM, the access key id as associated data)
// under a key the object derives from the KMS root key; `seal` / `unseal` are given to the service.

import { randomBytes, toB64 } from '../crypto/bytes';
import { PolicyError, parsePolicy } from './policy';
import { ACCOUNT_ID, userArn } from './types';

/** An IAM query-protocol error: `<Error><Type>Sender</Type><Code>code</Code><Message>`. */
export class IamError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

export const noSuchEntity = (m: string) => new IamError('NoSuchEntity', m, 404);
const alreadyExists = (m: string) => new IamError('EntityAlreadyExists', m, 409);
const limitExceeded = (m: string) => new IamError('LimitExceeded', m, 409);
const deleteConflict = (m: string) => new IamError('DeleteConflict', m, 409);
export const validationError = (m: string) => new IamError('ValidationError', m, 400);

// IAM's quotas (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html).
export const LIMITS = {
  usersPerAccount: 5000,
  accessKeysPerUser: 2,
  managedPoliciesPerAccount: 1500,
  attachedPoliciesPerUser: 10,
  /** Characters of a user's inline policies together, whitespace not counted. */
  inlinePolicyChars: 2048,
  managedPolicyChars: 6144,
};

const NAME = /^[\w+=,.@-]{1,64}$/;
const POLICY_NAME = /^[\w+=,.@-]{1,128}$/;
const PATH = /^(\/|\/[\u0021-\u007e]{1,510}\/)$/;
const KEY_ID = /^[\w]{16,128}$/;
const POLICY_ARN = new RegExp(`^arn:aws:iam::${ACCOUNT_ID}:policy(/|/[\\u0021-\\u007e]*/)([\\w+=,.@-]{1,128})$`);

/** Our access key ids: AKIA (an IAM user's long-term key), then SEAL and 12 characters of base32. */
export const ACCESS_KEY_PREFIX = 'AKIASEAL';
const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const USER_KEY_ID = /^AKIASEAL[A-Z2-7]{12}$/;
export const isUserKeyId = (id: string): boolean => USER_KEY_ID.test(id);
const base32 = (n: number) => [...randomBytes(n)].map((b) => BASE32[b & 31]).join('');
/** Unique ids as IAM shapes them: a 4-letter kind (AIDA user, ANPA policy) and 17 characters. */
const uniqueId = (kind: string) => kind + base32(17);

export const policyArn = (name: string, path = '/') => `arn:aws:iam::${ACCOUNT_ID}:policy${path}${name}`;

/** IAM's timestamps: ISO 8601 in UTC, whole seconds. */
export const isoDate = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

export interface User {
  Path: string;
  UserName: string;
  UserId: string;
  Arn: string;
  CreateDate: string;
}

export interface AccessKeyMetadata {
  UserName: string;
  AccessKeyId: string;
  Status: 'Active' | 'Inactive';
  CreateDate: string;
}

export interface ManagedPolicy {
  PolicyName: string;
  PolicyId: string;
  Arn: string;
  Path: string;
  DefaultVersionId: string;
  AttachmentCount: number;
  PermissionsBoundaryUsageCount: number;
  IsAttachable: boolean;
  Description?: string;
  CreateDate: string;
  UpdateDate: string;
}

/** One page of a list, with IAM's Marker / IsTruncated. */
export interface Page<T> {
  items: T[];
  IsTruncated: boolean;
  Marker?: string;
}

/** What authentication needs of one access key: its secret and its user with every policy's text. */
export interface KeyRecord {
  secret: string;
  userName: string;
  userId: string;
  arn: string;
  /** Inline policies, then attached managed policies, as stored (validated on write). */
  policies: string[];
}

export interface Sealing {
  seal(accessKeyId: string, secret: string): Promise<Uint8Array>;
  unseal(accessKeyId: string, sealed: Uint8Array): Promise<string>;
}

type UserRow = { name: string; id: string; path: string; created: number };
type KeyRow = { id: string; user_name: string; status: string; created: number; sealed: ArrayBuffer };
type PolicyRow = { name: string; id: string; path: string; description: string | null; document: string; created: number; updated: number };

const SCHEMA = `
CREATE TABLE IF NOT EXISTS users (name TEXT PRIMARY KEY COLLATE NOCASE, id TEXT NOT NULL UNIQUE, path TEXT NOT NULL, created INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS access_keys (id TEXT PRIMARY KEY, user_name TEXT NOT NULL COLLATE NOCASE, status TEXT NOT NULL,
  created INTEGER NOT NULL, sealed BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS access_keys_user ON access_keys (user_name);
CREATE TABLE IF NOT EXISTS user_policies (user_name TEXT NOT NULL COLLATE NOCASE, name TEXT NOT NULL, document TEXT NOT NULL,
  PRIMARY KEY (user_name, name));
CREATE TABLE IF NOT EXISTS policies (name TEXT PRIMARY KEY COLLATE NOCASE, id TEXT NOT NULL UNIQUE, path TEXT NOT NULL,
  description TEXT, document TEXT NOT NULL, created INTEGER NOT NULL, updated INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS attachments (user_name TEXT NOT NULL COLLATE NOCASE, policy_name TEXT NOT NULL COLLATE NOCASE,
  PRIMARY KEY (user_name, policy_name));
`;

/** IAM's wording for a parameter that fails its pattern or length. */
function check(value: string | undefined, param: string, pattern: RegExp): string {
  if (value === undefined || value === '')
    throw validationError(`1 validation error detected: Value null at '${param}' failed to satisfy constraint: Member must not be null`);
  if (!pattern.test(value))
    throw validationError(
      `1 validation error detected: Value '${value.slice(0, 200)}' at '${param}' failed to satisfy constraint: Member must satisfy regular expression pattern: ${pattern.source.replace(/^\^|\$$/g, '')}`,
    );
  return value;
}

/** The page of sorted `all` after `marker` (opaque to clients: the base64 of the last name given). */
function page<T>(all: T[], nameOf: (t: T) => string, marker: string | undefined, maxItems: string | undefined): Page<T> {
  let max = 100;
  if (maxItems !== undefined) {
    max = Number(maxItems);
    if (!Number.isInteger(max) || max < 1 || max > 1000)
      throw validationError(
        `1 validation error detected: Value '${maxItems}' at 'maxItems' failed to satisfy constraint: Member must have value between 1 and 1000`,
      );
  }
  let start = 0;
  if (marker !== undefined) {
    let after: string;
    try {
      after = new TextDecoder().decode(Uint8Array.from(atob(marker), (c) => c.charCodeAt(0)));
    } catch {
      throw validationError('Invalid Marker.');
    }
    start = all.findIndex((t) => nameOf(t).toLowerCase() > after.toLowerCase());
    if (start < 0) start = all.length;
  }
  const items = all.slice(start, start + max);
  const truncated = start + max < all.length;
  return {
    items,
    IsTruncated: truncated,
    ...(truncated ? { Marker: toB64(new TextEncoder().encode(nameOf(items[items.length - 1]))) } : {}),
  };
}

/** A policy document as IAM accepts it: the policy language (policy.ts) and IAM's size quota. */
function validPolicy(text: string | undefined, maxChars: number, quota: string): string {
  if (text === undefined || text === '')
    throw validationError(
      "1 validation error detected: Value null at 'policyDocument' failed to satisfy constraint: Member must not be null",
    );
  try {
    parsePolicy(text, 'identity');
  } catch (e) {
    if (e instanceof PolicyError) throw new IamError('MalformedPolicyDocument', e.message, 400);
    throw e;
  }
  if (text.replace(/\s/g, '').length > maxChars) throw limitExceeded(`Cannot exceed quota for ${quota}: ${maxChars}`);
  return text;
}

export class IamService {
  constructor(
    private sql: SqlStorage,
    private sealing: Sealing,
    private now: () => number = Date.now,
  ) {
    sql.exec(SCHEMA);
  }

  private userRow(name: string | undefined): UserRow {
    const n = check(name, 'userName', NAME);
    const row = this.sql.exec<UserRow>('SELECT * FROM users WHERE name = ?', n).toArray()[0];
    if (!row) throw noSuchEntity(`The user with name ${n} cannot be found.`);
    return row;
  }

  private user(row: UserRow): User {
    return { Path: row.path, UserName: row.name, UserId: row.id, Arn: userArn(row.name, row.path), CreateDate: isoDate(row.created) };
  }

  /** The ARN of a user by name, as stored (with its path); the name's own ARN when there is no such user. */
  arnOf(name: string): string {
    const row = this.sql.exec<UserRow>('SELECT * FROM users WHERE name = ?', name).toArray()[0];
    return row ? userArn(row.name, row.path) : userArn(name);
  }

  // ---- users

  createUser(p: Record<string, string>): User {
    const name = check(p.UserName, 'userName', NAME);
    const path = p.Path === undefined ? '/' : check(p.Path, 'path', PATH);
    if (this.sql.exec('SELECT 1 FROM users WHERE name = ?', name).toArray().length)
      throw alreadyExists(`User with name ${name} already exists.`);
    const count = this.sql.exec<{ n: number }>('SELECT COUNT(*) AS n FROM users').one().n;
    if (count >= LIMITS.usersPerAccount) throw limitExceeded(`Cannot exceed quota for UsersPerAccount: ${LIMITS.usersPerAccount}`);
    const row: UserRow = { name, id: uniqueId('AIDA'), path, created: this.now() };
    this.sql.exec('INSERT INTO users (name, id, path, created) VALUES (?, ?, ?, ?)', row.name, row.id, row.path, row.created);
    return this.user(row);
  }

  getUser(p: Record<string, string>): User {
    return this.user(this.userRow(p.UserName));
  }

  listUsers(p: Record<string, string>): Page<User> {
    const prefix = p.PathPrefix === undefined ? '/' : check(p.PathPrefix, 'pathPrefix', /^\/[\u0021-\u007e]{0,511}$/);
    const rows = this.sql.exec<UserRow>('SELECT * FROM users ORDER BY name COLLATE NOCASE').toArray();
    return page(
      rows.filter((r) => r.path.startsWith(prefix)).map((r) => this.user(r)),
      (u) => u.UserName,
      p.Marker,
      p.MaxItems,
    );
  }

  deleteUser(p: Record<string, string>): void {
    const u = this.userRow(p.UserName);
    const has = (table: string) => this.sql.exec(`SELECT 1 FROM ${table} WHERE user_name = ? LIMIT 1`, u.name).toArray().length > 0;
    if (has('access_keys')) throw deleteConflict('Cannot delete entity, must delete access keys first.');
    if (has('user_policies')) throw deleteConflict('Cannot delete entity, must delete policies first.');
    if (has('attachments')) throw deleteConflict('Cannot delete entity, must detach all policies first.');
    this.sql.exec('DELETE FROM users WHERE name = ?', u.name);
  }

  // ---- access keys

  async createAccessKey(p: Record<string, string>): Promise<AccessKeyMetadata & { SecretAccessKey: string }> {
    const u = this.userRow(p.UserName);
    const count = this.sql.exec<{ n: number }>('SELECT COUNT(*) AS n FROM access_keys WHERE user_name = ?', u.name).one().n;
    if (count >= LIMITS.accessKeysPerUser) throw limitExceeded(`Cannot exceed quota for AccessKeysPerUser: ${LIMITS.accessKeysPerUser}`);
    const id = ACCESS_KEY_PREFIX + base32(12);
    // 30 random bytes are 40 base64 characters, the length and alphabet of AWS secret keys.
    const secret = toB64(randomBytes(30));
    const sealed = await this.sealing.seal(id, secret);
    const created = this.now();
    // The await above yields: the user or the quota may have changed since, so both are checked again.
    this.userRow(u.name);
    if (
      this.sql.exec<{ n: number }>('SELECT COUNT(*) AS n FROM access_keys WHERE user_name = ?', u.name).one().n >= LIMITS.accessKeysPerUser
    )
      throw limitExceeded(`Cannot exceed quota for AccessKeysPerUser: ${LIMITS.accessKeysPerUser}`);
    this.sql.exec(
      'INSERT INTO access_keys (id, user_name, status, created, sealed) VALUES (?, ?, ?, ?, ?)',
      id,
      u.name,
      'Active',
      created,
      sealed,
    );
    return { UserName: u.name, AccessKeyId: id, Status: 'Active', SecretAccessKey: secret, CreateDate: isoDate(created) };
  }

  listAccessKeys(p: Record<string, string>): Page<AccessKeyMetadata> {
    const u = this.userRow(p.UserName);
    const rows = this.sql.exec<KeyRow>('SELECT * FROM access_keys WHERE user_name = ? ORDER BY id', u.name).toArray();
    return page(
      rows.map((r) => ({ UserName: u.name, AccessKeyId: r.id, Status: r.status as 'Active' | 'Inactive', CreateDate: isoDate(r.created) })),
      (k) => k.AccessKeyId,
      p.Marker,
      p.MaxItems,
    );
  }

  private keyOf(userName: string | undefined, keyId: string | undefined): KeyRow {
    const id = check(keyId, 'accessKeyId', KEY_ID);
    const u = this.userRow(userName);
    const row = this.sql.exec<KeyRow>('SELECT * FROM access_keys WHERE id = ? AND user_name = ?', id, u.name).toArray()[0];
    if (!row) throw noSuchEntity(`The Access Key with id ${id} cannot be found.`);
    return row;
  }

  updateAccessKey(p: Record<string, string>): void {
    if (p.Status !== 'Active' && p.Status !== 'Inactive')
      throw validationError(
        `1 validation error detected: Value '${p.Status ?? 'null'}' at 'status' failed to satisfy constraint: Member must satisfy enum value set: [Active, Inactive]`,
      );
    const row = this.keyOf(p.UserName, p.AccessKeyId);
    this.sql.exec('UPDATE access_keys SET status = ? WHERE id = ?', p.Status, row.id);
  }

  deleteAccessKey(p: Record<string, string>): void {
    const row = this.keyOf(p.UserName, p.AccessKeyId);
    this.sql.exec('DELETE FROM access_keys WHERE id = ?', row.id);
  }

  /** The user name an access key belongs to (the caller of an IAM call that names no user). */
  userOfKey(accessKeyId: string): string | undefined {
    return this.sql.exec<{ user_name: string }>('SELECT user_name FROM access_keys WHERE id = ?', accessKeyId).toArray()[0]?.user_name;
  }

  /** What authentication needs of an Active key; undefined for an unknown or Inactive one. */
  async keyRecord(accessKeyId: string): Promise<KeyRecord | undefined> {
    const key = this.sql.exec<KeyRow>("SELECT * FROM access_keys WHERE id = ? AND status = 'Active'", accessKeyId).toArray()[0];
    if (!key) return undefined;
    const u = this.sql.exec<UserRow>('SELECT * FROM users WHERE name = ?', key.user_name).one();
    const policies = [
      ...this.sql.exec<{ document: string }>('SELECT document FROM user_policies WHERE user_name = ? ORDER BY name', u.name).toArray(),
      ...this.sql
        .exec<{ document: string }>(
          'SELECT p.document FROM attachments a JOIN policies p ON p.name = a.policy_name WHERE a.user_name = ? ORDER BY p.name',
          u.name,
        )
        .toArray(),
    ].map((r) => r.document);
    const secret = await this.sealing.unseal(key.id, new Uint8Array(key.sealed));
    return { secret, userName: u.name, userId: u.id, arn: userArn(u.name, u.path), policies };
  }

  // ---- inline policies

  putUserPolicy(p: Record<string, string>): void {
    const u = this.userRow(p.UserName);
    const name = check(p.PolicyName, 'policyName', POLICY_NAME);
    const doc = validPolicy(p.PolicyDocument, LIMITS.inlinePolicyChars, 'PolicySize');
    const others = this.sql
      .exec<{ document: string }>('SELECT document FROM user_policies WHERE user_name = ? AND name <> ?', u.name, name)
      .toArray()
      .reduce((n, r) => n + r.document.replace(/\s/g, '').length, 0);
    if (others + doc.replace(/\s/g, '').length > LIMITS.inlinePolicyChars)
      throw limitExceeded(`Maximum policy size of ${LIMITS.inlinePolicyChars} bytes exceeded for user ${u.name}`);
    this.sql.exec('INSERT OR REPLACE INTO user_policies (user_name, name, document) VALUES (?, ?, ?)', u.name, name, doc);
  }

  getUserPolicy(p: Record<string, string>): { UserName: string; PolicyName: string; PolicyDocument: string } {
    const u = this.userRow(p.UserName);
    const name = check(p.PolicyName, 'policyName', POLICY_NAME);
    const row = this.sql
      .exec<{ document: string }>('SELECT document FROM user_policies WHERE user_name = ? AND name = ?', u.name, name)
      .toArray()[0];
    if (!row) throw noSuchEntity(`The user policy with name ${name} cannot be found.`);
    return { UserName: u.name, PolicyName: name, PolicyDocument: row.document };
  }

  listUserPolicies(p: Record<string, string>): Page<string> {
    const u = this.userRow(p.UserName);
    const rows = this.sql.exec<{ name: string }>('SELECT name FROM user_policies WHERE user_name = ? ORDER BY name', u.name).toArray();
    return page(
      rows.map((r) => r.name),
      (n) => n,
      p.Marker,
      p.MaxItems,
    );
  }

  deleteUserPolicy(p: Record<string, string>): void {
    this.getUserPolicy(p);
    this.sql.exec('DELETE FROM user_policies WHERE user_name = ? AND name = ?', this.userRow(p.UserName).name, p.PolicyName);
  }

  // ---- managed policies

  private policy(row: PolicyRow): ManagedPolicy {
    const attached = this.sql.exec<{ n: number }>('SELECT COUNT(*) AS n FROM attachments WHERE policy_name = ?', row.name).one().n;
    return {
      PolicyName: row.name,
      PolicyId: row.id,
      Arn: policyArn(row.name, row.path),
      Path: row.path,
      DefaultVersionId: 'v1',
      AttachmentCount: attached,
      PermissionsBoundaryUsageCount: 0,
      IsAttachable: true,
      ...(row.description ? { Description: row.description } : {}),
      CreateDate: isoDate(row.created),
      UpdateDate: isoDate(row.updated),
    };
  }

  private policyRow(arn: string | undefined): PolicyRow {
    const a = check(arn, 'policyArn', /^arn:[\u0021-\u007e]{1,2044}$/);
    const m = POLICY_ARN.exec(a);
    const row = m && this.sql.exec<PolicyRow>('SELECT * FROM policies WHERE name = ? AND path = ?', m[2], m[1]).toArray()[0];
    if (!row) throw noSuchEntity(`Policy ${a} does not exist or is not attachable.`);
    return row;
  }

  createPolicy(p: Record<string, string>): ManagedPolicy {
    const name = check(p.PolicyName, 'policyName', POLICY_NAME);
    const path = p.Path === undefined ? '/' : check(p.Path, 'path', PATH);
    if (p.Description !== undefined && p.Description.length > 1000)
      throw validationError(
        "1 validation error detected: Value at 'description' failed to satisfy constraint: Member must have length less than or equal to 1000",
      );
    const doc = validPolicy(p.PolicyDocument, LIMITS.managedPolicyChars, 'PolicySize');
    if (this.sql.exec('SELECT 1 FROM policies WHERE name = ?', name).toArray().length)
      throw alreadyExists(`A policy called ${name} already exists. Duplicate names are not allowed.`);
    if (this.sql.exec<{ n: number }>('SELECT COUNT(*) AS n FROM policies').one().n >= LIMITS.managedPoliciesPerAccount)
      throw limitExceeded(`Cannot exceed quota for PoliciesPerAccount: ${LIMITS.managedPoliciesPerAccount}`);
    const now = this.now();
    const row: PolicyRow = {
      name,
      id: uniqueId('ANPA'),
      path,
      description: p.Description || null,
      document: doc,
      created: now,
      updated: now,
    };
    this.sql.exec(
      'INSERT INTO policies (name, id, path, description, document, created, updated) VALUES (?, ?, ?, ?, ?, ?, ?)',
      row.name,
      row.id,
      row.path,
      row.description,
      row.document,
      row.created,
      row.updated,
    );
    return this.policy(row);
  }

  getPolicy(p: Record<string, string>): ManagedPolicy {
    return this.policy(this.policyRow(p.PolicyArn));
  }

  getPolicyVersion(p: Record<string, string>): { Document: string; VersionId: string; IsDefaultVersion: boolean; CreateDate: string } {
    const row = this.policyRow(p.PolicyArn);
    const v = check(p.VersionId, 'versionId', /^v[1-9][0-9]*(\.[A-Za-z0-9-]*)?$/);
    if (v !== 'v1') throw noSuchEntity(`Policy ${policyArn(row.name, row.path)} version ${v} does not exist or is not attachable.`);
    return { Document: row.document, VersionId: 'v1', IsDefaultVersion: true, CreateDate: isoDate(row.created) };
  }

  listPolicies(p: Record<string, string>): Page<ManagedPolicy> {
    if (p.Scope !== undefined && !['All', 'AWS', 'Local'].includes(p.Scope))
      throw validationError(
        `1 validation error detected: Value '${p.Scope}' at 'scope' failed to satisfy constraint: Member must satisfy enum value set: [All, AWS, Local]`,
      );
    const prefix = p.PathPrefix ?? '/';
    // No AWS managed policies exist here: Scope=AWS lists nothing.
    const rows = p.Scope === 'AWS' ? [] : this.sql.exec<PolicyRow>('SELECT * FROM policies ORDER BY name COLLATE NOCASE').toArray();
    let all = rows.filter((r) => r.path.startsWith(prefix)).map((r) => this.policy(r));
    if (p.OnlyAttached === 'true') all = all.filter((x) => x.AttachmentCount > 0);
    return page(all, (x) => x.PolicyName, p.Marker, p.MaxItems);
  }

  deletePolicy(p: Record<string, string>): void {
    const row = this.policyRow(p.PolicyArn);
    if (this.sql.exec('SELECT 1 FROM attachments WHERE policy_name = ? LIMIT 1', row.name).toArray().length)
      throw deleteConflict('Cannot delete a policy attached to entities.');
    this.sql.exec('DELETE FROM policies WHERE name = ?', row.name);
  }

  attachUserPolicy(p: Record<string, string>): void {
    const u = this.userRow(p.UserName);
    const row = this.policyRow(p.PolicyArn);
    if (this.sql.exec('SELECT 1 FROM attachments WHERE user_name = ? AND policy_name = ?', u.name, row.name).toArray().length) return;
    if (
      this.sql.exec<{ n: number }>('SELECT COUNT(*) AS n FROM attachments WHERE user_name = ?', u.name).one().n >=
      LIMITS.attachedPoliciesPerUser
    )
      throw limitExceeded(`Cannot exceed quota for PoliciesPerUser: ${LIMITS.attachedPoliciesPerUser}`);
    this.sql.exec('INSERT INTO attachments (user_name, policy_name) VALUES (?, ?)', u.name, row.name);
  }

  detachUserPolicy(p: Record<string, string>): void {
    const u = this.userRow(p.UserName);
    const row = this.policyRow(p.PolicyArn);
    if (!this.sql.exec('SELECT 1 FROM attachments WHERE user_name = ? AND policy_name = ?', u.name, row.name).toArray().length)
      throw noSuchEntity(`Policy ${policyArn(row.name, row.path)} was not found.`);
    this.sql.exec('DELETE FROM attachments WHERE user_name = ? AND policy_name = ?', u.name, row.name);
  }

  listAttachedUserPolicies(p: Record<string, string>): Page<{ PolicyName: string; PolicyArn: string }> {
    const u = this.userRow(p.UserName);
    const rows = this.sql
      .exec<PolicyRow>(
        'SELECT p.* FROM attachments a JOIN policies p ON p.name = a.policy_name WHERE a.user_name = ? ORDER BY p.name COLLATE NOCASE',
        u.name,
      )
      .toArray();
    const prefix = p.PathPrefix ?? '/';
    return page(
      rows.filter((r) => r.path.startsWith(prefix)).map((r) => ({ PolicyName: r.name, PolicyArn: policyArn(r.name, r.path) })),
      (x) => x.PolicyName,
      p.Marker,
      p.MaxItems,
    );
  }
}
