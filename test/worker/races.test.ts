// Concurrent writes to one key or one upload: committed data is never deleted while
// a record references it, and whatever a write replaces or loses is deleted. Races
// are run many times; each test gathers what went wrong per round and asserts once.
import { describe, expect, it } from 'vitest';
import { orphans, tampered } from './helpers/orphans';
import { bytes, client, errorCode, ORIGIN, rawStore, s3, sameBytes, worker } from './helpers/s3';

const MiB = 1024 * 1024;
const FIRST = bytes(5 * MiB, 7);
const tag = (xml: string, t: string) => new RegExp(`<${t}>([^<]*)</${t}>`).exec(xml)?.[1];
/** Runs `f` after `ms` milliseconds: staggers racing requests so that every interleaving turns up. */
const later = <T>(ms: number, f: () => Promise<T>) => new Promise((r) => setTimeout(r, ms)).then(f);
const completeXml = (parts: [number, string][]) =>
  `<CompleteMultipartUpload>${parts.map(([n, e]) => `<Part><PartNumber>${n}</PartNumber><ETag>${e}</ETag></Part>`).join('')}</CompleteMultipartUpload>`;

async function bucket(name: string) {
  expect((await s3('PUT', `/${name}`)).status).toBe(200);
}

async function createUpload(b: string, key: string) {
  const r = await s3('POST', `/${b}/${key}?uploads`);
  const x = await r.text();
  expect(r.status, x).toBe(200);
  return tag(x, 'UploadId')!;
}

const putPart = (b: string, key: string, id: string, n: number, body: Uint8Array) =>
  s3('PUT', `/${b}/${key}?partNumber=${n}&uploadId=${id}`, { body });
const complete = (b: string, key: string, id: string, parts: [number, string][]) =>
  s3('POST', `/${b}/${key}?uploadId=${id}`, { body: completeXml(parts) });

/** An upload with a 5 MiB first part and a small second one; its plaintext and part ETags. */
async function twoParts(b: string, key: string, seed: number) {
  const id = await createUpload(b, key);
  const second = bytes(1000 + seed, seed);
  const etags: [number, string][] = [];
  for (const [n, body] of [
    [1, FIRST],
    [2, second],
  ] as const) {
    const r = await putPart(b, key, id, n, body);
    expect(r.status, await r.clone().text()).toBe(200);
    etags.push([n, r.headers.get('etag')!]);
  }
  const data = new Uint8Array(FIRST.length + second.length);
  data.set(FIRST);
  data.set(second, FIRST.length);
  return { id, second, etags, data };
}

/**
 * A PUT (object or part) whose body stops half-way until `release()`: `streaming` resolves once
 * the handler has read the first half (it has loaded the upload and is storing the part).
 */
function held(path: string, body: Uint8Array) {
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
  const headers = { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD', 'content-length': String(body.length) };
  const response = client.sign(`${ORIGIN}${path}`, { method: 'PUT', body: stream, headers }).then(worker);
  return { streaming: started, release, response };
}

async function multipartObject(b: string, key: string, seed: number) {
  const up = await twoParts(b, key, seed);
  const r = await complete(b, key, up.id, up.etags);
  expect(r.status, await r.clone().text()).toBe(200);
  return up.data;
}

/** What GET answers: the bytes when 200, else the status. */
async function read(b: string, key: string): Promise<Uint8Array | number> {
  const g = await s3('GET', `/${b}/${key}`);
  if (g.status !== 200) {
    await g.arrayBuffer().catch(() => {});
    return g.status;
  }
  try {
    return new Uint8Array(await g.arrayBuffer());
  } catch {
    return -1;
  }
}

describe('R2 simulator preconditions', () => {
  it('etagDoesNotMatch * stores only when the key is absent; etagMatches only on that etag', async () => {
    const s = rawStore();
    const a = await s.put('probe/x', 'one', { onlyIf: { etagDoesNotMatch: '*' } });
    const b = await s.put('probe/x', 'two', { onlyIf: { etagDoesNotMatch: '*' } });
    const c = await s.put('probe/x', 'three', { onlyIf: { etagMatches: 'nope' } });
    const d = await s.put('probe/x', 'four', { onlyIf: { etagMatches: a!.etag } });
    expect([!!a, !!b, !!c, !!d]).toEqual([true, false, false, true]);
    expect(await (await s.get('probe/x'))!.text()).toBe('four');
    await s.delete('probe/x');
  });
});

describe('multipart races', () => {
  it('Complete vs UploadPart of the same part number: the object reads back intact every time', async () => {
    const B = 'race-part';
    await bucket(B);
    const bad: string[] = [];
    for (let i = 0; i < 20; i++) {
      const key = `o${i}`;
      const up = await twoParts(B, key, i + 1);
      // Part 2 again, held half-sent once the handler streams it (so it has loaded the upload);
      // the rest goes before Complete, while Complete works, or after Complete has answered.
      const part = held(`/${B}/${key}?partNumber=2&uploadId=${up.id}`, up.second);
      await part.streaming;
      const mode = i % 3;
      if (mode === 0) part.release();
      const done = complete(B, key, up.id, up.etags);
      if (mode === 1) await later((i * 3) % 20, async () => part.release());
      const c = await done;
      if (mode === 2) part.release();
      const p = await part.response;
      if (c.status !== 200) bad.push(`${i}: complete ${c.status} ${await errorCode(c)}`);
      if (p.status !== 200 && (await errorCode(p.clone())) !== 'NoSuchUpload') bad.push(`${i}: part ${p.status} ${await errorCode(p)}`);
      const got = await read(B, key);
      if (!(got instanceof Uint8Array) || !sameBytes(got, up.data))
        bad.push(`${i}: GET ${got instanceof Uint8Array ? 'wrong bytes' : got}`);
    }
    expect(bad).toEqual([]);
    expect(await orphans(B)).toEqual([]);
  });

  it('Abort vs Complete: exactly one wins, nothing leaks, the object is intact or absent', async () => {
    const B = 'race-abort';
    await bucket(B);
    const bad: string[] = [];
    for (let i = 0; i < 20; i++) {
      const key = `o${i}`;
      const up = await twoParts(B, key, i + 1);
      const [c, a] = await Promise.all([
        complete(B, key, up.id, up.etags),
        later((i * 7) % 40, () => s3('DELETE', `/${B}/${key}?uploadId=${up.id}`)),
      ]);
      const won = [c.status === 200, a.status === 204].filter(Boolean).length;
      if (won !== 1) bad.push(`${i}: complete ${c.status}, abort ${a.status}`);
      const loser = c.status === 200 ? a : c;
      if (won === 1 && (await errorCode(loser)) !== 'NoSuchUpload') bad.push(`${i}: loser ${loser.status}`);
      const got = await read(B, key);
      if (c.status === 200 ? !(got instanceof Uint8Array && sameBytes(got, up.data)) : got !== 404)
        bad.push(`${i}: GET ${got instanceof Uint8Array ? got.length : got}`);
    }
    expect(bad).toEqual([]);
    expect(await orphans(B)).toEqual([]);
  });

  it('a part for a completed upload is refused and leaves nothing behind', async () => {
    const B = 'race-late';
    await bucket(B);
    const up = await twoParts(B, 'k', 3);
    expect((await complete(B, 'k', up.id, up.etags)).status).toBe(200);
    const p = await putPart(B, 'k', up.id, 3, bytes(10));
    expect(await errorCode(p)).toBe('NoSuchUpload');
    expect(await orphans(B)).toEqual([]);
  });
});

describe('overwrites', () => {
  /** The raw record entry, to put back later. */
  async function saveRecord(b: string, key: string) {
    const got = (await rawStore().get(`o/${b}/${key}`))!;
    return { body: new Uint8Array(await got.arrayBuffer()), customMetadata: got.customMetadata, httpMetadata: got.httpMetadata };
  }

  for (const by of ['PUT', 'multipart Complete'] as const) {
    it(`overwriting a multipart object by ${by} deletes all its parts`, async () => {
      const B = by === 'PUT' ? 'over-put' : 'over-mp';
      await bucket(B);
      const old = await multipartObject(B, 'k', 1);
      const saved = await saveRecord(B, 'k');
      if (by === 'PUT') expect((await s3('PUT', `/${B}/k`, { body: bytes(100, 2) })).status).toBe(200);
      else await multipartObject(B, 'k', 2);
      expect(await orphans(B)).toEqual([]);
      // The old version must be gone for good: its record put back does not serve it.
      tampered(B, 'k');
      await rawStore().put(`o/${B}/k`, saved.body, { customMetadata: saved.customMetadata, httpMetadata: saved.httpMetadata });
      const got = await read(B, 'k');
      expect(got instanceof Uint8Array && sameBytes(got, old) ? 'old bytes served' : got).toBe(500);
    });
  }
});

describe('concurrent writes to one key', () => {
  for (const ways of [2, 4]) {
    it(`${ways}-way PUTs leave no data behind and a readable object`, async () => {
      const B = `race-put${ways}`;
      await bucket(B);
      const bad: string[] = [];
      for (let i = 0; i < 15; i++) {
        const bodies = Array.from({ length: ways }, (_, w) => bytes(2000 + w, i * 10 + w + 1));
        const rs = await Promise.all(bodies.map((body) => s3('PUT', `/${B}/k`, { body })));
        if (!rs.some((r) => r.status === 200)) bad.push(`${i}: ${rs.map((r) => r.status)}`);
        const got = await read(B, 'k');
        if (!(got instanceof Uint8Array && bodies.some((b) => sameBytes(b, got))))
          bad.push(`${i}: GET ${got instanceof Uint8Array ? 'wrong bytes' : got}`);
      }
      const left = await orphans(B);
      expect({ bad, orphans: left.length }).toEqual({ bad: [], orphans: 0 });
    });
  }

  it('PUT vs DELETE: the object is intact or absent and nothing leaks', async () => {
    const B = 'race-del';
    await bucket(B);
    const bad: string[] = [];
    for (let i = 0; i < 40; i++) {
      const first = bytes(1500, i + 1);
      expect((await s3('PUT', `/${B}/k`, { body: first })).status).toBe(200);
      const body = bytes(1600, i + 100);
      // The PUT's record lands at staggered moments of the DELETE's work.
      const put = held(`/${B}/k`, body);
      await put.streaming;
      const del = s3('DELETE', `/${B}/k`);
      await later(i % 20, async () => put.release());
      const [p, d] = await Promise.all([put.response, del]);
      if (p.status !== 200 || d.status !== 204) bad.push(`${i}: put ${p.status} delete ${d.status}`);
      const got = await read(B, 'k');
      if (!(got === 404 || (got instanceof Uint8Array && sameBytes(got, body))))
        bad.push(`${i}: GET ${got instanceof Uint8Array ? 'wrong bytes' : got}`);
    }
    const left = await orphans(B);
    expect({ bad, orphans: left.length }).toEqual({ bad: [], orphans: 0 });
  });
});

describe('DeleteBucket', () => {
  // AWS deletes a bucket whose only content is uploads in progress (ceph/s3-tests' cleanup relies
  // on it); the gateway aborts them, so a bucket made again under the name inherits none.
  it('aborts uploads in progress and deletes the bucket; a bucket made again under the name has no uploads', async () => {
    const B = 'del-uploads';
    await bucket(B);
    const ids = [await createUpload(B, 'k'), await createUpload(B, 'k'), await createUpload(B, 'other')];
    expect((await s3('PUT', `/${B}/k?partNumber=1&uploadId=${ids[0]}`, { body: 'part' })).status).toBe(200);
    expect((await s3('DELETE', `/${B}`)).status).toBe(204);
    expect(await orphans(B)).toEqual([]);
    await bucket(B);
    expect(tag(await (await s3('GET', `/${B}?uploads`)).text(), 'UploadId')).toBeUndefined();
    expect(await errorCode(await s3('PUT', `/${B}/k?partNumber=1&uploadId=${ids[0]}`, { body: 'late' }))).toBe('NoSuchUpload');
  });

  it('still refuses a bucket that holds an object, and aborts nothing then', async () => {
    const B = 'del-object-and-upload';
    await bucket(B);
    const id = await createUpload(B, 'k');
    expect((await s3('PUT', `/${B}/obj`, { body: 'x' })).status).toBe(200);
    const r = await s3('DELETE', `/${B}`);
    expect(r.status).toBe(409);
    expect(await errorCode(r)).toBe('BucketNotEmpty');
    expect(tag(await (await s3('GET', `/${B}?uploads`)).text(), 'UploadId')).toBe(id);
  });
});
