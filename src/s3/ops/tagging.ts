// GetObjectTagging, PutObjectTagging, DeleteObjectTagging (?tagging on an object).
//
// Tags live in the object record, next to its user metadata; they are not sealed. A
// change rewrites the record over the same data through the layout's conditional swap,
// only over the record it read: an overwrite or a DELETE in between makes the swap miss,
// and the change is tried again on what is there now (never over a replaced record's
// data, never bringing back a deleted object).

import { checkRecordBudget, type ObjectRecord, type TagSet } from '../../layout/record';
import { type Ctx, layoutOf } from '../context';
import { conflict, loadRecord, MAX_CONFIG_BODY, wholeBody } from '../objects';
import { S3Error } from '../protocol/errors';
import { parseTagging, taggingBody } from '../protocol/tagging';
import { xmlDocument, xmlResponse } from '../protocol/xml';

/** Swaps that miss (the object changed under us) before the client is told to retry. */
const TRIES = 5;

export function objectTagging(ctx: Ctx): Promise<Response> {
  const m = ctx.req.method;
  if (m === 'GET') return getObjectTagging(ctx);
  if (m === 'PUT') return putObjectTagging(ctx);
  if (m === 'DELETE') return deleteObjectTagging(ctx);
  throw new S3Error('MethodNotAllowed');
}

async function getObjectTagging(ctx: Ctx): Promise<Response> {
  const rec = await loadRecord(ctx);
  return xmlResponse(xmlDocument('Tagging', taggingBody(rec.tags)));
}

async function putObjectTagging(ctx: Ctx): Promise<Response> {
  // As S3 does, an unsigned body must carry a signed Content-MD5 or checksum.
  const tags = parseTagging(await wholeBody(ctx, MAX_CONFIG_BODY, { bound: true }));
  await retag(ctx, tags);
  return new Response(null, { status: 200 });
}

async function deleteObjectTagging(ctx: Ctx): Promise<Response> {
  await retag(ctx, []);
  return new Response(null, { status: 204 });
}

/** The object's record with `tags` in place of its tags, swapped in over the same data. */
async function retag(ctx: Ctx, tags: TagSet): Promise<ObjectRecord> {
  const layout = layoutOf(ctx);
  for (let i = 0; i < TRIES; i++) {
    const rec = await loadRecord(ctx);
    if (!tags.length && !rec.tags?.length) return rec;
    const next: ObjectRecord = { ...rec, tags };
    // Over budget: refused before anything is written.
    checkRecordBudget(next, rec.location);
    const swapped = await layout.swap(ctx.bucket, ctx.key, next, rec.storeEtag ?? '');
    if (swapped) return swapped;
  }
  throw conflict();
}
