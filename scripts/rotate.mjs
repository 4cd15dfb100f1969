// Re-wraps every SSE-COS data key under the active master key version, batch by
// batch, through the gateway's admin endpoint (resumable: the cursor is stored).
// Usage: node scripts/rotate.mjs [--batch 200]      then: node scripts/rotate.mjs --status
//        node scripts/rotate.mjs --retire <version>
import { arg, gateway, progress } from './lib/gateway.mjs';

const { call } = gateway();
const json = async (r) => {
  const text = await r.text();
  if (r.status >= 400 && r.status !== 409) throw new Error(`${r.status}: ${text}`);
  return JSON.parse(text);
};

const status = await json(await call('GET', '/-/admin/keyring'));
if (process.argv.includes('--status')) {
  console.log(JSON.stringify(status, null, 2));
  process.exit(0);
}
const retire = arg('retire');
if (retire) {
  const r = await json(await call('POST', `/-/admin/retire?version=${encodeURIComponent(retire)}`));
  if (!r.retirable) {
    console.error(`refused: version ${retire} cannot be retired: ${r.reason}`);
    process.exit(1);
  }
  console.log(`version ${retire} is no longer needed. Keep these versions in MASTER_KEYRING, in this order: ${r.keyring.join(', ')}`);
  process.exit(0);
}

const total = Object.entries(status.versions)
  .filter(([v]) => v !== status.active)
  .reduce((a, [, n]) => a + n, 0);
console.log(`active version ${status.active}; ${total} records to re-wrap`);
const batch = Number(arg('batch', 200));
let state;
do {
  state = await json(await call('POST', `/-/admin/rotate?limit=${batch}`));
  progress('rotating', Math.min(total, state.rewrapped + state.skipped), total, `(failed ${state.failed})`);
} while (!state.done);
console.log(`\ndone: ${state.rewrapped} re-wrapped, ${state.skipped} changed during rotation (already current), ${state.failed} failed`);
const after = await json(await call('GET', '/-/admin/keyring'));
console.log('records per version:', JSON.stringify(after.versions));
process.exit(state.failed ? 1 : 0);
