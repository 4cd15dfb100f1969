// The Durable Object that holds IAM users, access keys and policies (SQLite-backed; wrangler.toml
// binds it as IAM and src/worker.ts exports the class). One instance, named below, serves the whole
// gateway so that identities are strongly consistent; requests reach it only on a cache miss
// (identities.ts) or an IAM API call (api.ts).

import { DurableObject } from 'cloudflare:workers';
import { concat, fields, fromB64, randomBytes, utf8 } from '../crypto/bytes';
import { hkdf, unwrapKey, wrapKey } from '../crypto/kdf';
import { readSecret } from '../secrets';
import { IamError, IamService, type KeyRecord, type Sealing } from './service';

/** The bindings the IAM store reads: the KMS root key (secret keys are sealed under a key derived from it). */
export interface IamEnv {
  KMS_ROOT_KEY_SECRET?: { get(): Promise<string> };
  KMS_ROOT_KEY?: string;
  IAM?: DurableObjectNamespace<IamStore>;
}

export const IAM_OBJECT_NAME = 'sealbucket-iam';

/** HKDF info of the key that seals secret access keys: distinct from every KMS derivation. */
const SECRETS_INFO = utf8('sealbucket iam access-key secrets v1');
const SALT_BYTES = 16;

/** The reply of one IAM call: its result, or the IAM error to render. */
export type IamReply = { ok: true; result: unknown } | { ok: false; code: string; message: string; status: number };

/** Seals secrets under HKDF(KMS root key, "sealbucket iam access-key secrets v1"), each with a fresh salt, bound to its key id. */
export function secretSealing(rootKey: () => Promise<string | undefined>): Sealing {
  const key = async () => {
    const spec = await rootKey();
    let raw: Uint8Array;
    try {
      raw = fromB64((spec ?? '').trim());
    } catch {
      raw = new Uint8Array(0);
    }
    if (raw.length !== 32)
      throw new IamError('ServiceFailure', 'The KMS root key (KMS_ROOT_KEY) is missing or not base64 of 32 bytes.', 500);
    return hkdf(raw, new Uint8Array(0), SECRETS_INFO, 32);
  };
  return {
    async seal(accessKeyId, secret) {
      const salt = randomBytes(SALT_BYTES);
      return concat(salt, await wrapKey(await key(), salt, fields('iam-secret', accessKeyId), utf8(secret)));
    },
    async unseal(accessKeyId, sealed) {
      const opened = await unwrapKey(
        await key(),
        sealed.subarray(0, SALT_BYTES),
        fields('iam-secret', accessKeyId),
        sealed.subarray(SALT_BYTES),
      );
      if (!opened) throw new Error(`the sealed secret of ${accessKeyId} does not open`);
      return new TextDecoder().decode(opened);
    },
  };
}

/** The service methods the API may call, by IAM action name. */
const ACTIONS = {
  CreateUser: 'createUser',
  GetUser: 'getUser',
  ListUsers: 'listUsers',
  DeleteUser: 'deleteUser',
  CreateAccessKey: 'createAccessKey',
  ListAccessKeys: 'listAccessKeys',
  UpdateAccessKey: 'updateAccessKey',
  DeleteAccessKey: 'deleteAccessKey',
  PutUserPolicy: 'putUserPolicy',
  GetUserPolicy: 'getUserPolicy',
  ListUserPolicies: 'listUserPolicies',
  DeleteUserPolicy: 'deleteUserPolicy',
  CreatePolicy: 'createPolicy',
  GetPolicy: 'getPolicy',
  GetPolicyVersion: 'getPolicyVersion',
  ListPolicies: 'listPolicies',
  DeletePolicy: 'deletePolicy',
  AttachUserPolicy: 'attachUserPolicy',
  DetachUserPolicy: 'detachUserPolicy',
  ListAttachedUserPolicies: 'listAttachedUserPolicies',
} as const satisfies Record<string, keyof IamService>;

export type IamAction = keyof typeof ACTIONS;
export const isIamAction = (a: string): a is IamAction => Object.hasOwn(ACTIONS, a);

export class IamStore extends DurableObject<IamEnv> {
  private svc: IamService;

  constructor(ctx: DurableObjectState, env: IamEnv) {
    super(ctx, env);
    this.svc = new IamService(
      ctx.storage.sql,
      secretSealing(() => readSecret(env.KMS_ROOT_KEY_SECRET, env.KMS_ROOT_KEY)),
    );
  }

  async call(action: IamAction, params: Record<string, string>): Promise<IamReply> {
    try {
      const method = ACTIONS[action];
      // biome-ignore lint/suspicious/noExplicitAny: each method takes the request's parameters; the table above names only methods that do
      const result = await (this.svc[method] as (p: Record<string, string>) => any).call(this.svc, params);
      return { ok: true, result: result ?? null };
    } catch (e) {
      if (e instanceof IamError) return { ok: false, code: e.code, message: e.message, status: e.status };
      console.error(JSON.stringify({ event: 'iam-error', action, error: String(e instanceof Error ? e.message : e) }));
      return { ok: false, code: 'ServiceFailure', message: 'The request processing has failed because of an unknown error.', status: 500 };
    }
  }

  /** What authentication needs of an access key; undefined when it is unknown or Inactive. */
  keyRecord(accessKeyId: string): Promise<KeyRecord | undefined> {
    return this.svc.keyRecord(accessKeyId);
  }

  /** The ARN (with its path) of a user by name. */
  userArn(userName: string): string {
    return this.svc.arnOf(userName);
  }
}

/** The stub of the one IAM object, or undefined when the binding is missing. */
export function iamStub(env: IamEnv): DurableObjectStub<IamStore> | undefined {
  return env.IAM?.get(env.IAM.idFromName(IAM_OBJECT_NAME));
}
