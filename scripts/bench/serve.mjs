// `wrangler dev` without its DevTools inspector, for the bench: the same local runtime and
// R2 simulator, started through wrangler's unstable_startWorker with `inspector: false`.
// Why: the CLI's inspector proxy forwards every runtime inspector message to wrangler's
// Node process, and workerd emits one per chunk of an outbound fetch body, which held a
// proxied GET to 8 MB/s (see docs/BENCHMARKS.md, "Proxy layout").
// Usage: node scripts/bench/serve.mjs <wrangler.toml> <port> <persist dir> <vars JSON>
import { unstable_startWorker } from 'wrangler';

const [config, port, persist, vars] = process.argv.slice(2);
const bindings = Object.fromEntries(Object.entries(JSON.parse(vars || '{}')).map(([k, v]) => [k, { type: 'plain_text', value: v }]));
const worker = await unstable_startWorker({
  config,
  bindings,
  dev: { server: { hostname: '127.0.0.1', port: Number(port) }, inspector: false, persist, watch: false, logLevel: 'warn' },
});
await worker.ready;
console.log(`ready on ${await worker.url}`);
const stop = async () => {
  await worker.dispose();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
