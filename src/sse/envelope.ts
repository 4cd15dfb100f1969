// Envelope (de)serialisation: compact JSON in one custom-metadata value.

import { IntegrityError } from '../crypto/stream';
import type { Envelope } from './types';

const B64URL = /^[A-Za-z0-9_-]*$/;
const REQUIRED = ['salt', 'commit', 'wsalt', 'wkey'] as const;

export const encodeEnvelope = (e: Envelope): string => JSON.stringify(e);

export function decodeEnvelope(s: string): Envelope {
  let e: Envelope;
  try {
    e = JSON.parse(s);
  } catch {
    throw new IntegrityError('envelope is not JSON');
  }
  const ok =
    e &&
    e.v === 1 &&
    (e.mode === 'cos' || e.mode === 'kms' || e.mode === 'c') &&
    Number.isSafeInteger(e.seg) &&
    e.seg >= 1024 &&
    e.seg <= 1 << 24 &&
    REQUIRED.every((k) => typeof e[k] === 'string' && B64URL.test(e[k])) &&
    (e.mk === undefined || e.mk === '1') &&
    (['mwsalt', 'mwkey'] as const).every((k) => e[k] === undefined || (typeof e[k] === 'string' && B64URL.test(e[k])));
  if (!ok) throw new IntegrityError('envelope is malformed');
  return e;
}
