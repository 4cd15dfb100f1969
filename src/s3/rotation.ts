// Master-key rotation: re-wraps the data keys of SSE-COS objects (and uploads in
// progress) under the active master key version. Object data is never touched.
// Work proceeds in bounded batches whose cursor is kept in the store, so a cron
// trigger or the admin endpoint can resume it after any interruption. Each
// record is swapped only if it is unchanged since it was read, so a concurrent
// overwrite always wins.

import { decodeEnvelope, encodeEnvelope } from '../sse/envelope';
import type { Sse } from '../sse';
import type { Keyring } from '../sse/keyring';
import type { Store, StoredObject } from '../store/types';
import { manifestBytes, recordBody } from './record';

const STATE_KEY = 's/rotation';
const PHASES = ['o/', 'u/'];

export interface RotationState {
  /** The active version this pass re-wraps to. */
  active: string;
  /** Last store key handled; absent before the first batch. */
  cursor?: string;
  rewrapped: number;
  /** Records that changed under us (their new version already uses the active key). */
  skipped: number;
  failed: number;
  done: boolean;
}

export interface RotationHooks {
  /** Called after a record is read and before it is swapped (tests use it to race a writer). */
  beforeSwap?(storeKey: string): Promise<void>;
}

async function loadState(store: Store, active: string): Promise<RotationState> {
  const s = await store.head(STATE_KEY);
  const saved = s?.custom.state ? (JSON.parse(s.custom.state) as RotationState) : undefined;
  return saved?.active === active ? saved : { active, rewrapped: 0, skipped: 0, failed: 0, done: false };
}

/** The object (or upload) a record belongs to, from its store key and metadata. */
function identity(o: StoredObject): { bucket: string; key: string } {
  const rest = o.key.slice(2);
  const i = rest.indexOf('/');
  const bucket = rest.slice(0, i);
  return { bucket, key: o.key.startsWith('u/') ? (o.custom.key ?? '') : rest.slice(i + 1) };
}

/** Re-wraps up to `limit` records; returns the saved progress. */
export async function rotateBatch(store: Store, sse: Sse, ring: Keyring, limit = 200, hooks: RotationHooks = {}): Promise<RotationState> {
  const state = await loadState(store, ring.active.id);
  if (state.done) return state;
  let handled = 0;
  while (handled < limit) {
    const phase = PHASES.find((p) => !state.cursor || state.cursor.startsWith(p) || state.cursor < p) ?? PHASES[PHASES.length - 1];
    const page = await store.list({ prefix: phase, startAfter: state.cursor?.startsWith(phase) ? state.cursor : undefined, limit: Math.min(1000, limit - handled), withMeta: true });
    for (const o of page.objects) {
      handled++;
      state.cursor = o.key;
      const env = o.custom['sb-env'] ? decodeEnvelope(o.custom['sb-env']) : undefined;
      if (env?.mode !== 'cos' || env.kid === ring.active.id) continue;
      try {
        await hooks.beforeSwap?.(o.key);
        const current = await store.get(o.key);
        if (!current || current.object.etag !== o.etag) {
          await current?.body.cancel();
          state.skipped++;
          continue;
        }
        // A new record body gives the swapped record a new store etag.
        const body = o.key.startsWith('o/') ? recordBody(manifestBytes(new Uint8Array(await new Response(current.body).arrayBuffer()))) : recordBody();
        const rewrapped = await sse.rewrap(identity(o), env, {}, 'cos', {});
        const swapped = await store.put(o.key, body, body.length, { custom: { ...o.custom, 'sb-env': encodeEnvelope(rewrapped) }, http: o.http, ifEtag: o.etag });
        if (swapped) state.rewrapped++;
        else state.skipped++;
      } catch (e) {
        state.failed++;
        console.error(JSON.stringify({ event: 'rotation-failure', record: o.key, reason: e instanceof Error ? e.message : String(e) }));
      }
    }
    if (!page.truncated) {
      const next = PHASES[PHASES.indexOf(phase) + 1];
      if (!next) {
        state.done = true;
        break;
      }
      state.cursor = next;
    }
  }
  await store.put(STATE_KEY, null, 0, { custom: { state: JSON.stringify(state) } });
  return state;
}

/** How many records still need each master key version (SSE-COS), and other modes. */
export async function keyUsage(store: Store): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const prefix of PHASES) {
    let cursor: string | undefined;
    do {
      const page = await store.list({ prefix, cursor, limit: 1000, withMeta: true });
      for (const o of page.objects) {
        const env = o.custom['sb-env'] ? decodeEnvelope(o.custom['sb-env']) : undefined;
        const label = !env ? 'unencrypted' : env.mode === 'cos' ? `master:${env.kid}` : env.mode === 'c' ? 'sse-c' : `kms:${env.kid}`;
        counts[label] = (counts[label] ?? 0) + 1;
      }
      cursor = page.cursor;
    } while (cursor);
  }
  return counts;
}
