// What no record references: the leak detector of the race tests. Reads the raw R2
// store the way docs/FORMAT.md describes it, with the record codec's names and
// decoders but independently of the layout code.
import { DATA_ROOT, manifestBytes, OBJECT_ROOT, PART_ROOT, UPLOAD_ROOT } from '../../../src/layout/r2/entries';
import { decodeLocation, decodeManifest, FIELDS } from '../../../src/layout/record';
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
  const uploads = new Set((await listAll(UPLOAD_ROOT)).map((o) => o.key.slice(o.key.lastIndexOf('/') + 1)));
  for (const o of await listAll(OBJECT_ROOT)) {
    const data = o.customMetadata?.[FIELDS.object.data];
    if (!data) continue;
    const location = decodeLocation(data);
    if (location.kind === 'entry') referenced.add(location.id);
    if (location.kind !== 'multipart') continue;
    const got = await rawStore().get(o.key);
    if (!got) continue;
    const m = decodeManifest(manifestBytes(new Uint8Array(await got.arrayBuffer())));
    for (const p of m.parts) if (p.location.kind === 'entry') referenced.add(p.location.id);
  }
  const data = await listAll(DATA_ROOT);
  const objectOf = (d: R2Object | undefined) => d?.customMetadata?.[FIELDS.dataEntry.object];
  const ours = (d: R2Object | undefined) => bucket === undefined || (objectOf(d) ?? '').startsWith(`${bucket}/`);
  const byId = new Map(data.map((d) => [d.key.slice(DATA_ROOT.length), d]));
  const out: string[] = [];
  for (const p of await listAll(PART_ROOT)) {
    const id = p.customMetadata?.[FIELDS.part.data];
    if (id) referenced.add(id);
    // A part record is the bucket's when its data entry is (one without data only shows unfiltered).
    if (!uploads.has(p.key.split('/')[1]) && ours(id ? byId.get(id) : undefined)) out.push(`${p.key} (upload gone)`);
  }
  for (const d of data) if (ours(d) && !referenced.has(d.key.slice(DATA_ROOT.length))) out.push(`${d.key} (${objectOf(d)})`);
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
