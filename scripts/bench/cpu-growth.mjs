// Does a gateway's CPU per PUT grow from request to request (issue: "Inside the production
// envelope", first finding)? Sends N sequential PUTs of one size to a fresh gateway started
// without the DevTools inspector (serve.mjs) and prints each PUT's CPU seconds per process:
// the gateway's workerd (which in the R2 layout also runs local R2) and, for the proxy
// layout, s3rver (the store, another process). Ends with the first-five / last-five medians.
// Usage: node scripts/bench/cpu-growth.mjs [r2|proxy] [AES256|none] [count] [MiB]
//   env GET=1      read each object back between PUTs (as the bench interleaves them), with its CPU too
//   env SAME=1     overwrite one key every time (as the bench does) instead of a new key each
//   env CLI=1      start the gateway under the `wrangler dev` CLI (with its inspector), as `npm start` does
//   env SOURCE=dir run another checkout's src/ (e.g. a git worktree of an older commit)
//   env FLOOR=route instead of the gateway, the bare floor worker (scripts/bench/floor-worker.js) on the
//                  same runtime and local R2: FLOOR=r2 stores the native request body, FLOOR=sealed pipes
//                  it through the gateway's encryptStream into a FixedLengthStream (no auth, no hashing)
import { randomBytes } from 'node:crypto';
import { cpuDelta, cpuTimes, live, request, s3, startGateway, startUpstream, status } from './gateway.mjs';

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
const floor = process.env.FLOOR;
const gw = await startGateway('cpu-growth', overrides, { inspector: !!process.env.CLI, source: process.env.SOURCE, floor: !!floor });
const put = async (key) => {
  if (!floor) return s3(gw, 'PUT', key, { body });
  const r = await request(gw, 'PUT', `/${floor}${key}`, {}, body);
  if (r.status !== 200) throw new Error(`floor PUT: ${r.status}`);
  return r;
};
const get = async (key) => {
  if (!floor) return s3(gw, 'GET', key);
  // The floor worker reads a sealed object back through the gateway's decryptBody.
  const r = await request(gw, 'GET', `/${floor === 'sealed' ? 'decrypt' : 'r2'}${key}`, {});
  if (r.status !== 200) throw new Error(`floor GET: ${r.status}`);
  return r;
};
// CPU by role rather than pid: the gateway's workerd (the one startGateway picked), the rest of
// its process group (wrangler's Node, esbuild, a second workerd), and s3rver.
const sample = () => {
  const out = { workerd: 0, wrangler: 0, s3rver: 0 };
  for (const [k, v] of Object.entries(cpuTimes(gw))) out[k === `workerd:${gw.workerd}` ? 'workerd' : 'wrangler'] += v;
  if (up) for (const v of Object.values(cpuTimes({ pid: up.pid }))) out.s3rver += v;
  return out;
};
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const perMiB = [];
const getPerMiB = [];
try {
  if (!floor) await s3(gw, 'PUT', '/growth');
  for (let i = 0; i < Number(count); i++) {
    const key = `${floor ? '' : '/growth'}/${process.env.SAME ? 'k' : `k${i}`}`;
    const c0 = sample();
    const t0 = performance.now();
    await put(key);
    const ms = performance.now() - t0;
    const d = cpuDelta(c0, sample());
    perMiB.push((1000 * d.workerd) / Number(mib));
    console.log(
      JSON.stringify({
        layout,
        sse,
        ...(floor ? { floor } : {}),
        i,
        wallS: +(ms / 1000).toFixed(2),
        cpuS: d,
        rssMiB: Math.round((status(gw.workerd).VmRSS ?? 0) / 1024),
      }),
    );
    if (process.env.GET) {
      const g0 = sample();
      const r = await get(key);
      const g = cpuDelta(g0, sample());
      getPerMiB.push((1000 * g.workerd) / Number(mib));
      console.log(JSON.stringify({ layout, sse, i, op: 'GET', wallS: +(r.ms / 1000).toFixed(2), cpuS: g }));
    }
  }
  const n = Math.min(5, perMiB.length);
  console.log(
    JSON.stringify({
      layout,
      sse,
      workerdMsPerMiB: { firstFive: +median(perMiB.slice(0, n)).toFixed(1), lastFive: +median(perMiB.slice(-n)).toFixed(1) },
      ...(getPerMiB.length
        ? {
            getWorkerdMsPerMiB: { firstFive: +median(getPerMiB.slice(0, n)).toFixed(1), lastFive: +median(getPerMiB.slice(-n)).toFixed(1) },
          }
        : {}),
    }),
  );
} finally {
  for (const g of [...live]) await g.stop();
}
