// SSE-COS (S3: SSE-S3): the data key is wrapped under the active master key
// version; the envelope records the version so rotation only re-wraps.

import { fields, fromB64url, randomBytes, toB64url } from '../crypto/bytes';
import { unwrapKey, wrapKey } from '../crypto/kdf';
import { IntegrityError } from '../crypto/stream';
import type { Keyring } from './keyring';
import type { Envelope, KeyMode, ObjectId, WrapFields } from './types';

export const cosWrapInfo = (obj: ObjectId, kid: string): Uint8Array => fields('sse-cos', kid, obj.bucket, obj.key);

export function sseCos(keyring: () => Promise<Keyring>): KeyMode {
  return {
    async wrap(obj, dataKey): Promise<WrapFields> {
      const { active } = await keyring();
      const wsalt = randomBytes(16);
      const wkey = await wrapKey(active.key, wsalt, cosWrapInfo(obj, active.id), dataKey);
      return { kid: active.id, wsalt: toB64url(wsalt), wkey: toB64url(wkey) };
    },
    async unwrap(obj: ObjectId, env: Envelope): Promise<Uint8Array> {
      const master = (await keyring()).get(env.kid ?? '');
      if (!master) throw new IntegrityError(`master key version ${env.kid} is not in the keyring`);
      const dk = await unwrapKey(master.key, fromB64url(env.wsalt), cosWrapInfo(obj, master.id), fromB64url(env.wkey));
      if (!dk) throw new IntegrityError('data key does not unwrap for this object');
      return dk;
    },
  };
}
