// KMS JSON API calls and COS-signed requests straight into the Worker.
import { env } from 'cloudflare:workers';
import { runInDurableObject } from 'cloudflare:test';
import { AwsClient } from 'aws4fetch';
import { TEST_BINDINGS } from './bindings';
import { ORIGIN, worker } from './s3';
import type { KmsStore } from '../../../src/kms/durable';

export const kmsSigner = new AwsClient({ accessKeyId: TEST_BINDINGS.ACCESS_KEY_ID, secretAccessKey: TEST_BINDINGS.SECRET_ACCESS_KEY, service: 'kms', region: 'us-east-1' });

export interface KmsReply {
  status: number;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
}

/** One TrentService.<op> call, signed for service "kms". */
export async function kms(op: string, input: object = {}): Promise<KmsReply> {
  const req = await kmsSigner.sign(ORIGIN + '/', {
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
    const tables = sql.exec<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table'").toArray().map((t) => t.name);
    const out: string[] = [];
    for (const t of tables) {
      for (const row of sql.exec(`SELECT * FROM "${t}"`).toArray()) {
        for (const v of Object.values(row)) out.push(v instanceof ArrayBuffer ? [...new Uint8Array(v)].map((b) => b.toString(16).padStart(2, '0')).join('') : String(v));
      }
    }
    return out.join('\n');
  });
}

// ---------------------------------------------------------------- COS

const hex = (b: ArrayBuffer) => [...new Uint8Array(b)].map((x) => x.toString(16).padStart(2, '0')).join('');
const hmacSha1 = async (key: string, msg: string) =>
  hex(await crypto.subtle.sign('HMAC', await crypto.subtle.importKey('raw', new TextEncoder().encode(key), { name: 'HMAC', hash: 'SHA-1' }, false, ['sign']), new TextEncoder().encode(msg)));

/** A COS-signed request (no headers or parameters signed) to the path-style URL ORIGIN + path. */
export async function cos(method: string, path: string, init: { body?: BodyInit | null; headers?: Record<string, string> } = {}): Promise<Response> {
  const now = Math.floor(Date.now() / 1000);
  const keyTime = `${now - 60};${now + 900}`;
  const url = new URL(ORIGIN + path);
  const httpString = [method.toLowerCase(), decodeURIComponent(url.pathname), '', '', ''].join('\n');
  const sha = hex(await crypto.subtle.digest('SHA-1', new TextEncoder().encode(httpString)));
  const signature = await hmacSha1(await hmacSha1(TEST_BINDINGS.SECRET_ACCESS_KEY, keyTime), ['sha1', keyTime, sha, ''].join('\n'));
  const auth = `q-sign-algorithm=sha1&q-ak=${TEST_BINDINGS.ACCESS_KEY_ID}&q-sign-time=${keyTime}&q-key-time=${keyTime}&q-header-list=&q-url-param-list=&q-signature=${signature}`;
  return worker(new Request(url, { method, body: init.body ?? null, headers: { ...init.headers, authorization: auth } }));
}
