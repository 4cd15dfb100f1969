// KMS grants, as AWS KMS defines them: a grant lets its grantee principal perform the listed
// operations on one key, optionally only with an encryption context that equals, or contains, the
// grant's constraint. A grant is an Allow beside the key policy (authz.ts: it never beats an
// explicit Deny). Ours are effective as soon as CreateGrant returns (one strongly consistent
// Durable Object), so the grant tokens callers pass in GrantTokens are accepted and ignored.

import { randomBytes, toB64url } from '../crypto/bytes';
import { ROOT_ARN } from '../iam/types';
import { KmsError } from './errors';

export const GRANTS_SCHEMA = `
CREATE TABLE IF NOT EXISTS grants (
  id TEXT PRIMARY KEY, key_id TEXT NOT NULL, created REAL NOT NULL, name TEXT, grantee TEXT NOT NULL, retiring TEXT,
  issuer TEXT NOT NULL, operations TEXT NOT NULL, constraints TEXT, token TEXT NOT NULL UNIQUE);
CREATE INDEX IF NOT EXISTS grants_by_key ON grants (key_id, id);
CREATE INDEX IF NOT EXISTS grants_by_retiring ON grants (retiring, id);
`;

/** AWS allows 50,000 grants per key; one Durable Object keeps fewer. */
export const MAX_GRANTS_PER_KEY = 1000;

/** The GrantOperation enum of the KMS API. */
export const GRANT_OPERATIONS = [
  'Decrypt',
  'Encrypt',
  'GenerateDataKey',
  'GenerateDataKeyWithoutPlaintext',
  'ReEncryptFrom',
  'ReEncryptTo',
  'Sign',
  'Verify',
  'GetPublicKey',
  'CreateGrant',
  'RetireGrant',
  'DescribeKey',
  'GenerateDataKeyPair',
  'GenerateDataKeyPairWithoutPlaintext',
  'GenerateMac',
  'VerifyMac',
  'DeriveSharedSecret',
];

/** Operations that take an encryption context: the only ones a grant with constraints may list (CreateGrant passes them on). */
const CONTEXT_OPERATIONS = new Set([
  'Decrypt',
  'Encrypt',
  'GenerateDataKey',
  'GenerateDataKeyWithoutPlaintext',
  'ReEncryptFrom',
  'ReEncryptTo',
  'GenerateDataKeyPair',
  'GenerateDataKeyPairWithoutPlaintext',
  'CreateGrant',
  'RetireGrant',
]);

export interface GrantConstraints {
  EncryptionContextSubset?: Record<string, string>;
  EncryptionContextEquals?: Record<string, string>;
}

export type GrantRow = {
  id: string;
  key_id: string;
  created: number;
  name: string | null;
  grantee: string;
  retiring: string | null;
  issuer: string;
  operations: string; // JSON array
  constraints: string | null; // JSON GrantConstraints
  token: string;
};

export interface NewGrant {
  grantee: string;
  retiring?: string;
  operations: string[];
  constraints?: GrantConstraints;
  name?: string;
}

const validation = (m: string) => new KmsError('ValidationException', m);

/** A principal as a grant names it: an IAM ARN, an account id or a service principal. */
export function checkPrincipal(value: unknown, member: string): string {
  if (typeof value !== 'string' || !/^[\w+=,.@:/-]{1,256}$/.test(value))
    throw validation(
      `1 validation error detected: Value '${String(value)}' at '${member}' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[\\w+=,.@:/-]+$ and have length between 1 and 256`,
    );
  return value;
}

export function checkOperations(value: unknown): string[] {
  if (!Array.isArray(value) || value.length === 0)
    throw validation("1 validation error detected: Value at 'operations' failed to satisfy constraint: Member must not be null or empty");
  for (const op of value)
    if (typeof op !== 'string' || !GRANT_OPERATIONS.includes(op))
      throw validation(
        `1 validation error detected: Value '[${value.join(', ')}]' at 'operations' failed to satisfy constraint: Member must satisfy constraint: [Member must satisfy enum value set: [${GRANT_OPERATIONS.join(', ')}]]`,
      );
  return [...new Set(value as string[])];
}

function contextMap(value: unknown, member: string): Record<string, string> {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new KmsError('SerializationException', `${member} must be a map of strings`);
  for (const v of Object.values(value))
    if (typeof v !== 'string') throw new KmsError('SerializationException', `${member} must be a map of strings`);
  return value as Record<string, string>;
}

export function checkConstraints(value: unknown, operations: string[]): GrantConstraints | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object' || Array.isArray(value)) throw new KmsError('SerializationException', 'Constraints must be a structure');
  const v = value as Record<string, unknown>;
  const c: GrantConstraints = {};
  if (v.EncryptionContextSubset !== undefined) c.EncryptionContextSubset = contextMap(v.EncryptionContextSubset, 'EncryptionContextSubset');
  if (v.EncryptionContextEquals !== undefined) c.EncryptionContextEquals = contextMap(v.EncryptionContextEquals, 'EncryptionContextEquals');
  if (!c.EncryptionContextSubset && !c.EncryptionContextEquals) return undefined;
  const without = operations.filter((op) => !CONTEXT_OPERATIONS.has(op));
  if (without.length)
    throw validation(`Grant constraints are allowed only with operations that take an encryption context; ${without.join(', ')} does not.`);
  return c;
}

/** Does the request's encryption context satisfy the grant's constraints? */
export function constraintsMet(c: GrantConstraints | undefined, ec: Record<string, string> = {}): boolean {
  if (!c) return true;
  if (c.EncryptionContextEquals) {
    const want = Object.entries(c.EncryptionContextEquals);
    if (want.length !== Object.keys(ec).length || want.some(([k, v]) => ec[k] !== v)) return false;
  }
  if (c.EncryptionContextSubset && Object.entries(c.EncryptionContextSubset).some(([k, v]) => ec[k] !== v)) return false;
  return true;
}

const sameJson = (a: unknown, b: unknown) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

/** The grants table of the KMS Durable Object. */
export class Grants {
  constructor(private sql: SqlStorage) {
    this.sql.exec(GRANTS_SCHEMA);
  }

  /** Creates a grant (or, as AWS does for a repeated Name with the same parameters, returns the existing one). */
  create(keyId: string, g: NewGrant, issuer: string, now: number): GrantRow {
    if (g.name !== undefined) {
      const same = this.sql
        .exec<GrantRow>('SELECT * FROM grants WHERE key_id = ? AND name = ?', keyId, g.name)
        .toArray()
        .find(
          (r) =>
            r.grantee === g.grantee &&
            (r.retiring ?? undefined) === g.retiring &&
            sameJson(JSON.parse(r.operations).sort(), [...g.operations].sort()) &&
            sameJson(r.constraints ? JSON.parse(r.constraints) : null, g.constraints ?? null),
        );
      if (same) return same;
    }
    const count = this.sql.exec<{ n: number }>('SELECT COUNT(*) AS n FROM grants WHERE key_id = ?', keyId).one().n;
    if (count >= MAX_GRANTS_PER_KEY)
      throw new KmsError(
        'LimitExceededException',
        `The key has ${count} grants, the most this gateway keeps per key (${MAX_GRANTS_PER_KEY}).`,
      );
    const id = [...randomBytes(32)].map((b) => b.toString(16).padStart(2, '0')).join('');
    const token = toB64url(randomBytes(48));
    this.sql.exec(
      'INSERT INTO grants (id, key_id, created, name, grantee, retiring, issuer, operations, constraints, token) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
      id,
      keyId,
      now,
      g.name ?? null,
      g.grantee,
      g.retiring ?? null,
      issuer,
      JSON.stringify(g.operations),
      g.constraints ? JSON.stringify(g.constraints) : null,
      token,
    );
    return this.sql.exec<GrantRow>('SELECT * FROM grants WHERE id = ?', id).one();
  }

  /** The grants on a key that let `grantee` perform `operation` with encryption context `ec`. */
  allowing(keyId: string, grantee: string, operation: string, ec?: Record<string, string>): GrantRow[] {
    return this.sql
      .exec<GrantRow>('SELECT * FROM grants WHERE key_id = ? AND grantee = ?', keyId, grantee)
      .toArray()
      .filter(
        (r) => JSON.parse(r.operations).includes(operation) && constraintsMet(r.constraints ? JSON.parse(r.constraints) : undefined, ec),
      );
  }

  /** A grant of a key by id: InvalidGrantIdException when the id is malformed, NotFoundException when absent. */
  byId(keyId: string, grantId: string): GrantRow {
    if (!/^[0-9a-f]{64}$/.test(grantId)) throw new KmsError('InvalidGrantIdException', `Grant ID ${grantId} is not valid.`);
    const r = this.sql.exec<GrantRow>('SELECT * FROM grants WHERE key_id = ? AND id = ?', keyId, grantId).toArray()[0];
    if (!r) throw new KmsError('NotFoundException', `Grant ID ${grantId} not found`);
    return r;
  }

  byToken(token: string): GrantRow {
    const r = this.sql.exec<GrantRow>('SELECT * FROM grants WHERE token = ?', token).toArray()[0];
    if (!r) throw new KmsError('InvalidGrantTokenException', 'Grant token is not valid (or its grant was retired or revoked).');
    return r;
  }

  remove(id: string): void {
    this.sql.exec('DELETE FROM grants WHERE id = ?', id);
  }

  removeKey(keyId: string): void {
    this.sql.exec('DELETE FROM grants WHERE key_id = ?', keyId);
  }

  /** One page of a key's grants, in id order; the marker is the last id of the previous page. */
  page(filter: { keyId?: string; grantId?: string; grantee?: string; retiring?: string }, marker: string, limit: number): GrantRow[] {
    const where = ['id > ?'];
    const args: string[] = [marker];
    for (const [col, v] of [
      ['key_id', filter.keyId],
      ['id', filter.grantId],
      ['grantee', filter.grantee],
      ['retiring', filter.retiring],
    ] as const)
      if (v !== undefined) {
        where.push(`${col} = ?`);
        args.push(v);
      }
    return this.sql.exec<GrantRow>(`SELECT * FROM grants WHERE ${where.join(' AND ')} ORDER BY id LIMIT ?`, ...args, limit + 1).toArray();
  }
}

/** A ListGrants / ListRetirableGrants entry. */
export function grantEntry(r: GrantRow, keyArn: string): Record<string, unknown> {
  return {
    KeyId: keyArn,
    GrantId: r.id,
    ...(r.name !== null ? { Name: r.name } : {}),
    CreationDate: r.created,
    GranteePrincipal: r.grantee,
    ...(r.retiring !== null ? { RetiringPrincipal: r.retiring } : {}),
    IssuingAccount: ROOT_ARN,
    Operations: JSON.parse(r.operations),
    ...(r.constraints !== null ? { Constraints: JSON.parse(r.constraints) } : {}),
  };
}
