import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { rotateBatch } from '../../src/admin/rotation';
import { app, services } from '../../src/app';
import { TEST_BINDINGS } from './helpers/bindings';
import { bytes, client, ORIGIN, rawStore, sameBytes } from './helpers/s3';

const K1 = TEST_BINDINGS.MASTER_KEYRING; // "k1:..."
const K2 = `k2:${btoa(String.fromCharCode(...bytes(32, 4242)))}`;
const B = 'rot-bucket';
const MiB = 1024 * 1024;

/** The gateway with a given keyring secret, as after `wrangler secret put MASTER_KEYRING`. */
async function gw(keyring: string, method: string, path: string, body?: Uint8Array | string, headers: Record<string, string> = {}) {
  const len: Record<string, string> =
    body === undefined ? {} : { 'content-length': String(typeof body === 'string' ? new TextEncoder().encode(body).length : body.length) };
  const req = await client.sign(ORIGIN + path, { method, body: body ?? null, headers: { ...headers, ...len } });
  return app.fetch(req, { ...(env as object), MASTER_KEYRING: keyring });
}
const json = async (r: Response) => JSON.parse(await r.text());
const kidOf = async (key: string) => JSON.parse((await rawStore().head(`o/${B}/${key}`))!.customMetadata!['sb-env']).kid;

describe('master-key rotation', () => {
  it('re-wraps every object under the new version while writers keep writing, then the old version can be retired', async () => {
    expect((await gw(K1, 'PUT', `/${B}`)).status).toBe(200);
    const objects = new Map<string, Uint8Array>();
    for (let i = 0; i < 12; i++) {
      const data = bytes(1000 + i * 300_000, i);
      objects.set(`obj-${i}`, data);
      expect((await gw(K1, 'PUT', `/${B}/obj-${i}`, data)).status).toBe(200);
    }
    // A multipart object and an upload still in progress, both under k1.
    const id = /<UploadId>([^<]+)</.exec(await (await gw(K1, 'POST', `/${B}/mp?uploads`)).text())![1];
    const p1 = bytes(5 * MiB, 99);
    const e1 = (await gw(K1, 'PUT', `/${B}/mp?partNumber=1&uploadId=${id}`, p1)).headers.get('etag');
    const done = await gw(
      K1,
      'POST',
      `/${B}/mp?uploadId=${id}`,
      `<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>${e1}</ETag></Part></CompleteMultipartUpload>`,
    );
    expect(done.status).toBe(200);
    objects.set('mp', p1);
    const pending = /<UploadId>([^<]+)</.exec(await (await gw(K1, 'POST', `/${B}/pending?uploads`)).text())![1];

    const ROTATED = `${K2},${K1}`;
    const before = await json(await gw(ROTATED, 'GET', '/-/admin/keyring'));
    expect(before.active).toBe('k2');
    expect(before.versions.k1).toBe(14);
    expect((await gw(ROTATED, 'POST', '/-/admin/retire?version=k1')).status).toBe(409);

    // Rotate in small batches while writers add and overwrite objects.
    let state: { done: boolean; failed: number };
    let n = 0;
    do {
      const writes = [0, 1].map(async (j) => {
        const key = j ? `obj-${n % 12}` : `new-${n}`;
        const data = bytes(5000, 1000 + n * 2 + j);
        objects.set(key, data);
        expect((await gw(ROTATED, 'PUT', `/${B}/${key}`, data)).status).toBe(200);
      });
      const [r] = await Promise.all([gw(ROTATED, 'POST', '/-/admin/rotate?limit=3'), ...writes]);
      state = await json(r);
      n++;
    } while (!state.done && n < 50);
    expect(state.done).toBe(true);
    expect(state.failed).toBe(0);

    const after = await json(await gw(ROTATED, 'GET', '/-/admin/keyring'));
    expect(after.versions.k1).toBe(0);
    const retire = await gw(ROTATED, 'POST', '/-/admin/retire?version=k1');
    expect(retire.status).toBe(200);
    expect((await json(retire)).keyring).toEqual(['k2']);

    // With k1 gone from the keyring, everything still opens, with its latest bytes.
    for (const [key, data] of objects) {
      const g = await gw(K2, 'GET', `/${B}/${key}`);
      expect(g.status, key).toBe(200);
      expect(sameBytes(new Uint8Array(await g.arrayBuffer()), data), key).toBe(true);
      expect(await kidOf(key)).toBe('k2');
    }
    // The upload that was in progress can still be completed.
    const e = (await gw(K2, 'PUT', `/${B}/pending?partNumber=1&uploadId=${pending}`, 'late part')).headers.get('etag');
    expect(
      (
        await gw(
          K2,
          'POST',
          `/${B}/pending?uploadId=${pending}`,
          `<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>${e}</ETag></Part></CompleteMultipartUpload>`,
        )
      ).status,
    ).toBe(200);
    expect(await (await gw(K2, 'GET', `/${B}/pending`)).text()).toBe('late part');
  });

  it('an object overwritten between read and swap keeps the new write', async () => {
    const K3 = `k3:${btoa(String.fromCharCode(...bytes(32, 333)))}`;
    const ring = `${K3},${K2},${K1}`;
    await gw(K2, 'PUT', `/${B}/race`, 'old data');
    const { layouts, sealer, keyring } = services({ ...(env as object), MASTER_KEYRING: ring } as never);
    let raced = false;
    const state = await rotateBatch(layouts.of(B), sealer, await keyring(), 1000, {
      async beforeSwap(key) {
        if (key === `o/${B}/race` && !raced) {
          raced = true;
          expect((await gw(ring, 'PUT', `/${B}/race`, 'new data')).status).toBe(200);
        }
      },
    });
    expect(raced).toBe(true);
    expect(state.skipped).toBeGreaterThanOrEqual(1);
    expect(await (await gw(K3, 'GET', `/${B}/race`)).text()).toBe('new data');
    expect(await kidOf('race')).toBe('k3');
  });

  it('the status endpoint needs credentials like everything else', async () => {
    const r = await app.fetch(new Request(`${ORIGIN}/-/admin/keyring`), env as never);
    expect(r.status).toBe(403);
  });
});
