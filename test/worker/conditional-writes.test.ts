// Conditional writes through the gateway on the R2 layout (If-None-Match: *, If-Match, COS's
// x-cos-forbid-overwrite): the answers S3 gives, and the atomicity of the check. The races hold
// every writer's body half-way until all of them have passed any early look at the key, so an
// implementation that checks and then writes lets several through, every round.
import { describe, expect, it } from 'vitest';
import { LayoutError } from '../../src/layout/errors';
import { toS3Error } from '../../src/s3/protocol/errors';
import { orphans } from './helpers/orphans';
import { bytes, client, errorCode, ORIGIN, s3, sameBytes, worker } from './helpers/s3';

const MiB = 1024 * 1024;
const tag = (xml: string, t: string) => new RegExp(`<${t}>([^<]*)</${t}>`).exec(xml)?.[1];
const later = <T>(ms: number, f: () => Promise<T>) => new Promise((r) => setTimeout(r, ms)).then(f);

async function bucket(name: string) {
  expect((await s3('PUT', `/${name}`)).status).toBe(200);
}

/** What GET answers: the bytes when 200, else the status. */
async function read(b: string, key: string): Promise<Uint8Array | number> {
  const g = await s3('GET', `/${b}/${key}`);
  if (g.status !== 200) {
    await g.arrayBuffer().catch(() => {});
    return g.status;
  }
  return new Uint8Array(await g.arrayBuffer());
}

/** A PUT whose body stops half-way until `release()`; `streaming` resolves once the handler reads past the first half. */
function held(path: string, body: Uint8Array, headers: Record<string, string> = {}) {
  let release!: () => void;
  let streaming!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const started = new Promise<void>((r) => (streaming = r));
  let pulls = 0;
  const half = body.length >> 1;
  const stream = new ReadableStream<Uint8Array>(
    {
      async pull(c) {
        pulls++;
        if (pulls === 1) return c.enqueue(body.slice(0, half));
        streaming();
        await gate;
        c.enqueue(body.slice(half));
        c.close();
      },
    },
    { highWaterMark: 0 },
  );
  const all = { ...headers, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD', 'content-length': String(body.length) };
  const response = client.sign(`${ORIGIN}${path}`, { method: 'PUT', body: stream, headers: all }).then(worker);
  return { streaming: started, release, response };
}

/** Writers racing for one key: each holds its body until every one is streaming, then they are let go at staggered moments. */
async function race(path: string, bodies: Uint8Array[], headers: Record<string, string>, round: number) {
  const puts = bodies.map((b) => held(path, b, headers));
  await Promise.all(puts.map((p) => p.streaming));
  await Promise.all(puts.map((p, w) => later((round * 3 + w * 5) % 11, async () => p.release())));
  const rs = await Promise.all(puts.map((p) => p.response));
  return Promise.all(rs.map(async (r) => ({ status: r.status, code: r.status === 200 ? undefined : await errorCode(r) })));
}

describe('conditional writes: concurrency', () => {
  it('concurrent If-None-Match: * PUTs of a new key: exactly one 200, every other 412, every round', async () => {
    const B = 'cond-race-new';
    await bucket(B);
    const bad: string[] = [];
    for (let i = 0; i < 12; i++) {
      const key = `k${i}`;
      const bodies = [0, 1, 2].map((w) => bytes(3000 + w, i * 10 + w + 1));
      const rs = await race(`/${B}/${key}`, bodies, { 'if-none-match': '*' }, i);
      const won = rs.flatMap((r, w) => (r.status === 200 ? [w] : []));
      const lost = rs.filter((r) => r.status !== 200);
      if (won.length !== 1 || lost.some((r) => r.status !== 412 || r.code !== 'PreconditionFailed'))
        bad.push(`${i}: ${rs.map((r) => `${r.status} ${r.code ?? ''}`).join(', ')}`);
      const got = await read(B, key);
      if (!(got instanceof Uint8Array && won.length === 1 && sameBytes(got, bodies[won[0]])))
        bad.push(`${i}: GET ${got instanceof Uint8Array ? "not the winner's bytes" : got}`);
    }
    expect({ bad, orphans: (await orphans(B)).length }).toEqual({ bad: [], orphans: 0 });
  });

  it('concurrent If-Match PUTs on one version: exactly one replaces it, every other 412, every round', async () => {
    const B = 'cond-race-match';
    await bucket(B);
    const bad: string[] = [];
    for (let i = 0; i < 12; i++) {
      const first = await s3('PUT', `/${B}/k`, { body: bytes(1000, i + 500) });
      const etag = first.headers.get('etag')!;
      const bodies = [0, 1, 2].map((w) => bytes(2000 + w, i * 10 + w + 1));
      const rs = await race(`/${B}/k`, bodies, { 'if-match': etag }, i);
      const won = rs.flatMap((r, w) => (r.status === 200 ? [w] : []));
      if (won.length !== 1 || rs.some((r) => r.status !== 200 && (r.status !== 412 || r.code !== 'PreconditionFailed')))
        bad.push(`${i}: ${rs.map((r) => `${r.status} ${r.code ?? ''}`).join(', ')}`);
      const got = await read(B, 'k');
      if (!(got instanceof Uint8Array && won.length === 1 && sameBytes(got, bodies[won[0]])))
        bad.push(`${i}: GET ${got instanceof Uint8Array ? "not the winner's bytes" : got}`);
    }
    expect({ bad, orphans: (await orphans(B)).length }).toEqual({ bad: [], orphans: 0 });
  });

  it('an If-Match PUT racing a plain overwrite never replaces the version written after the one matched', async () => {
    const B = 'cond-race-over';
    await bucket(B);
    const bad: string[] = [];
    for (let i = 0; i < 12; i++) {
      const etag = (await s3('PUT', `/${B}/k`, { body: bytes(1000, i + 900) })).headers.get('etag')!;
      const conditional = held(`/${B}/k`, bytes(2000, i + 1), { 'if-match': etag });
      await conditional.streaming;
      const plain = bytes(2100, i + 300);
      expect((await s3('PUT', `/${B}/k`, { body: plain })).status).toBe(200);
      conditional.release();
      const r = await conditional.response;
      if (r.status !== 412) bad.push(`${i}: conditional PUT ${r.status}`);
      const got = await read(B, 'k');
      if (!(got instanceof Uint8Array && sameBytes(got, plain))) bad.push(`${i}: GET ${got instanceof Uint8Array ? 'wrong bytes' : got}`);
    }
    expect({ bad, orphans: (await orphans(B)).length }).toEqual({ bad: [], orphans: 0 });
  });
});

describe('conditional writes: answers', () => {
  it("a layout's ConditionConflict is S3's 409 ConditionalRequestConflict", () => {
    const e = toS3Error(new LayoutError('ConditionConflict'))!;
    expect([e.status, e.code]).toEqual([409, 'ConditionalRequestConflict']);
    expect(e.message).toMatch(/^A conflicting operation occurred\./);
  });

  it('PutObject: 412 with its Condition, 404 NoSuchKey for If-Match without an object, 501 for an If-None-Match ETag', async () => {
    const B = 'cond-put';
    await bucket(B);
    let r = await s3('PUT', `/${B}/k`, { body: 'one', headers: { 'if-match': '"0123456789abcdef0123456789abcdef"' } });
    let x = await r.text();
    expect([r.status, tag(x, 'Code'), tag(x, 'Key')]).toEqual([404, 'NoSuchKey', 'k']);

    r = await s3('PUT', `/${B}/k`, { body: 'one', headers: { 'if-none-match': '*' } });
    expect(r.status).toBe(200);
    const etag = r.headers.get('etag')!;
    r = await s3('PUT', `/${B}/k`, { body: 'two', headers: { 'if-none-match': '*' } });
    x = await r.text();
    expect([r.status, tag(x, 'Code'), tag(x, 'Condition')]).toEqual([412, 'PreconditionFailed', 'If-None-Match']);
    r = await s3('PUT', `/${B}/k`, { body: 'two', headers: { 'if-match': '"ffffffffffffffffffffffffffffffff"' } });
    x = await r.text();
    expect([r.status, tag(x, 'Code'), tag(x, 'Condition')]).toEqual([412, 'PreconditionFailed', 'If-Match']);
    expect(await (await s3('GET', `/${B}/k`)).text()).toBe('one');

    // S3 takes only "*" in If-None-Match on a write, and not with If-Match.
    for (const headers of [{ 'if-none-match': etag }, { 'if-none-match': '*', 'if-match': etag }] as Record<string, string>[]) {
      r = await s3('PUT', `/${B}/k`, { body: 'three', headers });
      x = await r.text();
      expect([r.status, tag(x, 'Code')], JSON.stringify(headers)).toEqual([501, 'NotImplemented']);
    }
    expect(await (await s3('GET', `/${B}/k`)).text()).toBe('one');

    r = await s3('PUT', `/${B}/k`, { body: 'four', headers: { 'if-match': etag } });
    expect(r.status).toBe(200);
    expect(await (await s3('GET', `/${B}/k`)).text()).toBe('four');
  });

  it('a PUT bound to fail is refused before its body is taken', async () => {
    const B = 'cond-early';
    await bucket(B);
    expect((await s3('PUT', `/${B}/k`, { body: 'one' })).status).toBe(200);
    // Never released: the answer can only come from a refusal that does not wait for the body.
    const put = held(`/${B}/k`, bytes(2 * MiB, 3), { 'if-none-match': '*' });
    const r = await put.response;
    expect([r.status, await errorCode(r)]).toEqual([412, 'PreconditionFailed']);
    expect(await orphans(B)).toEqual([]);
  });

  it("COS's x-cos-forbid-overwrite: true refuses an existing object with 409 FileAlreadyExists", async () => {
    const B = 'cond-cos';
    await bucket(B);
    expect((await s3('PUT', `/${B}/k`, { body: 'one', headers: { 'x-cos-forbid-overwrite': 'true' } })).status).toBe(200);
    const r = await s3('PUT', `/${B}/k`, { body: 'two', headers: { 'x-cos-forbid-overwrite': 'true' } });
    expect([r.status, await errorCode(r)]).toEqual([409, 'FileAlreadyExists']);
    expect((await s3('PUT', `/${B}/k`, { body: 'three', headers: { 'x-cos-forbid-overwrite': 'false' } })).status).toBe(200);
    expect(await (await s3('GET', `/${B}/k`)).text()).toBe('three');
  });

  it('CopyObject: If-None-Match and If-Match judge the destination (x-amz-copy-source-if-* the source)', async () => {
    const B = 'cond-copy';
    await bucket(B);
    const src = (await s3('PUT', `/${B}/src`, { body: 'source' })).headers.get('etag')!;
    const dst = (await s3('PUT', `/${B}/dst`, { body: 'dest' })).headers.get('etag')!;
    const copy = (key: string, headers: Record<string, string>) =>
      s3('PUT', `/${B}/${key}`, { headers: { 'x-amz-copy-source': `/${B}/src`, ...headers } });
    let r = await copy('dst', { 'if-none-match': '*' });
    expect([r.status, await errorCode(r)]).toEqual([412, 'PreconditionFailed']);
    // The source's ETag is not the destination's.
    r = await copy('dst', { 'if-match': src });
    expect([r.status, await errorCode(r)]).toEqual([412, 'PreconditionFailed']);
    r = await copy('missing', { 'if-match': src });
    expect([r.status, await errorCode(r)]).toEqual([404, 'NoSuchKey']);
    expect(await (await s3('GET', `/${B}/dst`)).text()).toBe('dest');
    r = await copy('dst', { 'if-match': dst });
    expect(r.status, await r.clone().text()).toBe(200);
    expect(await (await s3('GET', `/${B}/dst`)).text()).toBe('source');
    r = await copy('new', { 'if-none-match': '*' });
    expect(r.status).toBe(200);
    // Onto itself: the object is both source and destination.
    r = await s3('PUT', `/${B}/src`, {
      headers: { 'x-amz-copy-source': `/${B}/src`, 'x-amz-metadata-directive': 'REPLACE', 'if-match': dst },
    });
    expect([r.status, await errorCode(r)]).toEqual([412, 'PreconditionFailed']);
    r = await s3('PUT', `/${B}/src`, {
      headers: { 'x-amz-copy-source': `/${B}/src`, 'x-amz-metadata-directive': 'REPLACE', 'if-match': src, 'x-amz-meta-a': 'b' },
    });
    expect(r.status, await r.clone().text()).toBe(200);
    expect((await s3('HEAD', `/${B}/src`)).headers.get('x-amz-meta-a')).toBe('b');
    expect(await orphans(B)).toEqual([]);
  });

  it('CompleteMultipartUpload: 412 leaves the upload open, to be completed without the condition', async () => {
    const B = 'cond-mp';
    await bucket(B);
    expect((await s3('PUT', `/${B}/k`, { body: 'existing' })).status).toBe(200);
    const id = tag(await (await s3('POST', `/${B}/k?uploads`)).text(), 'UploadId')!;
    const part = bytes(1000, 5);
    const etag = (await s3('PUT', `/${B}/k?partNumber=1&uploadId=${id}`, { body: part })).headers.get('etag')!;
    const xml = `<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>${etag}</ETag></Part></CompleteMultipartUpload>`;
    let r = await s3('POST', `/${B}/k?uploadId=${id}`, { body: xml, headers: { 'if-none-match': '*' } });
    expect([r.status, await errorCode(r)]).toEqual([412, 'PreconditionFailed']);
    expect(await (await s3('GET', `/${B}/k`)).text()).toBe('existing');
    r = await s3('GET', `/${B}/k?uploadId=${id}`);
    expect(r.status).toBe(200);
    r = await s3('POST', `/${B}/k?uploadId=${id}`, { body: xml });
    expect(r.status, await r.clone().text()).toBe(200);
    const got = await read(B, 'k');
    expect(got instanceof Uint8Array && sameBytes(got, part)).toBe(true);
    expect(await orphans(B)).toEqual([]);
  });
});
