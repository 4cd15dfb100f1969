// Segmented AEAD pipeline throughput inside workerd, per segment size.
// Usage: node scripts/bench/pipeline.mjs [--mib 64] [--runs 5]

import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { Miniflare } from 'miniflare';

export const SEGMENTS = [16384, 65536, 262144, 1048576];
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Runs the pipeline worker in a private Miniflare (workerd) and returns MB/s medians per segment size. */
export async function runPipeline({ mib = 64, runs = 5, segments = SEGMENTS } = {}) {
  const out = await build({
    entryPoints: [fileURLToPath(new URL('./pipeline-worker.ts', import.meta.url))],
    bundle: true,
    format: 'esm',
    write: false,
    target: 'es2022',
  });
  const mf = new Miniflare({ modules: true, script: out.outputFiles[0].text, compatibilityDate: '2026-04-20' });
  try {
    const url = await mf.ready;
    const time = async (path) => {
      const t = performance.now();
      const r = await fetch(new URL(path, url));
      const n = Number(await r.text());
      if (!(n > 0)) throw new Error(`${path} failed`);
      return performance.now() - t;
    };
    const rows = [];
    for (const seg of segments) await time(`/prepare?seg=${seg}&mib=${mib}`);
    for (const seg of segments) {
      const base = [],
        enc = [],
        dec = [],
        senc = [],
        sdec = [];
      for (let i = 0; i < runs; i++) {
        // Interleaved, so drift in machine load touches all three alike.
        base.push(await time(`/baseline?mib=${mib}`));
        enc.push(await time(`/encrypt?seg=${seg}&mib=${mib}`));
        dec.push(await time(`/decrypt?seg=${seg}&mib=${mib}`));
        senc.push(await time(`/subtle-encrypt?seg=${seg}&mib=${mib}`));
        sdec.push(await time(`/subtle-decrypt?seg=${seg}&mib=${mib}`));
      }
      const alloc = [],
        touch = [];
      for (let i = 0; i < runs; i++) {
        alloc.push(await time(`/alloc?seg=${seg}&mib=${mib}`));
        touch.push(await time(`/touch?seg=${seg}&mib=${mib}`));
      }
      const mbps = (ms) => (mib * 1.048576) / (ms / 1000);
      rows.push({
        seg,
        baselineMBps: mbps(median(base)),
        encryptMBps: mbps(median(enc)),
        decryptMBps: mbps(median(dec)),
        subtleEncryptMBps: mbps(median(senc)),
        subtleDecryptMBps: mbps(median(sdec)),
        allocMs: median(alloc),
        touchMs: median(touch),
        subtleEncryptMs: median(senc),
      });
    }
    return rows;
  } finally {
    await mf.dispose();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const arg = (name, def) => {
    const i = process.argv.indexOf(`--${name}`);
    return i > 0 ? Number(process.argv[i + 1]) : def;
  };
  const MIB = arg('mib', 64),
    RUNS = arg('runs', 5);
  const rows = await runPipeline({ mib: MIB, runs: RUNS });
  console.log(`segmented AES-256-GCM in workerd, ${MIB} MiB per run, median of ${RUNS} (MB/s)`);
  console.log('segment   baseline  encrypt  decrypt  subtle-enc  subtle-dec');
  for (const r of rows)
    console.log(
      `${String(r.seg).padStart(7)}  ${r.baselineMBps.toFixed(0).padStart(9)}  ${r.encryptMBps.toFixed(0).padStart(7)}  ${r.decryptMBps.toFixed(0).padStart(7)}  ${r.subtleEncryptMBps.toFixed(0).padStart(10)}  ${r.subtleDecryptMBps.toFixed(0).padStart(10)}`,
    );
}
