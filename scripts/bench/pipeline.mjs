// Segmented AEAD pipeline throughput inside workerd, per segment size.
// Usage: node scripts/bench/pipeline.mjs [--mib 64] [--runs 5]
import { build } from 'esbuild';
import { Miniflare } from 'miniflare';
import { fileURLToPath } from 'node:url';

const arg = (name, def) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
};
const MIB = arg('mib', 64);
const RUNS = arg('runs', 5);
const SEGMENTS = [16384, 65536, 262144, 1048576];

const out = await build({
  entryPoints: [fileURLToPath(new URL('./pipeline-worker.ts', import.meta.url))],
  bundle: true, format: 'esm', write: false, target: 'es2022',
});
const mf = new Miniflare({ modules: true, script: out.outputFiles[0].text, compatibilityDate: '2026-04-20' });
const url = await mf.ready;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function time(path) {
  const t = performance.now();
  const r = await fetch(new URL(path, url));
  const n = Number(await r.text());
  if (n <= 0) throw new Error(`${path} failed`);
  return performance.now() - t;
}

export async function runPipeline() {
  const rows = [];
  for (const seg of SEGMENTS) await time(`/prepare?seg=${seg}&mib=${MIB}`);
  for (const seg of SEGMENTS) {
    const base = [], enc = [], dec = [];
    for (let i = 0; i < RUNS; i++) {
      // Interleaved, so drift in machine load touches all three alike.
      base.push(await time(`/baseline?mib=${MIB}`));
      enc.push(await time(`/encrypt?seg=${seg}&mib=${MIB}`));
      dec.push(await time(`/decrypt?seg=${seg}&mib=${MIB}`));
    }
    const mbps = (ms) => (MIB * 1.048576) / (ms / 1000);
    rows.push({ seg, baselineMBps: mbps(median(base)), encryptMBps: mbps(median(enc)), decryptMBps: mbps(median(dec)) });
  }
  return rows;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const rows = await runPipeline();
  console.log(`segmented AES-256-GCM in workerd, ${MIB} MiB per run, median of ${RUNS} (MB/s)`);
  console.log('segment   baseline  encrypt  decrypt');
  for (const r of rows) console.log(`${String(r.seg).padStart(7)}  ${r.baselineMBps.toFixed(0).padStart(9)}  ${r.encryptMBps.toFixed(0).padStart(7)}  ${r.decryptMBps.toFixed(0).padStart(7)}`);
  await mf.dispose();
}
export { mf };
