// Master-key rotation: re-wraps the data keys of SSE-COS objects (and uploads in
// progress) under the active master key version. Object data is never touched.
// Work proceeds in bounded batches whose cursor is kept in the store, so a cron
// trigger or the admin endpoint can resume it after any interruption. Each
// record is swapped only if it is unchanged since it was read, so a concurrent
// overwrite always wins.

import type { Layout } from '../layout/types';
import type { Sealer } from '../sse';
import type { Keyring } from '../sse/keyring';

const STATE = 'rotation';

export interface RotationState {
  /** The active version this pass re-wraps to. */
  active: string;
  /** Where the next batch resumes; absent before the first batch. */
  cursor?: string;
  rewrapped: number;
  /** Records that changed under us (their new version already uses the active key). */
  skipped: number;
  failed: number;
  done: boolean;
}

export interface RotationHooks {
  /** Called after a record is read and before it is swapped (tests use it to race a writer). */
  beforeSwap?(ref: string): Promise<void>;
}

async function loadState(layout: Layout, active: string): Promise<RotationState> {
  const s = await layout.loadState(STATE);
  const saved = s ? (JSON.parse(s) as RotationState) : undefined;
  return saved?.active === active ? saved : { active, rewrapped: 0, skipped: 0, failed: 0, done: false };
}

/** Re-wraps what one bounded scan of up to `limit` records finds; returns the saved progress. */
export async function rotateBatch(
  layout: Layout,
  sealer: Sealer,
  ring: Keyring,
  limit = 200,
  hooks: RotationHooks = {},
): Promise<RotationState> {
  const state = await loadState(layout, ring.active.id);
  if (state.done) return state;
  const { items, next } = await layout.sealed(state.cursor, limit);
  for (const item of items) {
    if (item.env.mode !== 'cos' || item.env.kid === ring.active.id) continue;
    try {
      await hooks.beforeSwap?.(item.ref);
      const rewrapped = await sealer.rewrap({ bucket: item.bucket, key: item.key }, item.env, {}, 'cos', {});
      if (await layout.rewrap(item, rewrapped)) state.rewrapped++;
      else state.skipped++;
    } catch (e) {
      state.failed++;
      console.error(
        JSON.stringify({
          event: 'rotation-failure',
          layout: layout.name,
          record: item.ref,
          reason: e instanceof Error ? e.message : String(e),
        }),
      );
    }
  }
  state.cursor = next;
  state.done = next === undefined;
  await layout.saveState(STATE, JSON.stringify(state));
  return state;
}

/** One batch on every layout, summed (what the cron trigger and the admin endpoint run). */
export async function rotateAll(
  layouts: Layout[],
  sealer: Sealer,
  ring: Keyring,
  limit = 200,
): Promise<RotationState & { layouts: Record<string, RotationState> }> {
  const states: Record<string, RotationState> = {};
  for (const l of layouts) {
    // One unreachable upstream must not hold up the rest.
    states[l.name] = await rotateBatch(l, sealer, ring, limit).catch((e) => {
      console.error(JSON.stringify({ event: 'rotation-failure', layout: l.name, reason: e instanceof Error ? e.message : String(e) }));
      return { active: ring.active.id, rewrapped: 0, skipped: 0, failed: 1, done: false };
    });
  }
  const all = Object.values(states);
  const sum = (f: 'rewrapped' | 'skipped' | 'failed') => all.reduce((a, s) => a + s[f], 0);
  return {
    active: ring.active.id,
    rewrapped: sum('rewrapped'),
    skipped: sum('skipped'),
    failed: sum('failed'),
    done: all.every((s) => s.done),
    layouts: states,
  };
}

/** How many records still need each master key version (SSE-COS), and other modes. */
export async function keyUsage(layouts: Layout[]): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const layout of layouts) {
    let cursor: string | undefined;
    do {
      const page = await layout.sealed(cursor, 1000);
      for (const { env } of page.items) {
        const label = env.mode === 'cos' ? `master:${env.kid}` : env.mode === 'c' ? 'sse-c' : `kms:${env.kid}`;
        counts[label] = (counts[label] ?? 0) + 1;
      }
      cursor = page.next;
    } while (cursor);
  }
  return counts;
}
