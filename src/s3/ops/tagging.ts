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
import { parseVersionId } from '../protocol/version-id';
import { xmlDocument, xmlResponse } from '../protocol/xml';

/** Swaps that miss (the object changed under us) before the client is told to retry. */
const TRIES = 5;

export function objectTagging(ctx: Ctx): Promise<Response> {
  const m = ctx.req.method;
  // ?versionId= names the version whose tags are meant: the null version, or one that is not here.
  const raw = ctx.url.searchParams.get('versionId');
  const version = raw === null ? undefined : parseVersionId(raw, ctx.dialect);
  if (m === 'GET') return getObjectTagging(ctx, version);
  if (m === 'PUT') return putObjectTagging(ctx, version);
  if (m === 'DELETE') return deleteObjectTagging(ctx, version);
  throw new S3Error('MethodNotAllowed');
}

async function getObjectTagging(ctx: Ctx, version: string | undefined): Promise<Response> {
  const rec = await loadRecord(ctx, ctx.bucket, ctx.key, version);
  return xmlResponse(xmlDocument('Tagging', taggingBody(rec.tags)));
}

async function putObjectTagging(ctx: Ctx, version: string | undefined): Promise<Response> {
  // As S3 does, an unsigned body must carry a signed Content-MD5 or checksum.
  const tags = parseTagging(await wholeBody(ctx, MAX_CONFIG_BODY, { bound: true }));
  await retag(ctx, version, tags);
  return new Response(null, { status: 200 });
}

async function deleteObjectTagging(ctx: Ctx, version: string | undefined): Promise<Response> {
  await retag(ctx, version, []);
  return new Response(null, { status: 204 });
}

/** The object's record with `tags` in place of its tags, swapped in over the same data. */
async function retag(ctx: Ctx, version: string | undefined, tags: TagSet): Promise<ObjectRecord> {
  const layout = layoutOf(ctx);
  for (let i = 0; i < TRIES; i++) {
    const rec = await loadRecord(ctx, ctx.bucket, ctx.key, version);
    if (!tags.length && !rec.tags?.length) return rec;
    const next: ObjectRecord = { ...rec, tags };
    // Over budget: refused before anything is written.
    checkRecordBudget(next, rec.location);
    const swapped = await layout.swap(ctx.bucket, ctx.key, next, rec.storeEtag ?? '');
    if (swapped) return swapped;
  }
  throw conflict();
}
