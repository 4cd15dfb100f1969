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

export function xmlDocument(root: string, body: { [tag: string]: Node }, ns = 'http://s3.amazonaws.com/doc/2006-03-01/'): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<${root}${ns ? ` xmlns="${ns}"` : ''}>${render(body)}</${root}>`;
}

const parser = new XMLParser({ ignoreAttributes: true, parseTagValue: false, trimValues: true, removeNSPrefix: true, processEntities: true });

/** Parses a request body; anything not well-formed or without the expected root is MalformedXML. */
export function parseXml(text: string, root: string): Record<string, unknown> {
  if (!text.trim() || XMLValidator.validate(text) !== true) throw new S3Error('MalformedXML');
  const doc = parser.parse(text) as Record<string, unknown>;
  const body = doc[root];
  if (body === undefined) throw new S3Error('MalformedXML');
  return body && typeof body === 'object' ? (body as Record<string, unknown>) : {};
}

/** The children named `tag`, always as a list. */
export const list = (node: unknown, tag: string): unknown[] => {
  const v = node && typeof node === 'object' ? (node as Record<string, unknown>)[tag] : undefined;
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
};

export const text = (node: unknown, tag: string): string | undefined => {
  const v = node && typeof node === 'object' ? (node as Record<string, unknown>)[tag] : undefined;
  return typeof v === 'string' ? v : v === undefined ? undefined : String(v);
};
