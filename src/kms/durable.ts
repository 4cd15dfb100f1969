// The Durable Object that holds every CMK (SQLite-backed; wrangler.toml binds it
// as KMS and src/worker.ts exports the class). One instance, named below, serves
// the whole gateway so that key state is strongly consistent.

import { DurableObject } from 'cloudflare:workers';
import { fromB64 } from '../crypto/bytes';
import { readSecret } from '../secrets';
import type { Caller } from './authz';
import { KmsError, KmsService, type UnwrapResult, type WrapResult, type WrapSubject } from './service';

/** The bindings the KMS reads: its root key (a Secrets Store binding, or a plain secret in development). */
export interface KmsEnv {
  KMS_ROOT_KEY_SECRET?: { get(): Promise<string> };
  KMS_ROOT_KEY?: string;
  KMS?: DurableObjectNamespace<KmsStore>;
}

export const KMS_OBJECT_NAME = 'sealbucket-kms';

/** The reply of one KMS API call, ready to be rendered as AWS JSON. */
export type ApiReply = { ok: true; json: string } | { ok: false; type: string; message: string; status: number };

/** Reads KMS_ROOT_KEY (Secrets Store binding KMS_ROOT_KEY_SECRET, or the plain secret): base64 of 32 bytes. */
export async function kmsRootKey(env: KmsEnv): Promise<Uint8Array> {
  const spec = await readSecret(env.KMS_ROOT_KEY_SECRET, env.KMS_ROOT_KEY);
  if (!spec) throw new KmsError('KMSInternalException', 'No KMS root key is configured (KMS_ROOT_KEY).', 500);
  let key: Uint8Array;
  try {
    key = fromB64(spec.trim());
  } catch {
    key = new Uint8Array(0);
  }
  if (key.length !== 32) throw new KmsError('KMSInternalException', 'The KMS root key (KMS_ROOT_KEY) is not base64 of 32 bytes.', 500);
  return key;
}

export class KmsStore extends DurableObject<KmsEnv> {
  private svc: KmsService;

  constructor(ctx: DurableObjectState, env: KmsEnv) {
    super(ctx, env);
    this.svc = new KmsService(ctx.storage.sql, () => kmsRootKey(env));
  }

  async api(op: string, input: Record<string, unknown>, region: string, caller?: Caller): Promise<ApiReply> {
    try {
      return { ok: true, json: JSON.stringify(await this.svc.call(op, input, region, caller)) };
    } catch (e) {
      if (e instanceof KmsError) return { ok: false, type: e.type, message: e.message, status: e.status };
      console.error(JSON.stringify({ event: 'kms-error', op, error: String(e instanceof Error ? e.message : e) }));
      return { ok: false, type: 'KMSInternalException', message: 'The KMS encountered an internal error.', status: 500 };
    }
  }

  /** `caller` is who the S3 request came from; absent when the gateway itself acts (rotation, rewrap). */
  wrapDataKey(ref: string | undefined, subject: WrapSubject, dataKey: Uint8Array, caller?: Caller): Promise<WrapResult> {
    return this.svc.wrapDataKey(ref, subject, dataKey, caller);
  }

  unwrapDataKey(
    kid: string,
    kver: string,
    subject: WrapSubject,
    wsalt: Uint8Array,
    wkey: Uint8Array,
    caller?: Caller,
  ): Promise<UnwrapResult> {
    return this.svc.unwrapDataKey(kid, kver, subject, wsalt, wkey, caller);
  }
}

/** The stub of the one KMS object, or undefined when the binding is missing. */
export function kmsStub(env: KmsEnv): DurableObjectStub<KmsStore> | undefined {
  return env.KMS?.get(env.KMS.idFromName(KMS_OBJECT_NAME));
}
