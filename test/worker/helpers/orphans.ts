// What no record references: the leak detector of the race tests. Reads the raw R2
// store the way docs/FORMAT.md describes it, independently of the layout code.
import { manifestBytes, type Manifest } from '../../../src/layout/record';
import { rawStore } from './s3';

async function listAll(prefix: string): Promise<R2Object[]> {
  const out: R2Object[] = [];
  let cursor: string | undefined;
  do {
    const r = await rawStore().list({ prefix, cursor, limit: 1000, include: ['customMetadata'] });
    out.push(...r.objects);
    cursor = r.truncated ? r.cursor : undefined;
  } while (cursor);
  return out;
}

/**
 * Every `d/` entry that no object record (`o/`, with the manifest of a multipart one)
 * and no part record (`p/<upload>/<n>`, custom `data`) names, and every part record
 * whose upload entry (`u/<bucket>/<upload>`) is gone. With `bucket`, only data
 * entries written for that bucket (their `object` metadata) are reported.
 */
export async function orphans(bucket?: string): Promise<string[]> {
  const referenced = new Set<string>();
  const uploads = new Set((await listAll('u/')).map((o) => o.key.slice(o.key.lastIndexOf('/') + 1)));
  for (const o of await listAll('o/')) {
    const data = o.customMetadata?.['sb-data'];
    if (!data) continue;
    if (!data.startsWith('mp:')) {
      referenced.add(data);
      continue;
    }
    const got = await rawStore().get(o.key);
    if (!got) continue;
    const m = JSON.parse(new TextDecoder().decode(manifestBytes(new Uint8Array(await got.arrayBuffer())))) as Manifest;
    for (const p of m.parts) referenced.add(p.data);
  }
  const data = await listAll('d/');
  const ours = (d: R2Object | undefined) => bucket === undefined || (d?.customMetadata?.object ?? '').startsWith(`${bucket}/`);
  const byId = new Map(data.map((d) => [d.key.slice(2), d]));
  const out: string[] = [];
  for (const p of await listAll('p/')) {
    const id = p.customMetadata?.data;
    if (id) referenced.add(id);
    // A part record is the bucket's when its data entry is (one without data only shows unfiltered).
    if (!uploads.has(p.key.split('/')[1]) && ours(id ? byId.get(id) : undefined)) out.push(`${p.key} (upload gone)`);
  }
  for (const d of data) if (ours(d) && !referenced.has(d.key.slice(2))) out.push(`${d.key} (${d.customMetadata?.object})`);
  return out;
}

/** Objects a test tampered with in the raw store (records rewritten or put back): their data is left over on purpose. */
const tamperedObjects = new Set<string>();

/** Declares that a test rewrote this object's record by hand, so the end-of-file check passes over its data. */
export const tampered = (bucket: string, key: string): void => void tamperedObjects.add(`${bucket}/${key}`);

/** orphans(), less the data of objects declared tampered. */
export async function unexpectedOrphans(): Promise<string[]> {
  return (await orphans()).filter((o) => ![...tamperedObjects].some((t) => o.endsWith(`(${t})`)));
}
