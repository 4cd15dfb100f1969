// The R2 layout: each object is a record entry `o/<bucket>/<key>` (sizes, ETag,
// CRC-64, envelope, user metadata; a multipart manifest as its body) naming data
// entries `d/<uuid>`. The record is written last, so nothing half-written shows.

import { decodeEnvelope, encodeEnvelope } from '../../sse/envelope';
import type { Envelope } from '../../sse/types';
import type { Store, StoredObject } from '../../store/types';
import {
  bucketKey, dataKey, manifestBytes, MULTIPART_DATA, objectKey, objectPrefix, partKey, partPrefix, recordBody, recordFromStored, recordToCustom,
  uploadKey, uploadPrefix, type Manifest, type ObjectRecord,
} from '../record';
import type { Body, BucketInfo, Layout, Listing, PartInfo, RecordFields, Sealed, UploadInfo } from './types';

const STATE_PREFIX = 's/';
/** Rotation walks object records, then uploads in progress. */
const SEALED_PHASES = ['o/', 'u/'];

export class RecordLayout implements Layout {
  readonly name = 'r2';
  constructor(readonly store: Store) {}

  async bucket(name: string): Promise<BucketInfo | null> {
    const o = await this.store.head(bucketKey(name));
    return o && { name, created: o.uploaded, custom: o.custom };
  }

  async buckets(): Promise<BucketInfo[]> {
    const out: BucketInfo[] = [];
    for await (const o of this.each('b/')) out.push({ name: o.key.slice(2), created: o.uploaded, custom: o.custom });
    return out;
  }

  async createBucket(name: string, owner: string): Promise<boolean> {
    if (await this.store.head(bucketKey(name))) return false;
    await this.store.put(bucketKey(name), null, 0, { custom: { owner } });
    return true;
  }

  async deleteBucket(name: string): Promise<boolean> {
    const r = await this.store.list({ prefix: objectPrefix(name), limit: 1 });
    if (r.objects.length) return false;
    await this.store.delete([bucketKey(name)]);
    return true;
  }

  async setBucketCustom(name: string, custom: Record<string, string>): Promise<void> {
    await this.store.put(bucketKey(name), null, 0, { custom });
  }

  async head(bucket: string, key: string): Promise<ObjectRecord | null> {
    const o = await this.store.head(objectKey(bucket, key));
    return o && recordFromStored(o);
  }

  async write(bucket: string, key: string, body: Body, finish: () => Promise<RecordFields>, opts: { http: ObjectRecord['http']; ifRecord?: string }): Promise<ObjectRecord | null> {
    const data = crypto.randomUUID();
    const previous = this.store.head(objectKey(bucket, key));
    await this.store.put(dataKey(data), body.stream, body.length, { custom: { object: `${bucket}/${key}` } });
    const rec = { ...(await finish()), data };
    const rb = recordBody();
    const stored = await this.store.put(objectKey(bucket, key), rb, rb.length, { custom: recordToCustom(rec), http: opts.http, ifEtag: opts.ifRecord });
    if (!stored) {
      await this.store.delete([dataKey(data)]);
      return null;
    }
    await this.dropReplaced(await previous.catch(() => null), data);
    return { ...rec, http: opts.http, uploaded: stored.uploaded, storeEtag: stored.etag };
  }

  async swap(bucket: string, key: string, rec: ObjectRecord, ifRecord: string): Promise<ObjectRecord | null> {
    const stored = await this.replace(objectKey(bucket, key), ifRecord, () => ({ custom: recordToCustom(rec), http: rec.http }));
    return stored && { ...rec, uploaded: stored.uploaded, storeEtag: stored.etag };
  }

  async delete(bucket: string, key: string): Promise<void> {
    const got = await this.store.get(objectKey(bucket, key));
    if (!got) return;
    const data = await this.dataKeysOf(got.object.custom['sb-data'], got.body);
    await this.store.delete([objectKey(bucket, key)]);
    await this.store.delete(data);
  }

  async read(bucket: string, key: string, rec: ObjectRecord, range: { offset: number; length: number } | undefined, part?: { parts: Manifest['parts']; index: number }) {
    const got = await this.store.get(dataKey(part ? part.parts[part.index].data : rec.data), range);
    return got && got.body;
  }

  async manifest(bucket: string, key: string): Promise<Uint8Array | null> {
    const got = await this.store.get(objectKey(bucket, key));
    return got && manifestBytes(new Uint8Array(await new Response(got.body).arrayBuffer()));
  }

  async list(bucket: string, o: { prefix: string; delimiter?: string; startAfter?: string; cursor?: string; limit: number }): Promise<Listing> {
    const base = objectPrefix(bucket);
    const r = await this.store.list({ prefix: base + o.prefix, delimiter: o.delimiter, startAfter: o.startAfter && base + o.startAfter, cursor: o.cursor, limit: o.limit, withMeta: true });
    const objects = r.objects.map((s) => {
      const rec = recordFromStored(s);
      return { key: s.key.slice(base.length), size: rec?.size ?? 0, etag: rec?.etag ?? '', uploaded: s.uploaded };
    });
    return { objects, prefixes: r.prefixes.map((p) => p.slice(base.length)), truncated: r.truncated, cursor: r.cursor };
  }

  async createUpload(bucket: string, key: string, id: string, custom: Record<string, string>, http: ObjectRecord['http']): Promise<void> {
    const body = recordBody();
    await this.store.put(uploadKey(bucket, id), body, body.length, { custom: { ...custom, key }, http });
  }

  async upload(bucket: string, id: string): Promise<UploadInfo | null> {
    const o = await this.store.head(uploadKey(bucket, id));
    return o && toUpload(id, o);
  }

  async writePart(bucket: string, up: UploadInfo, n: number, body: Body, finish: () => Promise<Record<string, string>>): Promise<void> {
    const data = crypto.randomUUID();
    const previous = this.store.head(partKey(up.id, n));
    await this.store.put(dataKey(data), body.stream, body.length, { custom: { object: `${bucket}/${up.key}`, upload: up.id } });
    await this.store.put(partKey(up.id, n), null, 0, { custom: { ...(await finish()), data } });
    const old = await previous.catch(() => null);
    if (old?.custom.data && old.custom.data !== data) await this.store.delete([dataKey(old.custom.data)]);
  }

  async parts(bucket: string, id: string): Promise<PartInfo[]> {
    const out: PartInfo[] = [];
    for await (const o of this.each(partPrefix(id), true)) out.push({ n: Number(o.key.slice(o.key.lastIndexOf('/') + 1)), custom: o.custom, uploaded: o.uploaded });
    return out;
  }

  async complete(bucket: string, key: string, up: UploadInfo, parts: PartInfo[], manifest: Manifest, manifestBody: Uint8Array, fields: RecordFields): Promise<ObjectRecord> {
    const previous = await this.store.head(objectKey(bucket, key));
    const rec = { ...fields, data: MULTIPART_DATA + up.id };
    const body = recordBody(manifestBody);
    const stored = await this.store.put(objectKey(bucket, key), body, body.length, { custom: recordToCustom(rec), http: up.http });
    // The object is visible; now tidy up the upload's bookkeeping.
    const used = new Set(manifest.parts.map((p) => p.data));
    await this.store.delete(parts.filter((p) => !used.has(p.custom.data)).map((p) => dataKey(p.custom.data)));
    await this.store.delete([...parts.map((p) => partKey(up.id, p.n)), uploadKey(bucket, up.id)]);
    await this.dropReplaced(previous, rec.data);
    return { ...rec, http: up.http, uploaded: stored.uploaded, storeEtag: stored.etag };
  }

  async abort(bucket: string, up: UploadInfo): Promise<void> {
    const parts = await this.parts(bucket, up.id);
    await this.store.delete([uploadKey(bucket, up.id)]);
    await this.store.delete(parts.map((p) => dataKey(p.custom.data)));
    await this.store.delete(parts.map((p) => partKey(up.id, p.n)));
  }

  async uploads(bucket: string): Promise<UploadInfo[]> {
    const out: UploadInfo[] = [];
    for await (const o of this.each(uploadPrefix(bucket), true)) out.push(toUpload(o.key.slice(o.key.lastIndexOf('/') + 1), o));
    return out;
  }

  async sealed(after: string | undefined, limit: number): Promise<{ items: Sealed[]; next?: string }> {
    const items: Sealed[] = [];
    let cursor = after;
    let scanned = 0;
    while (scanned < limit) {
      const phase = SEALED_PHASES.find((p) => !cursor || cursor.startsWith(p) || cursor < p);
      if (!phase) return { items };
      const page = await this.store.list({ prefix: phase, startAfter: cursor?.startsWith(phase) ? cursor : undefined, limit: Math.min(1000, limit - scanned), withMeta: true });
      for (const o of page.objects) {
        scanned++;
        cursor = o.key;
        const env = o.custom['sb-env'] ? decodeEnvelope(o.custom['sb-env']) : undefined;
        const rest = o.key.slice(2);
        const bucket = rest.slice(0, rest.indexOf('/'));
        const key = phase === 'u/' ? (o.custom.key ?? '') : rest.slice(bucket.length + 1);
        if (env) items.push({ ref: o.key, bucket, key, env, version: o.etag });
      }
      if (!page.truncated) {
        const next = SEALED_PHASES[SEALED_PHASES.indexOf(phase) + 1];
        if (!next) return { items };
        cursor = next;
      }
    }
    return { items, next: cursor };
  }

  async rewrap(item: Sealed, env: Envelope): Promise<boolean> {
    return !!(await this.replace(item.ref, item.version, (o) => ({ custom: { ...o.custom, 'sb-env': encodeEnvelope(env) }, http: o.http })));
  }

  async loadState(name: string): Promise<string | undefined> {
    return (await this.store.head(STATE_PREFIX + name))?.custom.state;
  }

  async saveState(name: string, value: string): Promise<void> {
    await this.store.put(STATE_PREFIX + name, null, 0, { custom: { state: value } });
  }

  private async *each(prefix: string, withMeta = false): AsyncGenerator<StoredObject> {
    let cursor: string | undefined;
    do {
      const r = await this.store.list({ prefix, cursor, limit: 1000, withMeta });
      yield* r.objects;
      cursor = r.cursor;
    } while (cursor);
  }

  /**
   * Rewrites a record entry (an object's or an upload's) if its store etag is still
   * `ifEtag`. A fresh record body, same manifest, gives it a new store etag.
   */
  private async replace(storeKey: string, ifEtag: string, next: (o: StoredObject) => { custom: Record<string, string>; http: ObjectRecord['http'] }): Promise<StoredObject | null> {
    const current = await this.store.get(storeKey);
    if (!current || current.object.etag !== ifEtag) {
      await current?.body.cancel();
      return null;
    }
    const body = recordBody(manifestBytes(new Uint8Array(await new Response(current.body).arrayBuffer())));
    return this.store.put(storeKey, body, body.length, { ...next(current.object), ifEtag });
  }

  /** The data entries a record points to (one, or one per part). */
  private async dataKeysOf(data: string | undefined, body: ReadableStream<Uint8Array> | null): Promise<string[]> {
    if (!data || !data.startsWith(MULTIPART_DATA)) {
      await body?.cancel();
      return data ? [dataKey(data)] : [];
    }
    try {
      const m = JSON.parse(new TextDecoder().decode(manifestBytes(new Uint8Array(await new Response(body).arrayBuffer())))) as Manifest;
      return m.parts.map((p) => dataKey(p.data));
    } catch {
      return [];
    }
  }

  /** Drops the data an overwritten record pointed to. */
  private async dropReplaced(old: StoredObject | null, keep: string): Promise<void> {
    const data = old?.custom['sb-data'];
    if (!data || data === keep) return;
    if (!data.startsWith(MULTIPART_DATA)) return this.store.delete([dataKey(data)]);
    const got = await this.store.get(old!.key);
    // Only if the record still names the same upload: a newer write may have replaced it since.
    if (got && got.object.custom['sb-data'] === data) await this.store.delete(await this.dataKeysOf(data, got.body));
    else await got?.body.cancel();
  }
}

function toUpload(id: string, o: StoredObject): UploadInfo {
  const { key = '', ...custom } = o.custom;
  return { id, key, custom, http: o.http, initiated: o.uploaded };
}
