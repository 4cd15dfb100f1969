// GetObjectAttributes: GET /<bucket>/<key>?attributes, what HeadObject and ListParts
// would tell about an object, chosen by x-amz-object-attributes.

import { checksumXml } from '../checksums';
import type { Ctx } from '../context';
import { integrityFailure, loadRecord, type ObjectReader, openObject } from '../objects';
import { hdr } from '../protocol/dialect';
import { S3Error } from '../protocol/errors';
import { requestSse, requireCustomerKeyFit } from '../protocol/sse-headers';
import { type Node, xmlDocument, xmlResponse } from '../protocol/xml';

const ATTRIBUTES = ['ETag', 'Checksum', 'ObjectParts', 'StorageClass', 'ObjectSize'] as const;
type Attribute = (typeof ATTRIBUTES)[number];

const header = (h: Headers, suffix: string) => h.get(`x-amz-${suffix}`) ?? h.get(`x-cos-${suffix}`);

/** x-amz-object-attributes: a comma-separated list of ATTRIBUTES (S3 refuses it absent, empty, or naming anything else). */
function wantedAttributes(h: Headers): Set<Attribute> {
  const v = header(h, 'object-attributes');
  const names = (v ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const bad = !names.length || names.some((n) => !(ATTRIBUTES as readonly string[]).includes(n));
  if (bad)
    throw new S3Error('InvalidArgument', 'Invalid attribute name specified.', {
      fields: { ArgumentName: 'x-amz-object-attributes', ...(v === null ? {} : { ArgumentValue: v }) },
    });
  return new Set(names as Attribute[]);
}

/** x-amz-max-parts (default and at most 1,000) and x-amz-part-number-marker (default 0). */
function partsPage(h: Headers): { max: number; marker: number } {
  const number = (suffix: string, fallback: number) => {
    const v = header(h, suffix);
    if (v === null) return fallback;
    if (!/^\d{1,9}$/.test(v.trim()))
      throw new S3Error('InvalidArgument', `Provided ${hdr('amz', suffix)} not an integer or within integer range`, {
        fields: { ArgumentName: hdr('amz', suffix), ArgumentValue: v },
      });
    return Number(v.trim());
  };
  return { max: Math.min(number('max-parts', 1000), 1000), marker: number('part-number-marker', 0) };
}

export async function getObjectAttributes(ctx: Ctx): Promise<Response> {
  const h = ctx.req.headers;
  const wanted = wantedAttributes(h);
  const page = partsPage(h);
  const sse = await requestSse(ctx, 'read');
  const rec = await loadRecord(ctx, ctx.bucket, ctx.key, ctx.version);
  // As for HeadObject: an SSE-C object's attributes need its key, and the right one.
  requireCustomerKeyFit('object', rec.envelope, sse);
  let reader: ObjectReader;
  try {
    reader = await openObject(ctx, ctx.bucket, ctx.key, rec, sse);
  } catch (e) {
    throw integrityFailure(ctx, e);
  }

  const body: { [tag: string]: Node } = {};
  if (wanted.has('ETag')) body.ETag = rec.etag;
  // A composite checksum is reported here without its "-<parts>" (the parts' count is in ObjectParts), as S3 does.
  if (wanted.has('Checksum') && rec.checksum)
    body.Checksum = checksumXml({ ...rec.checksum, value: rec.checksum.value.replace(/-\d+$/, '') }, rec.checksum.type);
  if (wanted.has('ObjectParts')) {
    const parts = await reader.parts().catch((e) => Promise.reject(integrityFailure(ctx, e)));
    if (parts) {
      const after = parts.filter((p) => p.n > page.marker);
      const shown = after.slice(0, page.max);
      const truncated = after.length > shown.length;
      body.ObjectParts = {
        PartsCount: parts.length,
        PartNumberMarker: page.marker,
        NextPartNumberMarker: shown.length ? shown[shown.length - 1].n : page.marker,
        MaxParts: page.max,
        IsTruncated: truncated,
        // S3 lists the parts only of objects uploaded with part checksums.
        Part: shown.every((p) => p.checksum)
          ? shown.map((p) => ({ PartNumber: p.n, Size: p.size, ...checksumXml(p.checksum) }))
          : undefined,
      };
    }
  }
  if (wanted.has('StorageClass')) body.StorageClass = 'STANDARD';
  if (wanted.has('ObjectSize')) body.ObjectSize = rec.size;

  const res = xmlResponse(xmlDocument('GetObjectAttributesResponse', body));
  res.headers.set('last-modified', rec.uploaded.toUTCString());
  return res;
}
