// CPU profile of the gateway's Worker while it serves a large PUT and GET, through wrangler's
// inspector (Chrome DevTools Protocol). Not part of `npm run bench`; run it when a figure needs
// explaining:  node scripts/bench/profile.mjs [--mib 64] [--sse AES256|none]
// Prints the functions with the most self time and writes bench-out/<sse>-<op>.cpuprofile
// (open it in Chrome DevTools).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cdp, top } from './cdp.mjs';
import { root, s3, startGateway } from './gateway.mjs';

const arg = (n, d) => (process.argv.indexOf(`--${n}`) > 0 ? process.argv[process.argv.indexOf(`--${n}`) + 1] : d);
const MIB = Number(arg('mib', 64));
const SSE = arg('sse', 'AES256');

const gw = await startGateway(`profile-${SSE}`, { DEFAULT_SSE: SSE });
const inspectorPort = gw.inspectorPort;
mkdirSync(join(root, 'bench-out'), { recursive: true });
try {
  await s3(gw, 'PUT', '/bench');
  const chunk = Buffer.alloc(1 << 20, 0x33);
  const c = await cdp(inspectorPort);
  await c.send('Profiler.enable');
  await c.send('Profiler.setSamplingInterval', { interval: 200 });
  for (const op of ['PUT', 'GET']) {
    await c.send('Profiler.start');
    const r = await s3(gw, op, '/bench/p', { body: op === 'PUT' ? { bytes: MIB << 20, chunk } : null });
    const { result } = await c.send('Profiler.stop');
    writeFileSync(join(root, 'bench-out', `${SSE}-${op}.cpuprofile`), JSON.stringify(result.profile));
    const t = top(result.profile);
    console.log(
      `\n${SSE} ${op} ${MIB} MiB: ${r.ms.toFixed(0)} ms wall, ${t.totalMs.toFixed(0)} ms sampled in the Worker's isolate (${c.title})`,
    );
    for (const [name, ms, pct] of t.rows) console.log(`${String(ms).padStart(8)} ms ${String(pct).padStart(5)} %  ${name}`);
  }
  c.close();
} finally {
  await gw.stop();
}
