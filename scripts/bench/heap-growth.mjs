// What the gateway's Worker isolate keeps and spends across consecutive PUTs (issue "Inside
// the production envelope", CPU growth): after each PUT the V8 heap in use and the ArrayBuffers' memory
//  (Runtime.getHeapUsage), and a CPU profile of the second and the last PUT, whose self
// time by function (garbage collector included) shows whether any part grows. Through the
// inspector of `wrangler dev` (startGateway's default), in the proxy layout the gateway's
// isolate holds no store: what it keeps is the gateway's own.
// Usage: node scripts/bench/heap-growth.mjs [proxy|r2] [AES256|none] [count] [MiB]
import { randomBytes } from 'node:crypto';
import { cdp, top } from './cdp.mjs';
import { live, s3, startGateway, startUpstream } from './gateway.mjs';

const [layout = 'proxy', sse = 'AES256', count = '10', mib = '64'] = process.argv.slice(2);
const body = { bytes: Number(mib) << 20, chunk: randomBytes(1 << 20) };
let overrides = { DEFAULT_SSE: sse };
if (layout === 'proxy') {
  const up = await startUpstream();
  overrides = {
    ...overrides,
    UPSTREAMS: JSON.stringify({
      '*': { endpoint: up.endpoint, bucket: up.bucket, prefix: 'g/{bucket}/', credentials: 'UPSTREAM_CREDENTIALS' },
    }),
    UPSTREAM_CREDENTIALS: 'S3RVER:S3RVER',
  };
}
const gw = await startGateway('heap-growth', overrides);
const n = Number(count);
try {
  await s3(gw, 'PUT', '/growth');
  const c = await cdp(gw.inspectorPort);
  await c.send('Profiler.enable');
  await c.send('Profiler.setSamplingInterval', { interval: 500 });
  // workerd's inspector does not answer HeapProfiler.collectGarbage, so the heap is read as it
  // is, once the PUT has been answered; backingStorageSize is the ArrayBuffers' memory (outside the V8 heap).
  const heap = async () => {
    const { result } = await c.send('Runtime.getHeapUsage');
    const m = (x) => +((x ?? 0) / 2 ** 20).toFixed(2);
    return { usedMiB: m(result.usedSize), totalMiB: m(result.totalSize), backingMiB: m(result.backingStorageSize) };
  };
  console.log(JSON.stringify({ i: 'before', ...(await heap()) }));
  for (let i = 0; i < n; i++) {
    const profiled = i === 1 || i === n - 1;
    if (profiled) await c.send('Profiler.start');
    const r = await s3(gw, 'PUT', `/growth/k${i}`, { body });
    const prof = profiled ? (await c.send('Profiler.stop')).result.profile : undefined;
    console.log(JSON.stringify({ i, wallS: +(r.ms / 1000).toFixed(2), ...(await heap()) }));
    if (prof) {
      const t = top(prof, 12);
      console.log(`  PUT ${i}: ${t.totalMs.toFixed(0)} ms sampled in the isolate`);
      for (const [name, ms, pct] of t.rows) console.log(`${String(ms).padStart(10)} ms ${String(pct).padStart(5)} %  ${name}`);
    }
  }
  c.close();
} finally {
  for (const g of [...live]) await g.stop();
}
