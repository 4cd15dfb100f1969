// Store on an R2 bucket binding.

import type { HttpMeta, ListOptions, ListResult, PutMeta, Store, StoredObject } from './types';

function toStored(o: R2Object): StoredObject {
  const h = o.httpMetadata ?? {};
  return {
    key: o.key,
    size: o.size,
    etag: o.etag,
    uploaded: o.uploaded,
    custom: o.customMetadata ?? {},
    http: {
      contentType: h.contentType,
      contentEncoding: h.contentEncoding,
      contentDisposition: h.contentDisposition,
      contentLanguage: h.contentLanguage,
      cacheControl: h.cacheControl,
      expires: h.cacheExpiry?.toUTCString(),
    },
  };
}

function toR2Http(h: HttpMeta = {}): R2HTTPMetadata {
  const { expires, ...rest } = h;
  const out: R2HTTPMetadata = {};
  for (const [k, v] of Object.entries(rest)) if (v !== undefined) (out as Record<string, string>)[k] = v;
  if (expires) {
    const d = new Date(expires);
    if (!Number.isNaN(d.getTime())) out.cacheExpiry = d;
  }
  return out;
}

export class R2Store implements Store {
  constructor(private bucket: R2Bucket) {}

  async head(key: string) {
    const o = await this.bucket.head(key);
    return o ? toStored(o) : null;
  }

  async get(key: string, range?: { offset: number; length: number }) {
    const o = await this.bucket.get(key, range ? { range } : undefined);
    return o ? { object: toStored(o), body: o.body } : null;
  }

  put(
    key: string,
    body: Uint8Array | null,
    length: number,
    meta: PutMeta & ({ ifEtag: string } | { ifAbsent: true }),
  ): Promise<StoredObject | null>;
  put(key: string, body: ReadableStream<Uint8Array> | Uint8Array | null, length: number, meta?: PutMeta): Promise<StoredObject>;
  async put(
    key: string,
    body: ReadableStream<Uint8Array> | Uint8Array | null,
    length: number,
    meta: PutMeta = {},
  ): Promise<StoredObject | null> {
    const opts: R2PutOptions = { customMetadata: meta.custom, httpMetadata: toR2Http(meta.http) };
    if (meta.ifEtag) opts.onlyIf = { etagMatches: meta.ifEtag };
    // "No entry yet": no etag matches "*" only when there is none (checked in test/worker/races.test.ts).
    else if (meta.ifAbsent) opts.onlyIf = { etagDoesNotMatch: '*' };
    if (!(body instanceof ReadableStream)) {
      const o = await this.bucket.put(key, body ?? new Uint8Array(0), opts);
      return o ? toStored(o) : null;
    }
    // R2 needs a stream of known length.
    const fixed = new FixedLengthStream(length);
    const [piped, stored] = await Promise.allSettled([body.pipeTo(fixed.writable), this.bucket.put(key, fixed.readable, opts)]);
    if (piped.status === 'rejected') {
      if (stored.status === 'fulfilled') await this.bucket.delete(key);
      throw piped.reason;
    }
    if (stored.status === 'rejected') throw stored.reason;
    return toStored(stored.value);
  }

  async delete(keys: string[]) {
    for (let i = 0; i < keys.length; i += 1000) await this.bucket.delete(keys.slice(i, i + 1000));
  }

  async list(o: ListOptions): Promise<ListResult> {
    const r = await this.bucket.list({
      prefix: o.prefix,
      delimiter: o.delimiter,
      startAfter: o.cursor ? undefined : o.startAfter,
      cursor: o.cursor,
      limit: o.limit,
      include: o.withMeta ? ['customMetadata', 'httpMetadata'] : undefined,
    });
    return {
      objects: r.objects.map(toStored),
      prefixes: r.delimitedPrefixes,
      truncated: r.truncated,
      cursor: r.truncated ? r.cursor : undefined,
    };
  }
}
