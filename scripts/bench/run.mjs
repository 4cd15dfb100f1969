// `npm run bench`: every benchmark in one bounded run; prints a table and regenerates
// docs/BENCHMARKS.md and docs/bench-throughput.svg.
//
//   node scripts/bench/run.mjs [--runs 3] [--gib-runs 3] [--budget 585] [--quick] [--no-write]
//
// --quick: small sizes and one run, to check the plumbing (does not write the docs).
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { awsEsdk, nodeSegmented, opensslSpeed, plaintext } from './ciphers.mjs';
import {
  BuildFailed,
  cpuDelta,
  cpuTimes,
  io,
  live,
  request,
  root,
  s3,
  signed,
  snapshotSource,
  startGateway,
  startUpstream,
  withPeak,
} from './gateway.mjs';
import { runPipeline } from './pipeline.mjs';
import { writeReport } from './report.mjs';

const argv = process.argv.slice(2);
const flag = (n) => argv.includes(`--${n}`);
const opt = (n, d) => (argv.indexOf(`--${n}`) >= 0 ? Number(argv[argv.indexOf(`--${n}`) + 1]) : d);
const QUICK = flag('quick');
const RUNS = opt('runs', QUICK ? 1 : 3);
const GIB_RUNS = opt('gib-runs', QUICK ? 0 : 3);
const BUDGET_S = opt('budget', 585);
const CRYPTO_MIB = QUICK ? 8 : 64;
const SMALL_SECONDS = QUICK ? 1 : 2;
const SEGMENTS = [16384, 65536, 262144, 1048576];
const KiB = 1024,
  MiB = 1 << 20,
  GiB = 1 << 30;

const t0 = Date.now();
const elapsed = () => (Date.now() - t0) / 1000;
const log = (...a) => console.log(`[${elapsed().toFixed(0).padStart(3)} s]`, ...a);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};
const mbps = (bytes, ms) => bytes / 1e6 / (ms / 1000);

// ---- bounded: a watchdog ends everything (gateways included) if the budget runs out ----
let failed, snapshot;
async function teardown() {
  await Promise.allSettled([...live].map((g) => g.stop()));
  snapshot?.remove();
}
const watchdog = setTimeout(async () => {
  console.error(`bench: over the ${BUDGET_S} s budget; stopping the gateways and giving up`);
  await teardown();
  process.exit(2);
}, BUDGET_S * 1000);
watchdog.unref();
for (const sig of ['SIGINT', 'SIGTERM'])
  process.on(sig, async () => {
    await teardown();
    process.exit(130);
  });

function machine() {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  const model = /^model name\s*:\s*(.*)$/m.exec(cpuinfo)?.[1] ?? cpus()[0]?.model ?? 'unknown';
  const flags = /^flags\s*:\s*(.*)$/m.exec(cpuinfo)?.[1].split(' ') ?? [];
  const pkg = (p) => {
    try {
      return JSON.parse(readFileSync(join(root, 'node_modules', p, 'package.json'), 'utf8')).version;
    } catch {
      return '?';
    }
  };
  return {
    model,
    cores: cpus().length,
    aesni: flags.includes('aes'),
    memGiB: +(totalmem() / GiB).toFixed(1),
    node: process.version,
    wrangler: pkg('wrangler'),
    miniflare: pkg('miniflare'),
    workerd:
      [pkg('miniflare/node_modules/@cloudflare/workerd-linux-64'), pkg('miniflare/node_modules/workerd'), pkg('workerd')].find(
        (v) => v !== '?',
      ) ?? '?',
    openssl: execFileSync('openssl', ['version'], { encoding: 'utf8' }).trim(),
    esdk: pkg('@aws-crypto/client-node'),
    date: new Date().toISOString(),
    loadStart: loadavg().map((x) => +x.toFixed(2)),
  };
}

// ---- 1 + 2: crypto ceilings and the peer ----
async function crypto(R) {
  log(`pipeline in workerd: ${CRYPTO_MIB} MiB x ${RUNS} runs per segment size`);
  R.pipeline = await runPipeline({ mib: CRYPTO_MIB, runs: Math.max(RUNS, 3), segments: SEGMENTS });
  log('openssl speed -evp aes-256-gcm');
  R.openssl = opensslSpeed({ sizes: SEGMENTS, runs: RUNS, seconds: 1 });
  const pt = plaintext(CRYPTO_MIB);
  log('node:crypto, segmented');
  R.node = nodeSegmented({ pt, segments: SEGMENTS, runs: Math.max(RUNS, 3) });
  log('AWS Encryption SDK (framed, raw AES keyring)');
  R.esdk = await awsEsdk({ pt, frames: SEGMENTS.slice(1), runs: RUNS });
}

// ---- 3 + 6: large objects through the gateway, with workerd CPU and peak memory ----
const chunk = Buffer.alloc(MiB);
for (let i = 0; i < MiB; i++) chunk[i] = (i * 2654435761) >>> 24; // incompressible enough; generated, never the object

async function measured(gw, fn) {
  const c0 = cpuTimes(gw);
  const p = await withPeak(gw, fn);
  const cpu = cpuDelta(c0, cpuTimes(gw));
  return {
    ...p.result,
    peakKiB: p.peakKiB,
    baseKiB: p.baseKiB,
    peakSource: p.source,
    cpuS: +Object.values(cpu)
      .reduce((a, b) => a + b, 0)
      .toFixed(2),
  };
}

async function large(R, gws, size, n, first = 0) {
  for (let i = first; i < first + n; i++) {
    // Interleaved: sealed PUT, unsealed PUT, sealed GET, unsealed GET (then the floor).
    for (const op of ['PUT', 'GET']) {
      for (const gw of gws) {
        const path = gw.floor ? `/r2/o-${size}` : `/bench/o-${size}`;
        const body = op === 'PUT' ? { bytes: size, chunk } : null;
        const r = await measured(gw, () => (gw.floor ? request(gw, op, path, {}, body) : s3(gw, op, path, { body })));
        if (r.status >= 300) throw new Error(`${gw.name} ${op} ${path}: ${r.status}`);
        if (op === 'GET' && r.bytes !== size) throw new Error(`${gw.name} GET ${path}: ${r.bytes} of ${size} bytes`);
        R.large.push({
          gw: gw.name,
          op,
          size,
          run: i,
          ms: r.ms,
          ttfb: r.ttfb,
          MBps: mbps(size, r.ms),
          cpuS: r.cpuS,
          peakKiB: r.peakKiB,
          baseKiB: r.baseKiB,
          peakSource: r.peakSource,
        });
        log(
          `${gw.name.padEnd(8)} ${op} ${fmtSize(size).padStart(7)}: ${mbps(size, r.ms).toFixed(1).padStart(6)} MB/s, workerd CPU ${r.cpuS} s, peak RSS ${(r.peakKiB / 1024).toFixed(0)} MiB`,
        );
      }
    }
  }
}

// ---- 4: 4 KiB objects at concurrency 16 ----
async function small(R, gws, { concurrency = 16, seconds, keys = 64 }) {
  const body = Buffer.alloc(4 * KiB, 0x5a);
  const presigned = {};
  for (const gw of gws) {
    // UNSIGNED-PAYLOAD makes the signature independent of the body, so each key's PUT and GET
    // headers are signed once, before the clock starts; the gateway still verifies every request.
    presigned[gw.name] = [];
    for (let k = 0; k < keys; k++) {
      const path = gw.floor ? `/r2/small-${k}` : `/bench/small-${k}`;
      presigned[gw.name].push(
        gw.floor ? { path, PUT: {}, GET: {} } : { path, PUT: await signed(gw, 'PUT', path), GET: await signed(gw, 'GET', path) },
      );
      await request(gw, 'PUT', path, presigned[gw.name][k].PUT, body); // so GETs find every key
    }
  }
  const once = async (gw, op) => {
    const lat = [];
    let errors = 0,
      next = 0;
    const statuses = {};
    const end = performance.now() + seconds * 1000;
    const worker = async () => {
      while (performance.now() < end) {
        const p = presigned[gw.name][next++ % keys];
        const r = await request(gw, op, p.path, p[op], op === 'PUT' ? body : null);
        if (r.status !== 200 || (op === 'GET' && r.bytes !== body.length)) {
          errors++;
          statuses[r.status] = (statuses[r.status] ?? 0) + 1;
        }
        lat.push(r.ms);
      }
    };
    const t = performance.now();
    await Promise.all(Array.from({ length: concurrency }, worker));
    const ms = performance.now() - t;
    return { rps: lat.length / (ms / 1000), p50: pct(lat, 50), p99: pct(lat, 99), n: lat.length, errors, statuses };
  };
  for (const gw of gws) await once(gw, 'GET'); // warm-up
  for (let i = 0; i < RUNS; i++) {
    for (const op of ['PUT', 'GET']) {
      for (const gw of gws) {
        const r = await once(gw, op);
        R.small.push({ gw: gw.name, op, run: i, ...r });
        log(
          `${gw.name.padEnd(8)} 4 KiB ${op} x${concurrency}: ${r.rps.toFixed(0)} req/s, p50 ${r.p50.toFixed(1)} ms, p99 ${r.p99.toFixed(1)} ms${r.errors ? `, ${r.errors} errors` : ''}`,
        );
      }
    }
  }
}

// ---- where a PUT's and a sealed GET's time go: the floor worker with pieces of the gateway ----
/** Each route RUNS times, interleaved; median MB/s and workerd CPU per route. */
async function routeRuns(floor, method, routes, bytes) {
  const rows = Object.fromEntries(routes.map(([p, what]) => [p, { path: p, what, ms: [], cpuS: [] }]));
  for (let i = 0; i < RUNS; i++) {
    for (const [p] of routes) {
      const c0 = cpuTimes(floor);
      const r = await request(floor, method, p, {}, method === 'PUT' ? { bytes, chunk } : null, method === 'PUT');
      if (r.status !== 200 || (method === 'GET' && r.bytes < bytes)) throw new Error(`floor ${method} ${p}: ${r.status}, ${r.bytes} bytes`);
      rows[p].ms.push(r.ms);
      rows[p].cpuS.push(Object.values(cpuDelta(c0, cpuTimes(floor))).reduce((a, b) => a + b, 0));
    }
  }
  const out = {
    bytes,
    rows: Object.values(rows).map((r) => ({
      path: r.path,
      what: r.what,
      MBps: mbps(bytes, median(r.ms)),
      cpuS: +median(r.cpuS).toFixed(2),
      n: r.ms.length,
    })),
  };
  for (const r of out.rows)
    log(`floor ${method} ${r.path.padEnd(10)} ${fmtSize(bytes)}: ${r.MBps.toFixed(1)} MB/s, workerd CPU ${r.cpuS} s`);
  return out;
}

async function breakdown(R, floor, bytes) {
  R.breakdown = await routeRuns(
    floor,
    'PUT',
    [
      ['/drain', 'read the body, drop it'],
      ['/crc', 'CRC-64 (src/s3/payload/checksum.ts) over the body'],
      ['/tap', 'hashTap (src/s3/payload/hashing.ts: MD5 + CRC-64) in a TransformStream, then drop'],
      ['/r2/bd', 'R2 put of request.body as is'],
      ['/tap-r2', "hashTap, then pipeTo a FixedLengthStream into R2 put (the unsealed gateway's path minus auth)"],
    ],
    bytes,
  );

  // A sealed GET's pieces, on an object sealed by the floor worker with a fixed test key; 4x the
  // size, since /proc CPU figures come in 10 ms ticks and a GET costs a small fraction of a PUT.
  bytes *= 4;
  for (const p of ['/sealed/g', '/r2/bg']) {
    const put = await request(floor, 'PUT', p, {}, { bytes, chunk }, true);
    if (put.status !== 200) throw new Error(`floor PUT ${p}: ${put.status}`);
  }
  R.breakdownGet = await routeRuns(
    floor,
    'GET',
    [
      ['/r2/bg', "R2 body returned as is (the unsealed gateway's GET)"],
      [
        '/plumb/g',
        'stored segments read whole (BYOB readAtLeast), handed on unchanged, one segment (256 KiB) per chunk, into a FixedLengthStream',
      ],
      ['/plumb4/g', 'the same, four segments (1 MiB) per chunk'],
      [
        '/decrypt/g',
        "decryptBody (src/crypto/stream.ts: 1 MiB of segments per read, each decrypted, one chunk out) into a FixedLengthStream (the sealed gateway's GET minus auth)",
      ],
    ],
    bytes,
  );
}

// ---- 7: the proxy layout: the gateway in front of an S3-compatible server (s3rver) ----
// The store is then another process, so workerd's memory is the gateway's alone. These
// gateways run without wrangler's DevTools inspector (scripts/bench/serve.mjs): under the
// CLI's inspector proxy every chunk of an upstream response becomes a message to wrangler's
// Node process; one CLI-started gateway shows what that costs.
async function proxied(R, source, big) {
  const up = await startUpstream();
  const gws = [];
  try {
    const conf = (root) => ({
      UPSTREAMS: JSON.stringify({
        '*': { endpoint: up.endpoint, bucket: up.bucket, prefix: `${root}/{bucket}/`, credentials: 'UPSTREAM_CREDENTIALS' },
      }),
      UPSTREAM_CREDENTIALS: 'S3RVER:S3RVER',
    });
    const started = await Promise.allSettled([
      startGateway('proxy-sealed', { DEFAULT_SSE: 'AES256', ...conf('sealed') }, { source, inspector: false }),
      startGateway('proxy-unsealed', { DEFAULT_SSE: 'none', ...conf('unsealed') }, { source, inspector: false }),
      startGateway('proxy-cli', { DEFAULT_SSE: 'AES256', ...conf('cli') }, { source }),
    ]);
    gws.push(...started.filter((x) => x.status === 'fulfilled').map((x) => x.value));
    const bad = started.find((x) => x.status === 'rejected');
    if (bad) throw bad.reason;
    for (const gw of gws) await s3(gw, 'PUT', '/bench');
    const [sealed, unsealed, cli] = gws;
    R.proxy = [];
    const one = async (gw, op, size, run) => {
      const r = await measured(gw, () => s3(gw, op, `/bench/p-${size}`, { body: op === 'PUT' ? { bytes: size, chunk } : null }));
      if (op === 'GET' && r.bytes !== size) throw new Error(`${gw.name} GET: ${r.bytes} of ${size} bytes`);
      R.proxy.push({ gw: gw.name, op, size, run, ms: r.ms, MBps: mbps(size, r.ms), cpuS: r.cpuS, peakKiB: r.peakKiB, baseKiB: r.baseKiB });
      log(
        `${gw.name.padEnd(14)} ${op} ${fmtSize(size).padStart(7)}: ${mbps(size, r.ms).toFixed(1).padStart(6)} MB/s, workerd CPU ${r.cpuS} s, peak RSS ${(r.peakKiB / 1024).toFixed(0)} MiB`,
      );
    };
    const mid = QUICK ? 8 * MiB : 64 * MiB;
    for (let i = 0; i < RUNS; i++) for (const op of ['PUT', 'GET']) for (const gw of [sealed, unsealed]) await one(gw, op, mid, i);
    for (const op of ['PUT', 'GET']) await one(cli, op, mid, 0);
    for (const op of ['PUT', 'GET']) await one(sealed, op, big, 0);
    R.proxyBig = big;
  } finally {
    await Promise.allSettled(gws.map((g) => g.stop()));
    await up.stop();
  }
}

// ---- 5: ranged reads from the middle of the 1 GiB object ----
async function ranges(R, gws, size, seg) {
  const mid = Math.floor(size / 2) + 12345; // not segment-aligned
  const cases = [
    { name: '1 byte', start: mid, end: mid },
    { name: '1 MiB', start: mid, end: mid + MiB - 1 },
  ];
  const reps = QUICK ? 3 : 9;
  for (const c of cases) {
    const span = segmentSpan(size, seg, c.start, c.end);
    for (const gw of gws) {
      const sealed = gw.name === 'sealed';
      const lat = [],
        rchar = [];
      for (let i = 0; i < reps; i++) {
        const a = io(gw.workerd);
        const r = await s3(gw, 'GET', `/bench/o-${size}`, { headers: { range: `bytes=${c.start}-${c.end}` } });
        const b = io(gw.workerd);
        if (r.status !== 206 || r.bytes !== c.end - c.start + 1)
          throw new Error(`range ${c.name} on ${gw.name}: ${r.status}, ${r.bytes} bytes`);
        lat.push(r.ms);
        if (a && b) rchar.push(b.rchar - a.rchar);
      }
      R.ranges.push({
        gw: gw.name,
        range: c.name,
        bytes: c.end - c.start + 1,
        computedStoreBytes: sealed ? span.length : c.end - c.start + 1,
        segments: sealed ? span.last - span.first + 1 : 0,
        p50: median(lat),
        p99: pct(lat, 99),
        rcharMedian: rchar.length ? median(rchar) : null,
        reps,
      });
      log(
        `${gw.name.padEnd(8)} range ${c.name}: ${median(lat).toFixed(1)} ms, computed store read ${sealed ? span.length : c.end - c.start + 1} B, workerd rchar ${rchar.length ? median(rchar) : '?'} B`,
      );
    }
  }
  // Calibration: what the same accounting shows for an empty-range request (the fixed cost).
  for (const gw of gws) {
    const xs = [];
    for (let i = 0; i < reps; i++) {
      const a = io(gw.workerd);
      await s3(gw, 'HEAD', `/bench/o-${size}`);
      const b = io(gw.workerd);
      if (a && b) xs.push(b.rchar - a.rchar);
    }
    R.rangeFixed[gw.name] = xs.length ? median(xs) : null;
  }
}

// Same arithmetic as src/crypto/stream.ts segmentSpan (docs/FORMAT.md), kept here so the bench
// states what the format says independently of the code it measures.
function segmentSpan(plainLen, seg, start, end) {
  const n = Math.max(1, Math.ceil(plainLen / seg));
  const first = Math.floor(start / seg),
    last = Math.floor(end / seg);
  let length = 0;
  for (let i = first; i <= last; i++) length += (i < n - 1 ? seg : plainLen - (n - 1) * seg) + 16;
  return { first, last, offset: first * (seg + 16), length };
}

function fmtSize(b) {
  return b >= GiB ? `${b / GiB} GiB` : b >= MiB ? `${b / MiB} MiB` : `${b / KiB} KiB`;
}

// ---- main ----
if (flag('render')) {
  // Re-render the docs from the last run's raw results (after editing report.mjs).
  const R = JSON.parse(readFileSync(join(root, 'bench-out', 'results.json'), 'utf8'));
  if (R.quick) {
    console.error('bench-out/results.json is from a --quick run, which never writes the docs; run `npm run bench`');
    process.exit(1);
  }
  const { table, wrote } = writeReport(R, { write: true });
  console.log(table);
  console.log(`wrote ${wrote.join(', ')}`);
  process.exit(0);
}
const R = {
  machine: machine(),
  quick: QUICK,
  runs: RUNS,
  gibRuns: GIB_RUNS,
  cryptoMiB: CRYPTO_MIB,
  smallSeconds: SMALL_SECONDS,
  large: [],
  small: [],
  ranges: [],
  rangeFixed: {},
  stages: {},
};
const stage = async (name, fn) => {
  const s = elapsed();
  await fn();
  R.stages[name] = +(elapsed() - s).toFixed(0);
};
try {
  log(`machine: ${R.machine.model}, ${R.machine.cores} cores; load ${R.machine.loadStart.join(' ')}`);
  await stage('crypto', () => crypto(R));
  log('starting gateways: sealed (DEFAULT_SSE=AES256), unsealed (DEFAULT_SSE=none), floor (bare R2 worker)');
  let gws;
  await stage('start', async () => {
    // src/ may be mid-edit by someone else: if the snapshot does not build, take another.
    for (let attempt = 1; ; attempt++) {
      snapshot = snapshotSource();
      const source = snapshot.dir;
      const started = await Promise.allSettled([
        startGateway('sealed', { DEFAULT_SSE: 'AES256' }, { source }),
        startGateway('unsealed', { DEFAULT_SSE: 'none' }, { source }),
        startGateway('floor', {}, { floor: true, source }),
      ]);
      const bad = started.find((s) => s.status === 'rejected');
      if (!bad) {
        gws = started.map((s) => s.value);
        break;
      }
      await Promise.allSettled(started.filter((s) => s.status === 'fulfilled').map((s) => s.value.stop()));
      snapshot.remove();
      if (!(bad.reason instanceof BuildFailed) || attempt >= 3) throw bad.reason;
      log(`the snapshot of src/ did not build (attempt ${attempt}); taking another in 15 s`);
      await new Promise((r) => setTimeout(r, 15_000));
    }
    gws[2].floor = true;
    for (const gw of gws.slice(0, 2)) await s3(gw, 'PUT', '/bench');
    R.segmentSize = Number(
      gws[0].vars.SEGMENT_SIZE ?? /SEGMENT_SIZE\s*=\s*"(\d+)"/.exec(readFileSync(join(root, 'wrangler.toml'), 'utf8'))?.[1] ?? 262144,
    );
  });
  const [sealed, unsealed] = gws;
  await stage('large', async () => {
    await large(R, gws, MiB, QUICK ? 1 : Math.max(5, RUNS)); // cheap, so more runs
    await large(R, gws, QUICK ? 8 * MiB : 64 * MiB, RUNS);
  });
  await stage('breakdown', () => breakdown(R, gws[2], QUICK ? 8 * MiB : 32 * MiB));
  await stage('small', () => small(R, gws, { seconds: SMALL_SECONDS }));
  await stage('proxy', () => proxied(R, snapshot.dir, QUICK ? 64 * MiB : GiB));
  // The 1 GiB runs are the longest part by far (local R2 ingests at ~10 MB/s). If this run's
  // 64 MiB speeds say they would not fit in the budget, fall back to the largest size that does,
  // and the report says so.
  let bigSize = QUICK ? 64 * MiB : GiB;
  const m64 = (gw, op) =>
    median(R.large.filter((x) => x.gw === gw && x.op === op && x.size === (QUICK ? 8 * MiB : 64 * MiB)).map((x) => x.MBps));
  const perByte = ['sealed', 'unsealed'].reduce((a, gw) => a + 1 / m64(gw, 'PUT') + 1 / m64(gw, 'GET'), 0) / 1e6; // s per byte, both gateways
  const left = BUDGET_S - elapsed() - 40; // ranges, teardown, report
  // At least one round must fit; the others run while the budget lasts (below).
  while (bigSize > 64 * MiB && bigSize * perByte * 1.1 > left) bigSize /= 2;
  if (bigSize !== (QUICK ? 64 * MiB : GiB)) {
    R.bigSizeNote = `This run's 64 MiB speeds predicted that ${fmtSize(GiB)} objects would not fit in the ${BUDGET_S} s budget (about ${Math.round(GiB * perByte * 1.1)} s needed, ${Math.round(left)} s left), so the largest objects are ${fmtSize(bigSize)}.`;
    log(R.bigSizeNote);
  }
  // The floor skips 1 GiB: it costs as much as a gateway run, and 64 MiB already shows it.
  // Rounds of the largest size (each interleaved sealed/unsealed PUT then GET), as many as
  // --gib-runs asks for and the budget allows, judged by how long the first round took.
  await stage('gib', async () => {
    const reserve = 40; // ranges, teardown, report
    let round = 0;
    for (let i = 0; i < Math.max(1, GIB_RUNS); i++) {
      if (i > 0 && elapsed() + round * 1.15 > BUDGET_S - reserve) {
        log(
          `stopping after ${i} round(s) of ${fmtSize(bigSize)}: another (~${Math.round(round)} s) would not fit the ${BUDGET_S} s budget`,
        );
        break;
      }
      const t = elapsed();
      await large(R, [sealed, unsealed], bigSize, 1, i);
      round = elapsed() - t;
    }
  });
  R.bigSize = bigSize;
  await stage('range', () => ranges(R, [sealed, unsealed], bigSize, R.segmentSize));
} catch (e) {
  failed = e;
  console.error(e);
} finally {
  await stage('teardown', teardown);
  clearTimeout(watchdog);
}
R.machine.loadEnd = loadavg().map((x) => +x.toFixed(2));
R.elapsedS = +elapsed().toFixed(0);
const { table, wrote } = writeReport(R, { write: !QUICK && !flag('no-write') && !failed });
console.log(table);
if (wrote.length) log(`wrote ${wrote.join(', ')}`);
log(`done in ${R.elapsedS} s`);
process.exit(failed ? 1 : 0);
