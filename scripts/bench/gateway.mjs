// A real gateway under `wrangler dev` for the bench, plus a small streaming S3 client.
// Same approach as test/e2e/setup.ts: a snapshot of src/ in a temp dir (so edits made to
// src/ during the run cannot reload the Worker), fresh --persist-to state, --var settings.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  copyFileSync,
  cpSync,
  createWriteStream,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import http from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AwsClient } from 'aws4fetch';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** Every live process whose process group is `pgid`, as { pid, comm }. */
function groupProcesses(pgid) {
  const out = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const close = stat.lastIndexOf(')');
      const comm = stat.slice(stat.indexOf('(') + 1, close);
      const f = stat.slice(close + 2).split(' ');
      if (Number(f[2]) === pgid) out.push({ pid: Number(d), comm });
    } catch {
      /* gone */
    }
  }
  return out;
}

export const live = new Set(); // gateways not yet stopped, for the emergency teardown

/**
 * One copy of src/ and the config, taken once, that every gateway of a run starts from: the
 * sealed and unsealed gateways then run the same code even while others edit src/.
 */
export function snapshotSource() {
  const dir = mkdtempSync(join(tmpdir(), 'sealbucket-bench-src-'));
  cpSync(join(root, 'src'), join(dir, 'src'), { recursive: true });
  for (const f of ['wrangler.toml', 'tsconfig.json', 'package.json'])
    if (existsSync(join(root, f))) copyFileSync(join(root, f), join(dir, f));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export class BuildFailed extends Error {}

/**
 * Starts `wrangler dev` on a copy of the source (or, with inspector: false, the same local
 * runtime without DevTools, through scripts/bench/serve.mjs). Returns the endpoint,
 * credentials, the workerd pid (for memory and I/O accounting) and stop().
 */
const readLog = (f) => {
  try {
    return readFileSync(f, 'utf8');
  } catch {
    return '';
  }
};

export async function startGateway(name, overrides = {}, { floor = false, source, inspector = true } = {}) {
  const src = source ?? root;
  const dir = mkdtempSync(join(tmpdir(), `sealbucket-bench-${name}-`));
  const app = join(dir, 'app');
  mkdirSync(app);
  if (floor) {
    // The platform floor: scripts/bench/floor-worker.js on the same wrangler dev and local R2.
    copyFileSync(join(root, 'scripts', 'bench', 'floor-worker.js'), join(app, 'floor-worker.js'));
    cpSync(join(src, 'src'), join(app, 'src'), { recursive: true }); // for the /tap routes only
    writeFileSync(
      join(app, 'wrangler.toml'),
      'name = "sealbucket-floor"\nmain = "floor-worker.js"\ncompatibility_date = "2026-04-20"\n\n[[r2_buckets]]\nbinding = "STORE"\nbucket_name = "sealbucket"\n',
    );
  } else {
    cpSync(join(src, 'src'), join(app, 'src'), { recursive: true });
    for (const f of ['wrangler.toml', 'tsconfig.json', 'package.json'])
      if (existsSync(join(src, f))) copyFileSync(join(src, f), join(app, f));
  }
  symlinkSync(join(root, 'node_modules'), join(app, 'node_modules'), 'dir');
  const port = await freePort();
  const inspectorPort = await freePort(); // wrangler's default inspector port would clash between gateways
  const vars = {
    ACCESS_KEY_ID: `AKIDBENCH${randomBytes(6).toString('hex').toUpperCase()}`,
    SECRET_ACCESS_KEY: randomBytes(24).toString('base64url'),
    MASTER_KEYRING: `k1:${randomBytes(32).toString('base64')}`,
    DEFAULT_SSE: 'AES256',
    REGION: 'us-east-1',
    ...overrides,
  };
  const logFile = join(dir, 'gateway.log');
  const log = createWriteStream(logFile);
  const args = !inspector
    ? [
        join(root, 'scripts', 'bench', 'serve.mjs'),
        join(app, 'wrangler.toml'),
        String(port),
        join(dir, 'state'),
        JSON.stringify(floor ? {} : vars),
      ]
    : [
        join(root, 'node_modules', 'wrangler', 'bin', 'wrangler.js'),
        'dev',
        '--config',
        join(app, 'wrangler.toml'),
        '--ip',
        '127.0.0.1',
        '--port',
        String(port),
        '--inspector-port',
        String(inspectorPort),
        '--persist-to',
        join(dir, 'state'),
        '--show-interactive-dev-session=false',
        ...(floor ? [] : Object.entries(vars).flatMap(([k, v]) => ['--var', `${k}:${v}`])),
      ];
  const child = spawn(process.execPath, args, {
    cwd: app,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, WRANGLER_SEND_METRICS: 'false', NO_COLOR: '1', FORCE_COLOR: '0' },
  });
  child.stdout.pipe(log, { end: false });
  child.stderr.pipe(log, { end: false });
  let exited;
  child.once('exit', (c, s) => (exited = `exited with ${c ?? s}`));

  const gw = {
    name,
    dir,
    logFile,
    vars,
    port,
    inspectorPort,
    host: '127.0.0.1',
    pid: child.pid,
    endpoint: `http://127.0.0.1:${port}`,
    client: new AwsClient({ accessKeyId: vars.ACCESS_KEY_ID, secretAccessKey: vars.SECRET_ACCESS_KEY, service: 's3', region: 'us-east-1' }),
    workerd: undefined,
    async stop() {
      live.delete(gw);
      const kill = (sig) => {
        try {
          process.kill(-child.pid, sig);
        } catch {
          /* gone */
        }
      };
      if (child.exitCode === null && child.signalCode === null) {
        const done = new Promise((r) => child.once('exit', r));
        kill('SIGTERM');
        await Promise.race([done, sleep(8000)]);
      }
      kill('SIGKILL'); // anything left in the group (workerd)
      for (let i = 0; i < 20 && groupProcesses(child.pid).length; i++) await sleep(100);
      await new Promise((r) => log.end(r));
      if (!process.env.BENCH_KEEP) rmSync(dir, { recursive: true, force: true });
    },
  };
  live.add(gw);

  const deadline = Date.now() + 90_000;
  let ready = false,
    buildFailed = false;
  while (Date.now() < deadline && !exited) {
    try {
      const r = await fetch(`${gw.endpoint}/`, { signal: AbortSignal.timeout(2000) });
      await r.arrayBuffer();
      if (r.status === 403 && r.headers.get('server') === 'sealbucket') {
        ready = true;
        break;
      }
    } catch {
      /* not yet */
    }
    // wrangler dev stays up after a failed build, waiting for an edit that will never come.
    if (/Build failed/.test(readLog(logFile))) {
      buildFailed = true;
      break;
    }
    await sleep(250);
  }
  const procs = groupProcesses(child.pid).filter((p) => p.comm === 'workerd');
  if (!ready || !procs.length) {
    const tail = readLog(logFile).split('\n').slice(-30).join('\n');
    await gw.stop();
    const E = buildFailed ? BuildFailed : Error;
    throw new E(`gateway ${name}: ${exited ?? (buildFailed ? 'the source snapshot does not build' : 'not ready')}\n${tail}`);
  }
  // wrangler runs one workerd; if ever more, take the one with the most memory (the user worker's).
  gw.workerd = procs.map((p) => ({ ...p, rss: status(p.pid).VmRSS ?? 0 })).sort((a, b) => b.rss - a.rss)[0].pid;
  return gw;
}

/**
 * s3rver (the e2e suite's S3-compatible server, test/e2e/s3rver.cjs) with one bucket
 * "upstream", as the store behind a proxy-layout gateway.
 */
export async function startUpstream() {
  const dir = mkdtempSync(join(tmpdir(), 'sealbucket-bench-s3rver-'));
  const port = await freePort();
  const log = createWriteStream(join(dir, 's3rver.log'));
  const child = spawn(
    process.execPath,
    [
      '--openssl-legacy-provider',
      join(root, 'test', 'e2e', 's3rver.cjs'),
      '--address',
      '127.0.0.1',
      '--port',
      String(port),
      '--directory',
      join(dir, 'data'),
      '--configure-bucket',
      'upstream',
    ],
    { detached: true, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  child.stdout.pipe(log, { end: false });
  child.stderr.pipe(log, { end: false });
  const up = {
    endpoint: `http://127.0.0.1:${port}`,
    bucket: 'upstream',
    pid: child.pid,
    async stop() {
      live.delete(up);
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
      await new Promise((r) => log.end(r));
      rmSync(dir, { recursive: true, force: true });
    },
  };
  live.add(up);
  for (let i = 0; i < 100; i++) {
    try {
      const r = await fetch(`${up.endpoint}/`, { signal: AbortSignal.timeout(1000) });
      await r.arrayBuffer();
      if (r.ok) return up;
    } catch {
      /* not yet */
    }
    await sleep(100);
  }
  await up.stop();
  throw new Error('s3rver did not start');
}

/** /proc/<pid>/status fields in KiB (VmRSS, VmHWM). */
export function status(pid) {
  const out = {};
  try {
    for (const line of readFileSync(`/proc/${pid}/status`, 'utf8').split('\n')) {
      const m = /^((?:Vm|Rss)\w+):\s+(\d+) kB/.exec(line);
      if (m) out[m[1]] = Number(m[2]);
    }
  } catch {
    /* gone */
  }
  return out;
}

/** Resets VmHWM to the current RSS (Linux clear_refs "5"); false if not permitted. */
export function resetPeak(pid) {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

/** Bytes the process has read / written through syscalls (rchar, wchar) — includes socket and file I/O. */
export function io(pid) {
  try {
    const t = readFileSync(`/proc/${pid}/io`, 'utf8');
    return { rchar: Number(/rchar: (\d+)/.exec(t)[1]), wchar: Number(/wchar: (\d+)/.exec(t)[1]) };
  } catch {
    return null;
  }
}

/** Peak RSS of the workerd process over fn(): VmHWM after a reset, and the max of 20 ms samples. */
export async function withPeak(gw, fn) {
  const hwmOk = resetPeak(gw.workerd);
  const base = status(gw.workerd).VmRSS ?? 0;
  let sampled = base;
  const t = setInterval(() => (sampled = Math.max(sampled, status(gw.workerd).VmRSS ?? 0)), 20);
  try {
    const result = await fn();
    const s = status(gw.workerd);
    return { result, baseKiB: base, peakKiB: hwmOk ? Math.max(s.VmHWM, sampled) : sampled, source: hwmOk ? 'VmHWM' : 'VmRSS samples' };
  } finally {
    clearInterval(t);
  }
}

// ---- S3 client: node:http, keep-alive, SigV4 with UNSIGNED-PAYLOAD (aws4fetch signs) ----

export const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

/** Signed headers for one request; UNSIGNED-PAYLOAD makes them independent of the body. */
export async function signed(gw, method, path, extra = {}) {
  const req = await gw.client.sign(`${gw.endpoint}${path}`, { method, headers: { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD', ...extra } });
  const h = {};
  for (const [k, v] of req.headers) h[k] = v;
  return h;
}

/**
 * One request. body: null, a Buffer, or { bytes, chunk } to stream `bytes` bytes
 * generated from `chunk` (never holding the object). The response body is drained
 * and counted, never buffered (unless keep is set).
 */
export function request(gw, method, path, headers, body = null, keep = false) {
  return new Promise((resolve, reject) => {
    const h = { ...headers };
    if (body && Buffer.isBuffer(body)) h['content-length'] = String(body.length);
    else if (body) h['content-length'] = String(body.bytes);
    else if (method === 'PUT') h['content-length'] = '0';
    const t0 = performance.now();
    let ttfb = 0;
    const req = http.request({ host: gw.host, port: gw.port, method, path, headers: h, agent }, (res) => {
      ttfb = performance.now() - t0;
      let n = 0;
      const parts = [];
      res.on('data', (c) => {
        n += c.length;
        if (keep || res.statusCode >= 300) parts.push(c);
      });
      res.on('end', () =>
        resolve({
          status: res.statusCode,
          headers: res.headers,
          bytes: n,
          ms: performance.now() - t0,
          ttfb,
          body: parts.length ? Buffer.concat(parts) : null,
        }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    if (!body) return req.end();
    if (Buffer.isBuffer(body)) return req.end(body);
    let left = body.bytes;
    const write = () => {
      while (left > 0) {
        const n = Math.min(left, body.chunk.length);
        left -= n;
        if (!req.write(n === body.chunk.length ? body.chunk : body.chunk.subarray(0, n))) return req.once('drain', write);
      }
      req.end();
    };
    write();
  });
}

export async function s3(gw, method, path, { body = null, headers = {}, keep = false, ok = [200, 206] } = {}) {
  const r = await request(gw, method, path, await signed(gw, method, path, headers), body, keep);
  if (!ok.includes(r.status)) throw new Error(`${gw.name} ${method} ${path}: ${r.status} ${r.body?.toString().slice(0, 300)}`);
  return r;
}

/** CPU seconds (user + system) used so far by each process of the gateway's group, by pid. */
export function cpuTimes(gw) {
  const out = {};
  for (const p of groupProcesses(gw.pid)) {
    try {
      const stat = readFileSync(`/proc/${p.pid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out[`${p.comm}:${p.pid}`] = (Number(f[11]) + Number(f[12])) / 100; // USER_HZ = 100
    } catch {
      /* gone */
    }
  }
  return out;
}
export const cpuDelta = (a, b) => Object.fromEntries(Object.keys(b).map((k) => [k, +(b[k] - (a[k] ?? 0)).toFixed(2)]));
