// Reads a Secrets Store binding, falling back to a plain Worker secret when the
// store has no such secret (local dev). Results are cached per isolate for a
// minute, so a rotated secret is picked up without a redeploy.

type Secret = { get(): Promise<string> };

const TTL_MS = 60_000;
const cache = new WeakMap<Secret, { at: number; value: Promise<string | undefined> }>();

export function readSecret(binding: Secret | undefined, fallback: string | undefined): Promise<string | undefined> {
  if (!binding) return Promise.resolve(fallback);
  const hit = cache.get(binding);
  if (hit && Date.now() - hit.at < TTL_MS) return hit.value.then((v) => v ?? fallback);
  const value = binding.get().then(
    (v) => v,
    () => undefined, // not provisioned in this store
  );
  cache.set(binding, { at: Date.now(), value });
  return value.then((v) => v ?? fallback);
}
