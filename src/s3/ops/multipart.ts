// Multipart upload: Create, UploadPart, Complete, Abort, ListParts, ListMultipartUploads.
//
// Each part is sealed as its own stream under the upload's data key (a fresh salt
// per attempt), so parts of any size are accepted. Complete commits to the list
// of parts (the manifest); the layout decides where parts and manifest are kept.

import { fromHex, toB64url, toHex } from '../../crypto/bytes';
import {
  checkCompletionBudget,
  checkRecordBudget,
  decodePartRecord,
  decodeUploadCustom,
  encodeManifest,
  encodeUploadCustom,
  manifestPart,
  type ObjectChecksum,
  type ObjectManifest,
  type ObjectPart,
  type PartChecksum,
  type PartFields,
  type PartRecord,
  type UploadChecksum,
  uploadOf,
} from '../../layout/record';
import type { Completion, PartInfo, UploadInfo } from '../../layout/types';
import { etagFor, LengthError } from '../../sse';
import type { Envelope } from '../../sse/types';
import {
  ALGORITHM_NAMES,
  checksumXml,
  DEFAULT_CHECKSUM,
  listedChecksums,
  multipartChecksum,
  setChecksumHeaders,
  uploadChecksum,
} from '../checksums';
import { type Ctx, layoutOf } from '../context';
import { copySource } from '../copy-source';
import { declaredLength, httpMetaFrom, MAX_LIST_BODY, MAX_OBJECT_SIZE, requestBody, requireBucket, wholeBody } from '../objects';
import { CHECKSUM_ALGORITHMS, crc64EcmaCombine } from '../payload/checksum';
import type { PayloadInfo } from '../payload/chunked';
import { hashTap } from '../payload/hashing';
import { writePrecondition } from '../protocol/conditions';
import { hdr, userMetadata } from '../protocol/dialect';
import { S3Error } from '../protocol/errors';
import { requestField } from '../protocol/fields';
import { requestSse, requireCustomerKeyFit, setSseHeaders, wrongCustomerKey } from '../protocol/sse-headers';
import { checkStorageClass } from '../protocol/storage-class';
import { requestTags, type TagSet } from '../protocol/tagging';
import { list, parseXml, text, xmlDocument, xmlResponse } from '../protocol/xml';
import { writeMode } from '../write-mode';

// S3 wants parts of at least 5 MiB but the last; COS allows 1 MB (its SDKs slice at 1 MiB).
const MIN_PART = { amz: 5 * 1024 * 1024, cos: 1024 * 1024 };
const MAX_PART = 5 * 1024 ** 3;

interface Upload {
  id: string;
  key: string;
  envelope?: Envelope;
  meta: Record<string, string>;
  tags?: TagSet;
  /** The checksum asked for at creation; absent: the default (CRC64NVME, full object). */
  checksum?: UploadChecksum;
  info: UploadInfo;
}

export async function createUpload(ctx: Ctx): Promise<Response> {
  // Also from the query of a presigned URL, where SDKs put them.
  const fields = requestField(ctx.req.headers, ctx.url, ctx.auth.method);
  checkStorageClass(fields);
  // The tags the completed object gets, kept with the upload until then.
  const tags = requestTags(fields, ctx.dialect);
  const sse = await requestSse(ctx, 'write');
  const mode = await writeMode(ctx, sse);
  const id = crypto.randomUUID().replace(/-/g, '');
  const envelope = mode ? await ctx.sealer.initUpload({ bucket: ctx.bucket, key: ctx.key }, mode, sse) : undefined;
  const meta = userMetadata(ctx.req.headers);
  const checksum = uploadChecksum(ctx.req.headers);
  // The completed record must fit the metadata budget: check now, not after the upload.
  checkCompletionBudget(id, envelope, meta, MAX_OBJECT_SIZE, tags);
  await layoutOf(ctx).createUpload(
    ctx.bucket,
    ctx.key,
    id,
    encodeUploadCustom(envelope, meta, tags, checksum),
    httpMetaFrom(ctx.req.headers),
  );
  const res = xmlResponse(xmlDocument('InitiateMultipartUploadResult', { Bucket: ctx.bucket, Key: ctx.key, UploadId: id }));
  if (checksum) {
    res.headers.set(hdr(ctx.dialect, 'checksum-algorithm'), ALGORITHM_NAMES[checksum.alg]);
    res.headers.set(hdr(ctx.dialect, 'checksum-type'), checksum.type);
  }
  setSseHeaders(res.headers, ctx.dialect, envelope, sse);
  return res;
}

async function loadUpload(ctx: Ctx, id: string): Promise<Upload> {
  const info = /^[0-9a-f]{32}$/.test(id) ? await layoutOf(ctx).upload(ctx.bucket, id) : null;
  if (!info || info.key !== ctx.key) {
    await requireBucket(ctx);
    throw new S3Error('NoSuchUpload', undefined, { fields: { UploadId: id } });
  }
  const { envelope, meta, tags, checksum } = decodeUploadCustom(info.custom);
  return { id, key: info.key, envelope, meta, tags, checksum, info };
}

const PART_RANGE = 'Part number must be an integer between 1 and 10000, inclusive';

function partNumber(ctx: Ctx): number {
  const v = ctx.url.searchParams.get('partNumber') ?? '';
  const n = Number(v);
  if (!/^\d{1,5}$/.test(v) || n < 1 || n > 10000)
    throw new S3Error('InvalidArgument', PART_RANGE, { fields: { ArgumentName: 'partNumber', ArgumentValue: v } });
  return n;
}

/** A <PartNumber> of CompleteMultipartUpload: decimal digits only (no "1.0", "0x1", " 1"), 1 to 10,000. */
function listedPartNumber(v: string | undefined): number {
  if (v === undefined || !/^\d+$/.test(v)) throw new S3Error('MalformedXML');
  const n = Number(v);
  if (n < 1 || n > 10000) throw new S3Error('InvalidArgument', PART_RANGE, { fields: { ArgumentName: 'PartNumber', ArgumentValue: v } });
  return n;
}

/** UploadPart, or UploadPartCopy when the request names a copy source. */
export async function uploadPart(ctx: Ctx, copy = false): Promise<Response> {
  const n = partNumber(ctx);
  const up = await loadUpload(ctx, ctx.url.searchParams.get('uploadId')!);
  const sse = await requestSse(ctx, 'write');
  requireCustomerKeyFit('upload-part', up.envelope, sse);
  let length: number;
  let body: ReadableStream<Uint8Array>;
  const info: PayloadInfo = { checksums: {} };
  if (copy) {
    const src = await copySource(ctx);
    const { start, end } = copyRange(ctx.req.headers, src.rec.size);
    length = end - start + 1;
    body = await src.reader.read(start, end);
  } else {
    length = declaredLength(ctx.req.headers);
    body = requestBody(ctx, info);
  }
  // Every part keeps a checksum of the upload's algorithm: the client's (verified as the body
  // arrives) when it sent one, else computed here. An upload created with an algorithm takes no other.
  const setting = up.checksum ?? DEFAULT_CHECKSUM;
  const declared = info.declared ?? [];
  const other = declared.find((a) => a !== setting.alg);
  if (up.checksum && other)
    throw new S3Error(
      'InvalidRequest',
      `Checksum Type mismatch occurred, expected checksum Type: ${setting.alg}, actual checksum Type: ${other}`,
    );
  const given = declared.includes(setting.alg);
  if (length > MAX_PART) throw new S3Error('EntityTooLarge');
  const obj = { bucket: ctx.bucket, key: ctx.key };
  const sealed = up.envelope
    ? await ctx.sealer.sealPart(obj, up.envelope, sse, up.id, n, length).catch((e) => Promise.reject(wrongCustomerKey('upload-part', e)))
    : undefined;

  const tap = hashTap(given ? undefined : setting.alg);
  let stream = body.pipeThrough(tap.stream);
  if (sealed) stream = stream.pipeThrough(sealed.transform);
  let etag = '';
  let checksum: PartChecksum | undefined;
  const finish = async () => {
    const { md5, crc64, checksum: computed } = await tap.result();
    etag = sealed ? await sealed.etag(md5) : md5;
    const value = given ? info.checksums[setting.alg] : computed;
    checksum = value ? { alg: setting.alg, value } : undefined;
    return {
      size: length,
      etag,
      crc64,
      ...(checksum ? { checksum } : {}),
      ...(sealed ? { salt: sealed.salt, commit: sealed.commit } : {}),
    } satisfies PartFields;
  };
  try {
    await layoutOf(ctx).writePart(ctx.bucket, up.info, n, { stream, length: sealed ? sealed.storedLength : length }, finish);
  } catch (e) {
    throw e instanceof LengthError ? new S3Error('IncompleteBody') : e;
  }
  const res = copy
    ? xmlResponse(xmlDocument('CopyPartResult', { ETag: `"${etag}"`, LastModified: new Date().toISOString(), ...checksumXml(checksum) }))
    : new Response(null, { status: 200, headers: { etag: `"${etag}"` } });
  if (!copy) {
    // The checksums the client sent, as verified, and the one the part keeps.
    for (const alg of declared) setChecksumHeaders(res.headers, ctx.dialect, { alg, value: info.checksums[alg]! });
    if (checksum) setChecksumHeaders(res.headers, ctx.dialect, checksum);
  }
  setSseHeaders(res.headers, ctx.dialect, up.envelope, sse);
  return res;
}

/** x-amz-copy-source-range: bytes=first-last, inclusive; absent means the whole source. */
function copyRange(h: Headers, size: number): { start: number; end: number } {
  const v = h.get('x-amz-copy-source-range') ?? h.get('x-cos-copy-source-range');
  if (v === null) return { start: 0, end: size - 1 };
  const m = /^bytes=(\d+)-(\d+)$/.exec(v.trim());
  if (!m) {
    throw new S3Error(
      'InvalidArgument',
      'The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are the zero-based offsets of the first and last bytes to copy',
      { fields: { ArgumentName: 'x-amz-copy-source-range', ArgumentValue: v } },
    );
  }
  const start = Number(m[1]);
  const end = Number(m[2]);
  if (end < start || end >= size)
    throw new S3Error('InvalidRange', `Range specified is not valid for source object of size: ${size}`, { status: 416 });
  return { start, end };
}

/** An ETag as listed: S3 accepts it with or without its quotes; nothing else is normalised. */
const unquote = (s: string) => s.replace(/^"(.*)"$/, '$1');

export async function completeUpload(ctx: Ctx): Promise<Response> {
  const precondition = writePrecondition(ctx.req.headers, ctx.key);
  const id = ctx.url.searchParams.get('uploadId')!;
  let up: Upload;
  try {
    up = await loadUpload(ctx, id);
  } catch (e) {
    const again = e instanceof S3Error && e.code === 'NoSuchUpload' ? await completedBefore(ctx, id) : undefined;
    if (!again) throw e;
    return again;
  }
  const sse = await requestSse(ctx, 'write');
  // S3 lets a client complete an SSE-C upload without the key; when the key is sent it must match.
  const keyless = sse.mode === undefined && up.envelope !== undefined && ctx.sealer.completesWithoutKey(up.envelope);
  if (!keyless) requireCustomerKeyFit('complete', up.envelope, sse);
  // x-amz-checksum-* on this request are the whole object's, not the XML body's.
  const doc = parseXml(await wholeBody(ctx, MAX_LIST_BODY, { objectChecksumHeaders: true }), 'CompleteMultipartUpload');
  const asked = list(doc, 'Part').map((p) => ({
    n: listedPartNumber(text(p, 'PartNumber')),
    etag: unquote(text(p, 'ETag') ?? ''),
    checksums: listedChecksums((tag) => text(p, tag)),
  }));
  const setting = up.checksum ?? DEFAULT_CHECKSUM;
  const wholeGiven = objectChecksumHeader(ctx.req.headers, up.checksum);
  if (!asked.length) throw new S3Error('MalformedXML');
  for (let i = 1; i < asked.length; i++) {
    if (asked[i].n <= asked[i - 1].n)
      throw new S3Error('InvalidPartOrder', 'The list of parts was not in ascending order. Parts must be ordered by part number.');
  }
  // The layout claims the upload before it lists the parts (so no part can change under
  // the manifest), and releases the claim if building the manifest fails.
  let envelope: Envelope | undefined;
  let etag = '';
  let checksum: ObjectChecksum | undefined;
  // If-None-Match / If-Match are judged by the layout on the object the commit replaces.
  const complete = (build: (uploaded: PartInfo[]) => Promise<Completion>) =>
    layoutOf(ctx).complete(ctx.bucket, ctx.key, up.info, build, precondition);
  await complete(async (uploaded) => {
    const byNumber = new Map(uploaded.map((r) => [r.n, r]));
    const records: PartRecord[] = [];
    const parts: ObjectPart[] = asked.map(({ n, etag, checksums }) => {
      const info = byNumber.get(n);
      const r = info && decodePartRecord(info.custom);
      if (!r || r.etag !== etag || !sameChecksums(checksums, r.checksum, up.checksum)) {
        throw new S3Error(
          'InvalidPart',
          "One or more of the specified parts could not be found.  The part may not have been uploaded, or the specified entity tag may not match the part's entity tag.",
          { fields: { PartNumber: String(n), ETag: etag } },
        );
      }
      if (up.checksum?.type === 'COMPOSITE' && checksums[up.checksum.alg] === undefined) {
        throw new S3Error(
          'InvalidRequest',
          `The upload was created using a ${up.checksum.alg} checksum. The complete request must include the checksum for each part. It was missing for part ${n} in the request.`,
        );
      }
      records.push(r);
      return manifestPart(n, r);
    });
    const minPart = Math.max(MIN_PART[ctx.dialect], layoutOf(ctx).minPart ?? 0);
    const small = parts.slice(0, -1).find((p) => p.size < minPart);
    if (small) {
      throw new S3Error('EntityTooSmall', 'Your proposed upload is smaller than the minimum allowed object size.', {
        fields: { PartNumber: String(small.n), ProposedSize: String(small.size), MinSizeAllowed: String(minPart) },
      });
    }
    const size = parts.reduce((a, p) => a + p.size, 0);
    // The whole object's CRC-64 from its parts' (COS SDKs check it after sliced uploads).
    const crcs = records.map((r) => r.crc64);
    const crc64 = crcs.every(Boolean) ? parts.slice(1).reduce((acc, p, i) => crc64EcmaCombine(acc, crcs[i + 1], p.size), crcs[0]) : '';
    // The whole object's checksum from its parts' (none when a part predates kept checksums).
    const withSums = parts.flatMap((p) => (p.checksum?.alg === setting.alg ? [{ size: p.size, checksum: p.checksum }] : []));
    checksum = withSums.length === parts.length ? await multipartChecksum(setting, withSums) : undefined;
    if (wholeGiven && wholeGiven !== checksum?.value && `${wholeGiven}-${parts.length}` !== checksum?.value)
      throw new S3Error('BadDigest', `The ${ALGORITHM_NAMES[setting.alg]} you specified did not match the calculated checksum.`);
    const manifest: ObjectManifest = { upload: up.id, parts };
    const body = encodeManifest(manifest);
    const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', body));
    const obj = { bucket: ctx.bucket, key: ctx.key };
    envelope = up.envelope
      ? await ctx.sealer
          .completeUpload(obj, up.envelope, sse, up.id, size, digest)
          .catch((e) => Promise.reject(wrongCustomerKey('complete', e)))
      : undefined;
    const md5s = new Uint8Array(parts.length * 16);
    parts.forEach((p, i) => {
      md5s.set(fromHex(p.etag).subarray(0, 16), i * 16);
    });
    etag = etagFor(envelope, `${toHex(await crypto.subtle.digest('MD5', md5s))}-${parts.length}`, parts.length);

    const fields = { size, etag, crc64, checksum, manifest: toB64url(digest), envelope, meta: up.meta, tags: up.tags };
    checkRecordBudget(fields, { kind: 'multipart', upload: up.id });
    return { manifest, manifestBody: body, fields };
  });

  const res = xmlResponse(
    xmlDocument('CompleteMultipartUploadResult', {
      Location: `${ctx.url.origin}/${ctx.bucket}/${ctx.key}`,
      Bucket: ctx.bucket,
      Key: ctx.key,
      ETag: `"${etag}"`,
      ...checksumXml(checksum, checksum?.type),
    }),
  );
  setSseHeaders(res.headers, ctx.dialect, envelope, sse);
  return res;
}

/**
 * Whether a Part's listed checksums agree with the part's record: the one the part
 * keeps must match; an upload created with an algorithm takes no other. (A default
 * upload keeps CRC64NVME: a client's own per-part checksum of another algorithm was
 * verified at UploadPart and is not kept.)
 */
function sameChecksums(
  listed: Partial<Record<string, string>>,
  kept: PartChecksum | undefined,
  setting: UploadChecksum | undefined,
): boolean {
  for (const [alg, value] of Object.entries(listed)) {
    if (kept?.alg === alg) {
      if (value !== kept.value) return false;
    } else if (setting) return false;
  }
  return true;
}

/**
 * CompleteMultipartUpload's x-amz-checksum-<alg> (the whole object's, to check) and
 * x-amz-checksum-type: they must agree with what the upload was created with.
 */
function objectChecksumHeader(h: Headers, setting: UploadChecksum | undefined): string | undefined {
  const { alg, type } = setting ?? DEFAULT_CHECKSUM;
  const sentType = h.get('x-amz-checksum-type') ?? h.get('x-cos-checksum-type');
  if (sentType !== null && sentType.trim().toUpperCase() !== type)
    throw new S3Error(
      'InvalidRequest',
      `The upload was created using the ${type} checksum mode. The complete request must use the same checksum mode.`,
    );
  let value: string | undefined;
  for (const a of CHECKSUM_ALGORITHMS) {
    const v = h.get(`x-amz-checksum-${a}`) ?? h.get(`x-cos-checksum-${a}`);
    if (v === null) continue;
    if (a !== alg) {
      // A default upload (no algorithm asked for) ignores what it cannot check.
      if (!setting) continue;
      throw new S3Error(
        'InvalidRequest',
        `The upload was created using a ${alg} checksum. The complete request must not include a ${a} checksum of the object.`,
      );
    }
    value = v.trim();
  }
  return value;
}

/**
 * A Complete repeated after it succeeded (a client retrying a lost answer) gets the same result
 * while the key still holds the object that upload made, as S3 answers it.
 */
async function completedBefore(ctx: Ctx, id: string): Promise<Response | undefined> {
  const rec = await layoutOf(ctx).head(ctx.bucket, ctx.key);
  if (!rec || uploadOf(rec) !== id) return undefined;
  const res = xmlResponse(
    xmlDocument('CompleteMultipartUploadResult', {
      Location: `${ctx.url.origin}/${ctx.bucket}/${ctx.key}`,
      Bucket: ctx.bucket,
      Key: ctx.key,
      ETag: `"${rec.etag}"`,
      ...checksumXml(rec.checksum, rec.checksum?.type),
    }),
  );
  setSseHeaders(res.headers, ctx.dialect, rec.envelope, {});
  return res;
}

export async function abortUpload(ctx: Ctx): Promise<Response> {
  const up = await loadUpload(ctx, ctx.url.searchParams.get('uploadId')!);
  await layoutOf(ctx).abort(ctx.bucket, up.info);
  return new Response(null, { status: 204 });
}

const owner = (ctx: Ctx) => ({ ID: ctx.auth.accessKeyId, DisplayName: ctx.auth.accessKeyId });

export async function listParts(ctx: Ctx): Promise<Response> {
  const up = await loadUpload(ctx, ctx.url.searchParams.get('uploadId')!);
  const q = ctx.url.searchParams;
  const maxParts = Math.min(Number(q.get('max-parts') ?? 1000) || 1000, 1000);
  const markerText = q.get('part-number-marker') ?? '0';
  if (!/^\d{1,5}$/.test(markerText))
    throw new S3Error('InvalidArgument', 'part-number-marker must be a decimal integer.', {
      fields: { ArgumentName: 'part-number-marker', ArgumentValue: markerText },
    });
  const marker = Number(markerText);
  const all = (await layoutOf(ctx).parts(ctx.bucket, up.id)).filter((r) => r.n > marker).sort((a, b) => a.n - b.n);
  const page = all.slice(0, maxParts);
  const truncated = all.length > maxParts;
  return xmlResponse(
    xmlDocument('ListPartsResult', {
      Bucket: ctx.bucket,
      Key: ctx.key,
      UploadId: up.id,
      Initiator: owner(ctx),
      Owner: owner(ctx),
      StorageClass: 'STANDARD',
      ...(up.checksum ? { ChecksumAlgorithm: ALGORITHM_NAMES[up.checksum.alg], ChecksumType: up.checksum.type } : {}),
      PartNumberMarker: marker,
      NextPartNumberMarker: page.length ? page[page.length - 1].n : marker,
      MaxParts: maxParts,
      IsTruncated: truncated,
      Part: page.map((r: PartInfo) => {
        const p = decodePartRecord(r.custom);
        return { PartNumber: r.n, LastModified: r.uploaded.toISOString(), ETag: `"${p.etag}"`, Size: p.size, ...checksumXml(p.checksum) };
      }),
    }),
  );
}

export async function listUploads(ctx: Ctx): Promise<Response> {
  await requireBucket(ctx);
  const q = ctx.url.searchParams;
  const prefix = q.get('prefix') ?? '';
  const delimiter = q.get('delimiter') || undefined;
  const keyMarker = q.get('key-marker') ?? '';
  const idMarker = q.get('upload-id-marker') ?? '';
  const max = Math.min(Number(q.get('max-uploads') ?? 1000) || 1000, 1000);
  const uploads = await layoutOf(ctx).uploads(ctx.bucket);
  const after = (u: { key: string; id: string }) => u.key > keyMarker || (u.key === keyMarker && !!idMarker && u.id > idMarker);
  const sorted = uploads
    .filter((u) => u.key.startsWith(prefix) && (!keyMarker || after(u)))
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : a.initiated.getTime() - b.initiated.getTime()));
  const prefixes = new Set<string>();
  const shown: typeof sorted = [];
  let truncated = false;
  for (const u of sorted) {
    const i = delimiter ? u.key.indexOf(delimiter, prefix.length) : -1;
    const p = i >= 0 ? u.key.slice(0, i + delimiter!.length) : undefined;
    if (p !== undefined && prefixes.has(p)) continue;
    if (shown.length + prefixes.size >= max) {
      truncated = true;
      break;
    }
    if (p !== undefined) prefixes.add(p);
    else shown.push(u);
  }
  const last = shown[shown.length - 1];
  return xmlResponse(
    xmlDocument('ListMultipartUploadsResult', {
      Bucket: ctx.bucket,
      KeyMarker: keyMarker,
      UploadIdMarker: idMarker,
      NextKeyMarker: truncated && last ? last.key : undefined,
      NextUploadIdMarker: truncated && last ? last.id : undefined,
      Prefix: prefix,
      Delimiter: delimiter,
      MaxUploads: max,
      IsTruncated: truncated,
      Upload: shown.map((u) => ({
        Key: u.key,
        UploadId: u.id,
        Initiator: owner(ctx),
        Owner: owner(ctx),
        StorageClass: 'STANDARD',
        Initiated: u.initiated.toISOString(),
      })),
      CommonPrefixes: [...prefixes].map((p) => ({ Prefix: p })),
    }),
  );
}
