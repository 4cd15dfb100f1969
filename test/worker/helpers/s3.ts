// Signed requests straight into the Worker (no network), with aws4fetch as the client.
import { env, exports } from 'cloudflare:workers';
import { AwsClient } from 'aws4fetch';
import { TEST_BINDINGS } from './bindings';

export const ORIGIN = 'http://gw.test';

export const client = new AwsClient({
  accessKeyId: TEST_BINDINGS.ACCESS_KEY_ID,
  secretAccessKey: TEST_BINDINGS.SECRET_ACCESS_KEY,
  service: 's3',
  region: 'us-east-1',
});

export const worker = (req: Request): Promise<Response> =>
  (exports as unknown as { default: { fetch(r: Request): Promise<Response> } }).default.fetch(req);

/** `signBody`: sign the payload's SHA-256 (x-amz-content-sha256), as SDKs do over plain HTTP, instead of aws4fetch's UNSIGNED-PAYLOAD. */
export async function s3(
  method: string,
  path: string,
  init: { body?: BodyInit | null; headers?: Record<string, string>; signQuery?: boolean; origin?: string; signBody?: boolean } = {},
): Promise<Response> {
  const headers = { ...init.headers };
  if (init.signBody)
    headers['x-amz-content-sha256'] = await sha256hex(
      typeof init.body === 'string' ? new TextEncoder().encode(init.body) : ((init.body as Uint8Array | null) ?? new Uint8Array(0)),
    );
  const req = await client.sign((init.origin ?? ORIGIN) + path, {
    method,
    body: init.body ?? null,
    headers,
    aws: { signQuery: init.signQuery },
  });
  return worker(req);
}

/** The raw R2 bucket behind the gateway, for looking at what is really stored. */
export const rawStore = (): R2Bucket => (env as unknown as { STORE: R2Bucket }).STORE;

export const bytes = (n: number, seed = 1): Uint8Array => {
  const b = new Uint8Array(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    b[i] = x >>> 16;
  }
  return b;
};

export const errorCode = async (r: Response): Promise<string | undefined> => /<Code>([^<]+)<\/Code>/.exec(await r.text())?.[1];

export async function sha256hex(b: Uint8Array): Promise<string> {
  return [...new Uint8Array(await crypto.subtle.digest('SHA-256', b))].map((x) => x.toString(16).padStart(2, '0')).join('');
}

export async function md5hex(b: Uint8Array): Promise<string> {
  return [...new Uint8Array(await crypto.subtle.digest('MD5', b))].map((x) => x.toString(16).padStart(2, '0')).join('');
}

/** Fast byte equality (vitest's deep equality is slow on large arrays). */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
