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
    async unwrap(obj: ObjectId, envelope: Envelope): Promise<Uint8Array> {
      const master = (await keyring()).get(envelope.kid ?? '');
      if (!master) throw new IntegrityError(`master key version ${envelope.kid} is not in the keyring`);
      const dk = await unwrapKey(master.key, fromB64url(envelope.wsalt), cosWrapInfo(obj, master.id), fromB64url(envelope.wkey));
      if (!dk) throw new IntegrityError('data key does not unwrap for this object');
      return dk;
    },
  };
}
