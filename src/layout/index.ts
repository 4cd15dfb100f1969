// Which layout holds which bucket: the gateway's own R2 bucket by default, an
// upstream bucket for each [vars.UPSTREAMS.<name>] table (or all of them for "*").

import type { Config } from '../config';
import type { Env } from '../env';
import { readSecret } from '../secrets';
import type { Store } from '../store/types';
import { ProxyLayout } from './proxy/layout';
import { R2Layout } from './r2/layout';
import type { Layout, Layouts } from './types';

type Secret = { get(): Promise<string> };

export function layoutsFor(env: Env, config: Config, store: Store): Layouts {
  const r2 = new R2Layout(store);
  const named = new Map<string, Layout>();
  let wildcard: Layout | undefined;
  for (const u of config.upstreams) {
    const raw = (env as unknown as Record<string, unknown>)[u.credentials];
    const secret = () =>
      readSecret(typeof raw === 'object' && raw ? (raw as Secret) : undefined, typeof raw === 'string' ? raw : undefined);
    const layout = new ProxyLayout(u, secret);
    if (u.name === '*') wildcard = layout;
    else named.set(u.name, layout);
  }
  return {
    of: (bucket) => named.get(bucket) ?? wildcard ?? r2,
    all: () => [...(wildcard ? [wildcard] : [r2]), ...named.values()],
  };
}
