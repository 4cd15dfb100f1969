// Global setup for the e2e projects: serves the real gateway with `wrangler dev`
// on a free loopback port, with fresh R2 state in a temp dir and test-only
// credentials passed as `--var` flags. The e2e-proxy project runs the same
// tests with every bucket fronting an upstream bucket on a real S3-compatible
// server (s3rver, started here as its own process): the proxy layout.
//
// wrangler dev always watches its sources and reloads the Worker when they
// change (answering 503 meanwhile), so it serves a snapshot of src/ and
// wrangler.toml copied into the temp dir at setup: edits made to src/ while the
// suite runs cannot disturb it. The snapshot has no .dev.vars beside its
// config, so a developer's .dev.vars is neither read nor written.
//
// Clients reach it through the local front (scripts/lib/front.mjs), as they do
// under `npm start`: wrangler dev listens on an internal port, and the front
// answers `Expect: 100-continue` at once and survives early answers.

import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, cpSync, createWriteStream, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { get as httpGet } from 'node:http';
import { get as httpsGet } from 'node:https';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';
import { selfSignedCertificate, startFront } from '../../scripts/lib/front.mjs';
import { freePort, sleep, tail } from './process';
import { startUpstream, type UpstreamServer } from './upstream-server';

/** What tests learn about a running gateway. */
export interface GatewayInfo {
  /** http://127.0.0.1:<port>: the local front before wrangler dev */
  endpoint: string;
  port: number;
  /** wrangler dev's own port behind the front (for tests of the front itself). */
  innerPort: number;
  accessKeyId: string;
  secretAccessKey: string;
  /** Base domain for virtual-hosted addressing (BASE_DOMAINS), used by the COS SDK. */
  cosBaseDomain: string;
  /** Where object data rests: R2 state (the --persist-to directory), or the upstream server's files. */
  persistDir: string;
  /** The gateway's captured stdout and stderr. */
  logFile: string;
}

declare module 'vitest' {
  export interface ProvidedContext extends GatewayInfo {
    masterKeyring: string;
    backend: 'r2' | 'proxy';
    /** The upstream server behind the proxy backend (null for R2). */
    upstream: UpstreamInfo | null;
  }
}

export interface UpstreamInfo {
  endpoint: string;
  port: number;
  accessKeyId: string;
  secretAccessKey: string;
  /** The upstream bucket; the suite's gateway keeps bucket B under "main/B/". */
  bucket: string;
  dir: string;
}

export const UPSTREAM_BUCKET = 'sealbucket-e2e';

/** Gateway settings that put every bucket on the upstream, under "<root>/<bucket>/" (one root per gateway). */
export function proxyVars(endpoint: string, root: string, credentials = 'S3RVER:S3RVER'): Record<string, string> {
  return {
    // COS upstreams take 1 MiB parts; so must this one, for the COS SDK's sliced uploads.
    UPSTREAMS: JSON.stringify({
      '*': { endpoint, bucket: UPSTREAM_BUCKET, prefix: `${root}/{bucket}/`, credentials: 'UPSTREAM_CREDENTIALS', min_part: 1048576 },
    }),
    UPSTREAM_CREDENTIALS: credentials,
  };
}

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const READY_TIMEOUT_MS = 90_000;
const STOP_TIMEOUT_MS = 10_000;

/** An unsigned GET (over HTTPS the test certificate is self-signed): its status and Server header. */
function probe(url: string): Promise<{ status: number; server: string | undefined }> {
  return new Promise((resolve, reject) => {
    const get = url.startsWith('https:') ? httpsGet : httpGet;
    const req = get(url, { rejectUnauthorized: false, timeout: 2_000 }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, server: String(res.headers.server) }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

/** Ends the whole process group (wrangler's node process and its workerd child). */
async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const signal = (sig: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, sig);
    } catch {
      /* already gone */
    }
  };
  signal('SIGTERM');
  await Promise.race([exited, sleep(STOP_TIMEOUT_MS)]);
  signal('SIGKILL'); // whatever is left in the group (no-op when all are gone)
  await Promise.race([exited, sleep(2_000)]);
}

export interface Gateway extends GatewayInfo {
  vars: Record<string, string>;
  stop(): Promise<void>;
}

/**
 * Starts `wrangler dev` on a copy of the source with fresh state and credentials.
 * The suite shares one (below); a test that needs other settings starts its own.
 */
export async function startGateway(
  overrides: Record<string, string> = {},
  opts: { persistDir?: string /** serve HTTPS, as `npm start -- --https` does */; https?: boolean } = {},
): Promise<Gateway> {
  const dir = mkdtempSync(join(tmpdir(), 'sealbucket-e2e-'));
  const app = join(dir, 'app');
  mkdirSync(app);
  cpSync(join(root, 'src'), join(app, 'src'), { recursive: true });
  for (const f of ['wrangler.toml', 'tsconfig.json', 'package.json'])
    if (existsSync(join(root, f))) copyFileSync(join(root, f), join(app, f));
  symlinkSync(join(root, 'node_modules'), join(app, 'node_modules'), 'dir');
  const persistDir = opts.persistDir ?? join(dir, 'state');
  const logFile = join(dir, 'gateway.log');
  const log = createWriteStream(logFile);
  const innerPort = await freePort();
  const tls = opts.https ? selfSignedCertificate(dir) : undefined;
  const front = await startFront({
    port: 0,
    target: { host: '127.0.0.1', port: innerPort, https: opts.https },
    tls,
    log: (l) => log.write(`${l}\n`),
  });
  const port = front.port;
  const endpoint = `${opts.https ? 'https' : 'http'}://127.0.0.1:${port}`;
  const cosBaseDomain = 'cos.e2e.test';
  const vars: Record<string, string> = {
    ACCESS_KEY_ID: `AKIDE2E${randomBytes(6).toString('hex').toUpperCase()}`,
    SECRET_ACCESS_KEY: randomBytes(24).toString('base64url'),
    MASTER_KEYRING: `k1:${randomBytes(32).toString('base64')}`,
    KMS_ROOT_KEY: randomBytes(32).toString('base64'),
    SSE_C_ALLOW_HTTP: 'true',
    DEFAULT_SSE: 'AES256',
    REGION: 'us-east-1',
    // The COS SDK (v3) only speaks virtual-hosted style: "<bucket-appid>.cos.e2e.test".
    BASE_DOMAINS: cosBaseDomain,
    ...overrides,
  };
  const { ACCESS_KEY_ID: accessKeyId, SECRET_ACCESS_KEY: secretAccessKey } = vars;
  const args = [
    join(root, 'node_modules', 'wrangler', 'bin', 'wrangler.js'),
    'dev',
    '--config',
    join(app, 'wrangler.toml'),
    '--ip',
    '127.0.0.1',
    '--port',
    String(innerPort),
    '--persist-to',
    persistDir,
    '--show-interactive-dev-session=false',
    ...(opts.https ? ['--local-protocol', 'https'] : []),
    ...Object.entries(vars).flatMap(([k, v]) => ['--var', `${k}:${v}`]),
  ];
  const child = spawn(process.execPath, args, {
    cwd: app,
    detached: true, // own process group, so teardown can end workerd too
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, WRANGLER_SEND_METRICS: 'false', NO_COLOR: '1', FORCE_COLOR: '0' },
  });
  child.stdout!.pipe(log, { end: false });
  child.stderr!.pipe(log, { end: false });
  let exitInfo: string | undefined;
  child.once('exit', (code, sig) => (exitInfo = `exited with ${code ?? sig}`));
  const onExit = () => {
    if (child.pid !== undefined && child.exitCode === null) {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
  };
  process.once('exit', onExit);

  const teardown = async () => {
    await front.close();
    await stop(child);
    process.off('exit', onExit);
    await new Promise<void>((r) => log.end(r));
    if (!process.env.E2E_KEEP) rmSync(dir, { recursive: true, force: true });
    else console.log(`e2e: kept gateway state and log in ${dir}`);
  };

  // Ready when an unsigned request is refused with 403 by the gateway itself.
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let ready = false;
  while (Date.now() < deadline && !exitInfo) {
    try {
      const r = await probe(`${endpoint}/`);
      if (r.status === 403 && r.server === 'sealbucket') {
        ready = true;
        break;
      }
    } catch {
      /* not listening yet */
    }
    await sleep(250);
  }
  if (!ready) {
    const why = exitInfo ?? `not ready after ${READY_TIMEOUT_MS / 1000} s`;
    await teardown();
    throw new Error(`e2e: wrangler dev ${why}. Log tail:\n${tail(logFile)}`);
  }

  return { endpoint, port, innerPort, accessKeyId, secretAccessKey, cosBaseDomain, persistDir, logFile, vars, stop: teardown };
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const proxy = project.name === 'e2e-proxy';
  let upstream: UpstreamServer | undefined;
  let backendVars: Record<string, string> = {};
  if (proxy) {
    upstream = await startUpstream({ buckets: [UPSTREAM_BUCKET] });
    backendVars = proxyVars(upstream.endpoint, 'main');
  }
  const g = await startGateway(backendVars).catch(async (e) => {
    await upstream?.stop();
    throw e;
  });
  project.provide('endpoint', g.endpoint);
  project.provide('port', g.port);
  project.provide('innerPort', g.innerPort);
  project.provide('accessKeyId', g.accessKeyId);
  project.provide('secretAccessKey', g.secretAccessKey);
  project.provide('cosBaseDomain', g.cosBaseDomain);
  project.provide('persistDir', upstream ? upstream.dir : g.persistDir);
  project.provide('logFile', g.logFile);
  project.provide('masterKeyring', g.vars.MASTER_KEYRING);
  project.provide('backend', proxy ? 'proxy' : 'r2');
  project.provide(
    'upstream',
    upstream
      ? {
          endpoint: upstream.endpoint,
          port: upstream.port,
          accessKeyId: upstream.accessKeyId,
          secretAccessKey: upstream.secretAccessKey,
          bucket: UPSTREAM_BUCKET,
          dir: upstream.dir,
        }
      : null,
  );
  return async () => {
    // Writes park their data under .sealbucket/t/ until it is copied into place; none may stay behind.
    // (The gateway log is checked per test file by log-check.ts; a teardown error is reported but
    // does not fail the run, so this is a backstop to the hardening test that asserts the same.)
    const parked = upstream ? leftovers(upstream.dir, '/.sealbucket/t/') : [];
    await g.stop();
    await upstream?.stop();
    if (parked.length)
      throw new Error(`e2e: the upstream holds ${parked.length} temporaries after the suite:\n${parked.slice(0, 20).join('\n')}`);
  };
}

/** Files below `dir` whose path contains `part`. */
function leftovers(dir: string, part: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (p.includes(part)) out.push(p);
    }
  };
  if (existsSync(dir)) walk(dir);
  return out;
}

/**
 * The one runtime report tests cause on purpose (and check): a sealed GET whose ciphertext was
 * tampered with after the first read is cut off by aborting its body, which the runtime logs as
 * an uncaught exception carrying the integrity error.
 */
export const DELIBERATE_ABORT = /segment \d+ failed authentication/;

/**
 * What wrangler dev's own front (not the gateway) logs when a client hangs up in the middle of a
 * request body, after answering it 503: the aws CLI does so when it retries a slow part upload.
 * The gateway answers such a request IncompleteBody and logs nothing (the hardening e2e test).
 */
export const DEV_SERVER_HANG_UP = /Uncaught Error: Network connection lost\./;

/** Lines of a gateway log telling of an error that escaped a handler ("unhandled") or an uncaught exception in the runtime. */
export function unexpectedLogLines(log: string, allowed: RegExp[] = [DELIBERATE_ABORT]): string[] {
  return log
    .split('\n')
    .filter((l) => l.includes('"event":"unhandled"') || /uncaught/i.test(l))
    .filter((l) => !allowed.some((a) => a.test(l)));
}
