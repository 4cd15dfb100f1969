// A bucket's CORS rules (PutBucketCors): the document's rules and limits, where the
// rules are kept, and how S3 evaluates them for a preflight OPTIONS and for the
// headers of an actual response. CORS only ever adds response headers: nothing
// becomes readable without a signature because of it.

import { FIELDS } from '../layout/record';
import type { BucketInfo, Layout } from '../layout/types';
import { S3Error } from './protocol/errors';
import { list, parseXml, text } from './protocol/xml';

export interface CorsRule {
  id?: string;
  origins: string[];
  methods: string[];
  /** AllowedHeader: names a preflight may ask for (at most one `*` each). */
  headers: string[];
  /** ExposeHeader: response headers scripts may read. */
  expose: string[];
  maxAge?: number;
}

/** The methods S3 lets a rule allow. */
export const CORS_METHODS = ['GET', 'PUT', 'HEAD', 'POST', 'DELETE'];
/** S3: "You can add up to 100 rules to the configuration." */
export const MAX_RULES = 100;
const MAX_ID = 255;

const invalid = (message: string) => new S3Error('InvalidRequest', message);
const moreThanOneWildcard = (s: string) => s.indexOf('*') !== s.lastIndexOf('*');

/** The text items of `tag` under `node`; an element where text belongs is MalformedXML. */
function texts(node: unknown, tag: string): string[] {
  return list(node, tag).map((v) => {
    if (typeof v !== 'string') throw new S3Error('MalformedXML', `<${tag}> must hold text.`);
    return v;
  });
}

/** A PutBucketCors body (S3 and COS share the document), validated as S3 validates it. */
export function parseCorsConfiguration(body: string): CorsRule[] {
  const doc = parseXml(body, 'CORSConfiguration');
  const nodes = list(doc, 'CORSRule');
  if (nodes.length === 0) throw new S3Error('MalformedXML');
  if (nodes.length > MAX_RULES)
    throw new S3Error('MalformedXML', `The CORS configuration may have at most ${MAX_RULES} rules; it has ${nodes.length}.`);
  return nodes.map((node) => {
    const origins = texts(node, 'AllowedOrigin');
    const methods = texts(node, 'AllowedMethod');
    // S3 refuses a rule without an origin or a method as not matching its schema.
    if (!origins.length || !methods.length) throw new S3Error('MalformedXML');
    for (const m of methods)
      if (!CORS_METHODS.includes(m)) throw invalid(`Found unsupported HTTP method in CORS config. Unsupported method is ${m}`);
    for (const o of origins) if (moreThanOneWildcard(o)) throw invalid(`AllowedOrigin "${o}" can not have more than one wildcard.`);
    const headers = texts(node, 'AllowedHeader');
    for (const h of headers) if (moreThanOneWildcard(h)) throw invalid(`AllowedHeader "${h}" can not have more than one wildcard.`);
    const expose = texts(node, 'ExposeHeader');
    for (const h of expose)
      if (h.includes('*')) throw invalid(`ExposeHeader "${h}" contains wildcard. We currently do not support wildcard for ExposeHeader.`);
    const id = text(node, 'ID');
    if (id !== undefined && id.length > MAX_ID)
      throw new S3Error('InvalidArgument', `The ID of a CORSRule cannot be longer than ${MAX_ID} characters.`, {
        fields: { ArgumentName: 'ID' },
      });
    const age = text(node, 'MaxAgeSeconds');
    if (age !== undefined && !/^\s*\d{1,9}\s*$/.test(age))
      throw new S3Error('MalformedXML', 'MaxAgeSeconds must be a non-negative integer.');
    return {
      ...(id === undefined ? {} : { id }),
      origins,
      methods,
      headers,
      expose,
      ...(age === undefined ? {} : { maxAge: Number(age) }),
    };
  });
}

/** GetBucketCors's rules, each member as it was sent. */
export const renderCorsRules = (rules: CorsRule[]) =>
  rules.map((r) => ({
    ID: r.id,
    AllowedHeader: r.headers,
    AllowedMethod: r.methods,
    AllowedOrigin: r.origins,
    ExposeHeader: r.expose,
    MaxAgeSeconds: r.maxAge,
  }));

// --- matching ---

/** `*` stands for any run of characters (none included); the pattern covers the whole value. Case does not matter. */
export function wildcardMatch(pattern: string, value: string): boolean {
  const p = pattern.toLowerCase();
  const v = value.toLowerCase();
  const star = p.indexOf('*');
  if (star < 0) return p === v;
  const head = p.slice(0, star);
  const tail = p.slice(star + 1);
  return v.length >= head.length + tail.length && v.startsWith(head) && v.endsWith(tail);
}

/** Access-Control-Request-Headers as a list of lowercase names (empty items skipped). */
export const requestedHeaders = (v: string | null): string[] =>
  (v ?? '')
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean);

/**
 * The first rule that allows `origin` to use `method`, and (a preflight's) every one of
 * `headers`. S3 uses the first match, in the configuration's order.
 */
export function matchRule(rules: CorsRule[], origin: string, method: string, headers: string[] = []): CorsRule | undefined {
  return rules.find(
    (r) =>
      r.methods.includes(method) &&
      r.origins.some((o) => wildcardMatch(o, origin)) &&
      headers.every((h) => r.headers.some((a) => wildcardMatch(a, h))),
  );
}

const VARY = 'Origin, Access-Control-Request-Headers, Access-Control-Request-Method';

/**
 * The CORS headers S3 answers a request from `origin` with once `rule` matched. A rule
 * allowing every origin ("*") answers `*` and no credentials; any other echoes the origin
 * and allows credentials. `allowHeaders` is the preflight's requested list.
 */
export function corsHeaders(rule: CorsRule, origin: string, allowHeaders?: string[]): Record<string, string> {
  const anyOrigin = rule.origins.find((o) => wildcardMatch(o, origin)) === '*';
  const h: Record<string, string> = {
    'access-control-allow-origin': anyOrigin ? '*' : origin,
    'access-control-allow-methods': rule.methods.join(', '),
  };
  if (!anyOrigin) h['access-control-allow-credentials'] = 'true';
  if (allowHeaders?.length) h['access-control-allow-headers'] = allowHeaders.join(', ');
  if (rule.expose.length) h['access-control-expose-headers'] = rule.expose.join(', ');
  if (rule.maxAge !== undefined) h['access-control-max-age'] = String(rule.maxAge);
  h.vary = VARY;
  return h;
}

/** A preflight S3 refuses: 403 AccessForbidden "CORSResponse: ...", naming the method and what was addressed. */
export const corsRefusal = (why: string, method: string, resource: 'BUCKET' | 'OBJECT') =>
  new S3Error('AccessForbidden', `CORSResponse: ${why}`, { fields: { Method: method, ResourceType: resource } });

export const NOT_ALLOWED =
  "This CORS request is not allowed. This is usually because the evalution of Origin, request method / Access-Control-Request-Method or Access-Control-Request-Headers are not whitelisted by the resource's CORS spec.";

// --- where the rules are kept ---

const SETTING = FIELDS.bucket.cors;
/** The setting's value when the rules sit in the bucket's document of the same name. */
const IN_DOCUMENT = 'doc';
const DOCUMENT = 'cors';
/**
 * Rules up to this many bytes of JSON stay in the bucket's record. The record's metadata
 * budget (R2 and S3 alike: 2 KiB) also holds the owner and the default encryption; larger
 * rule sets (S3 allows 64 KB) go into a document the layout keeps beside the bucket.
 */
const INLINE_LIMIT = 1024;

/** JSON in printable ASCII, so a header-borne store (the proxy layout) keeps it as is. */
const asciiJson = (v: unknown) =>
  JSON.stringify(v).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);

/** The bucket's rules; undefined when it has none. */
export async function loadCorsRules(layout: Layout, info: BucketInfo): Promise<CorsRule[] | undefined> {
  const v = info.custom[SETTING];
  if (!v) return undefined;
  const json = v === IN_DOCUMENT ? await layout.bucketDocument(info.name, DOCUMENT) : v;
  return json ? (JSON.parse(json) as CorsRule[]) : undefined;
}

/** Stores `rules` as the bucket's CORS configuration, or with undefined removes it. */
export async function saveCorsRules(layout: Layout, info: BucketInfo, rules: CorsRule[] | undefined): Promise<void> {
  const { [SETTING]: before, ...rest } = info.custom;
  const json = rules && asciiJson(rules);
  if (json && json.length > INLINE_LIMIT) {
    // The document first: the record never points at rules that are not there yet.
    await layout.setBucketDocument(info.name, DOCUMENT, json);
    await layout.setBucketCustom(info.name, { ...rest, [SETTING]: IN_DOCUMENT });
  } else {
    await layout.setBucketCustom(info.name, json ? { ...rest, [SETTING]: json } : rest);
    if (before === IN_DOCUMENT) await layout.setBucketDocument(info.name, DOCUMENT, null);
  }
  forgetCorsRules(layout, info.name);
}

// Every cross-origin request (a preflight, or any signed request a browser sends) needs the
// bucket's rules: one store read, or two past INLINE_LIMIT. This isolate keeps what it read
// for CACHE_MS (misses too: preflights are unauthenticated, so a flood of them costs no more
// reads than that). A change made through this isolate is seen at once; one made through
// another is seen here within CACHE_MS. Stale rules only ever add or drop response headers.
const CACHE_MS = 5_000;
const CACHE_ENTRIES = 512;
const cache = new Map<string, { until: number; rules: CorsRule[] | undefined; exists: boolean }>();
const cacheKey = (layout: Layout, bucket: string) => `${layout.name}\n${bucket}`;

export function forgetCorsRules(layout: Layout, bucket: string): void {
  cache.delete(cacheKey(layout, bucket));
}

/** The rules of `bucket` (and whether it exists), read at most once per CACHE_MS in this isolate. */
export async function cachedCorsRules(layout: Layout, bucket: string): Promise<{ exists: boolean; rules?: CorsRule[] }> {
  const k = cacheKey(layout, bucket);
  const hit = cache.get(k);
  if (hit && hit.until > Date.now()) return hit;
  const info = await layout.bucket(bucket);
  const rules = info ? await loadCorsRules(layout, info) : undefined;
  if (cache.size >= CACHE_ENTRIES) cache.clear();
  const entry = { until: Date.now() + CACHE_MS, rules, exists: !!info };
  cache.set(k, entry);
  return entry;
}
