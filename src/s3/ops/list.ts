// ListObjects (V1) and ListObjectsV2.

import { fromB64url, toB64url, utf8 } from '../../crypto/bytes';
import type { Listed } from '../../layout/types';
import { type Ctx, layoutOf } from '../context';
import { requireBucket } from '../objects';
import { S3Error } from '../protocol/errors';
import { encodingType, keyEncoder, maxKeys as parseMaxKeys } from '../protocol/listing';
import { type Node, xmlDocument, xmlResponse } from '../protocol/xml';

type Entry = { key: string; object?: Listed };

export async function listObjects(ctx: Ctx): Promise<Response> {
  const q = ctx.url.searchParams;
  const v2 = q.get('list-type') === '2';
  const prefix = q.get('prefix') ?? '';
  const delimiter = q.get('delimiter') || undefined;
  const encoding = encodingType(q);
  const maxKeys = parseMaxKeys(q);
  const token = q.get('continuation-token');
  let after = v2 ? (q.get('start-after') ?? '') : (q.get('marker') ?? '');
  if (v2 && token !== null) {
    try {
      after = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(fromB64url(token));
    } catch {
      throw new S3Error('InvalidArgument', 'The continuation token provided is incorrect', {
        fields: { ArgumentName: 'continuation-token' },
      });
    }
  }
  await requireBucket(ctx);
  const { entries, truncated } = await collect(ctx, prefix, delimiter, after, maxKeys);

  const enc = keyEncoder(encoding);
  const owner = { ID: ctx.auth.accessKeyId, DisplayName: ctx.auth.accessKeyId };
  const withOwner = !v2 || q.get('fetch-owner') === 'true';
  const contents = entries
    .filter((e) => e.object)
    .map((e) => ({
      Key: enc(e.key),
      LastModified: e.object!.uploaded.toISOString(),
      ETag: `"${e.object!.etag}"`,
      Size: e.object!.size,
      StorageClass: 'STANDARD',
      Owner: withOwner ? owner : undefined,
    }));
  const prefixes = entries.filter((e) => !e.object).map((e) => ({ Prefix: enc(e.key) }));
  const last = entries[entries.length - 1]?.key;
  // ListObjects (V1) answers its Prefix as asked even under encoding-type=url, as S3 does
  // (botocore decodes V1's Marker, NextMarker and Delimiter, and V2's Prefix, nothing else).
  const common: { [k: string]: Node } = { Name: ctx.bucket, Prefix: v2 ? enc(prefix) : prefix };
  const body: { [k: string]: Node } = v2
    ? {
        ...common,
        KeyCount: entries.length,
        MaxKeys: maxKeys,
        Delimiter: delimiter && enc(delimiter),
        EncodingType: encoding,
        IsTruncated: truncated,
        ContinuationToken: token ?? undefined,
        NextContinuationToken: truncated && last !== undefined ? toB64url(utf8(last)) : undefined,
        StartAfter: q.get('start-after') !== null ? enc(q.get('start-after')!) : undefined,
        Contents: contents,
        CommonPrefixes: prefixes,
      }
    : {
        ...common,
        Marker: enc(q.get('marker') ?? ''),
        MaxKeys: maxKeys,
        Delimiter: delimiter && enc(delimiter),
        EncodingType: encoding,
        IsTruncated: truncated,
        NextMarker: truncated && last !== undefined ? enc(last) : undefined,
        Contents: contents,
        CommonPrefixes: prefixes,
      };
  return xmlResponse(xmlDocument('ListBucketResult', body));
}

/** Up to maxKeys keys and common prefixes after `after`, in key order. */
async function collect(ctx: Ctx, prefix: string, delimiter: string | undefined, after: string, maxKeys: number) {
  // A marker that is itself a common prefix resumes after everything under it.
  const skipUnder = delimiter && after.startsWith(prefix) && after.endsWith(delimiter) && after.length > prefix.length;
  const startAfter = after ? after + (skipUnder ? '\u{10FFFF}' : '') : undefined;
  const entries: Entry[] = [];
  let cursor: string | undefined;
  let more = maxKeys > 0;
  while (more && entries.length <= maxKeys) {
    const r = await layoutOf(ctx).list(ctx.bucket, { prefix, delimiter, startAfter, cursor, limit: 1000 });
    for (const o of r.objects) entries.push({ key: o.key, object: o });
    for (const p of r.prefixes) entries.push({ key: p });
    cursor = r.cursor;
    more = r.truncated && !!cursor;
  }
  entries.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const unique = entries.filter((e, i) => i === 0 || e.key !== entries[i - 1].key);
  return { entries: unique.slice(0, maxKeys), truncated: unique.length > maxKeys || more };
}
