// The R2 layout: each object is a record entry `o/<bucket>/<key>` (sizes, ETag,
// CRC-64, envelope, user metadata; a multipart manifest as its body) naming data
// entries `d/<uuid>`. The record is written last, so nothing half-written shows.
//
// Concurrency. R2 has conditional puts but no conditional delete, so every change of a
// record entry is a compare-and-swap: read the entry with what it references (its data,
// or every part of its manifest), put the new entry only if the store etag is still the
// one read (or only if there is none), retry on a conflict, and on success delete exactly
// what the replaced entry referenced. Concurrent writers of one key thus each delete what
// they alone replaced, and a loser's data goes with the winner's next swap. A DELETE
// swaps the record for a tombstone first (so it knows what it deletes), then removes
// the tombstone; writers wait for a tombstone to go rather than replace it, so that
// unconditional removal can only remove the tombstone.
// Multipart: Complete and Abort first claim the upload (a conditional rewrite of its
// `u/` entry with `sb-state`); only the claimer goes on, and parts are listed only
// after the claim. A part that lands on a claimed or finished upload cleans up after
// itself without touching what the completed object references (see writePart).

import { IntegrityError } from '../../sse';
import type { Envelope } from '../../sse/types';
import type { PutMeta, Store, StoredObject } from '../../store/types';
import { LayoutError } from '../errors';
import {
  claimOf,
  dataEntryTags,
  decodeLocation,
  decodeManifest,
  decodeObjectRecord,
  decodeStateEntry,
  decodeUploadEntry,
  encodeBucketSettings,
  encodeLocation,
  encodeObjectRecord,
  encodePartRecord,
  encodeStateEntry,
  encodeTombstone,
  encodeUploadEntry,
  envelopeOf,
  FIELDS,
  type ObjectLocation,
  type ObjectPart,
  type ObjectRecord,
  type PartFields,
  partEntryOf,
  storedRecord,
  tombstoneOf,
  withClaim,
  withEnvelope,
  withoutClaim,
} from '../record';
import type {
  Body,
  BucketInfo,
  Completion,
  Layout,
  Listing,
  PartInfo,
  Precondition,
  RecordFields,
  Sealed,
  UploadInfo,
  VersionListing,
  VersionMarker,
} from '../types';
import { asNullVersions, nullVersionsAfter } from '../versions';
import {
  BUCKET_ROOT,
  bucketKey,
  dataKey,
  documentKey,
  documentPrefix,
  manifestBytes,
  OBJECT_ROOT,
  objectKey,
  objectPrefix,
  partKey,
  partPrefix,
  recordBody,
  stateKey,
  UPLOAD_ROOT,
  uploadKey,
  uploadPrefix,
} from './entries';

/** Conflicting swaps of one entry before the client is told to retry (409 OperationAborted). */
const MAX_TRIES = 10;
/** How long a writer waits for a DELETE's tombstone, or an UploadPart for a claim, to resolve. */
const WAIT_MS = 10_000;
const POLL_MS = 25;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const conflict = () => new LayoutError('Conflict');
const noSuchUpload = (id: string) => new LayoutError('NoSuchUpload', undefined, { uploadId: id });

/** A record entry as a swap sees it: its store etag, the data entries it references, and the entry itself. */
interface Current {
  etag: string;
  refs: string[];
  object: StoredObject;
}
const conditionConflict = () => new LayoutError('ConditionConflict');
/** R2 keys hold at most this many bytes of UTF-8. */
const R2_KEY_BYTES = 1024;
const utf8 = (s: string) => new TextEncoder().encode(s);
const utf8Length = (s: string) => utf8(s).length;
/** Rotation walks object records, then uploads in progress. */
const SEALED_PHASES = [OBJECT_ROOT, UPLOAD_ROOT];
/** What an `o/` or `p/` entry references, as stored: a tombstone's replaced `sb-data`, a record's `sb-data`, a part record's `data`. */
const referenceOf = (c: Record<string, string>): string | undefined => tombstoneOf(c) ?? c[FIELDS.object.data] ?? c[FIELDS.part.data];

export class R2Layout implements Layout {
  readonly name = 'r2';
  constructor(readonly store: Store) {}

  async bucket(name: string): Promise<BucketInfo | null> {
    const o = await this.store.head(bucketKey(name));
    return o && { name, created: o.uploaded, custom: o.custom };
  }

  async buckets(): Promise<BucketInfo[]> {
    const out: BucketInfo[] = [];
    for await (const o of this.each(BUCKET_ROOT))
      out.push({ name: o.key.slice(BUCKET_ROOT.length), created: o.uploaded, custom: o.custom });
    return out;
  }

  async createBucket(name: string, owner: string): Promise<boolean> {
    if (await this.store.head(bucketKey(name))) return false;
    await this.store.put(bucketKey(name), null, 0, { custom: encodeBucketSettings({ owner }) });
    return true;
  }

  async deleteBucket(name: string): Promise<boolean> {
    // Uploads in progress count (S3 answers BucketNotEmpty): a bucket made again under the name must not inherit them.
    const [objects, uploads] = await Promise.all([
      this.store.list({ prefix: objectPrefix(name), limit: 1 }),
      this.store.list({ prefix: uploadPrefix(name), limit: 1 }),
    ]);
    if (objects.objects.length || uploads.objects.length) return false;
    await this.store.delete([bucketKey(name)]);
    // Its documents go after the record: a bucket made again under the name must not inherit them.
    const docs: string[] = [];
    for await (const o of this.each(documentPrefix(name))) docs.push(o.key);
    if (docs.length) await this.store.delete(docs);
    return true;
  }

  async setBucketCustom(name: string, custom: Record<string, string>): Promise<void> {
    await this.store.put(bucketKey(name), null, 0, { custom });
  }

  async bucketDocument(bucket: string, name: string): Promise<string | null> {
    const got = await this.store.get(documentKey(bucket, name));
    return got && new Response(got.body).text();
  }

  async setBucketDocument(bucket: string, name: string, text: string | null): Promise<void> {
    if (text === null) return this.store.delete([documentKey(bucket, name)]);
    const bytes = utf8(text);
    await this.store.put(documentKey(bucket, name), bytes, bytes.length);
  }

  checkKey(bucket: string, key: string): void {
    // The record entry o/<bucket>/<key> is the longest store key an object needs.
    if (utf8Length(objectKey(bucket, key)) > R2_KEY_BYTES)
      throw new LayoutError('KeyTooLong', undefined, { maxBytes: String(R2_KEY_BYTES - utf8Length(objectKey(bucket, ''))) });
  }

  async head(bucket: string, key: string): Promise<ObjectRecord | null> {
    const o = await this.store.head(objectKey(bucket, key));
    return o && decodeObjectRecord(o);
  }

  async write(
    bucket: string,
    key: string,
    body: Body,
    finish: () => Promise<RecordFields>,
    opts: { http: ObjectRecord['http']; ifRecord?: string; precondition?: Precondition },
  ): Promise<ObjectRecord | null> {
    const location: ObjectLocation = { kind: 'entry', id: crypto.randomUUID() };
    await this.store.put(dataKey(location.id), body.stream, body.length, { custom: dataEntryTags(bucket, key) });
    let stored: StoredObject | null = null;
    try {
      const fields = await finish();
      const rb = recordBody();
      stored = await this.commit(
        objectKey(bucket, key),
        rb,
        { custom: encodeObjectRecord({ ...fields, location }), http: opts.http },
        opts.ifRecord,
        opts.precondition,
      );
      return stored && storedRecord(fields, location, { http: opts.http, uploaded: stored.uploaded, storeEtag: stored.etag });
    } finally {
      // Refused, lost every retry, or failed: nothing references the new data.
      if (!stored) await this.store.delete([dataKey(location.id)]);
    }
  }

  async swap(bucket: string, key: string, rec: ObjectRecord, ifRecord: string): Promise<ObjectRecord | null> {
    const stored = await this.replace(objectKey(bucket, key), ifRecord, () => ({ custom: encodeObjectRecord(rec), http: rec.http }));
    return stored && { ...rec, uploaded: stored.uploaded, storeEtag: stored.etag };
  }

  async delete(bucket: string, key: string): Promise<void> {
    const k = objectKey(bucket, key);
    for (let i = 0; i < MAX_TRIES; i++) {
      const got = await this.store.get(k);
      if (!got) return;
      const bytes = new Uint8Array(await new Response(got.body).arrayBuffer());
      // Another DELETE is removing it already.
      if (tombstoneOf(got.object.custom) !== undefined) return;
      const data = got.object.custom[FIELDS.object.data];
      // The tombstone keeps what it replaced (sb-data, manifest), so a writer that finds one left
      // behind by a DELETE that died can still drop that data when it replaces it.
      const tomb = recordBody(manifestBytes(bytes));
      if (!(await this.store.put(k, tomb, tomb.length, { custom: encodeTombstone(data), ifEtag: got.object.etag }))) continue;
      // Writers wait for a tombstone to go instead of replacing it: this removes the tombstone only.
      await this.store.delete([k]);
      await this.store.delete(await this.dataKeysOf(data, bytes));
      return;
    }
    throw conflict();
  }

  async read(
    _bucket: string,
    _key: string,
    rec: ObjectRecord,
    range: { offset: number; length: number } | undefined,
    part?: { parts: ObjectPart[]; index: number },
    storedLength?: number,
  ) {
    const id = part ? partEntryOf(part.parts[part.index]) : rec.location.kind === 'entry' ? rec.location.id : undefined;
    // Data kept anywhere else is not in this store.
    if (id === undefined) return null;
    const got = await this.store.get(dataKey(id), range);
    if (got && storedLength !== undefined && got.object.size !== storedLength) {
      await got.body.cancel();
      throw new IntegrityError(`the data entry holds ${got.object.size} bytes, the record says ${storedLength}`);
    }
    return got ? got.body : null;
  }

  async manifest(bucket: string, key: string): Promise<Uint8Array | null> {
    const got = await this.store.get(objectKey(bucket, key));
    return got && manifestBytes(new Uint8Array(await new Response(got.body).arrayBuffer()));
  }

  async list(
    bucket: string,
    o: { prefix: string; delimiter?: string; startAfter?: string; cursor?: string; limit: number },
  ): Promise<Listing> {
    const base = objectPrefix(bucket);
    const r = await this.store.list({
      prefix: base + o.prefix,
      delimiter: o.delimiter,
      startAfter: o.startAfter && base + o.startAfter,
      cursor: o.cursor,
      limit: o.limit,
      withMeta: true,
    });
    const objects = r.objects
      .filter((s) => tombstoneOf(s.custom) === undefined)
      .map((s) => {
        // A damaged record is still listed (listings show every object); reading it is what fails.
        let rec: ObjectRecord | null = null;
        try {
          rec = decodeObjectRecord(s);
        } catch {
          /* listed with what the store says */
        }
        return { key: s.key.slice(base.length), size: rec?.size ?? 0, etag: rec?.etag ?? '', uploaded: s.uploaded };
      });
    return { objects, prefixes: r.prefixes.map((p) => p.slice(base.length)), truncated: r.truncated, cursor: r.cursor };
  }

  async versions(
    bucket: string,
    o: { prefix: string; delimiter?: string; after?: VersionMarker; cursor?: string; limit: number },
  ): Promise<VersionListing> {
    const { prefix, delimiter, cursor, limit } = o;
    return asNullVersions(await this.list(bucket, { prefix, delimiter, startAfter: nullVersionsAfter(o.after), cursor, limit }));
  }

  async createUpload(bucket: string, key: string, id: string, custom: Record<string, string>, http: ObjectRecord['http']): Promise<void> {
    const body = recordBody();
    await this.store.put(uploadKey(bucket, id), body, body.length, { custom: encodeUploadEntry({ key, custom }), http });
  }

  async upload(bucket: string, id: string): Promise<UploadInfo | null> {
    const o = await this.store.head(uploadKey(bucket, id));
    return o && !claimOf(o.custom) ? toUpload(id, o) : null;
  }

  /**
   * Data, then the part record (a swap: the attempt it replaced is known exactly), then a
   * second look at the upload. Still open: any later Complete claims after this record
   * was written and so lists it, and the replaced attempt can go. Claimed or gone: a
   * Complete may have listed either attempt, so wait for the claim to resolve, then keep
   * whatever the committed object's manifest references and drop the rest.
   */
  async writePart(bucket: string, up: UploadInfo, n: number, body: Body, finish: () => Promise<PartFields>): Promise<void> {
    const data = crypto.randomUUID();
    await this.store.put(dataKey(data), body.stream, body.length, { custom: dataEntryTags(bucket, up.key, up.id) });
    let stored: StoredObject | null = null;
    let replaced: string[] = [];
    try {
      const rb = recordBody();
      const custom = encodePartRecord({ ...(await finish()), location: { kind: 'entry', id: data } });
      stored = await this.swapIn(partKey(up.id, n), rb, { custom }, async (r) => {
        replaced = r;
      });
    } finally {
      if (!stored) await this.store.delete([dataKey(data)]);
    }
    await this.settlePart(bucket, up, n, data, replaced);
  }

  async parts(_bucket: string, id: string): Promise<PartInfo[]> {
    const out: PartInfo[] = [];
    for await (const o of this.each(partPrefix(id), true))
      out.push({ n: Number(o.key.slice(o.key.lastIndexOf('/') + 1)), custom: o.custom, uploaded: o.uploaded });
    return out;
  }

  async complete(
    bucket: string,
    key: string,
    up: UploadInfo,
    build: (parts: PartInfo[]) => Promise<Completion>,
    precondition?: Precondition,
  ): Promise<ObjectRecord> {
    await this.claim(bucket, up.id, 'completing');
    let parts: PartInfo[];
    let stored: StoredObject | null = null;
    let done: Completion;
    const location: ObjectLocation = { kind: 'multipart', upload: up.id };
    try {
      parts = await this.parts(bucket, up.id);
      done = await build(parts);
      const body = recordBody(done.manifestBody);
      stored = await this.commit(
        objectKey(bucket, key),
        body,
        { custom: encodeObjectRecord({ ...done.fields, location }), http: up.http },
        undefined,
        precondition,
      );
    } finally {
      // Not committed (invalid parts, a failure, lost every retry): the upload is open again as it was.
      if (!stored) await this.release(bucket, up.id);
    }
    // The object is visible; now tidy up the upload's bookkeeping, its entry last (a waiting UploadPart watches it).
    const used = new Set(done.manifest.parts.map(partEntryOf));
    await this.store.delete(
      parts
        .map(partEntry)
        .filter((id): id is string => !!id && !used.has(id))
        .map(dataKey),
    );
    await this.store.delete(parts.map((p) => partKey(up.id, p.n)));
    await this.store.delete([uploadKey(bucket, up.id)]);
    return storedRecord(done.fields, location, { http: up.http, uploaded: stored!.uploaded, storeEtag: stored!.etag });
  }

  async abort(bucket: string, up: UploadInfo): Promise<void> {
    await this.claim(bucket, up.id, 'aborting');
    // Listed after the claim: a part that lands later finds the upload claimed or gone and drops itself.
    const parts = await this.parts(bucket, up.id);
    await this.store.delete(
      parts
        .map(partEntry)
        .filter((id): id is string => !!id)
        .map(dataKey),
    );
    await this.store.delete(parts.map((p) => partKey(up.id, p.n)));
    await this.store.delete([uploadKey(bucket, up.id)]);
  }

  async uploads(bucket: string): Promise<UploadInfo[]> {
    const out: UploadInfo[] = [];
    for await (const o of this.each(uploadPrefix(bucket), true))
      if (!claimOf(o.custom)) out.push(toUpload(o.key.slice(o.key.lastIndexOf('/') + 1), o));
    return out;
  }

  async sealed(after: string | undefined, limit: number): Promise<{ items: Sealed[]; next?: string }> {
    const items: Sealed[] = [];
    let cursor = after;
    let scanned = 0;
    while (scanned < limit) {
      const phase = SEALED_PHASES.find((p) => !cursor || cursor.startsWith(p) || cursor < p);
      if (!phase) return { items };
      const page = await this.store.list({
        prefix: phase,
        startAfter: cursor?.startsWith(phase) ? cursor : undefined,
        limit: Math.min(1000, limit - scanned),
        withMeta: true,
      });
      for (const o of page.objects) {
        scanned++;
        cursor = o.key;
        const env = envelopeOf(o.custom);
        const rest = o.key.slice(phase.length);
        const bucket = rest.slice(0, rest.indexOf('/'));
        const key = phase === UPLOAD_ROOT ? decodeUploadEntry(o.custom).key : rest.slice(bucket.length + 1);
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
    return !!(await this.replace(item.ref, item.version, (o) => ({ custom: withEnvelope(o.custom, env), http: o.http })));
  }

  async loadState(name: string): Promise<string | undefined> {
    const o = await this.store.head(stateKey(name));
    return o ? decodeStateEntry(o.custom) : undefined;
  }

  async saveState(name: string, value: string): Promise<void> {
    await this.store.put(stateKey(name), null, 0, { custom: encodeStateEntry(value) });
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
  private async replace(
    storeKey: string,
    ifEtag: string,
    next: (o: StoredObject) => { custom: Record<string, string>; http: ObjectRecord['http'] },
  ): Promise<StoredObject | null> {
    const current = await this.store.get(storeKey);
    if (!current || current.object.etag !== ifEtag) {
      await current?.body.cancel();
      return null;
    }
    const body = recordBody(manifestBytes(new Uint8Array(await new Response(current.body).arrayBuffer())));
    return this.store.put(storeKey, body, body.length, { ...next(current.object), ifEtag });
  }

  /**
   * The data entries a stored reference (referenceOf) points to: one, or one per part of the
   * manifest in `body`, an entry's whole body.
   */
  private async dataKeysOf(reference: string | undefined, body: Uint8Array): Promise<string[]> {
    if (!reference) return [];
    const location = decodeLocation(reference);
    if (location.kind === 'entry') return [dataKey(location.id)];
    if (location.kind === 'self') return [];
    try {
      return decodeManifest(manifestBytes(body)).parts.flatMap((p) => (p.location.kind === 'entry' ? [dataKey(p.location.id)] : []));
    } catch {
      return [];
    }
  }

  /**
   * Writes a record entry by compare-and-swap over whatever is there, then deletes what the
   * replaced entry referenced. With `ifRecord` (copy onto itself, encrypt in place) only over
   * that version, without retrying: null when it changed. With `precondition`, only over an
   * entry it approved (see swapIn). Throws OperationAborted (409) after MAX_TRIES conflicts.
   */
  private async commit(
    storeKey: string,
    body: Uint8Array,
    meta: PutMeta,
    ifRecord?: string,
    precondition?: Precondition,
  ): Promise<StoredObject | null> {
    // Once the new entry is in, the write has happened: a failure to drop what it replaced only leaks.
    const drop = (replaced: string[]) =>
      this.store.delete(replaced).catch((e) => console.error(JSON.stringify({ event: 'drop-failed', key: storeKey, error: String(e) })));
    return this.swapIn(storeKey, body, meta, drop, ifRecord, precondition);
  }

  /**
   * The swap loop of `commit`; `after` gets the data entries the replaced entry referenced.
   * `precondition` judges the object record each round reads, and the conditional put then
   * lands only over that very entry (its store etag, or none): so the check and the write
   * are one step, and a writer that lost the race is judged again against the winner's
   * record (S3: the first to finish wins, the others get 412). An object approved in one
   * round and deleted by the next is ConditionConflict (S3's 409 ConditionalRequestConflict).
   */
  private async swapIn(
    storeKey: string,
    body: Uint8Array,
    meta: PutMeta,
    after: (replaced: string[]) => Promise<void>,
    ifRecord?: string,
    precondition?: Precondition,
  ): Promise<StoredObject | null> {
    let approved = false;
    for (let i = 0; i < MAX_TRIES; i++) {
      const cur = await this.current(storeKey);
      if (ifRecord !== undefined && cur?.etag !== ifRecord) return null;
      if (precondition) {
        // A tombstone left by a DELETE that died stands for no object.
        const rec = cur && tombstoneOf(cur.object.custom) === undefined ? decodeObjectRecord(cur.object) : null;
        if (approved && !rec) throw conditionConflict();
        await precondition(rec);
        approved = rec !== null;
      }
      const stored = await this.store.put(storeKey, body, body.length, cur ? { ...meta, ifEtag: cur.etag } : { ...meta, ifAbsent: true });
      if (stored) {
        await after(cur?.refs ?? []);
        return stored;
      }
      if (ifRecord !== undefined) return null;
      await sleep(Math.random() * POLL_MS * (i + 1));
    }
    throw precondition ? conditionConflict() : conflict();
  }

  /** An entry's store etag and references; waits while a DELETE's tombstone sits there. */
  private async current(storeKey: string): Promise<Current | null> {
    const deadline = Date.now() + WAIT_MS;
    for (;;) {
      const got = await this.store.get(storeKey);
      if (!got) return null;
      const c = got.object.custom;
      const bytes = new Uint8Array(await new Response(got.body).arrayBuffer());
      // A tombstone that outlived the wait was left by a DELETE that died: replace it, dropping what it held.
      if (tombstoneOf(c) !== undefined && Date.now() < deadline) {
        await sleep(POLL_MS);
        continue;
      }
      return { etag: got.object.etag, refs: await this.dataKeysOf(referenceOf(c), bytes), object: got.object };
    }
  }

  /** Claims an open upload for Complete or Abort; NoSuchUpload when it is gone or already claimed. */
  private async claim(bucket: string, id: string, state: 'completing' | 'aborting'): Promise<void> {
    const k = uploadKey(bucket, id);
    for (let i = 0; i < MAX_TRIES; i++) {
      const o = await this.store.head(k);
      if (!o || claimOf(o.custom)) throw noSuchUpload(id);
      // A fresh nonce body gives this version its own etag: of two claims on one version, one lands.
      const rb = recordBody();
      if (await this.store.put(k, rb, rb.length, { custom: withClaim(o.custom, state), http: o.http, ifEtag: o.etag })) return;
    }
    throw conflict();
  }

  /** Opens a claimed upload again (keeping anything rotation re-wrapped meanwhile). */
  private async release(bucket: string, id: string): Promise<void> {
    const k = uploadKey(bucket, id);
    for (let i = 0; i < MAX_TRIES; i++) {
      const o = await this.store.head(k);
      if (!o || !claimOf(o.custom)) return;
      const rb = recordBody();
      if (await this.store.put(k, rb, rb.length, { custom: withoutClaim(o.custom), http: o.http, ifEtag: o.etag })) return;
    }
  }

  /** writePart's second look at the upload, once its part record is in (`replaced`: the earlier attempt's data). */
  private async settlePart(bucket: string, up: UploadInfo, n: number, data: string, replaced: string[]): Promise<void> {
    const deadline = Date.now() + WAIT_MS;
    let o = await this.store.head(uploadKey(bucket, up.id));
    while (o && claimOf(o.custom) && Date.now() < deadline) {
      await sleep(POLL_MS);
      o = await this.store.head(uploadKey(bucket, up.id));
    }
    if (o && !claimOf(o.custom)) {
      // Open (again): no Complete committed, and any later one lists this record.
      await this.store.delete(replaced.filter((k) => k !== dataKey(data)));
      return;
    }
    // Still claimed after the wait: either attempt may end up in the object; leave both.
    if (o) throw conflict();
    // Gone: completed or aborted. Keep only what the object this upload became references; if
    // the object at the key is another one (aborted, or replaced since, which dropped this
    // upload's parts), nothing of it is referenced.
    const got = await this.store.get(objectKey(bucket, up.key));
    let used: string[] = [];
    if (got) {
      const bytes = new Uint8Array(await new Response(got.body).arrayBuffer());
      const mine = encodeLocation({ kind: 'multipart', upload: up.id });
      if (got.object.custom[FIELDS.object.data] === mine || tombstoneOf(got.object.custom) === mine)
        used = await this.dataKeysOf(mine, bytes);
    }
    await this.store.delete([...replaced, dataKey(data)].filter((k) => !used.includes(k)));
    await this.store.delete([partKey(up.id, n)]);
    throw noSuchUpload(up.id);
  }
}

function toUpload(id: string, o: StoredObject): UploadInfo {
  const { key, custom } = decodeUploadEntry(o.custom);
  return { id, key, custom, http: o.http, initiated: o.uploaded };
}

/** A part record's data entry id, read leniently: cleanup drops whatever a record names. */
const partEntry = (p: PartInfo): string | undefined => p.custom[FIELDS.part.data];
