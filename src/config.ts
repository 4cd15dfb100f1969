// Settings read from the bindings (src/env.ts): wrangler.toml [vars], secrets, Secrets Store.

import { timingSafeEqual } from './crypto/bytes';
import type { Env, UpstreamSpec } from './env';
import { readSecret } from './secrets';

export interface UpstreamMapping {
  /** Gateway bucket name, or "*". */
  name: string;
  endpoint: string;
  region: string;
  bucket: string;
  prefix: string;
  pathStyle: boolean;
  credentials: string;
  minPart: number;
}

export interface Config {
  baseDomains: string[];
  defaultSse: 'cos' | 'none';
  segmentSize: number;
  sseCAllowHttp: boolean;
  /** Accept AWS Signature Version 2 (header, presigned, POST forms) unless SIGV2 = "off". */
  sigV2: boolean;
  region: string;
  /** The web console: served at `path` unless CONSOLE = "off". */
  console: { enabled: boolean; path: string };
  upstreams: UpstreamMapping[];
}

export function readConfig(env: Env): Config {
  const seg = Number(env.SEGMENT_SIZE ?? 262144);
  if (!Number.isInteger(seg) || seg < 1024 || seg > 1 << 24) throw new Error('SEGMENT_SIZE must be an integer from 1024 to 16777216');
  return {
    baseDomains: (env.BASE_DOMAINS ?? '')
      .split(',')
      .map((s) => s.trim().toLowerCase())
      .filter(Boolean),
    defaultSse: (env.DEFAULT_SSE ?? 'AES256').toLowerCase() === 'none' ? 'none' : 'cos',
    segmentSize: seg,
    sseCAllowHttp: env.SSE_C_ALLOW_HTTP === 'true',
    sigV2: (env.SIGV2 ?? 'on').toLowerCase() !== 'off',
    region: env.REGION ?? 'us-east-1',
    console: { enabled: (env.CONSOLE ?? 'on').toLowerCase() !== 'off', path: consolePath(env.CONSOLE_PATH) },
    upstreams: upstreams(env.UPSTREAMS, env.REGION ?? 'us-east-1'),
  };
}

function upstreams(spec: Env['UPSTREAMS'], region: string): UpstreamMapping[] {
  if (!spec) return [];
  const table = (typeof spec === 'string' ? JSON.parse(spec) : spec) as Record<string, UpstreamSpec>;
  return Object.entries(table).map(([name, u]) => {
    const where = `UPSTREAMS.${name}`;
    if (!u || typeof u.endpoint !== 'string' || !/^https?:\/\/[^/]+\/?$/.test(u.endpoint))
      throw new Error(`${where}.endpoint must be an http(s) origin`);
    if (typeof u.bucket !== 'string' || !u.bucket) throw new Error(`${where}.bucket is required`);
    if (typeof u.credentials !== 'string' || !u.credentials) throw new Error(`${where}.credentials must name a secret`);
    const prefix = u.prefix ?? (name === '*' ? '{bucket}/' : '');
    if (name === '*' && !prefix.endsWith('{bucket}/')) throw new Error(`${where}.prefix must end with {bucket}/`);
    return {
      name,
      endpoint: u.endpoint.replace(/\/$/, ''),
      region: u.region ?? region,
      bucket: u.bucket,
      prefix,
      pathStyle: u.path_style ?? true,
      credentials: u.credentials,
      minPart: u.min_part ?? 5 * 1024 * 1024,
    };
  });
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
    for (const [k, v] of m) if (timingSafeEqual(k, ak)) found = v;
    return found;
  };
}
