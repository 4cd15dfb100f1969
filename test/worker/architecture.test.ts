/// <reference types="vite/client" />
// The dependency rules of docs/ARCHITECTURE.md, checked on the imports of every
// file under src/. Data flows one way (routes -> s3 protocol -> sse -> crypto,
// and s3 -> layout -> store); a lower layer never imports an upper one, a
// handler never imports another handler, and no module imports itself back.

import { describe, expect, it } from 'vitest';

// The console's browser scripts (console/assets/) are served as text, not imported by the Worker.
const sources = import.meta.glob(['../../src/**/*.{ts,js}', '!../../src/console/assets/**'], {
  query: '?raw',
  import: 'default',
  eager: true,
}) as Record<string, string>;

const assets = Object.keys(import.meta.glob('../../src/console/assets/**'));

/** src-relative path ("s3/ops/get.ts") of every source file, with its text. */
const files = new Map(Object.entries(sources).map(([p, text]) => [p.replace('../../src/', ''), text]));
const exists = (f: string) => files.has(f) || assets.includes(`../../src/${f}`);

/** Every import or re-export (type-only ones included: a cycle of types is still a cycle for a reader). */
function importsOf(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(
    /^\s*(?:import|export)\s[^'"]*?\sfrom\s+['"]([^'"]+)['"]|^\s*import\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/gm,
  )) {
    out.push(m[1] ?? m[2] ?? m[3]);
  }
  return out;
}

/** A relative specifier resolved to a src-relative file, or null when it leaves src/ or is a package. */
function resolve(from: string, spec: string): string | null {
  if (!spec.startsWith('.')) return null;
  const parts = from.split('/').slice(0, -1);
  for (const seg of spec.split('/')) {
    if (seg === '..') {
      if (!parts.length) return null; // out of src/ (a package's file)
      parts.pop();
    } else if (seg !== '.') parts.push(seg);
  }
  const base = parts.join('/');
  for (const candidate of [base, `${base}.ts`, `${base}.js`, `${base}/index.ts`]) if (exists(candidate)) return candidate;
  return `${base} (missing)`;
}

const graph = new Map(
  [...files].map(([f, text]) => [
    f,
    importsOf(text)
      .map((s) => resolve(f, s))
      .filter((t): t is string => t !== null && !t.startsWith('console/assets/')),
  ]),
);

/** The layer a file belongs to: its folder, with a few named files of their own. */
function layer(f: string): string {
  if (f === 'kms/api.ts') return 'kms-api';
  if (f === 'iam/api.ts') return 'iam-api';
  if (f === 's3/router.ts') return 's3/router';
  if (/^s3\/ops\//.test(f)) return 's3/ops';
  if (/^s3\/protocol\//.test(f)) return 's3/protocol';
  if (/^s3\/payload\//.test(f)) return 's3/payload';
  const dir = f.includes('/') ? f.slice(0, f.indexOf('/')) : f.replace(/\.ts$/, '');
  return dir;
}

/**
 * What each layer may import, besides itself. Top-level files not listed here
 * (worker.ts, app.ts) may import anything. `s3` is the room handlers share (context,
 * objects, write mode, copy source), below the router and the handlers; `auth` speaks
 * S3 errors; `kms-api` is the KMS's own front door (a handler beside s3/).
 */
const ALLOWED: Record<string, string[]> = {
  crypto: [],
  env: ['kms', 'iam'],
  secrets: [],
  config: ['env', 'secrets', 'crypto'],
  store: ['crypto'],
  iam: ['crypto', 'secrets'],
  kms: ['crypto', 'secrets', 'iam'],
  sse: ['crypto', 'kms', 'iam'],
  layout: ['store', 'sse', 'crypto', 'config', 'env', 'secrets'],
  auth: ['crypto', 's3/protocol'],
  's3/protocol': ['auth', 'sse', 'layout', 'crypto', 'iam'],
  's3/payload': ['s3/protocol', 'auth', 'crypto'],
  s3: ['s3/protocol', 's3/payload', 'auth', 'sse', 'layout', 'store', 'crypto', 'config', 'iam'],
  's3/router': ['s3/ops', 's3', 's3/protocol'],
  's3/ops': ['s3', 's3/protocol', 's3/payload', 'auth', 'sse', 'layout', 'store', 'crypto', 'kms', 'config', 'iam'],
  admin: ['s3/protocol', 'layout', 'sse', 'store', 'crypto', 'iam'],
  'kms-api': ['kms', 'auth', 's3/protocol', 's3/payload', 'crypto', 'config', 'env', 'iam'],
  'iam-api': ['iam', 'auth', 's3/protocol', 's3/payload', 'crypto', 'config', 'env'],
  console: ['config'],
};

describe('the import rules of docs/ARCHITECTURE.md', () => {
  it('finds the sources and every relative import resolves', () => {
    expect(files.size).toBeGreaterThan(40);
    const missing = [...graph].flatMap(([f, deps]) => deps.filter((d) => d.endsWith('(missing)')).map((d) => `${f} -> ${d}`));
    expect(missing).toEqual([]);
  });

  it('each layer imports only the layers below it', () => {
    const broken: string[] = [];
    for (const [f, deps] of graph) {
      const from = layer(f);
      const allowed = ALLOWED[from];
      if (!allowed) continue;
      for (const d of deps) {
        const to = layer(d);
        if (to !== from && !allowed.includes(to)) broken.push(`${f} (${from}) -> ${d} (${to})`);
      }
    }
    expect(broken).toEqual([]);
  });

  it('sse/, crypto/, layout/ and store/ never import s3/', () => {
    const broken = [...graph].flatMap(([f, deps]) =>
      /^(sse|crypto|layout|store)\//.test(f) ? deps.filter((d) => d.startsWith('s3/')).map((d) => `${f} -> ${d}`) : [],
    );
    expect(broken).toEqual([]);
  });

  it('handlers never import handlers', () => {
    const broken = [...graph].flatMap(([f, deps]) =>
      f.startsWith('s3/ops/') ? deps.filter((d) => d.startsWith('s3/ops/')).map((d) => `${f} -> ${d}`) : [],
    );
    expect(broken).toEqual([]);
  });

  it('there are no import cycles', () => {
    const cycles: string[] = [];
    const state = new Map<string, 'open' | 'done'>();
    const path: string[] = [];
    const visit = (f: string) => {
      state.set(f, 'open');
      path.push(f);
      for (const d of graph.get(f) ?? []) {
        if (state.get(d) === 'open') cycles.push([...path.slice(path.indexOf(d)), d].join(' -> '));
        else if (!state.has(d)) visit(d);
      }
      path.pop();
      state.set(f, 'done');
    };
    for (const f of [...graph.keys()].sort()) if (!state.has(f)) visit(f);
    expect(cycles).toEqual([]);
  });
});

describe('the S3 error catalogue', () => {
  it('has every code the gateway answers with', async () => {
    const { isKnownCode } = await import('../../src/s3/protocol/errors');
    const used = new Set([...files.values()].flatMap((text) => [...text.matchAll(/new S3Error\(\s*'([^']+)'/g)].map((m) => m[1])));
    expect(used.size).toBeGreaterThan(40);
    expect([...used].filter((code) => !isKnownCode(code))).toEqual([]);
  });
});
