// The KMS: customer master keys (CMKs) in the SQLite storage of one Durable
// Object, and the operations on them. This class runs inside that object
// (./durable.ts), so every call sees one consistent store; synchronous runs of
// sql.exec between awaits are atomic.
//
//   root key (secret KMS_ROOT_KEY)                     never stored
//     -> CMK version material = random(32)             WebCrypto; stored only wrapped:
//        wrapped = AES-GCM(HKDF(root, wsalt, "sealbucket/v1 wrap" || F("kms-cmk", keyId, ver)), 0^12, material)
//     -> data key of an object (SSE-KMS)
//        wkey = AES-GCM(HKDF(material, wsalt, "sealbucket/v1 wrap" || F("sse-kms", keyId, ver, bucket, key, context)), 0^12, dataKey)
//
// Material never leaves this object: SSE-KMS sends data keys here to be
// wrapped and unwrapped. docs/FORMAT.md has the bytes.

import { concat, fields, fromB64, randomBytes, timingSafeEqual, toB64, toB64url, utf8 } from '../crypto/bytes';
import { hmacSha256, unwrapKey, wrapKey } from '../crypto/kdf';
import { PolicyError } from '../iam/policy';
import { ROOT_ARN } from '../iam/types';
import { type Caller, DEFAULT_POLICY_NAME, defaultKeyPolicy, managedKeyPolicy, onAccount, onKey, parseKeyPolicy } from './authz';
import { dataWrapInfo, decodeCiphertext, encodeCiphertext, encryptionContext } from './data';
import { KmsError } from './errors';
import { checkConstraints, checkOperations, checkPrincipal, type GrantRow, Grants, grantEntry } from './grants';
import { aliasArn, DEFAULT_ALIAS, isAliasName, KMS_ACCOUNT, keyArn, parseKeyRef, RESERVED_ALIAS_PREFIXES } from './ids';

export { KmsError };

const DAY = 86400;
const IMPORT_PARAMS_TTL = DAY;
const DEFAULT_ROTATION_DAYS = 365;
const MATERIAL_CHECK = utf8('sealbucket/v1 kms material check');

type KeyState = 'Enabled' | 'Disabled' | 'PendingDeletion' | 'PendingImport';

type KeyRow = {
  id: string;
  created: number;
  description: string;
  origin: string; // AWS_KMS | EXTERNAL
  manager: string; // CUSTOMER | AWS
  enabled: number;
  deletion_date: number | null;
  pending_window: number | null;
  rotation_enabled: number;
  rotation_period: number | null;
  next_rotation: number | null;
  on_demand_started: number | null;
  current_version: number; // 0: no material (EXTERNAL before import / after deletion)
  expiration_model: string | null;
  valid_to: number | null;
  material_check: string | null;
};

type VersionRow = { key_id: string; ver: number; created: number; rotation_type: string | null; wsalt: string; wrapped: string };
type AliasRow = { name: string; key_id: string; created: number; updated: number };
type TokenRow = { token: string; key_id: string; algorithm: string; valid_to: number; wsalt: string; wrapped: string };

const SCHEMA = `
CREATE TABLE IF NOT EXISTS keys (
  id TEXT PRIMARY KEY, created REAL NOT NULL, description TEXT NOT NULL, origin TEXT NOT NULL, manager TEXT NOT NULL,
  enabled INTEGER NOT NULL, deletion_date REAL, pending_window INTEGER,
  rotation_enabled INTEGER NOT NULL DEFAULT 0, rotation_period INTEGER, next_rotation REAL, on_demand_started REAL,
  current_version INTEGER NOT NULL DEFAULT 0, expiration_model TEXT, valid_to REAL, material_check TEXT);
CREATE TABLE IF NOT EXISTS versions (
  key_id TEXT NOT NULL, ver INTEGER NOT NULL, created REAL NOT NULL, rotation_type TEXT,
  wsalt TEXT NOT NULL, wrapped TEXT NOT NULL, PRIMARY KEY (key_id, ver));
CREATE TABLE IF NOT EXISTS aliases (name TEXT PRIMARY KEY, key_id TEXT NOT NULL, created REAL NOT NULL, updated REAL NOT NULL);
CREATE TABLE IF NOT EXISTS key_policies (key_id TEXT PRIMARY KEY, policy TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS import_tokens (
  token TEXT PRIMARY KEY, key_id TEXT NOT NULL, algorithm TEXT NOT NULL, valid_to REAL NOT NULL, wsalt TEXT NOT NULL, wrapped TEXT NOT NULL);
`;

/** Why a key cannot be used for SSE-KMS right now. */
export type UseFailure = 'AccessDenied' | 'NotFound' | 'Disabled' | 'InvalidState' | 'Internal' | 'Integrity';
export type Failure = { ok: false; reason: UseFailure; message: string };
export type WrapResult = { ok: true; kid: string; kver: string; wsalt: Uint8Array; wkey: Uint8Array } | Failure;
export type UnwrapResult = { ok: true; dataKey: Uint8Array } | Failure;
/** What the object a data key belongs to contributes to the wrap: bucket, key, canonical context JSON. */
export interface WrapSubject {
  bucket: string;
  key: string;
  context: string;
}

export const cmkWrapInfo = (keyId: string, ver: number): Uint8Array => fields('kms-cmk', keyId, String(ver));
export const importWrapInfo = (token: string, keyId: string): Uint8Array => fields('kms-import', token, keyId);
export const sseKmsWrapInfo = (keyId: string, ver: string, s: WrapSubject): Uint8Array =>
  fields('sse-kms', keyId, ver, s.bucket, s.key, s.context);

const WRAPPING_ALGORITHMS: Record<string, string> = { RSAES_OAEP_SHA_256: 'SHA-256', RSAES_OAEP_SHA_1: 'SHA-1' };
const UNSUPPORTED_WRAPPING = ['RSAES_PKCS1_V1_5', 'RSA_AES_KEY_WRAP_SHA_1', 'RSA_AES_KEY_WRAP_SHA_256', 'SM2PKE'];
const WRAPPING_SPECS: Record<string, number> = { RSA_2048: 2048, RSA_3072: 3072, RSA_4096: 4096 };

type Input = Record<string, unknown>;

const validation = (m: string) => new KmsError('ValidationException', m);
const unsupported = (m: string) => new KmsError('UnsupportedOperationException', m);
const invalidState = (m: string) => new KmsError('KMSInvalidStateException', m);

function str(input: Input, name: string, required: true): string;
function str(input: Input, name: string, required?: false): string | undefined;
function str(input: Input, name: string, required = false): string | undefined {
  const v = input[name];
  if (v === undefined || v === null) {
    if (required)
      throw validation(
        `1 validation error detected: Value null at '${name[0].toLowerCase()}${name.slice(1)}' failed to satisfy constraint: Member must not be null`,
      );
    return undefined;
  }
  if (typeof v !== 'string') throw new KmsError('SerializationException', `${name} must be a string`);
  return v;
}

function int(input: Input, name: string, min: number, max: number): number | undefined {
  const v = input[name];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new KmsError('SerializationException', `${name} must be an integer`);
  if (v < min || v > max)
    throw validation(
      `1 validation error detected: Value '${v}' at '${name[0].toLowerCase()}${name.slice(1)}' failed to satisfy constraint: Member must have value between ${min} and ${max}`,
    );
  return v;
}

/** A timestamp member: epoch seconds (the JSON protocol) or an ISO string. */
function time(input: Input, name: string): number | undefined {
  const v = input[name];
  if (v === undefined || v === null) return undefined;
  const t = typeof v === 'number' ? v : typeof v === 'string' ? (/^\d+(\.\d+)?$/.test(v) ? Number(v) : Date.parse(v) / 1000) : NaN;
  if (!Number.isFinite(t)) throw new KmsError('SerializationException', `${name} must be a timestamp`);
  return t;
}

function blob(input: Input, name: string): Uint8Array {
  const v = str(input, name, true);
  try {
    return fromB64(v);
  } catch {
    throw new KmsError('SerializationException', `${name} must be base64`);
  }
}

export class KmsService {
  private grants: Grants;

  constructor(
    private sql: SqlStorage,
    private rootKey: () => Promise<Uint8Array>,
    private clock: () => number = () => Date.now() / 1000,
  ) {
    this.sql.exec(SCHEMA);
    this.grants = new Grants(sql);
  }

  // ------------------------------------------------------------------ SSE-KMS

  /** Wraps an object's data key under the current version of a CMK (the default CMK when ref is undefined). */
  async wrapDataKey(ref: string | undefined, subject: WrapSubject, dataKey: Uint8Array, caller?: Caller): Promise<WrapResult> {
    try {
      this.housekeeping();
      let row = ref === undefined ? await this.defaultKey() : this.resolve(ref);
      if (caller) this.allowKey(caller, 'kms:GenerateDataKey', row, s3Context(subject));
      this.usable(row);
      row = await this.rotateIfDue(row);
      const material = await this.material(row.id, row.current_version);
      const kver = String(row.current_version);
      const wsalt = randomBytes(16);
      const wkey = await wrapKey(material, wsalt, sseKmsWrapInfo(row.id, kver, subject), dataKey);
      return { ok: true, kid: row.id, kver, wsalt, wkey };
    } catch (e) {
      return failure(e);
    }
  }

  /** Recovers a data key wrapped by wrapDataKey, if the CMK is usable now. */
  async unwrapDataKey(
    kid: string,
    kver: string,
    subject: WrapSubject,
    wsalt: Uint8Array,
    wkey: Uint8Array,
    caller?: Caller,
  ): Promise<UnwrapResult> {
    try {
      this.housekeeping();
      const row = this.resolve(kid);
      if (caller) this.allowKey(caller, 'kms:Decrypt', row, s3Context(subject));
      this.usable(row);
      const ver = Number(kver);
      if (!/^[1-9]\d{0,8}$/.test(kver)) return { ok: false, reason: 'Integrity', message: 'envelope names no valid CMK version' };
      const material = await this.material(row.id, ver);
      const dataKey = await unwrapKey(material, wsalt, sseKmsWrapInfo(row.id, kver, subject), wkey);
      if (!dataKey)
        return { ok: false, reason: 'Integrity', message: 'data key does not unwrap under this CMK, object and encryption context' };
      return { ok: true, dataKey };
    } catch (e) {
      return failure(e);
    }
  }

  // ------------------------------------------------------------------ the JSON API

  /** One TrentService operation; throws KmsError. */
  async call(op: string, input: Input, region: string, caller?: Caller): Promise<unknown> {
    this.housekeeping();
    const handler = this.ops[op];
    if (!handler) throw new KmsError('UnknownOperationException', `Operation ${op} is not supported by this gateway's KMS.`);
    if (caller) this.authorizeCall(op, input, caller);
    return handler(input, region, caller);
  }

  /**
   * The authorization every call shares: account-level actions by identity policies on "*", key
   * actions by the key's policy. Decrypt, ReEncrypt and the alias calls, whose keys come from the
   * ciphertext or from several parameters, authorize in their handlers.
   */
  private authorizeCall(op: string, input: Input, caller: Caller): void {
    if (ACCOUNT_OPS.has(op)) {
      deny(onAccount(caller, `kms:${op}`));
      return;
    }
    if (SELF_AUTHORIZED_OPS.has(op)) return;
    const row = this.resolve(str(input, 'KeyId', true));
    const ec = input.EncryptionContext === undefined ? undefined : encryptionContext(input.EncryptionContext);
    this.allowKey(caller, `kms:${op}`, row, ec);
  }

  private allowKey(caller: Caller, action: string, row: KeyRow, ec?: Record<string, string>): void {
    const granted = this.grants.allowing(row.id, caller.principal.arn, action.replace(/^kms:/, ''), ec).length > 0;
    deny(onKey(caller, action, keyArn(caller.facts.region, row.id), this.policyOf(row), ec, { granted }));
  }

  /** The grant a RetireGrant names: by GrantToken, or by KeyId and GrantId. */
  private retirable(input: Input): GrantRow {
    const token = str(input, 'GrantToken');
    if (token !== undefined) return this.grants.byToken(token);
    const keyRef = str(input, 'KeyId');
    const grantId = str(input, 'GrantId');
    if (keyRef === undefined || grantId === undefined) throw validation('RetireGrant needs a GrantToken, or both KeyId and GrantId.');
    return this.grants.byId(this.resolve(keyRef).id, grantId);
  }

  /** A key's policy; keys made before key policies existed have the default one. */
  private policyOf(row: KeyRow): string {
    const p = this.sql.exec<{ policy: string }>('SELECT policy FROM key_policies WHERE key_id = ?', row.id).toArray()[0];
    return p ? p.policy : row.manager === 'AWS' ? managedKeyPolicy() : defaultKeyPolicy();
  }

  /** Validates a key policy as PutKeyPolicy and CreateKey do: the evaluator's grammar, then AWS's lock-out check. */
  private checkedPolicy(text: string, arn: string, caller: Caller | undefined, bypass: boolean): string {
    if (text.length > 32768) throw new KmsError('LimitExceededException', 'The key policy is larger than 32 KB.');
    try {
      parseKeyPolicy(text);
    } catch (e) {
      if (e instanceof PolicyError) throw new KmsError('MalformedPolicyDocumentException', e.message);
      throw e;
    }
    if (caller && !bypass && onKey(caller, 'kms:PutKeyPolicy', arn, text))
      throw new KmsError(
        'MalformedPolicyDocumentException',
        'The new key policy will not allow you to update the key policy in the future.',
      );
    return text;
  }

  private ops: Record<string, (input: Input, region: string, caller?: Caller) => Promise<unknown>> = {
    CreateKey: async (input, region, caller) => {
      const usage = str(input, 'KeyUsage');
      if (usage !== undefined && usage !== 'ENCRYPT_DECRYPT')
        throw unsupported(`KeyUsage ${usage} is not supported: this KMS holds symmetric ENCRYPT_DECRYPT keys only.`);
      for (const name of ['KeySpec', 'CustomerMasterKeySpec']) {
        const spec = str(input, name);
        if (spec !== undefined && spec !== 'SYMMETRIC_DEFAULT')
          throw unsupported(`${name} ${spec} is not supported: this KMS holds SYMMETRIC_DEFAULT keys only.`);
      }
      const origin = str(input, 'Origin') ?? 'AWS_KMS';
      if (origin === 'AWS_CLOUDHSM' || origin === 'EXTERNAL_KEY_STORE') throw unsupported(`Origin ${origin} is not supported.`);
      if (origin !== 'AWS_KMS' && origin !== 'EXTERNAL') throw validation(`Origin must be AWS_KMS or EXTERNAL.`);
      if (input.MultiRegion === true) throw unsupported('Multi-Region keys are not supported.');
      const description = str(input, 'Description') ?? '';
      if (description.length > 8192) throw validation('Description must be at most 8192 characters.');
      const given = str(input, 'Policy');
      // The lock-out check needs the key's ARN, which does not exist yet: judge against a stand-in id.
      if (given !== undefined) this.checkedPolicy(given, keyArn(region, '*'), caller, input.BypassPolicyLockoutSafetyCheck === true);
      const row = await this.createKey({ description, origin, manager: 'CUSTOMER' });
      this.sql.exec('INSERT INTO key_policies (key_id, policy) VALUES (?, ?)', row.id, given ?? defaultKeyPolicy(caller?.principal));
      return { KeyMetadata: this.metadata(row, region) };
    },

    GetKeyPolicy: async (input) => {
      const row = this.resolve(str(input, 'KeyId', true));
      return { Policy: this.policyOf(row), PolicyName: policyName(input) };
    },

    PutKeyPolicy: async (input, region, caller) => {
      const row = this.resolve(str(input, 'KeyId', true));
      policyName(input);
      this.customerManaged(row, 'PutKeyPolicy');
      const text = this.checkedPolicy(
        str(input, 'Policy', true),
        keyArn(region, row.id),
        caller,
        input.BypassPolicyLockoutSafetyCheck === true,
      );
      this.sql.exec('INSERT OR REPLACE INTO key_policies (key_id, policy) VALUES (?, ?)', row.id, text);
      return {};
    },

    ListKeyPolicies: async (input) => {
      this.resolve(str(input, 'KeyId', true));
      int(input, 'Limit', 1, 1000);
      return { PolicyNames: [DEFAULT_POLICY_NAME], Truncated: false };
    },

    Encrypt: async (input, region) => {
      const row = this.resolve(str(input, 'KeyId', true));
      const plaintext = blob(input, 'Plaintext');
      if (plaintext.length < 1 || plaintext.length > 4096)
        throw validation(
          "1 validation error detected: Value at 'plaintext' failed to satisfy constraint: Member must have length between 1 and 4096",
        );
      return {
        CiphertextBlob: toB64(await this.seal(row, plaintext, input.EncryptionContext)),
        KeyId: keyArn(region, row.id),
        EncryptionAlgorithm: 'SYMMETRIC_DEFAULT',
      };
    },

    Decrypt: async (input, region, caller) => {
      const { row, plaintext } = await this.open(input, 'kms:Decrypt', caller);
      return { KeyId: keyArn(region, row.id), Plaintext: toB64(plaintext), EncryptionAlgorithm: 'SYMMETRIC_DEFAULT' };
    },

    ReEncrypt: async (input, region, caller) => {
      const source = await this.open(
        { CiphertextBlob: input.CiphertextBlob, KeyId: input.SourceKeyId, EncryptionContext: input.SourceEncryptionContext },
        'kms:ReEncryptFrom',
        caller,
      );
      const dest = this.resolve(str(input, 'DestinationKeyId', true));
      const ec = input.DestinationEncryptionContext === undefined ? undefined : encryptionContext(input.DestinationEncryptionContext);
      if (caller) this.allowKey(caller, 'kms:ReEncryptTo', dest, ec);
      return {
        CiphertextBlob: toB64(await this.seal(dest, source.plaintext, input.DestinationEncryptionContext)),
        SourceKeyId: keyArn(region, source.row.id),
        KeyId: keyArn(region, dest.id),
        SourceEncryptionAlgorithm: 'SYMMETRIC_DEFAULT',
        DestinationEncryptionAlgorithm: 'SYMMETRIC_DEFAULT',
      };
    },

    GenerateDataKey: async (input, region) => {
      const row = this.resolve(str(input, 'KeyId', true));
      const dataKey = randomBytes(dataKeyLength(input));
      return {
        CiphertextBlob: toB64(await this.seal(row, dataKey, input.EncryptionContext)),
        Plaintext: toB64(dataKey),
        KeyId: keyArn(region, row.id),
      };
    },

    GenerateDataKeyWithoutPlaintext: async (input, region) => {
      const row = this.resolve(str(input, 'KeyId', true));
      const dataKey = randomBytes(dataKeyLength(input));
      const CiphertextBlob = toB64(await this.seal(row, dataKey, input.EncryptionContext));
      dataKey.fill(0);
      return { CiphertextBlob, KeyId: keyArn(region, row.id) };
    },

    GenerateRandom: async (input) => {
      if (input.CustomKeyStoreId !== undefined) throw unsupported('Custom key stores are not supported.');
      const n = int(input, 'NumberOfBytes', 1, 1024);
      if (n === undefined) throw validation('NumberOfBytes is required (1 to 1024).');
      return { Plaintext: toB64(randomBytes(n)) };
    },

    DescribeKey: async (input, region) => ({ KeyMetadata: this.metadata(this.resolve(str(input, 'KeyId', true)), region) }),

    ListKeys: async (input, region) => {
      const limit = int(input, 'Limit', 1, 1000) ?? 100;
      const marker = str(input, 'Marker') ?? '';
      const rows = this.sql.exec<{ id: string }>('SELECT id FROM keys WHERE id > ? ORDER BY id LIMIT ?', marker, limit + 1).toArray();
      const page = rows.slice(0, limit);
      return {
        Keys: page.map((r) => ({ KeyId: r.id, KeyArn: keyArn(region, r.id) })),
        Truncated: rows.length > limit,
        ...(rows.length > limit ? { NextMarker: page.at(-1)!.id } : {}),
      };
    },

    CreateAlias: async (input, region, caller) => {
      const name = this.userAlias(str(input, 'AliasName', true));
      const target = this.targetKey(str(input, 'TargetKeyId', true));
      if (caller) this.allowAlias(caller, 'kms:CreateAlias', aliasArn(region, name), [target]);
      if (this.sql.exec('SELECT 1 FROM aliases WHERE name = ?', name).toArray().length)
        throw new KmsError('AlreadyExistsException', `An alias with the name ${name} already exists`);
      const now = this.clock();
      this.sql.exec('INSERT INTO aliases (name, key_id, created, updated) VALUES (?, ?, ?, ?)', name, target.id, now, now);
      return {};
    },

    UpdateAlias: async (input, region, caller) => {
      const name = this.userAlias(str(input, 'AliasName', true));
      const target = this.targetKey(str(input, 'TargetKeyId', true));
      const current = this.aliasTarget(name);
      if (!current) throw new KmsError('NotFoundException', `Alias ${name} is not found.`);
      if (caller) this.allowAlias(caller, 'kms:UpdateAlias', aliasArn(region, name), [current, target]);
      this.sql.exec('UPDATE aliases SET key_id = ?, updated = ? WHERE name = ?', target.id, this.clock(), name);
      return {};
    },

    DeleteAlias: async (input, region, caller) => {
      const name = this.userAlias(str(input, 'AliasName', true));
      const current = this.aliasTarget(name);
      if (!current) throw new KmsError('NotFoundException', `Alias ${name} is not found.`);
      if (caller) this.allowAlias(caller, 'kms:DeleteAlias', aliasArn(region, name), [current]);
      this.sql.exec('DELETE FROM aliases WHERE name = ?', name);
      return {};
    },

    ListAliases: async (input, region) => {
      const limit = int(input, 'Limit', 1, 100) ?? 50;
      const marker = str(input, 'Marker') ?? '';
      const keyRef = str(input, 'KeyId');
      const only = keyRef === undefined ? undefined : this.resolve(keyRef).id;
      const rows = (
        only === undefined
          ? this.sql.exec<AliasRow>('SELECT * FROM aliases WHERE name > ? ORDER BY name LIMIT ?', marker, limit + 1)
          : this.sql.exec<AliasRow>('SELECT * FROM aliases WHERE name > ? AND key_id = ? ORDER BY name LIMIT ?', marker, only, limit + 1)
      ).toArray();
      const page = rows.slice(0, limit);
      return {
        Aliases: page.map((a) => ({
          AliasName: a.name,
          AliasArn: aliasArn(region, a.name),
          TargetKeyId: a.key_id,
          CreationDate: a.created,
          LastUpdatedDate: a.updated,
        })),
        Truncated: rows.length > limit,
        ...(rows.length > limit ? { NextMarker: page.at(-1)!.name } : {}),
      };
    },

    CreateGrant: async (input, region, caller) => {
      const row = this.resolve(str(input, 'KeyId', true));
      const grantee = checkPrincipal(input.GranteePrincipal, 'granteePrincipal');
      const retiring = input.RetiringPrincipal === undefined ? undefined : checkPrincipal(input.RetiringPrincipal, 'retiringPrincipal');
      const operations = checkOperations(input.Operations);
      const constraints = checkConstraints(input.Constraints, operations);
      const name = str(input, 'Name');
      if (name !== undefined && !/^[a-zA-Z0-9:/_-]{1,256}$/.test(name))
        throw validation(
          `1 validation error detected: Value '${name}' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[a-zA-Z0-9:/_-]+$`,
        );
      if (this.state(row) === 'PendingDeletion') throw invalidState(`${keyArn(region, row.id)} is pending deletion.`);
      if (caller) {
        const keys: Record<string, string[] | undefined> = {
          'kms:GranteePrincipal': [grantee],
          'kms:RetiringPrincipal': retiring === undefined ? undefined : [retiring],
          'kms:GrantOperations': operations,
          // Only AWS services integrated with KMS create grants "for an AWS resource"; S3 here never does.
          'kms:GrantIsForAWSResource': ['false'],
          'kms:GrantConstraintType': constraints ? Object.keys(constraints) : undefined,
        };
        // A grantee with CreateGrant in its grant may pass on the same operations or fewer, as AWS allows.
        const granted = this.grants
          .allowing(
            row.id,
            caller.principal.arn,
            'CreateGrant',
            constraints?.EncryptionContextEquals ?? constraints?.EncryptionContextSubset,
          )
          .some((g) => operations.every((op) => (JSON.parse(g.operations) as string[]).includes(op)));
        deny(onKey(caller, 'kms:CreateGrant', keyArn(region, row.id), this.policyOf(row), undefined, { keys, granted }));
      }
      const g = this.grants.create(
        row.id,
        { grantee, retiring, operations, constraints, name },
        caller?.principal.arn ?? ROOT_ARN,
        this.clock(),
      );
      return { GrantId: g.id, GrantToken: g.token };
    },

    ListGrants: async (input, region) => {
      const row = this.resolve(str(input, 'KeyId', true));
      const limit = int(input, 'Limit', 1, 100) ?? 50;
      const grantee = input.GranteePrincipal === undefined ? undefined : checkPrincipal(input.GranteePrincipal, 'granteePrincipal');
      const rows = this.grants.page({ keyId: row.id, grantId: str(input, 'GrantId'), grantee }, str(input, 'Marker') ?? '', limit);
      return grantPage(rows, limit, () => keyArn(region, row.id));
    },

    ListRetirableGrants: async (input, region) => {
      const retiring = checkPrincipal(input.RetiringPrincipal, 'retiringPrincipal');
      const limit = int(input, 'Limit', 1, 100) ?? 50;
      const rows = this.grants.page({ retiring }, str(input, 'Marker') ?? '', limit);
      return grantPage(rows, limit, (r) => keyArn(region, r.key_id));
    },

    RevokeGrant: async (input) => {
      const row = this.resolve(str(input, 'KeyId', true));
      this.grants.remove(this.grants.byId(row.id, str(input, 'GrantId', true)).id);
      return {};
    },

    RetireGrant: async (input, region, caller) => {
      const g = this.retirable(input);
      // Who may retire, as AWS says: the retiring principal, the grantee when the grant lists
      // RetireGrant, and the account (root). No key or identity policy grants kms:RetireGrant.
      if (
        caller &&
        caller.principal.kind !== 'root' &&
        caller.principal.arn !== g.retiring &&
        !(caller.principal.arn === g.grantee && (JSON.parse(g.operations) as string[]).includes('RetireGrant'))
      )
        throw new KmsError(
          'AccessDeniedException',
          `User: ${caller.principal.arn} is not authorized to perform: kms:RetireGrant on resource: ${keyArn(region, g.key_id)} because it is neither the grant's retiring principal nor a grantee allowed to retire it`,
        );
      this.grants.remove(g.id);
      return {};
    },

    EnableKey: async (input) => this.setEnabled(str(input, 'KeyId', true), true),
    DisableKey: async (input) => this.setEnabled(str(input, 'KeyId', true), false),

    ScheduleKeyDeletion: async (input, region) => {
      const row = this.resolve(str(input, 'KeyId', true));
      const days = int(input, 'PendingWindowInDays', 7, 30) ?? 30;
      this.customerManaged(row, 'ScheduleKeyDeletion');
      if (this.state(row) === 'PendingDeletion') throw invalidState(`${keyArn(region, row.id)} is pending deletion.`);
      const date = Math.floor(this.clock() + days * DAY);
      this.sql.exec('UPDATE keys SET deletion_date = ?, pending_window = ? WHERE id = ?', date, days, row.id);
      return { KeyId: keyArn(region, row.id), DeletionDate: date, KeyState: 'PendingDeletion', PendingWindowInDays: days };
    },

    CancelKeyDeletion: async (input, region) => {
      const row = this.resolve(str(input, 'KeyId', true));
      if (this.state(row) !== 'PendingDeletion') throw invalidState(`${keyArn(region, row.id)} is not pending deletion.`);
      // As in AWS KMS, a key whose deletion is cancelled comes back disabled.
      this.sql.exec('UPDATE keys SET deletion_date = NULL, pending_window = NULL, enabled = 0 WHERE id = ?', row.id);
      return { KeyId: keyArn(region, row.id) };
    },

    EnableKeyRotation: async (input) => {
      const row = this.resolve(str(input, 'KeyId', true));
      const days = int(input, 'RotationPeriodInDays', 90, 2560) ?? DEFAULT_ROTATION_DAYS;
      this.rotatable(row, 'EnableKeyRotation');
      this.sql.exec(
        'UPDATE keys SET rotation_enabled = 1, rotation_period = ?, next_rotation = ? WHERE id = ?',
        days,
        this.clock() + days * DAY,
        row.id,
      );
      return {};
    },

    DisableKeyRotation: async (input) => {
      const row = this.resolve(str(input, 'KeyId', true));
      this.rotatable(row, 'DisableKeyRotation');
      this.sql.exec('UPDATE keys SET rotation_enabled = 0, next_rotation = NULL WHERE id = ?', row.id);
      return {};
    },

    GetKeyRotationStatus: async (input, region) => {
      const row = this.resolve(str(input, 'KeyId', true));
      if (row.origin === 'EXTERNAL')
        throw unsupported(`${keyArn(region, row.id)} has imported key material; it cannot be rotated automatically.`);
      return {
        KeyRotationEnabled: row.rotation_enabled === 1,
        KeyId: keyArn(region, row.id),
        ...(row.rotation_enabled ? { RotationPeriodInDays: row.rotation_period, NextRotationDate: row.next_rotation } : {}),
        ...(row.on_demand_started !== null ? { OnDemandRotationStartDate: row.on_demand_started } : {}),
      };
    },

    RotateKeyOnDemand: async (input, region) => {
      const row = this.resolve(str(input, 'KeyId', true));
      this.rotatable(row, 'RotateKeyOnDemand');
      await this.addVersion(row, 'ON_DEMAND');
      this.sql.exec('UPDATE keys SET on_demand_started = ? WHERE id = ?', this.clock(), row.id);
      return { KeyId: keyArn(region, row.id) };
    },

    ListKeyRotations: async (input, region) => {
      const row = this.resolve(str(input, 'KeyId', true));
      if (row.origin === 'EXTERNAL') throw unsupported(`${keyArn(region, row.id)} has imported key material.`);
      const limit = int(input, 'Limit', 1, 1000) ?? 100;
      const marker = Number(str(input, 'Marker') ?? '1');
      const rows = this.sql
        .exec<VersionRow>(
          'SELECT * FROM versions WHERE key_id = ? AND ver > ? AND rotation_type IS NOT NULL ORDER BY ver LIMIT ?',
          row.id,
          Number.isFinite(marker) ? marker : 1,
          limit + 1,
        )
        .toArray();
      const page = rows.slice(0, limit);
      return {
        Rotations: page.map((v) => ({ KeyId: keyArn(region, row.id), RotationDate: v.created, RotationType: v.rotation_type })),
        Truncated: rows.length > limit,
        ...(rows.length > limit ? { NextMarker: String(page.at(-1)!.ver) } : {}),
      };
    },

    GetParametersForImport: async (input, region) => {
      const row = this.resolve(str(input, 'KeyId', true));
      const alg = str(input, 'WrappingAlgorithm', true);
      const spec = str(input, 'WrappingKeySpec', true);
      if (UNSUPPORTED_WRAPPING.includes(alg))
        throw unsupported(`WrappingAlgorithm ${alg} is not supported; use RSAES_OAEP_SHA_256 (or RSAES_OAEP_SHA_1).`);
      const hash = WRAPPING_ALGORITHMS[alg];
      if (!hash) throw validation(`WrappingAlgorithm must be one of RSAES_OAEP_SHA_256, RSAES_OAEP_SHA_1.`);
      if (spec === 'SM2') throw unsupported('WrappingKeySpec SM2 is not supported.');
      const bits = WRAPPING_SPECS[spec];
      if (!bits) throw validation('WrappingKeySpec must be one of RSA_2048, RSA_3072, RSA_4096.');
      this.external(row, region);
      if (this.state(row) === 'PendingDeletion') throw invalidState(`${keyArn(region, row.id)} is pending deletion.`);

      const pair = (await crypto.subtle.generateKey(
        { name: 'RSA-OAEP', modulusLength: bits, publicExponent: new Uint8Array([1, 0, 1]), hash },
        true,
        ['encrypt', 'decrypt'],
      )) as CryptoKeyPair;
      const spki = new Uint8Array((await crypto.subtle.exportKey('spki', pair.publicKey)) as ArrayBuffer);
      const pkcs8 = new Uint8Array((await crypto.subtle.exportKey('pkcs8', pair.privateKey)) as ArrayBuffer);
      const tokenBytes = randomBytes(32);
      const token = toB64url(tokenBytes);
      const wsalt = randomBytes(16);
      const wrapped = await wrapKey(await this.root(), wsalt, importWrapInfo(token, row.id), pkcs8);
      pkcs8.fill(0);
      const validTo = Math.floor(this.clock() + IMPORT_PARAMS_TTL);
      this.sql.exec(
        'INSERT INTO import_tokens (token, key_id, algorithm, valid_to, wsalt, wrapped) VALUES (?, ?, ?, ?, ?, ?)',
        token,
        row.id,
        alg,
        validTo,
        toB64(wsalt),
        toB64(wrapped),
      );
      return { KeyId: keyArn(region, row.id), ImportToken: toB64(tokenBytes), PublicKey: toB64(spki), ParametersValidTo: validTo };
    },

    ImportKeyMaterial: async (input, region) => {
      const row = this.resolve(str(input, 'KeyId', true));
      const tokenBytes = blob(input, 'ImportToken');
      const encrypted = blob(input, 'EncryptedKeyMaterial');
      const validTo = time(input, 'ValidTo');
      const model = str(input, 'ExpirationModel') ?? (validTo === undefined ? 'KEY_MATERIAL_DOES_NOT_EXPIRE' : 'KEY_MATERIAL_EXPIRES');
      if (model !== 'KEY_MATERIAL_EXPIRES' && model !== 'KEY_MATERIAL_DOES_NOT_EXPIRE')
        throw validation('ExpirationModel must be KEY_MATERIAL_EXPIRES or KEY_MATERIAL_DOES_NOT_EXPIRE.');
      if (model === 'KEY_MATERIAL_EXPIRES' && validTo === undefined)
        throw validation('ValidTo is required when ExpirationModel is KEY_MATERIAL_EXPIRES.');
      if (model === 'KEY_MATERIAL_DOES_NOT_EXPIRE' && validTo !== undefined)
        throw validation('ValidTo must not be set when ExpirationModel is KEY_MATERIAL_DOES_NOT_EXPIRE.');
      if (validTo !== undefined && validTo <= this.clock()) throw validation('ValidTo must be in the future.');
      this.external(row, region);
      if (this.state(row) === 'PendingDeletion') throw invalidState(`${keyArn(region, row.id)} is pending deletion.`);

      const token = toB64url(tokenBytes);
      const t = this.sql.exec<TokenRow>('SELECT * FROM import_tokens WHERE token = ?', token).toArray()[0];
      if (!t || t.key_id !== row.id) throw new KmsError('InvalidImportTokenException', 'The import token is not valid for this KMS key.');
      if (t.valid_to <= this.clock())
        throw new KmsError('ExpiredImportTokenException', 'The import token has expired; call GetParametersForImport again.');
      const pkcs8 = await unwrapKey(await this.root(), fromB64(t.wsalt), importWrapInfo(token, row.id), fromB64(t.wrapped));
      if (!pkcs8) throw new KmsError('KMSInternalException', 'The import parameters cannot be read (was the KMS root key changed?).', 500);
      const hash = WRAPPING_ALGORITHMS[t.algorithm];
      const priv = await crypto.subtle.importKey('pkcs8', pkcs8, { name: 'RSA-OAEP', hash }, false, ['decrypt']);
      pkcs8.fill(0);
      let material: Uint8Array;
      try {
        material = new Uint8Array(await crypto.subtle.decrypt({ name: 'RSA-OAEP' }, priv, encrypted));
      } catch {
        throw new KmsError(
          'InvalidCiphertextException',
          `The encrypted key material does not decrypt with the wrapping key of this import token (expected ${t.algorithm}).`,
        );
      }
      if (material.length !== 32)
        throw new KmsError(
          'IncorrectKeyMaterialException',
          'Key material for a SYMMETRIC_DEFAULT key must be exactly 256 bits (32 bytes).',
        );
      const check = toB64(await hmacSha256(material, concat(MATERIAL_CHECK, fields(row.id))));
      const wsalt = randomBytes(16);
      const wrapped = await wrapKey(await this.root(), wsalt, cmkWrapInfo(row.id, 1), material);
      material.fill(0);

      // Re-read after the awaits: the checks and the writes below run as one.
      const now = this.fresh(row.id);
      if (now.material_check !== null && !timingSafeEqual(fromB64(now.material_check), fromB64(check))) {
        throw new KmsError(
          'IncorrectKeyMaterialException',
          'This is not the key material previously imported into this KMS key; a KMS key only ever accepts the same material.',
        );
      }
      if (this.state(now) === 'PendingDeletion') throw invalidState(`${keyArn(region, row.id)} is pending deletion.`);
      this.sql.exec('DELETE FROM versions WHERE key_id = ?', row.id);
      this.sql.exec(
        'INSERT INTO versions (key_id, ver, created, rotation_type, wsalt, wrapped) VALUES (?, 1, ?, NULL, ?, ?)',
        row.id,
        this.clock(),
        toB64(wsalt),
        toB64(wrapped),
      );
      this.sql.exec(
        'UPDATE keys SET current_version = 1, material_check = ?, expiration_model = ?, valid_to = ? WHERE id = ?',
        check,
        model,
        validTo === undefined ? null : Math.floor(validTo),
        row.id,
      );
      return { KeyId: keyArn(region, row.id) };
    },

    DeleteImportedKeyMaterial: async (input, region) => {
      const row = this.resolve(str(input, 'KeyId', true));
      this.external(row, region);
      if (this.state(row) === 'PendingDeletion') throw invalidState(`${keyArn(region, row.id)} is pending deletion.`);
      this.dropMaterial(row.id);
      return {};
    },
  };

  /** Alias calls need the permission on the alias (identity policies) and on every key they touch (key policies), as AWS documents. */
  private allowAlias(caller: Caller, action: string, alias: string, keys: KeyRow[]): void {
    deny(onAccount(caller, action, alias));
    for (const k of keys) this.allowKey(caller, action, k);
  }

  // ------------------------------------------------------------------ the data plane

  /** Encrypts under the key's current version, bound to the encryption context (docs/FORMAT.md, KMS ciphertext). */
  private async seal(row: KeyRow, plaintext: Uint8Array, context: unknown): Promise<Uint8Array> {
    const ec = encryptionContext(context);
    this.usable(row);
    row = await this.rotateIfDue(row);
    const material = await this.material(row.id, row.current_version);
    const salt = randomBytes(16);
    const sealed = await wrapKey(material, salt, dataWrapInfo(row.id, row.current_version, ec), plaintext);
    material.fill(0);
    return encodeCiphertext(row.id, row.current_version, salt, sealed);
  }

  /** Opens a CiphertextBlob: the key named in it (checked against KeyId when given), authorized, usable, and the same context. */
  private async open(input: Input, action: string, caller?: Caller): Promise<{ row: KeyRow; plaintext: Uint8Array }> {
    const parsed = decodeCiphertext(blob(input, 'CiphertextBlob'));
    if (!parsed) throw new KmsError('InvalidCiphertextException', 'The ciphertext is not a KMS ciphertext of this gateway.');
    const ec = encryptionContext(input.EncryptionContext);
    const named = str(input, 'KeyId');
    const row = this.resolve(parsed.keyId);
    if (named !== undefined && this.resolve(named).id !== row.id)
      throw new KmsError('IncorrectKeyException', 'The key ID in the request does not identify a KMS key that can perform this operation.');
    if (caller) this.allowKey(caller, action, row, input.EncryptionContext === undefined ? undefined : ec);
    this.usable(row);
    const v = this.sql.exec('SELECT 1 FROM versions WHERE key_id = ? AND ver = ?', row.id, parsed.ver).toArray();
    if (!v.length) throw new KmsError('InvalidCiphertextException', 'The ciphertext names a key version this key does not have.');
    const material = await this.material(row.id, parsed.ver);
    const plaintext = await unwrapKey(material, parsed.salt, dataWrapInfo(row.id, parsed.ver, ec), parsed.sealed);
    material.fill(0);
    // A wrong context, a tampered blob and a foreign one are one answer, as on AWS.
    if (!plaintext)
      throw new KmsError('InvalidCiphertextException', 'The ciphertext does not decrypt under this key and encryption context.');
    return { row, plaintext };
  }

  // ------------------------------------------------------------------ keys

  private async createKey(k: { description: string; origin: string; manager: string; rotate?: boolean }): Promise<KeyRow> {
    const id = crypto.randomUUID();
    const now = this.clock();
    let version: { wsalt: Uint8Array; wrapped: Uint8Array } | undefined;
    if (k.origin === 'AWS_KMS') version = await this.newMaterial(id, 1);
    this.sql.exec(
      'INSERT INTO keys (id, created, description, origin, manager, enabled, current_version, rotation_enabled, rotation_period, next_rotation) VALUES (?, ?, ?, ?, ?, 1, ?, ?, ?, ?)',
      id,
      now,
      k.description,
      k.origin,
      k.manager,
      version ? 1 : 0,
      k.rotate ? 1 : 0,
      k.rotate ? DEFAULT_ROTATION_DAYS : null,
      k.rotate ? now + DEFAULT_ROTATION_DAYS * DAY : null,
    );
    if (version)
      this.sql.exec(
        'INSERT INTO versions (key_id, ver, created, rotation_type, wsalt, wrapped) VALUES (?, 1, ?, NULL, ?, ?)',
        id,
        now,
        toB64(version.wsalt),
        toB64(version.wrapped),
      );
    return this.fresh(id);
  }

  /** Fresh material from WebCrypto, returned only wrapped under the root key. */
  private async newMaterial(keyId: string, ver: number): Promise<{ wsalt: Uint8Array; wrapped: Uint8Array }> {
    const k = (await crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, true, ['encrypt'])) as CryptoKey;
    const material = new Uint8Array((await crypto.subtle.exportKey('raw', k)) as ArrayBuffer);
    const wsalt = randomBytes(16);
    const wrapped = await wrapKey(await this.root(), wsalt, cmkWrapInfo(keyId, ver), material);
    material.fill(0);
    return { wsalt, wrapped };
  }

  private async addVersion(row: KeyRow, type: 'ON_DEMAND' | 'AUTOMATIC'): Promise<void> {
    for (;;) {
      const ver = this.maxVersion(row.id) + 1;
      const { wsalt, wrapped } = await this.newMaterial(row.id, ver);
      // Another rotation may have taken this number while we awaited: then take the next.
      if (this.maxVersion(row.id) >= ver) continue;
      this.sql.exec(
        'INSERT INTO versions (key_id, ver, created, rotation_type, wsalt, wrapped) VALUES (?, ?, ?, ?, ?, ?)',
        row.id,
        ver,
        this.clock(),
        type,
        toB64(wsalt),
        toB64(wrapped),
      );
      this.sql.exec('UPDATE keys SET current_version = ? WHERE id = ?', ver, row.id);
      return;
    }
  }

  private maxVersion(id: string): number {
    return this.sql.exec<{ v: number | null }>('SELECT MAX(ver) AS v FROM versions WHERE key_id = ?', id).one().v ?? 0;
  }

  private async rotateIfDue(row: KeyRow): Promise<KeyRow> {
    if (!row.rotation_enabled || row.next_rotation === null || row.next_rotation > this.clock() || row.origin !== 'AWS_KMS') return row;
    await this.addVersion(row, 'AUTOMATIC');
    this.sql.exec(
      'UPDATE keys SET next_rotation = ? WHERE id = ?',
      this.clock() + (row.rotation_period ?? DEFAULT_ROTATION_DAYS) * DAY,
      row.id,
    );
    return this.fresh(row.id);
  }

  /** The CMK that SSE-KMS uses when a request names none, created on first use. */
  private async defaultKey(): Promise<KeyRow> {
    const existing = this.aliasTarget(DEFAULT_ALIAS);
    if (existing) return existing;
    const row = await this.createKey({
      description: 'Default key that protects SSE-KMS objects when no other key is named (sealbucket)',
      origin: 'AWS_KMS',
      manager: 'AWS',
      rotate: true,
    });
    // Another request may have created it while this one awaited: keep the first.
    const raced = this.aliasTarget(DEFAULT_ALIAS);
    if (raced) {
      this.sql.exec('DELETE FROM versions WHERE key_id = ?', row.id);
      this.sql.exec('DELETE FROM keys WHERE id = ?', row.id);
      return raced;
    }
    const now = this.clock();
    this.sql.exec('INSERT INTO aliases (name, key_id, created, updated) VALUES (?, ?, ?, ?)', DEFAULT_ALIAS, row.id, now, now);
    this.sql.exec('INSERT OR REPLACE INTO key_policies (key_id, policy) VALUES (?, ?)', row.id, managedKeyPolicy());
    return row;
  }

  private aliasTarget(name: string): KeyRow | undefined {
    const a = this.sql.exec<{ key_id: string }>('SELECT key_id FROM aliases WHERE name = ?', name).toArray()[0];
    return a ? this.sql.exec<KeyRow>('SELECT * FROM keys WHERE id = ?', a.key_id).toArray()[0] : undefined;
  }

  private fresh(id: string): KeyRow {
    const row = this.sql.exec<KeyRow>('SELECT * FROM keys WHERE id = ?', id).toArray()[0];
    if (!row) throw new KmsError('NotFoundException', `Key '${id}' does not exist`);
    return row;
  }

  /** A key by UUID, ARN, alias name or alias ARN; NotFoundException otherwise. */
  private resolve(ref: string): KeyRow {
    const r = parseKeyRef(ref);
    if (!r) throw new KmsError('NotFoundException', `Invalid keyId '${ref}'`);
    if ('alias' in r) {
      const row = this.aliasTarget(r.alias);
      if (!row) throw new KmsError('NotFoundException', `Alias ${r.alias} is not found.`);
      return row;
    }
    const row = this.sql.exec<KeyRow>('SELECT * FROM keys WHERE id = ?', r.keyId).toArray()[0];
    if (!row) throw new KmsError('NotFoundException', `Key '${r.keyId}' does not exist`);
    return row;
  }

  private state(r: KeyRow): KeyState {
    if (r.deletion_date !== null) return 'PendingDeletion';
    if (r.current_version === 0) return 'PendingImport';
    return r.enabled ? 'Enabled' : 'Disabled';
  }

  /** Throws unless the key may wrap and unwrap data keys now. */
  private usable(r: KeyRow): void {
    const s = this.state(r);
    if (s === 'Disabled') throw new KmsError('DisabledException', `The KMS key ${r.id} is disabled.`);
    if (s === 'PendingDeletion') throw invalidState(`The KMS key ${r.id} is pending deletion.`);
    if (s === 'PendingImport')
      throw invalidState(`The KMS key ${r.id} has no key material: it was never imported, was deleted, or expired (state PendingImport).`);
  }

  private customerManaged(r: KeyRow, op: string): void {
    if (r.manager !== 'CUSTOMER') throw unsupported(`${op} is not allowed on the gateway-managed default key ${DEFAULT_ALIAS}.`);
  }

  private rotatable(r: KeyRow, op: string): void {
    if (r.origin === 'EXTERNAL') throw unsupported(`${op}: keys with imported key material cannot be rotated by the KMS.`);
    this.customerManaged(r, op);
    const s = this.state(r);
    if (s === 'Disabled') throw new KmsError('DisabledException', `The KMS key ${r.id} is disabled.`);
    if (s !== 'Enabled') throw invalidState(`The KMS key ${r.id} is ${s}.`);
  }

  private external(r: KeyRow, region: string): void {
    if (r.origin !== 'EXTERNAL')
      throw unsupported(
        `${keyArn(region, r.id)} has Origin AWS_KMS; key material can only be imported into keys created with Origin EXTERNAL.`,
      );
  }

  private setEnabled(ref: string, enabled: boolean): Record<string, never> {
    const row = this.resolve(ref);
    this.customerManaged(row, enabled ? 'EnableKey' : 'DisableKey');
    const s = this.state(row);
    if (s !== 'Enabled' && s !== 'Disabled') throw invalidState(`The KMS key ${row.id} is ${s}.`);
    this.sql.exec('UPDATE keys SET enabled = ? WHERE id = ?', enabled ? 1 : 0, row.id);
    return {};
  }

  private userAlias(name: string): string {
    if (!isAliasName(name))
      throw validation(
        `Alias name ${name} must begin with alias/ and contain only letters, digits, "/", "_" and "-" (at most 256 characters).`,
      );
    if (RESERVED_ALIAS_PREFIXES.some((p) => name.startsWith(p)))
      throw new KmsError('NotAuthorizedException', `Aliases beginning with ${RESERVED_ALIAS_PREFIXES.join(' or ')} are reserved.`);
    return name;
  }

  /** An alias target: a key id or key ARN (not an alias), of a key not pending deletion. */
  private targetKey(ref: string): KeyRow {
    const r = parseKeyRef(ref);
    if (r && 'alias' in r) throw validation('TargetKeyId must be a key id or key ARN, not an alias.');
    const row = this.resolve(ref);
    this.customerManaged(row, 'an alias');
    if (this.state(row) === 'PendingDeletion') throw invalidState(`The KMS key ${row.id} is pending deletion.`);
    return row;
  }

  private dropMaterial(id: string): void {
    this.sql.exec('DELETE FROM versions WHERE key_id = ?', id);
    this.sql.exec('UPDATE keys SET current_version = 0, valid_to = NULL, expiration_model = NULL WHERE id = ?', id);
  }

  private async material(keyId: string, ver: number): Promise<Uint8Array> {
    const v = this.sql.exec<VersionRow>('SELECT * FROM versions WHERE key_id = ? AND ver = ?', keyId, ver).toArray()[0];
    if (!v) throw new KmsError('KMSInvalidStateException', `The KMS key ${keyId} has no key material version ${ver}.`);
    const m = await unwrapKey(await this.root(), fromB64(v.wsalt), cmkWrapInfo(keyId, ver), fromB64(v.wrapped));
    if (!m)
      throw new KmsError(
        'KMSInternalException',
        `The material of KMS key ${keyId} does not unwrap under the root key (was KMS_ROOT_KEY changed?).`,
        500,
      );
    return m;
  }

  private async root(): Promise<Uint8Array> {
    return this.rootKey();
  }

  /** Deletes keys whose waiting period is over and imported material that has expired. */
  private housekeeping(): void {
    const now = this.clock();
    for (const { id } of this.sql
      .exec<{ id: string }>('SELECT id FROM keys WHERE deletion_date IS NOT NULL AND deletion_date <= ?', now)
      .toArray()) {
      for (const t of ['versions', 'aliases', 'import_tokens', 'key_policies', 'grants'])
        this.sql.exec(`DELETE FROM ${t} WHERE key_id = ?`, id);
      this.sql.exec('DELETE FROM keys WHERE id = ?', id);
    }
    for (const { id } of this.sql.exec<{ id: string }>('SELECT id FROM keys WHERE valid_to IS NOT NULL AND valid_to <= ?', now).toArray())
      this.dropMaterial(id);
    this.sql.exec('DELETE FROM import_tokens WHERE valid_to <= ?', now - 7 * DAY);
  }

  private metadata(r: KeyRow, region: string): Record<string, unknown> {
    const state = this.state(r);
    return {
      AWSAccountId: KMS_ACCOUNT,
      KeyId: r.id,
      Arn: keyArn(region, r.id),
      CreationDate: r.created,
      Enabled: state === 'Enabled',
      Description: r.description,
      KeyUsage: 'ENCRYPT_DECRYPT',
      KeyState: state,
      ...(r.deletion_date !== null ? { DeletionDate: r.deletion_date, PendingDeletionWindowInDays: r.pending_window } : {}),
      Origin: r.origin,
      KeyManager: r.manager,
      CustomerMasterKeySpec: 'SYMMETRIC_DEFAULT',
      KeySpec: 'SYMMETRIC_DEFAULT',
      EncryptionAlgorithms: ['SYMMETRIC_DEFAULT'],
      MultiRegion: false,
      ...(r.origin === 'EXTERNAL' && r.expiration_model ? { ExpirationModel: r.expiration_model } : {}),
      ...(r.valid_to !== null ? { ValidTo: r.valid_to } : {}),
    };
  }
}

/** Operations authorized by identity policies alone, on resource "*". */
const ACCOUNT_OPS = new Set(['CreateKey', 'ListKeys', 'ListAliases', 'GenerateRandom', 'ListRetirableGrants']);
/** Operations that authorize in their handlers (their keys come from a ciphertext or several parameters). */
const SELF_AUTHORIZED_OPS = new Set(['Decrypt', 'ReEncrypt', 'CreateAlias', 'UpdateAlias', 'DeleteAlias', 'CreateGrant', 'RetireGrant']);

function deny(r: { message: string } | undefined): void {
  if (r) throw new KmsError('AccessDeniedException', r.message);
}

function policyName(input: Input): string {
  const name = str(input, 'PolicyName') ?? DEFAULT_POLICY_NAME;
  if (name !== DEFAULT_POLICY_NAME)
    throw new KmsError('NotFoundException', `No such policy exists: ${name} (a key has one policy, "default").`);
  return name;
}

/** GenerateDataKey's length: KeySpec AES_256 / AES_128, or NumberOfBytes, exactly one of them. */
function dataKeyLength(input: Input): number {
  const spec = str(input, 'KeySpec');
  const n = int(input, 'NumberOfBytes', 1, 1024);
  if (spec !== undefined && n !== undefined) throw validation('KeySpec and NumberOfBytes are mutually exclusive.');
  if (spec === 'AES_256') return 32;
  if (spec === 'AES_128') return 16;
  if (spec !== undefined)
    throw validation(
      `1 validation error detected: Value '${spec}' at 'keySpec' failed to satisfy constraint: Member must satisfy enum value set: [AES_256, AES_128]`,
    );
  if (n === undefined) throw validation('Please specify either number of bytes or key spec.');
  return n;
}

/** The encryption context S3 sends with an SSE-KMS object: the object's ARN (aws:s3:arn) and the pairs the request gave. */
function s3Context(s: WrapSubject): Record<string, string> {
  let given: Record<string, string> = {};
  try {
    given = JSON.parse(s.context);
  } catch {}
  return { 'aws:s3:arn': `arn:aws:s3:::${s.bucket}/${s.key}`, ...given };
}

function grantPage(rows: GrantRow[], limit: number, arn: (r: GrantRow) => string): Record<string, unknown> {
  const page = rows.slice(0, limit);
  return {
    Grants: page.map((r) => grantEntry(r, arn(r))),
    Truncated: rows.length > limit,
    ...(rows.length > limit ? { NextMarker: page.at(-1)!.id } : {}),
  };
}

function failure(e: unknown): Failure {
  if (!(e instanceof KmsError)) throw e;
  const reason: UseFailure =
    e.type === 'AccessDeniedException'
      ? 'AccessDenied'
      : e.type === 'NotFoundException'
        ? 'NotFound'
        : e.type === 'DisabledException'
          ? 'Disabled'
          : e.type === 'KMSInvalidStateException'
            ? 'InvalidState'
            : 'Internal';
  return { ok: false, reason, message: e.message };
}
