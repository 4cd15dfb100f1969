// Object tags on the wire: the Tagging document of ?tagging and POST Object's `tagging`
// field, and the URL-query form of x-amz-tagging / x-cos-tagging. Every tag set a client
// sends passes S3's limits here, before anything is stored; the record keeps it as
// layout/record.ts encodes it (metadata: tags are never sealed).

import type { TagSet } from '../../layout/record';
import { type Dialect, hdr } from './dialect';
import { S3Error } from './errors';
import type { FieldGetter } from './sse-headers';
import { list, parseXml, text } from './xml';

export type { TagSet } from '../../layout/record';

/** S3's limits on object tags. Lengths count UTF-16 code units, as S3 does (an astral character counts two). */
export const MAX_TAGS = 10;
export const MAX_TAG_KEY = 128;
export const MAX_TAG_VALUE = 256;

/** What a tag key or value may hold: Unicode letters, numbers and spaces, and + - = . _ : / @. */
const TAG_TEXT = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;

const invalidKey = (key: string) => new S3Error('InvalidTag', 'The TagKey you have provided is invalid', { fields: { TagKey: key } });

/** Refuses a tag set S3 would refuse, with S3's codes and messages; returns it unchanged. */
export function checkTags(tags: TagSet): TagSet {
  const seen = new Set<string>();
  for (const { key, value } of tags) {
    if (key.length < 1 || key.length > MAX_TAG_KEY || !TAG_TEXT.test(key)) throw invalidKey(key);
    if (value.length > MAX_TAG_VALUE || !TAG_TEXT.test(value))
      throw new S3Error('InvalidTag', 'The TagValue you have provided is invalid', { fields: { TagKey: key, TagValue: value } });
    if (/^aws:/i.test(key))
      throw new S3Error('InvalidTag', 'System tags cannot be added/updated by requester', { fields: { TagKey: key } });
    if (seen.has(key)) throw new S3Error('InvalidTag', 'Cannot provide multiple Tags with the same key', { fields: { TagKey: key } });
    seen.add(key);
  }
  if (tags.length > MAX_TAGS) throw new S3Error('BadRequest', `Object tags cannot be greater than ${MAX_TAGS}`);
  return tags;
}

/** A Tagging document (PutObjectTagging's body, POST Object's `tagging` field), checked. */
export function parseTagging(body: string): TagSet {
  if (!body.trim()) throw new S3Error('MissingRequestBodyError', 'Request Body is empty');
  const doc = parseXml(body, 'Tagging');
  const sets = list(doc, 'TagSet');
  // One TagSet, holding Tag elements (or nothing but whitespace).
  if (sets.length !== 1 || (typeof sets[0] === 'string' && sets[0].trim())) throw new S3Error('MalformedXML');
  const tags = list(sets[0], 'Tag').map((t) => {
    const key = text(t, 'Key');
    const value = text(t, 'Value');
    if (key === undefined || value === undefined) throw new S3Error('MalformedXML');
    return { key, value };
  });
  return checkTags(tags);
}

/** The Tagging document GetObjectTagging answers with. */
export const taggingBody = (tags: TagSet | undefined) => ({ TagSet: { Tag: (tags ?? []).map((t) => ({ Key: t.key, Value: t.value })) } });

/**
 * The x-amz-tagging (x-cos-tagging) header of PutObject, CopyObject and
 * CreateMultipartUpload: `key=value&…`, each part URL-encoded UTF-8 ('+' is a space),
 * a missing `=` an empty value. Undefined when the request carries none.
 */
export function requestTags(get: FieldGetter, dialect: Dialect): TagSet | undefined {
  const header = get('tagging');
  if (header === null) return undefined;
  const name = hdr(dialect, 'tagging');
  const refuse = () =>
    new S3Error(
      'InvalidArgument',
      `The header '${name}' shall be encoded as UTF-8 then URLEncoded URL query parameters without tag name duplicates.`,
      { fields: { ArgumentName: name, ArgumentValue: header } },
    );
  const decode = (s: string) => {
    try {
      return decodeURIComponent(s.replace(/\+/g, ' '));
    } catch {
      throw refuse();
    }
  };
  const tags: TagSet = [];
  const seen = new Set<string>();
  for (const pair of header.split('&')) {
    if (!pair) continue;
    const eq = pair.indexOf('=');
    const key = decode(eq < 0 ? pair : pair.slice(0, eq));
    const value = eq < 0 ? '' : decode(pair.slice(eq + 1));
    if (!key || seen.has(key)) throw refuse();
    seen.add(key);
    tags.push({ key, value });
  }
  return checkTags(tags);
}
