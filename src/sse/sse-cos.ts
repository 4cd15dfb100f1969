// SSE-COS (S3: SSE-S3): the data key is wrapped under the active master key
// version; the envelope records the version so rotation only re-wraps.

import { fields, fromB64url, randomBytes, toB64url } from '../crypto/bytes';
import { unwrapKey, wrapKey } from '../crypto/kdf';
import { IntegrityError } from '../crypto/stream';
import type { Keyring } from './keyring';
import type { Envelope, KeyMode, ObjectId, WrapFields } from './types';

export const cosWrapInfo = (obj: ObjectId, kid: string, purpose = 'sse-cos'): Uint8Array => fields(purpose, kid, obj.bucket, obj.key);

export const sseCos = (keyring: () => Promise<Keyring>): KeyMode => keyringWrap(keyring, 'sse-cos');

/**
 * The gateway's own custody of an SSE-C upload's manifest key (see Sealer.initUpload): the same
 * wrap as SSE-COS under another purpose label, so neither wrap can stand in for the other.
 */
export const manifestCustody = (keyring: () => Promise<Keyring>): KeyMode => keyringWrap(keyring, 'sse-c manifest key');

function keyringWrap(keyring: () => Promise<Keyring>, purpose: string): KeyMode {
  return {
    async wrap(obj, dataKey): Promise<WrapFields> {
      const { active } = await keyring();
      const wsalt = randomBytes(16);
      const wkey = await wrapKey(active.key, wsalt, cosWrapInfo(obj, active.id, purpose), dataKey);
      return { kid: active.id, wsalt: toB64url(wsalt), wkey: toB64url(wkey) };
    },
    async unwrap(obj: ObjectId, envelope: Envelope): Promise<Uint8Array> {
      const master = (await keyring()).get(envelope.kid ?? '');
      if (!master) throw new IntegrityError(`master key version ${envelope.kid} is not in the keyring`);
      const dk = await unwrapKey(master.key, fromB64url(envelope.wsalt), cosWrapInfo(obj, master.id, purpose), fromB64url(envelope.wkey));
      if (!dk) throw new IntegrityError('data key does not unwrap for this object');
      return dk;
    },
  };
}
