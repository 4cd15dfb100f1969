// KMS JSON API calls and COS-signed requests straight into the Worker.

import { runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { AwsClient } from 'aws4fetch';
import type { KmsStore } from '../../../src/kms/durable';
import { TEST_BINDINGS } from './bindings';
import { ORIGIN, worker } from './s3';

export const kmsSigner = new AwsClient({
  accessKeyId: TEST_BINDINGS.ACCESS_KEY_ID,
  secretAccessKey: TEST_BINDINGS.SECRET_ACCESS_KEY,
  service: 'kms',
  region: 'us-east-1',
});

export interface KmsReply {
  status: number;
  // biome-ignore lint/suspicious/noExplicitAny: any KMS reply shape; the tests read its fields directly
  body: any;
}

/** One TrentService.<op> call, signed for service "kms". */
export async function kms(op: string, input: object = {}): Promise<KmsReply> {
  const req = await kmsSigner.sign(`${ORIGIN}/`, {
    method: 'POST',
    body: JSON.stringify(input),
    headers: { 'x-amz-target': `TrentService.${op}`, 'content-type': 'application/x-amz-json-1.1' },
  });
  const r = await worker(req);
  const text = await r.text();
  return { status: r.status, body: text ? JSON.parse(text) : undefined };
}

/** Like kms() but expects success and returns the body. */
export async function kmsOk(op: string, input: object = {}) {
  const r = await kms(op, input);
  if (r.status !== 200) throw new Error(`${op} failed: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

export async function createKey(input: object = {}): Promise<string> {
  return (await kmsOk('CreateKey', input)).KeyMetadata.KeyId;
}

const ns = () => (env as unknown as { KMS: DurableObjectNamespace<KmsStore> }).KMS;

/** Runs fn against the KMS object's SQLite storage (to look at or age what it stores). */
export function kmsSql<R>(fn: (sql: SqlStorage) => R): Promise<R> {
  const stub = ns().get(ns().idFromName('sealbucket-kms'));
  return runInDurableObject(stub, (_obj, state) => fn(state.storage.sql));
}

/** Every value the KMS object stores, as text (BLOBs as hex). */
export async function kmsDump(): Promise<string> {
  return kmsSql((sql) => {
    const tables = sql
      .exec<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table'")
      .toArray()
      .map((t) => t.name);
    const out: string[] = [];
    for (const t of tables) {
      for (const row of sql.exec(`SELECT * FROM "${t}"`).toArray()) {
        for (const v of Object.values(row))
          out.push(v instanceof ArrayBuffer ? [...new Uint8Array(v)].map((b) => b.toString(16).padStart(2, '0')).join('') : String(v));
      }
    }
    return out.join('\n');
  });
}

// ---------------------------------------------------------------- COS

const hex = (b: ArrayBuffer) => [...new Uint8Array(b)].map((x) => x.toString(16).padStart(2, '0')).join('');
const hmacSha1 = async (key: string, msg: string) =>
  hex(
    await crypto.subtle.sign(
      'HMAC',
      await crypto.subtle.importKey('raw', new TextEncoder().encode(key), { name: 'HMAC', hash: 'SHA-1' }, false, ['sign']),
      new TextEncoder().encode(msg),
    ),
  );

const cosEncode = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
/** The headers cos-nodejs-sdk-v5 signs: every x-cos-* and these. */
const COS_SIGNED = [
  'cache-control',
  'content-disposition',
  'content-encoding',
  'content-length',
  'content-md5',
  'content-type',
  'expires',
  'host',
  'if-match',
  'if-modified-since',
  'if-none-match',
  'if-unmodified-since',
  'range',
];

/**
 * A COS-signed request to the path-style URL ORIGIN + path, signed as the COS SDK signs:
 * every query parameter and the headers it covers, less those named in `unsigned`.
 * `presign` carries the signature in the query instead of the Authorization header.
 */
export async function cos(
  method: string,
  path: string,
  init: {
    body?: BodyInit | null;
    headers?: Record<string, string>;
    unsigned?: string[];
    keyTime?: string;
    presign?: boolean;
    repeat?: string;
  } = {},
): Promise<Response> {
  const now = Math.floor(Date.now() / 1000);
  const keyTime = init.keyTime ?? `${now - 60};${now + 900}`;
  const url = new URL(ORIGIN + path);
  const skip = new Set((init.unsigned ?? []).map((n) => n.toLowerCase()));
  const pairs = (entries: [string, string][]) =>
    entries
      .map(([k, v]): [string, string] => [cosEncode(k).toLowerCase(), cosEncode(v)])
      .filter(([k]) => !skip.has(k))
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const params = pairs([...url.searchParams]);
  const headers = pairs(
    Object.entries(init.headers ?? {}).filter(([k]) => k.toLowerCase().startsWith('x-cos-') || COS_SIGNED.includes(k.toLowerCase())),
  );
  const str = (l: [string, string][]) => l.map(([k, v]) => `${k}=${v}`).join('&');
  const names = (l: [string, string][]) => l.map(([k]) => k).join(';');
  const httpString = [method.toLowerCase(), decodeURIComponent(url.pathname), str(params), str(headers), ''].join('\n');
  const sha = hex(await crypto.subtle.digest('SHA-1', new TextEncoder().encode(httpString)));
  const signature = await hmacSha1(await hmacSha1(TEST_BINDINGS.SECRET_ACCESS_KEY, keyTime), ['sha1', keyTime, sha, ''].join('\n'));
  const fields: [string, string][] = [
    ['q-sign-algorithm', 'sha1'],
    ['q-ak', TEST_BINDINGS.ACCESS_KEY_ID],
    ['q-sign-time', keyTime],
    ['q-key-time', keyTime],
    ['q-header-list', names(headers)],
    ['q-url-param-list', names(params)],
    ['q-signature', signature],
  ];
  // `repeat` sends one q-* field twice, the second time with a forged value.
  if (init.repeat) fields.push([init.repeat, fields.find(([k]) => k === init.repeat)![1].replace(/^./, (c) => (c === '0' ? '1' : '0'))]);
  const h = new Headers(init.headers);
  if (init.presign) for (const [k, v] of fields) url.searchParams.append(k, v);
  else h.set('authorization', fields.map(([k, v]) => `${k}=${v}`).join('&'));
  return worker(new Request(url, { method, body: init.body ?? null, headers: h }));
}
