// The Worker's bindings, as wrangler.toml and the secret store declare them.

import type { IamStore } from './iam/durable';
import type { KmsStore } from './kms/durable';

export type Secret = { get(): Promise<string> };

export interface Env {
  STORE: R2Bucket;
  /** Secrets Store bindings (production). */
  MASTER_KEYRING_SECRET?: Secret;
  CREDENTIALS_SECRET?: Secret;
  KMS_ROOT_KEY_SECRET?: Secret;
  /** SSE-KMS: the Durable Object that holds the CMKs (src/kms/durable.ts). */
  KMS?: DurableObjectNamespace<KmsStore>;
  /** IAM users, access keys and policies: one Durable Object (src/iam/durable.ts). */
  IAM?: DurableObjectNamespace<IamStore>;
  /** Seconds an isolate trusts what it cached about an IAM user's key (default 5; README: Users and policies). */
  IAM_CACHE_SECONDS?: string;
  /** Plain Worker secrets (local dev / fallback). */
  MASTER_KEYRING?: string;
  /** base64 of the 32-byte root key that wraps CMK material (docs/FORMAT.md). */
  KMS_ROOT_KEY?: string;
  ACCESS_KEY_ID?: string;
  SECRET_ACCESS_KEY?: string;
  /** More pairs: "AK:SK,AK:SK". */
  CREDENTIALS?: string;
  /** Comma-separated base domains for virtual-hosted addressing. */
  BASE_DOMAINS?: string;
  /** "AES256" (default) seals requests that name no encryption; "none" stores them in plaintext. */
  DEFAULT_SSE?: string;
  SEGMENT_SIZE?: string;
  /** "true" lets SSE-C keys arrive over plain HTTP (local dev only). */
  SSE_C_ALLOW_HTTP?: string;
  SIGV2?: string;
  REGION?: string;
  /** "off" hides the web console (src/console/); anything else serves it. */
  CONSOLE?: string;
  /** Where the web console is served (default "/-/console"). */
  CONSOLE_PATH?: string;
  /** Buckets fronting upstream S3-compatible buckets: a [vars.UPSTREAMS] table, or its JSON. */
  UPSTREAMS?: string | Record<string, UpstreamSpec>;
}

/** One [vars.UPSTREAMS.<gateway bucket>] table; the name "*" maps every bucket to a prefix. */
export interface UpstreamSpec {
  endpoint: string;
  region?: string;
  /** The upstream bucket. */
  bucket: string;
  /** Key prefix inside it; with the name "*" it must contain "{bucket}". */
  prefix?: string;
  path_style?: boolean;
  /** Name of the secret (or Secrets Store binding) holding "AKID:SECRET". */
  credentials: string;
  /** Smallest non-final part the upstream accepts (S3: 5 MiB, COS: 1 MiB). */
  min_part?: number;
}
