// Does a gateway's CPU per PUT grow from request to request (issue: "Inside the production
// envelope", first finding)? Sends N sequential PUTs of one size to a fresh gateway started
// without the DevTools inspector (serve.mjs) and prints each PUT's CPU seconds per process.
// Usage: node scripts/bench/cpu-growth.mjs [r2|proxy] [AES256|none] [count] [MiB]
//   env GET=1      read each object back between PUTs (as the bench interleaves them)
//   env SOURCE=dir run another checkout's src/ (e.g. a git worktree of an older commit)
import { randomBytes } from 'node:crypto';
import { cpuDelta, cpuTimes, live, s3, startGateway, startUpstream } from './gateway.mjs';

const [layout = 'r2', sse = 'AES256', count = '8', mib = '64'] = process.argv.slice(2);
// Streamed in 1 MiB writes, as the bench sends large bodies; GET=1 reads each object back between PUTs.
const chunk = randomBytes(1024 * 1024);
const body = { bytes: Number(mib) * 1024 * 1024, chunk };
let overrides = { DEFAULT_SSE: sse };
let up;
if (layout === 'proxy') {
  up = await startUpstream();
  overrides = {
    ...overrides,
    UPSTREAMS: JSON.stringify({
      '*': { endpoint: up.endpoint, bucket: up.bucket, prefix: 'g/{bucket}/', credentials: 'UPSTREAM_CREDENTIALS' },
    }),
    UPSTREAM_CREDENTIALS: 'S3RVER:S3RVER',
  };
}
// SOURCE: another checkout's root (its src/ and wrangler.toml), to compare two versions on one machine.
const gw = await startGateway('cpu-growth', overrides, { inspector: false, source: process.env.SOURCE });
try {
  await s3(gw, 'PUT', '/growth');
  for (let i = 0; i < Number(count); i++) {
    const c0 = cpuTimes(gw);
    const t0 = performance.now();
    await s3(gw, 'PUT', `/growth/k${i}`, { body });
    const ms = performance.now() - t0;
    const d = cpuDelta(c0, cpuTimes(gw));
    const total = Object.values(d).reduce((a, b) => a + b, 0);
    console.log(JSON.stringify({ layout, sse, i, wallS: +(ms / 1000).toFixed(2), cpuS: +total.toFixed(2), byProcess: d }));
    if (process.env.GET) await s3(gw, 'GET', `/growth/k${i}`);
  }
} finally {
  for (const g of [...live]) await g.stop();
}
