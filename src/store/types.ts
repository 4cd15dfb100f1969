// The narrow interface every backing store offers (R2 now, an upstream S3 bucket later).

export interface HttpMeta {
  contentType?: string;
  contentEncoding?: string;
  contentDisposition?: string;
  contentLanguage?: string;
  cacheControl?: string;
  expires?: string;
}

export interface StoredObject {
  key: string;
  size: number;
  etag: string;
  uploaded: Date;
  custom: Record<string, string>;
  http: HttpMeta;
}

export interface ListResult {
  objects: StoredObject[];
  prefixes: string[];
  truncated: boolean;
  cursor?: string;
}

export interface ListOptions {
  prefix: string;
  delimiter?: string;
  startAfter?: string;
  cursor?: string;
  limit: number;
  withMeta?: boolean;
}

export interface PutMeta {
  custom?: Record<string, string>;
  http?: HttpMeta;
  ifEtag?: string;
  /** Store only if no entry exists at the key (else null): the first write of a compare-and-swap. */
  ifAbsent?: boolean;
}

export interface Store {
  head(key: string): Promise<StoredObject | null>;
  get(key: string, range?: { offset: number; length: number }): Promise<{ object: StoredObject; body: ReadableStream<Uint8Array> } | null>;
  /**
   * Stores exactly `length` bytes; rejects (and leaves nothing) if the body errors.
   * With `ifEtag`, stores only if the entry still has that store etag, else returns null;
   * with `ifAbsent`, only if there is no entry yet.
   */
  put(
    key: string,
    body: Uint8Array | null,
    length: number,
    meta: PutMeta & ({ ifEtag: string } | { ifAbsent: true }),
  ): Promise<StoredObject | null>;
  put(key: string, body: ReadableStream<Uint8Array> | Uint8Array | null, length: number, meta?: PutMeta): Promise<StoredObject>;
  delete(keys: string[]): Promise<void>;
  list(opts: ListOptions): Promise<ListResult>;
}
