// How the proxy layout names things in the upstream bucket: the hidden prefix of its
// bookkeeping, and the escaping that keeps the listing index in key order.

import { LayoutError } from '../errors';

/** Everything the gateway keeps beside the objects sits under this prefix. */
export const HIDDEN = '.sealbucket/';

/** Order-preserving and prefix-free: " " sorts below every character of an escaped key. */
export const escapeKey = (k: string) => k.replace(/[ !]/g, (c) => (c === ' ' ? '!!' : '!"'));
export const unescapeKey = (k: string) => k.replace(/!(.)/g, (_, c: string) => (c === '!' ? ' ' : '!'));

/** Refuses keys under the hidden prefix. */
export function writable(key: string) {
  if (key.startsWith(HIDDEN))
    throw new LayoutError('KeyUnstorable', `Keys under ${HIDDEN} are reserved for the gateway's bookkeeping in this bucket.`);
}
