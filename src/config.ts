// Bindings and settings (wrangler.toml [vars], secrets, Secrets Store).

import { timingSafeEqualStr } from './crypto/compare';
import { readSecret } from './secrets';

type Secret = { get(): Promise<string> };

export interface Env {
  STORE: R2Bucket;
  /** Secrets Store bindings (production). */
  MASTER_KEYRING_SECRET?: Secret;
  CREDENTIALS_SECRET?: Secret;
  KMS_ROOT_KEY_SECRET?: Secret;
  /** SSE-KMS: the Durable Object that holds the CMKs (src/kms/durable.ts). */
  KMS?: DurableObjectNamespace<import('./kms/durable').KmsStore>;
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
  REGION?: string;
  /** "off" hides the web console (src/console/); anything else serves it. */
  CONSOLE?: string;
  /** Where the web console is served (default "/-/console"). */
  CONSOLE_PATH?: string;
}

export interface Config {
  baseDomains: string[];
  defaultSse: 'cos' | 'none';
  segmentSize: number;
  sseCAllowHttp: boolean;
  region: string;
  /** The web console: served at `path` unless CONSOLE = "off". */
  console: { enabled: boolean; path: string };
}

export function readConfig(env: Env): Config {
  const seg = Number(env.SEGMENT_SIZE ?? 262144);
  if (!Number.isInteger(seg) || seg < 1024 || seg > 1 << 24) throw new Error('SEGMENT_SIZE must be an integer from 1024 to 16777216');
  return {
    baseDomains: (env.BASE_DOMAINS ?? '').split(',').map((s) => s.trim().toLowerCase()).filter(Boolean),
    defaultSse: (env.DEFAULT_SSE ?? 'AES256').toLowerCase() === 'none' ? 'none' : 'cos',
    segmentSize: seg,
    sseCAllowHttp: env.SSE_C_ALLOW_HTTP === 'true',
    region: env.REGION ?? 'us-east-1',
    console: { enabled: (env.CONSOLE ?? 'on').toLowerCase() !== 'off', path: consolePath(env.CONSOLE_PATH) },
  };
}

/** "/-/console" unless CONSOLE_PATH names another absolute path (kept without a trailing slash). */
function consolePath(spec: string | undefined): string {
  const p = (spec ?? '').trim().replace(/\/+$/, '');
  if (!p) return '/-/console';
  if (!p.startsWith('/') || /[?#\s]/.test(p)) throw new Error('CONSOLE_PATH must be an absolute path such as /-/console');
  return p;
}

function parsePairs(spec: string | undefined, into: Map<string, string>) {
  for (const pair of (spec ?? '').split(/[,\s]+/).filter(Boolean)) {
    const i = pair.indexOf(':');
    if (i > 0) into.set(pair.slice(0, i), pair.slice(i + 1));
  }
}

/** Looks up an access key's secret across every configured source. */
export function credentialLookup(env: Env): (ak: string) => Promise<string | undefined> {
  let pairs: Promise<Map<string, string>> | undefined;
  const load = async () => {
    const m = new Map<string, string>();
    if (env.ACCESS_KEY_ID && env.SECRET_ACCESS_KEY) m.set(env.ACCESS_KEY_ID, env.SECRET_ACCESS_KEY);
    parsePairs(await readSecret(env.CREDENTIALS_SECRET, env.CREDENTIALS), m);
    return m;
  };
  return async (ak) => {
    pairs ??= load();
    const m = await pairs;
    // Walk every entry so the time taken does not depend on which key matched.
    let found: string | undefined;
    for (const [k, v] of m) if (timingSafeEqualStr(k, ak)) found = v;
    return found;
  };
}
