import { createExecutionContext, createScheduledController, waitOnExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { expect, it } from 'vitest';
import { app } from '../../src/app';
import worker from '../../src/worker';
import { TEST_BINDINGS } from './helpers/bindings';
import { bytes, client, ORIGIN, rawStore } from './helpers/s3';

const K1 = TEST_BINDINGS.MASTER_KEYRING;
const K2 = `k2:${btoa(String.fromCharCode(...bytes(32, 777)))}`;

it('the cron trigger runs a rotation batch that resumes where the last one stopped', async () => {
  const call = async (ring: string, method: string, path: string, body?: string) =>
    app.fetch(
      await client.sign(ORIGIN + path, { method, body: body ?? null, headers: body ? { 'content-length': String(body.length) } : {} }),
      { ...(env as object), MASTER_KEYRING: ring },
    );
  await call(K1, 'PUT', '/cron-bucket');
  for (let i = 0; i < 3; i++) expect((await call(K1, 'PUT', `/cron-bucket/o${i}`, `object ${i}`)).status).toBe(200);

  const rotated = { ...(env as object), MASTER_KEYRING: `${K2},${K1}` } as Parameters<typeof worker.scheduled>[1];
  const ctx = createExecutionContext();
  await worker.scheduled(createScheduledController({ cron: '*/10 * * * *' }), rotated, ctx);
  await waitOnExecutionContext(ctx);

  for (let i = 0; i < 3; i++) {
    const rec = await rawStore().head(`o/cron-bucket/o${i}`);
    expect(JSON.parse(rec!.customMetadata!['sb-env']).kid).toBe('k2');
    expect(await (await call(K2, 'GET', `/cron-bucket/o${i}`)).text()).toBe(`object ${i}`);
  }
  const state = JSON.parse((await rawStore().head('s/rotation'))!.customMetadata!.state);
  expect(state).toMatchObject({ active: 'k2', done: true, failed: 0 });
});
