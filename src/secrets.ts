// Secrets come from a plain Worker secret when one is set (local dev, simple
// deployments), else from the Secrets Store binding. Store reads are cached per
// isolate for a minute, so a rotated secret is picked up without a redeploy.

type Secret = { get(): Promise<string> };

const TTL_MS = 60_000;
const cache = new WeakMap<Secret, { at: number; value: Promise<string | undefined> }>();

export function readSecret(binding: Secret | undefined, plain: string | undefined): Promise<string | undefined> {
  if (plain !== undefined || !binding) return Promise.resolve(plain);
  const hit = cache.get(binding);
  if (hit && Date.now() - hit.at < TTL_MS) return hit.value;
  const value = binding.get().then(
    (v) => v,
    () => undefined, // no such secret in the store
  );
  cache.set(binding, { at: Date.now(), value });
  return value;
}
