// XML in and out. Parsing uses fast-xml-parser after a well-formedness check;
// output is built by hand because the documents are small and fixed.

import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { S3Error } from './errors';

export const escapeXml = (s: string): string =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!);

export type Node = string | number | boolean | undefined | null | Node[] | { [tag: string]: Node };

/** Renders {Tag: value} trees; arrays repeat the enclosing tag, undefined/null are omitted. */
export function render(tree: { [tag: string]: Node }): string {
  let out = '';
  for (const [tag, v] of Object.entries(tree)) {
    if (v === undefined || v === null) continue;
    if (Array.isArray(v)) for (const item of v) out += render({ [tag]: item });
    else if (typeof v === 'object') out += `<${tag}>${render(v)}</${tag}>`;
    else out += `<${tag}>${escapeXml(String(v))}</${tag}>`;
  }
  return out;
}

/** An XML answer. */
export const xmlResponse = (body: string, status = 200): Response =>
  new Response(body, { status, headers: { 'content-type': 'application/xml' } });

export function xmlDocument(root: string, body: { [tag: string]: Node }, ns = 'http://s3.amazonaws.com/doc/2006-03-01/'): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<${root}${ns ? ` xmlns="${ns}"` : ''}>${render(body)}</${root}>`;
}

// Values exactly as sent: no trimming (keys may begin or end with spaces), entity
// references decoded (Go's encoder writes the quotes of an ETag as &#34;).
const parser = new XMLParser({
  ignoreAttributes: true,
  parseTagValue: false,
  trimValues: false,
  removeNSPrefix: true,
  processEntities: true,
  htmlEntities: true,
});

/** What XML allows a character reference to name (XML 1.0 §2.2, Char). */
const xmlChar = (c: number) =>
  c === 0x9 || c === 0xa || c === 0xd || (c >= 0x20 && c <= 0xd7ff) || (c >= 0xe000 && c <= 0xfffd) || (c >= 0x10000 && c <= 0x10ffff);

/**
 * Refuses what a request body has no use for and a parser might act on: a DOCTYPE
 * (internal entities expand into keys; external ones reach out), any entity
 * other than XML's five, and character references to non-characters. CDATA is literal.
 */
function checkMarkup(text: string) {
  if (/<!DOCTYPE|<!ENTITY/i.test(text)) throw new S3Error('MalformedXML', 'Document type declarations are not allowed.');
  const outside = text.replace(/<!\[CDATA\[[\s\S]*?\]\]>/g, '');
  for (const m of outside.matchAll(/&([^;&<>\s]*);?/g)) {
    const ref = m[1];
    const ok =
      m[0].endsWith(';') &&
      (['lt', 'gt', 'amp', 'quot', 'apos'].includes(ref) ||
        (/^#[0-9]{1,7}$/.test(ref) && xmlChar(Number(ref.slice(1)))) ||
        (/^#x[0-9a-fA-F]{1,6}$/.test(ref) && xmlChar(parseInt(ref.slice(2), 16))));
    if (!ok) throw new S3Error('MalformedXML', 'The XML contains an undefined entity or an invalid character reference.');
  }
}

/** Parses a request body; anything not well-formed or without the expected root is MalformedXML. */
export function parseXml(text: string, root: string): Record<string, unknown> {
  if (!text.trim() || XMLValidator.validate(text) !== true) throw new S3Error('MalformedXML');
  checkMarkup(text);
  let doc: Record<string, unknown>;
  try {
    doc = parser.parse(text) as Record<string, unknown>;
  } catch {
    throw new S3Error('MalformedXML');
  }
  const body = doc[root];
  if (body === undefined) throw new S3Error('MalformedXML');
  return body && typeof body === 'object' ? (body as Record<string, unknown>) : {};
}

/** The children named `tag`, always as a list. */
export const list = (node: unknown, tag: string): unknown[] => {
  const v = node && typeof node === 'object' ? (node as Record<string, unknown>)[tag] : undefined;
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
};

/** The text of the child `tag`; an element where text belongs (or a repeated one) is MalformedXML. */
export const text = (node: unknown, tag: string): string | undefined => {
  const v = node && typeof node === 'object' ? (node as Record<string, unknown>)[tag] : undefined;
  if (v === undefined || typeof v === 'string') return v;
  throw new S3Error('MalformedXML', `<${tag}> must hold text.`);
};
