// Access keys to secrets and principals. The pairs from the secret store are the account's root;
// every other key is an IAM user's, looked up in the IAM Durable Object (durable.ts). Signature
// checks, authorization and the IAM API all ask here, so every protocol knows the same keys.
//
// What authentication needs of a user's key (its secret, its user, its policies parsed) is cached
// in the isolate for a short bound, so the Durable Object is not on every request's path: at most
// one lookup per key per bound per isolate, unknown keys included (a flood of made-up key ids is
// answered from the cache). That bound is our eventual consistency: a disabled or deleted key stops
// working, and a policy change takes effect, within it (README: Users and policies). IAM writes made
// through this isolate clear its cache at once (forgetIdentities).

import { parsePolicy } from './policy';
import { isUserKeyId, type KeyRecord } from './service';
import { type PolicyDocument, type Principal, ROOT_ARN } from './types';

export interface Identities {
  /** The secret of an access key that may sign requests; undefined when the key is unknown or inactive. */
  secret(accessKeyId: string): Promise<string | undefined>;
  /** The principal an access key whose signature was just verified belongs to. */
  principal(accessKeyId: string): Promise<Principal>;
}

/** The default bound, in seconds (env IAM_CACHE_SECONDS changes it). */
export const DEFAULT_CACHE_SECONDS = 5;
/** Keys remembered per isolate; beyond it the oldest entries go first. */
const MAX_ENTRIES = 10_000;

type Known = { secret: string; principal: (accessKeyId: string) => Principal };
type Entry = { at: number; value: Promise<Known | undefined> };

const cache = new Map<string, Entry>();

/** Drops every cached key: called after an IAM write through this isolate. */
export function forgetIdentities(): void {
  cache.clear();
}

/** A policy that denies everything: what a stored policy that no longer parses is taken for (fail closed). */
const DENY_ALL: PolicyDocument = { version: '2012-10-17', statements: [{ effect: 'Deny', action: ['*'], resource: ['*'] }] };

function known(r: KeyRecord): Known {
  const policies = r.policies.map((text) => {
    try {
      return parsePolicy(text, 'identity');
    } catch {
      console.error(JSON.stringify({ event: 'iam-policy-unparsable', user: r.userName }));
      return DENY_ALL;
    }
  });
  return {
    secret: r.secret,
    principal: (accessKeyId) => ({ kind: 'user', accessKeyId, arn: r.arn, userName: r.userName, userId: r.userId, policies }),
  };
}

export interface IdentitySources {
  /** The root credential lookup (config.ts credentialLookup): constant-time over every pair. */
  root: (accessKeyId: string) => Promise<string | undefined>;
  /** An IAM user's Active key, from the IAM Durable Object; absent where there is no IAM binding. */
  user?: (accessKeyId: string) => Promise<KeyRecord | undefined>;
  /** The cache bound in seconds (0: no caching). */
  cacheSeconds?: number;
  now?: () => number;
}

/** Identities over the root pairs and, when given, the IAM store behind the isolate's cache. */
export function identities(sources: IdentitySources | ((accessKeyId: string) => Promise<string | undefined>)): Identities {
  const s: IdentitySources = typeof sources === 'function' ? { root: sources } : sources;
  const now = s.now ?? Date.now;
  const bound = (s.cacheSeconds ?? DEFAULT_CACHE_SECONDS) * 1000;

  const lookup = (accessKeyId: string): Promise<Known | undefined> => {
    // Only ids of the shape IAM gives out can be users' keys: anything else never reaches the store.
    if (!s.user || !isUserKeyId(accessKeyId)) return Promise.resolve(undefined);
    const t = now();
    const hit = cache.get(accessKeyId);
    // The age is judged by the reader's bound, so a caller with a shorter bound never sees older answers.
    if (hit && t - hit.at < bound) return hit.value;
    const user = s.user;
    const value = user(accessKeyId).then((r) => (r ? known(r) : undefined));
    // A failed lookup is not remembered: the next request asks again.
    value.catch(() => cache.get(accessKeyId)?.value === value && cache.delete(accessKeyId));
    cache.delete(accessKeyId);
    if (bound > 0) {
      while (cache.size >= MAX_ENTRIES) cache.delete(cache.keys().next().value as string);
      cache.set(accessKeyId, { at: t, value });
    }
    return value;
  };

  // One Identities serves one request: the principal is the one whose secret verified the signature,
  // even if the cache entry expires (and the key is disabled) in between.
  const verified = new Map<string, Known>();
  return {
    async secret(accessKeyId) {
      const root = await s.root(accessKeyId);
      if (root !== undefined) return root;
      const k = await lookup(accessKeyId);
      if (k) verified.set(accessKeyId, k);
      return k?.secret;
    },
    async principal(accessKeyId) {
      if ((await s.root(accessKeyId)) !== undefined) return { kind: 'root', accessKeyId, arn: ROOT_ARN };
      const k = verified.get(accessKeyId) ?? (await lookup(accessKeyId));
      if (!k) throw new Error('principal() of an access key that signed nothing');
      return k.principal(accessKeyId);
    },
  };
}
