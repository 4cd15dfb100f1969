// Which encryption a write gets: the request's own choice, else the bucket's default
// encryption (PutBucketEncryption), else the gateway default; and the bucket setting
// that holds that default.

import { FIELDS } from '../layout/record';
import type { Mode, SseRequest } from '../sse';
import type { Ctx } from './context';
import { requireBucket } from './objects';
import { S3Error } from './protocol/errors';

export interface BucketEncryption {
  mode: 'cos' | 'kms';
  kmsKeyId?: string;
  bucketKeyEnabled?: boolean;
  /** Encryption types writes may not use: 'SSE-C' and/or 'NONE'. */
  blocked: string[];
}

/** The bucket's default encryption is kept as JSON in its settings under this name. */
const SETTING = FIELDS.bucket.sse;

export function bucketEncryption(custom: Record<string, string>): BucketEncryption | undefined {
  return custom[SETTING] ? (JSON.parse(custom[SETTING]) as BucketEncryption) : undefined;
}

/** The bucket's settings with `cfg` as its default encryption (none when undefined). */
export function withBucketEncryption(custom: Record<string, string>, cfg: BucketEncryption | undefined): Record<string, string> {
  const { [SETTING]: _, ...rest } = custom;
  return cfg ? { ...rest, [SETTING]: JSON.stringify(cfg) } : rest;
}

/**
 * The mode a write uses: what the request asked for, else the bucket's default
 * encryption, else the gateway default. Also checks that the bucket exists and
 * that the mode is not one the bucket blocks.
 */
export async function writeMode(ctx: Ctx, sse: SseRequest, bucket = ctx.bucket): Promise<Mode | undefined> {
  const cfg = bucketEncryption((await requireBucket(ctx, bucket)).custom);
  const m = sse.mode ?? cfg?.mode ?? ctx.config.defaultSse;
  const blocked = m === 'c' ? 'SSE-C' : m === 'none' ? 'NONE' : undefined;
  if (blocked && cfg?.blocked.includes(blocked)) {
    throw new S3Error(
      'AccessDenied',
      `This bucket blocks ${blocked === 'NONE' ? 'unencrypted writes' : 'SSE-C'} (BlockedEncryptionTypes).`,
    );
  }
  // A write that names no encryption takes the bucket default's CMK with its mode;
  // one that asks for SSE-KMS without a key id gets the default CMK (as S3 does).
  if (m === 'kms' && sse.mode === undefined && cfg?.kmsKeyId && sse.kmsKeyId === undefined) sse.kmsKeyId = cfg.kmsKeyId;
  return m === 'none' ? undefined : m;
}
