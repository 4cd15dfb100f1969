import { rotateAll } from './admin/rotation';
import { app, asMade, services } from './app';
import type { Env } from './env';

// The Durable Object that holds IAM users, access keys and policies (wrangler.toml: IAM).
export { IamStore } from './iam/durable';
// The Durable Object class that holds SSE-KMS customer master keys (wrangler.toml: KMS).
export { KmsStore } from './kms/durable';

export default {
  fetch: async (req: Request, env: Env, ctx: ExecutionContext) => asMade(await app.fetch(req, env, ctx), req),
  // Cron trigger (wrangler.toml): one bounded, resumable batch of master-key rotation per layout.
  async scheduled(_event: ScheduledController, env: Env, ctx: ExecutionContext) {
    const { layouts, sealer, keyring } = services(env);
    ctx.waitUntil(
      rotateAll(layouts.all(), sealer, await keyring(), 500).then((s) => console.log(JSON.stringify({ event: 'rotation-batch', ...s }))),
    );
  },
} satisfies ExportedHandler<Env>;
