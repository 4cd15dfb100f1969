// biome-ignore-all lint/suspicious/noTemplateCurlyInString: '${filename}' is S3's POST-form key placeholder, literal on purpose
// POST Object (browser form uploads) inside workerd: SigV4 and COS policy
// signatures, policy conditions, SSE fields, success actions, and the
// streaming multipart reader on hostile chunkings. The signing code here is
// written independently of src/ (its own HMAC chains).
import { beforeAll, describe, expect, it } from 'vitest';
import { MAX_PRE_DATA, readForm, SMALL_REST } from '../../src/s3/payload/form';
import type { S3Error } from '../../src/s3/protocol/errors';
import { concat, expectS3Error, readAll, streamOf } from './helpers/auth-helpers';
import { TEST_BINDINGS } from './helpers/bindings';
import { bytes, errorCode, md5hex, ORIGIN, rawStore, s3, sameBytes, worker } from './helpers/s3';

const B = 'post-bucket';
const HTTPS = 'https://gw.test';
const AK = TEST_BINDINGS.ACCESS_KEY_ID;
const SK = TEST_BINDINGS.SECRET_ACCESS_KEY;
const enc = (s: string) => new TextEncoder().encode(s);
const hex = (b: ArrayBuffer | Uint8Array) => [...new Uint8Array(b)].map((x) => x.toString(16).padStart(2, '0')).join('');
const b64 = (b: Uint8Array) => btoa(String.fromCharCode(...b));

async function hmac(key: Uint8Array | string, msg: string, hash: 'SHA-256' | 'SHA-1'): Promise<Uint8Array> {
  const k = await crypto.subtle.importKey('raw', typeof key === 'string' ? enc(key) : key, { name: 'HMAC', hash }, false, ['sign']);
  return new Uint8Array(await crypto.subtle.sign('HMAC', k, enc(msg)));
}

const amzDate = (d: Date) => d.toISOString().replace(/[:-]|\.\d{3}/g, '');
const inAnHour = () => new Date(Date.now() + 3600_000).toISOString();

type Conditions = unknown[];
type Fields = Record<string, string>;

/** The signing fields of a SigV4 form whose policy has `conditions` (plus the x-amz-* ones, unless `bare`). */
async function v4Form(
  conditions: Conditions,
  o: { expiration?: string; secret?: string; ak?: string; bare?: boolean; region?: string } = {},
): Promise<Fields> {
  const date = amzDate(new Date());
  const day = date.slice(0, 8);
  const region = o.region ?? 'us-east-1';
  const credential = `${o.ak ?? AK}/${day}/${region}/s3/aws4_request`;
  const all = o.bare
    ? conditions
    : [...conditions, { 'x-amz-algorithm': 'AWS4-HMAC-SHA256' }, { 'x-amz-credential': credential }, { 'x-amz-date': date }];
  const policy = b64(enc(JSON.stringify({ expiration: o.expiration ?? inAnHour(), conditions: all })));
  let k = await hmac(`AWS4${o.secret ?? SK}`, day, 'SHA-256');
  for (const p of [region, 's3', 'aws4_request']) k = await hmac(k, p, 'SHA-256');
  const signature = hex(await hmac(k, policy, 'SHA-256'));
  return {
    policy,
    'x-amz-algorithm': 'AWS4-HMAC-SHA256',
    'x-amz-credential': credential,
    'x-amz-date': date,
    'x-amz-signature': signature,
  };
}

/** The signing fields of a COS form (q-sign-algorithm=sha1) over the policy JSON text. */
async function cosForm(conditions: Conditions, o: { expiration?: string; secret?: string; keyTime?: string } = {}): Promise<Fields> {
  const now = Math.floor(Date.now() / 1000);
  const keyTime = o.keyTime ?? `${now - 60};${now + 3600}`;
  const text = JSON.stringify({ expiration: o.expiration ?? inAnHour(), conditions });
  const signKey = hex(await hmac(o.secret ?? SK, keyTime, 'SHA-1'));
  const stringToSign = hex(await crypto.subtle.digest('SHA-1', enc(text)));
  const signature = hex(await hmac(signKey, stringToSign, 'SHA-1'));
  return { policy: b64(enc(text)), 'q-sign-algorithm': 'sha1', 'q-ak': AK, 'q-key-time': keyTime, 'q-signature': signature };
}

interface FilePart {
  data: Uint8Array;
  name?: string;
  type?: string;
}

/** Posts a browser-style form built with FormData: fields in order, then the file. */
function post(fields: Fields, file: FilePart, o: { origin?: string; bucket?: string } = {}): Promise<Response> {
  const fd = new FormData();
  for (const [k, v] of Object.entries(fields)) fd.append(k, v);
  fd.append('file', new File([file.data], file.name ?? 'upload.bin', { type: file.type ?? 'application/octet-stream' }));
  // redirect: 'manual', or the loopback fetch would follow a 303 back into the Worker.
  return worker(new Request(`${o.origin ?? ORIGIN}/${o.bucket ?? B}`, { method: 'POST', body: fd, redirect: 'manual' }));
}

const BOUNDARY = '----sealbucketBoundary7MA4YWxkTrZu0gW';

/** A hand-built multipart body (so tests control every byte). */
function rawBody(
  fields: [string, string][],
  file: FilePart | null,
  o: { boundary?: string; closing?: string; after?: [string, string][] } = {},
): Uint8Array {
  const b = o.boundary ?? BOUNDARY;
  const parts: (string | Uint8Array)[] = [];
  for (const [k, v] of fields) parts.push(`--${b}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`);
  if (file) {
    parts.push(
      `--${b}\r\nContent-Disposition: form-data; name="file"; filename="${file.name ?? 'upload.bin'}"\r\nContent-Type: ${file.type ?? 'application/octet-stream'}\r\n\r\n`,
      file.data,
    );
    for (const [k, v] of o.after ?? []) parts.push(`\r\n--${b}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}`);
    parts.push(o.closing ?? `\r\n--${b}--\r\n`);
  } else parts.push(`--${b}--\r\n`);
  return concat(...parts);
}

/**
 * Posts the same form as `post`, serialized the way browsers, curl and undici
 * do ("--B--\r\n" at the end; workerd's FormData omits that CRLF, which the
 * gateway can only allow for files up to SMALL_REST bytes).
 */
function postCrlf(fields: Fields, file: FilePart): Promise<Response> {
  return postRaw(rawBody(Object.entries(fields), file), { piece: 65536 });
}

/** Posts a raw body as a stream of `piece`-byte chunks with an explicit Content-Length. */
function postRaw(
  body: Uint8Array,
  o: { piece?: number; boundary?: string; origin?: string; contentLength?: string | null } = {},
): Promise<Response> {
  const headers: Record<string, string> = { 'content-type': `multipart/form-data; boundary=${o.boundary ?? BOUNDARY}` };
  if (o.contentLength !== null) headers['content-length'] = o.contentLength ?? String(body.length);
  return worker(new Request(`${o.origin ?? ORIGIN}/${B}`, { method: 'POST', body: streamOf(body, o.piece ?? 1), headers }));
}

const get = (key: string, headers: Record<string, string> = {}, origin = ORIGIN) =>
  s3('GET', `/${B}/${key.split('/').map(encodeURIComponent).join('/')}`, { headers, origin });

async function expectBody(key: string, data: Uint8Array, headers: Record<string, string> = {}, origin = ORIGIN) {
  const g = await get(key, headers, origin);
  expect(g.status, await g.clone().text()).toBe(200);
  expect(sameBytes(new Uint8Array(await g.arrayBuffer()), data)).toBe(true);
  return g;
}

async function expectError(r: Response, status: number, code: string, message?: string | RegExp) {
  const text = (await r.text()).replace(/&quot;/g, '"').replace(/&amp;/g, '&');
  expect(r.status, text).toBe(status);
  expect(/<Code>([^<]+)<\/Code>/.exec(text)?.[1], text).toBe(code);
  if (typeof message === 'string') expect(text).toContain(message);
  else if (message) expect(text).toMatch(message);
  return text;
}

/** The usual conditions for uploading `key` to the test bucket. */
const basic = (key: string, extra: Conditions = []): Conditions => [{ bucket: B }, { key }, ...extra];

beforeAll(async () => {
  const r = await s3('PUT', `/${B}`);
  expect(r.status).toBe(200);
});

describe('POST Object with a SigV4 policy', () => {
  it('uploads a file that reads back byte-identical, sealed by default', async () => {
    const data = bytes(300_000, 7);
    const fields = { key: 'v4/plain.bin', ...(await v4Form(basic('v4/plain.bin'))) };
    const r = await postCrlf(fields, { data });
    expect(r.status, await r.clone().text()).toBe(204);
    expect(r.headers.get('etag')).toBe(`"${await md5hex(data)}"`);
    // The gateway default (SSE-COS) sealed a form that named no encryption.
    expect(r.headers.get('x-amz-server-side-encryption')).toBe('AES256');
    expect(r.headers.get('x-amz-request-id')).toBeTruthy();
    const g = await expectBody('v4/plain.bin', data);
    expect(g.headers.get('x-amz-server-side-encryption')).toBe('AES256');
    // What R2 holds is not the plaintext.
    const rec = await rawStore().head(`o/${B}/v4/plain.bin`);
    const stored = new Uint8Array(await (await rawStore().get(`d/${rec!.customMetadata!['sb-data']}`))!.arrayBuffer());
    expect(stored.length).toBeGreaterThan(data.length);
    expect(sameBytes(stored.subarray(0, 1000), data.subarray(0, 1000))).toBe(false);
  });

  it('a FormData body (workerd ends it without CRLF) uploads up to SMALL_REST bytes; beyond, it needs the CRLF', async () => {
    const small = bytes(200_000, 8);
    const f1 = { key: 'v4/formdata.bin', ...(await v4Form(basic('v4/formdata.bin'))) };
    expect((await post(f1, { data: small })).status).toBe(204);
    await expectBody('v4/formdata.bin', small);
    const big = bytes(SMALL_REST + 1, 8);
    const f2 = { key: 'v4/formdata-big.bin', ...(await v4Form(basic('v4/formdata-big.bin'))) };
    await expectError(await post(f2, { data: big }), 400, 'MalformedPOSTRequest', /must be followed by CRLF/);
    expect((await get('v4/formdata-big.bin')).status).toBe(404);
    expect((await postCrlf(f2, { data: big })).status).toBe(204);
    await expectBody('v4/formdata-big.bin', big);
  });

  it('uploads an empty file', async () => {
    const r = await post({ key: 'v4/empty', ...(await v4Form(basic('v4/empty'))) }, { data: new Uint8Array(0) });
    expect(r.status, await r.clone().text()).toBe(204);
    await expectBody('v4/empty', new Uint8Array(0));
  });

  it('stores Content-Type and user metadata from the form; field names are case-insensitive', async () => {
    const key = 'v4/meta.txt';
    const fields = {
      key,
      'Content-Type': 'text/plain; charset=utf-8',
      'X-Amz-Meta-Color': 'blue',
      'Cache-Control': 'max-age=60',
      ...(await v4Form(
        basic(key, [
          ['eq', '$Content-Type', 'text/plain; charset=utf-8'],
          ['starts-with', '$x-amz-meta-color', ''],
          { 'cache-control': 'max-age=60' },
        ]),
      )),
    };
    const r = await post(fields, { data: enc('hello'), type: 'application/x-ignored' });
    expect(r.status, await r.clone().text()).toBe(204);
    const h = await s3('HEAD', `/${B}/${key}`);
    expect(h.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(h.headers.get('x-amz-meta-color')).toBe('blue');
    expect(h.headers.get('cache-control')).toBe('max-age=60');
  });

  it("uses the file part's Content-Type when the form has none", async () => {
    const key = 'v4/typed.png';
    const r = await post({ key, ...(await v4Form(basic(key))) }, { data: bytes(10), type: 'image/png' });
    expect(r.status).toBe(204);
    expect((await s3('HEAD', `/${B}/${key}`)).headers.get('content-type')).toBe('image/png');
  });

  it('substitutes ${filename} in the key, and checks conditions against the result', async () => {
    const data = bytes(1234, 3);
    const fields = { key: 'uploads/${filename}', ...(await v4Form([{ bucket: B }, ['starts-with', '$key', 'uploads/']])) };
    const r = await post(fields, { data, name: 'photo 1.jpg' });
    expect(r.status, await r.clone().text()).toBe(204);
    await expectBody('uploads/photo 1.jpg', data);
    // The substituted key must satisfy the policy too.
    const strict = { key: 'uploads/${filename}', ...(await v4Form([{ bucket: B }, ['eq', '$key', 'uploads/allowed.jpg']])) };
    expect((await post(strict, { data, name: 'allowed.jpg' })).status).toBe(204);
    await expectError(
      await post(strict, { data, name: 'other.jpg' }),
      403,
      'AccessDenied',
      'Policy Condition failed: ["eq", "$key", "uploads/allowed.jpg"]',
    );
  });

  it('answers 201 with the PostResponse document', async () => {
    const key = 'v4/created.bin';
    const data = bytes(99);
    const fields = { key, success_action_status: '201', ...(await v4Form(basic(key, [{ success_action_status: '201' }]))) };
    const r = await post(fields, { data });
    expect(r.status).toBe(201);
    const xml = await r.text();
    const etag = `"${await md5hex(data)}"`;
    expect(xml).toContain('<PostResponse>');
    expect(xml).toContain(`<Location>${ORIGIN}/${B}/v4/created.bin</Location>`);
    expect(xml).toContain(`<Bucket>${B}</Bucket>`);
    expect(xml).toContain(`<Key>${key}</Key>`);
    expect(xml).toContain(`<ETag>&quot;${etag.slice(1, -1)}&quot;</ETag>`);
    expect(r.headers.get('etag')).toBe(etag);
  });

  it('answers 200 when asked, and 204 for anything else', async () => {
    const key = 'v4/status.bin';
    const f200 = { key, success_action_status: '200', ...(await v4Form(basic(key, [['starts-with', '$success_action_status', '']]))) };
    expect((await post(f200, { data: bytes(5) })).status).toBe(200);
    const f999 = { key, success_action_status: '999', ...(await v4Form(basic(key, [['starts-with', '$success_action_status', '']]))) };
    expect((await post(f999, { data: bytes(5) })).status).toBe(204);
  });

  it('redirects with 303 to success_action_redirect with bucket, key and etag', async () => {
    const key = 'v4/redirect me.bin';
    const data = bytes(64);
    const target = 'https://app.example/done?from=form';
    const fields = {
      key,
      success_action_redirect: target,
      ...(await v4Form(basic(key, [['starts-with', '$success_action_redirect', 'https://app.example/']]))),
    };
    const r = await post(fields, { data });
    expect(r.status, await r.clone().text()).toBe(303);
    const loc = new URL(r.headers.get('location')!);
    expect(loc.origin + loc.pathname).toBe('https://app.example/done');
    expect(loc.searchParams.get('from')).toBe('form');
    expect(loc.searchParams.get('bucket')).toBe(B);
    expect(loc.searchParams.get('key')).toBe(key);
    expect(loc.searchParams.get('etag')).toBe(`"${await md5hex(data)}"`);
    // The older `redirect` field works too.
    const old = { key, redirect: 'https://app.example/x', ...(await v4Form(basic(key, [{ redirect: 'https://app.example/x' }]))) };
    const r2 = await post(old, { data });
    expect(r2.status).toBe(303);
    expect(r2.headers.get('location')).toMatch(/^https:\/\/app\.example\/x\?bucket=post-bucket&key=/);
  });

  it('answers NoSuchBucket only after the signature checks out', async () => {
    const fields = { key: 'k', ...(await v4Form([{ bucket: 'no-such-bucket' }, { key: 'k' }])) };
    expect(await errorCode(await post(fields, { data: bytes(3) }, { bucket: 'no-such-bucket' }))).toBe('NoSuchBucket');
    const forged = { ...fields, 'x-amz-signature': '0'.repeat(64) };
    expect(await errorCode(await post(forged, { data: bytes(3) }, { bucket: 'no-such-bucket' }))).toBe('SignatureDoesNotMatch');
  });
});

describe('POST Object with a COS policy', () => {
  it('uploads with x-cos-server-side-encryption and answers in the COS dialect', async () => {
    const key = 'cos/sealed.bin';
    const data = bytes(270_000, 11);
    const fields = {
      key,
      'x-cos-server-side-encryption': 'AES256',
      ...(await cosForm(basic(key, [['eq', '$x-cos-server-side-encryption', 'AES256'], { 'q-sign-algorithm': 'sha1' }, { 'q-ak': AK }]))),
    };
    const r = await postCrlf(fields, { data });
    expect(r.status, await r.clone().text()).toBe(204);
    expect(r.headers.get('x-cos-server-side-encryption')).toBe('AES256');
    expect(r.headers.get('x-cos-request-id')).toBeTruthy();
    expect(r.headers.get('x-amz-request-id')).toBeNull();
    expect(r.headers.get('etag')).toBe(`"${await md5hex(data)}"`);
    expect(r.headers.get('x-cos-hash-crc64ecma')).toMatch(/^\d+$/);
    const g = await expectBody(key, data);
    expect(g.headers.get('x-cos-hash-crc64ecma')).toBe(r.headers.get('x-cos-hash-crc64ecma'));
  });

  it('accepts a q-sign-time condition (COS clients put it in the policy, not the form)', async () => {
    const now = Math.floor(Date.now() / 1000);
    const keyTime = `${now - 10};${now + 600}`;
    const key = 'cos/sign-time';
    const fields = { key, ...(await cosForm(basic(key, [{ 'q-sign-time': keyTime }]), { keyTime })) };
    expect((await post(fields, { data: bytes(10) })).status).toBe(204);
  });

  it('stores x-cos-meta-* fields and answers 201 and 303', async () => {
    const key = 'cos/meta';
    const fields = {
      key,
      'x-cos-meta-origin': 'form',
      success_action_status: '201',
      ...(await cosForm(basic(key, [{ 'x-cos-meta-origin': 'form' }, { success_action_status: '201' }]))),
    };
    const r = await post(fields, { data: bytes(10) });
    expect(r.status).toBe(201);
    expect(await r.text()).toContain(`<Key>${key}</Key>`);
    expect((await s3('HEAD', `/${B}/${key}`)).headers.get('x-amz-meta-origin')).toBe('form');
    const redirect = {
      key,
      success_action_redirect: 'http://127.0.0.1/ok',
      ...(await cosForm(basic(key, [['starts-with', '$success_action_redirect', 'http://127.0.0.1/']]))),
    };
    const r2 = await post(redirect, { data: bytes(10) });
    expect(r2.status).toBe(303);
    expect(r2.headers.get('location')).toMatch(/^http:\/\/127\.0\.0\.1\/ok\?bucket=post-bucket&key=cos%2Fmeta&etag=%22[0-9a-f]{32}%22$/);
  });

  it('refuses a wrong COS signature, a wrong secret, an expired key time and an unknown key', async () => {
    const key = 'cos/denied';
    const good = { key, ...(await cosForm(basic(key))) };
    expect(await errorCode(await post({ ...good, 'q-signature': 'f'.repeat(40) }, { data: bytes(3) }))).toBe('SignatureDoesNotMatch');
    const r = await post({ key, ...(await cosForm(basic(key), { secret: 'not-the-secret' })) }, { data: bytes(3) });
    expect(r.status).toBe(403);
    expect(r.headers.get('x-cos-request-id')).toBeTruthy();
    expect(await errorCode(r)).toBe('SignatureDoesNotMatch');
    const now = Math.floor(Date.now() / 1000);
    expect(
      await errorCode(await post({ key, ...(await cosForm(basic(key), { keyTime: `${now - 7200};${now - 3600}` })) }, { data: bytes(3) })),
    ).toBe('AccessDenied');
    expect(await errorCode(await post({ ...good, 'q-ak': 'AKIDUNKNOWN' }, { data: bytes(3) }))).toBe('InvalidAccessKeyId');
    // The signature covers the policy: another policy with the old signature fails.
    const other = await cosForm(basic('cos/elsewhere'));
    expect(await errorCode(await post({ ...good, key: 'cos/elsewhere', policy: other.policy }, { data: bytes(3) }))).toBe(
      'SignatureDoesNotMatch',
    );
  });
});

describe('SSE on forms', () => {
  async function customerKey(seed: number, prefix: string) {
    const key = bytes(32, seed);
    const md5 = b64(new Uint8Array(await crypto.subtle.digest('MD5', key)));
    return {
      [`${prefix}-server-side-encryption-customer-algorithm`]: 'AES256',
      [`${prefix}-server-side-encryption-customer-key`]: b64(key),
      [`${prefix}-server-side-encryption-customer-key-MD5`]: md5,
    };
  }
  const covering = (f: Fields) => Object.keys(f).map((k) => ['starts-with', `$${k}`, '']);

  it('SSE-C (SigV4 form): the object needs the key to be read', async () => {
    const key = 'ssec/v4.bin';
    const data = bytes(100_000, 21);
    const ck = await customerKey(5, 'x-amz');
    const fields = { key, ...ck, ...(await v4Form(basic(key, covering(ck)))) };
    const r = await post(fields, { data }, { origin: HTTPS });
    expect(r.status, await r.clone().text()).toBe(204);
    expect(r.headers.get('x-amz-server-side-encryption-customer-algorithm')).toBe('AES256');
    expect(r.headers.get('x-amz-server-side-encryption-customer-key-md5')).toBe(ck['x-amz-server-side-encryption-customer-key-MD5']);
    // Read back with the key; without it the gateway refuses.
    const headers = Object.fromEntries(Object.entries(ck).map(([k, v]) => [k.toLowerCase(), v]));
    await expectBody(key, data, headers, HTTPS);
    expect(await errorCode(await get(key, {}, HTTPS))).toBe('InvalidRequest');
    expect((await get(key, await customerKey(6, 'x-amz'), HTTPS)).status).toBe(403);
  });

  it('the bucket default encryption applies: a bucket that blocks SSE-C refuses an SSE-C form with 403', async () => {
    const key = 'ssec/blocked.bin';
    const cfg =
      '<ServerSideEncryptionConfiguration><Rule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>AES256</SSEAlgorithm></ApplyServerSideEncryptionByDefault><BlockedEncryptionTypes><EncryptionType>SSE-C</EncryptionType></BlockedEncryptionTypes></Rule></ServerSideEncryptionConfiguration>';
    expect((await s3('PUT', `/${B}?encryption`, { body: cfg })).status).toBe(200);
    try {
      const ck = await customerKey(9, 'x-amz');
      const r = await post({ key, ...ck, ...(await v4Form(basic(key, covering(ck)))) }, { data: bytes(100, 1) }, { origin: HTTPS });
      await expectError(r, 403, 'AccessDenied');
      expect((await get(key, {}, HTTPS)).status).toBe(404);
    } finally {
      await s3('DELETE', `/${B}?encryption`);
    }
  });

  it('SSE-C (COS form) with x-cos-* fields', async () => {
    const key = 'ssec/cos.bin';
    const data = bytes(5000, 22);
    const ck = await customerKey(7, 'x-cos');
    const r = await post({ key, ...ck, ...(await cosForm(basic(key, covering(ck)))) }, { data }, { origin: HTTPS });
    expect(r.status, await r.clone().text()).toBe(204);
    expect(r.headers.get('x-cos-server-side-encryption-customer-algorithm')).toBe('AES256');
    const amzHeaders = Object.fromEntries(Object.entries(ck).map(([k, v]) => [k.replace('x-cos-', 'x-amz-').toLowerCase(), v]));
    await expectBody(key, data, amzHeaders, HTTPS);
  });

  it('SSE-C over plain http is refused, as for PUT', async () => {
    const key = 'ssec/http';
    const ck = await customerKey(8, 'x-amz');
    expect(await errorCode(await post({ key, ...ck, ...(await v4Form(basic(key, covering(ck)))) }, { data: bytes(3) }))).toBe(
      'InvalidRequest',
    );
  });

  it('an explicit x-amz-server-side-encryption=AES256 field is echoed; a bad value is refused', async () => {
    const key = 'sse/explicit';
    const ok = {
      key,
      'x-amz-server-side-encryption': 'AES256',
      ...(await v4Form(basic(key, [{ 'x-amz-server-side-encryption': 'AES256' }]))),
    };
    const r = await post(ok, { data: bytes(10) });
    expect(r.status).toBe(204);
    expect(r.headers.get('x-amz-server-side-encryption')).toBe('AES256');
    const bad = { key, 'x-amz-server-side-encryption': 'DES', ...(await v4Form(basic(key, [{ 'x-amz-server-side-encryption': 'DES' }]))) };
    expect(await errorCode(await post(bad, { data: bytes(10) }))).toBe('InvalidArgument');
    const kms = {
      key,
      'x-amz-server-side-encryption': 'aws:kms',
      ...(await v4Form(basic(key, [{ 'x-amz-server-side-encryption': 'aws:kms' }]))),
    };
    const k = await post(kms, { data: bytes(10) });
    // SSE-KMS through a form behaves as it does on PUT (never a silent unsealed write).
    const put = await s3('PUT', `/${B}/sse/kms-put`, { body: 'x', headers: { 'x-amz-server-side-encryption': 'aws:kms' } });
    if (put.ok) {
      expect(k.status, await k.clone().text()).toBe(204);
      expect(k.headers.get('x-amz-server-side-encryption')).toBe(put.headers.get('x-amz-server-side-encryption'));
    } else {
      expect(k.status).toBe(put.status);
      expect(await errorCode(k)).toBe(await errorCode(put));
    }
  });
});

describe('policy conditions', () => {
  const key = 'cond/obj';
  const ok = async (extraFields: Fields, conds: Conditions) => {
    const r = await post({ key, ...extraFields, ...(await v4Form(basic(key, conds))) }, { data: bytes(100) });
    expect(r.status, await r.clone().text()).toBe(204);
  };
  const fails = async (extraFields: Fields, conds: Conditions, message: string) => {
    await expectError(
      await post({ key, ...extraFields, ...(await v4Form(basic(key, conds))) }, { data: bytes(100) }),
      403,
      'AccessDenied',
      `Invalid according to Policy: ${message}`,
    );
  };

  it('exact match {"field": "value"}', async () => {
    await ok({ acl: 'private' }, [{ acl: 'private' }]);
    await fails({ acl: 'public-read' }, [{ acl: 'private' }], 'Policy Condition failed: ["eq", "$acl", "private"]');
  });

  it('["eq", "$field", "value"], case-sensitive values, case-insensitive names', async () => {
    await ok({ 'Content-Type': 'image/jpeg' }, [['eq', '$content-type', 'image/jpeg']]);
    await fails(
      { 'content-type': 'image/JPEG' },
      [['eq', '$Content-Type', 'image/jpeg']],
      'Policy Condition failed: ["eq", "$Content-Type", "image/jpeg"]',
    );
  });

  it('["starts-with", "$field", "prefix"], and an empty prefix allows anything', async () => {
    await ok({ 'x-amz-meta-tag': 'user-42' }, [['starts-with', '$x-amz-meta-tag', 'user-']]);
    await ok({ 'x-amz-meta-tag': 'anything at all' }, [['starts-with', '$x-amz-meta-tag', '']]);
    await fails(
      { 'x-amz-meta-tag': 'admin' },
      [['starts-with', '$x-amz-meta-tag', 'user-']],
      'Policy Condition failed: ["starts-with", "$x-amz-meta-tag", "user-"]',
    );
    // Content-Type may list several types; each must match the prefix.
    await ok({ 'content-type': 'image/png, image/gif' }, [['starts-with', '$Content-Type', 'image/']]);
    await fails(
      { 'content-type': 'image/png, text/html' },
      [['starts-with', '$Content-Type', 'image/']],
      'Policy Condition failed: ["starts-with", "$Content-Type", "image/"]',
    );
  });

  it('a condition on a field the form lacks fails, unless it allows anything (starts-with "")', async () => {
    await fails({}, [['starts-with', '$x-amz-meta-missing', 'a']], 'Policy Condition failed: ["starts-with", "$x-amz-meta-missing", "a"]');
    await fails({}, [['eq', '$x-amz-meta-missing', '']], 'Policy Condition failed: ["eq", "$x-amz-meta-missing", ""]');
    await ok({}, [['starts-with', '$x-amz-meta-missing', '']]);
  });

  it('the bucket must match, and must be named by the policy', async () => {
    await fails({}, [{ bucket: 'another-bucket' }], 'Policy Condition failed: ["eq", "$bucket", "another-bucket"]');
    // A form whose bucket field names another bucket is refused as S3 does: 403, nothing stored.
    await expectError(
      await post({ key, bucket: 'another-bucket', ...(await v4Form(basic(key))) }, { data: bytes(3) }),
      403,
      'AccessDenied',
      'Invalid according to Policy: the bucket field does not name the bucket the form is posted to.',
    );
    const noBucket = { key, ...(await v4Form([{ key }])) };
    await expectError(
      await post(noBucket, { data: bytes(3) }),
      403,
      'AccessDenied',
      'Invalid according to Policy: Extra input fields: bucket',
    );
  });

  it('every field must be covered by a condition, except policy, the signature, file and x-ignore-*', async () => {
    await fails({ 'x-amz-meta-color': 'red' }, [], 'Extra input fields: x-amz-meta-color');
    await fails({ success_action_status: '201' }, [], 'Extra input fields: success_action_status');
    await ok({ 'x-ignore-tracking': 'abc', 'X-Ignore-Other': 'x' }, []);
    // SigV4 forms must also bind x-amz-algorithm, x-amz-credential and x-amz-date, as on S3.
    const bare = { key, ...(await v4Form(basic(key), { bare: true })) };
    await expectError(
      await post(bare, { data: bytes(3) }),
      403,
      'AccessDenied',
      'Extra input fields: x-amz-algorithm, x-amz-credential, x-amz-date',
    );
  });

  it('content-length-range: 400 EntityTooSmall / EntityTooLarge outside it', async () => {
    await ok({}, [['content-length-range', 100, 100]]);
    const small = await post({ key, ...(await v4Form(basic(key, [['content-length-range', 101, 1000]]))) }, { data: bytes(100) });
    const t1 = await expectError(small, 400, 'EntityTooSmall');
    expect(t1).toContain('<MinSizeAllowed>101</MinSizeAllowed>');
    const large = await post({ key, ...(await v4Form(basic(key, [['content-length-range', 0, 99]]))) }, { data: bytes(100) });
    const t2 = await expectError(large, 400, 'EntityTooLarge');
    expect(t2).toContain('<ProposedSize>100</ProposedSize>');
    expect(t2).toContain('<MaxSizeAllowed>99</MaxSizeAllowed>');
  });

  it('an expired policy is refused', async () => {
    const fields = { key, ...(await v4Form(basic(key), { expiration: new Date(Date.now() - 1000).toISOString() })) };
    await expectError(await post(fields, { data: bytes(3) }), 403, 'AccessDenied', 'Invalid according to Policy: Policy expired.');
  });

  it('a malformed policy is a 400 InvalidPolicyDocument', async () => {
    const fields = { key, ...(await v4Form(basic(key, [['between', '$key', 'a', 'z']]))) };
    expect(await errorCode(await post(fields, { data: bytes(3) }))).toBe('InvalidPolicyDocument');
    // An expiration that is not ISO 8601 UTC (Python's str(datetime), a bare date) is malformed too.
    for (const expiration of ['2099-01-01 10:00:00.123456+00:00', '2099-01-01', 'Fri, 01 Jan 2099 10:00:00 GMT']) {
      const f = { key, ...(await v4Form(basic(key), { expiration })) };
      expect(await errorCode(await post(f, { data: bytes(3) })), expiration).toBe('InvalidPolicyDocument');
    }
    const fractional = { key, ...(await v4Form(basic(key), { expiration: '2099-01-01T10:00:00.000Z' })) };
    expect((await post(fractional, { data: bytes(3) })).status).toBe(204);
  });
});

describe('no anonymous uploads', () => {
  it('refuses an unsigned form with 403 AccessDenied', async () => {
    const policy = b64(enc(JSON.stringify({ expiration: inAnHour(), conditions: [{ bucket: B }, { key: 'anon' }] })));
    await expectError(await post({ key: 'anon' }, { data: bytes(3) }), 403, 'AccessDenied');
    await expectError(await post({ key: 'anon', policy }, { data: bytes(3) }), 403, 'AccessDenied');
    expect((await get('anon')).status).toBe(404);
  });

  it('refuses a signature without a policy, a wrong signature, a wrong secret and a tampered policy', async () => {
    const key = 'denied';
    const good: Fields = { key, ...(await v4Form(basic(key))) };
    const noPolicy = { ...good };
    delete noPolicy.policy;
    expect((await post(noPolicy, { data: bytes(3) })).status).toBe(403);
    expect(await errorCode(await post({ ...good, 'x-amz-signature': 'a'.repeat(64) }, { data: bytes(3) }))).toBe('SignatureDoesNotMatch');
    expect(await errorCode(await post({ key, ...(await v4Form(basic(key), { secret: 'wrong' })) }, { data: bytes(3) }))).toBe(
      'SignatureDoesNotMatch',
    );
    expect(await errorCode(await post({ key, ...(await v4Form(basic(key), { ak: 'AKIDNOPE' })) }, { data: bytes(3) }))).toBe(
      'InvalidAccessKeyId',
    );
    const tampered = { ...good, policy: b64(enc(JSON.stringify({ expiration: inAnHour(), conditions: [['starts-with', '$key', '']] }))) };
    expect(await errorCode(await post(tampered, { data: bytes(3) }))).toBe('SignatureDoesNotMatch');
    expect((await get(key)).status).toBe(404);
  });

  it('refuses a form signed in both dialects at once', async () => {
    const key = 'both';
    const fields = { key, ...(await v4Form(basic(key))), 'q-signature': 'x' };
    expect(await errorCode(await post(fields, { data: bytes(3) }))).toBe('InvalidArgument');
  });

  it('a POST that is not a form still needs a request signature', async () => {
    const r = await worker(new Request(`${ORIGIN}/${B}`, { method: 'POST', body: 'x', headers: { 'content-type': 'text/plain' } }));
    expect(r.status).toBe(403);
  });
});

describe('the multipart body', () => {
  const key = 'raw/obj';

  it('a hand-built body delivered one byte at a time uploads byte-identical', async () => {
    // The file content contains near-misses of the delimiter.
    const data = concat(bytes(3000, 4), `\r\n--${BOUNDARY.slice(0, -1)}`, '\r\n--', bytes(500, 5), `--${BOUNDARY}`);
    const body = rawBody([['key', key], ...Object.entries(await v4Form(basic(key)))], { data });
    for (const piece of [1, 7, 4096]) {
      const r = await postRaw(body, { piece });
      expect(r.status, `${piece}: ${await r.clone().text()}`).toBe(204);
      await expectBody(key, data);
    }
  });

  it('a body without a file part is a 400', async () => {
    const body = rawBody([['key', key], ...Object.entries(await v4Form(basic(key)))], null);
    await expectError(await postRaw(body, { piece: 5 }), 400, 'InvalidArgument', 'POST requires exactly one file upload per request.');
  });

  it('a boundary that does not match the Content-Type is a 400', async () => {
    const body = rawBody([['key', key], ...Object.entries(await v4Form(basic(key)))], { data: bytes(10) }, { boundary: 'other-boundary' });
    await expectError(await postRaw(body), 400, 'MalformedPOSTRequest');
    await expectError(await postRaw(body, { boundary: '' }), 400, 'MalformedPOSTRequest');
  });

  it('a truncated body is a 400 and stores nothing', async () => {
    const full = rawBody([['key', 'raw/truncated'], ...Object.entries(await v4Form(basic('raw/truncated')))], { data: bytes(5000) });
    for (const cut of [full.length - 1, full.length - 20, full.length - 2000, 200]) {
      const r = await postRaw(full.subarray(0, cut), { piece: 333 });
      expect(r.status, await r.clone().text()).toBe(400);
    }
    expect((await get('raw/truncated')).status).toBe(404);
  });

  it('fields after the file are refused with a clear message, and nothing is stored', async () => {
    for (const n of [100, SMALL_REST + 1000]) {
      const k = `raw/after-${n}`;
      const body = rawBody(
        [['key', k], ...Object.entries(await v4Form(basic(k)))],
        { data: bytes(n) },
        { after: [['x-amz-meta-late', 'v']] },
      );
      await expectError(await postRaw(body, { piece: 4096 }), 400, 'MalformedPOSTRequest', /fields after the file are not accepted/);
      expect((await get(k)).status).toBe(404);
    }
  });

  it('fields beyond 20 KiB before the file are refused', async () => {
    const body = rawBody([['key', key], ['x-ignore-padding', 'p'.repeat(MAX_PRE_DATA)], ...Object.entries(await v4Form(basic(key)))], {
      data: bytes(10),
    });
    await expectError(await postRaw(body, { piece: 1000 }), 400, 'MaxPostPreDataLengthExceeded');
  });

  it('a Content-Length that does not match the body is a 400', async () => {
    const body = rawBody([['key', 'raw/cl'], ...Object.entries(await v4Form(basic('raw/cl')))], { data: bytes(100) });
    const r = await postRaw(body, { contentLength: String(body.length - 3) });
    expect(r.status).toBeGreaterThanOrEqual(400);
    expect(r.status).toBeLessThan(500);
    expect((await get('raw/cl')).status).toBe(404);
  });
});

describe('readForm (the streaming reader on its own)', () => {
  const ct = `multipart/form-data; boundary="${BOUNDARY}"`;

  it('parses fields and streams the file on 1-byte chunks', async () => {
    const data = concat(bytes(2000, 9), `\r\n--${BOUNDARY.slice(0, -2)}`, bytes(10, 1), `\r\n-${BOUNDARY}`);
    const body = rawBody(
      [
        ['key', 'a/${filename}'],
        ['Content-Type', 'text/plain'],
        ['x-amz-meta-ünï', 'välue ✓'],
      ],
      { data, name: 'naïve.txt', type: 'text/x' },
    );
    const form = await readForm(streamOf(body, 1), ct, String(body.length));
    expect(form.fields).toEqual([
      ['key', 'a/${filename}'],
      ['Content-Type', 'text/plain'],
      ['x-amz-meta-ünï', 'välue ✓'],
    ]);
    expect(form.file.filename).toBe('naïve.txt');
    expect(form.file.contentType).toBe('text/x');
    expect(form.file.length).toBe(data.length);
    expect(sameBytes(await readAll(form.file.body), data)).toBe(true);
  });

  it('every chunking of a small body gives the same result', async () => {
    const data = enc('file\r\ncontent--');
    const body = rawBody(
      [
        ['a', '1'],
        ['b', ''],
      ],
      { data },
    );
    for (let split = 1; split < body.length; split++) {
      let first = true;
      const form = await readForm(
        streamOf(body, () => {
          const n = first ? split : 3;
          first = false;
          return n;
        }),
        ct,
        String(body.length),
      );
      expect(form.fields).toEqual([
        ['a', '1'],
        ['b', ''],
      ]);
      expect(sameBytes(await readAll(form.file.body), data)).toBe(true);
    }
  });

  it('accepts a preamble and transport padding after a boundary', async () => {
    const body = concat(
      `preamble\r\n--${BOUNDARY}  \r\nContent-Disposition: form-data; name="k"\r\n\r\nv\r\n--${BOUNDARY}\r\nContent-Disposition: form-data; name="file"\r\n\r\nDATA\r\n--${BOUNDARY}--\r\n`,
    );
    const form = await readForm(streamOf(body, 2), ct, String(body.length));
    expect(form.fields).toEqual([['k', 'v']]);
    expect(form.file.filename).toBe('');
    expect(new TextDecoder().decode(await readAll(form.file.body))).toBe('DATA');
  });

  it('411 without Content-Length; 412 when not multipart/form-data; 400 without a boundary', async () => {
    const body = rawBody([], { data: bytes(1) });
    await expectS3Error(readForm(streamOf(body), ct, null), 'MissingContentLength');
    expect(((await readForm(streamOf(body), ct, null).catch((e: unknown) => e)) as S3Error).status).toBe(411);
    await expectS3Error(readForm(streamOf(body), 'application/x-www-form-urlencoded', '10'), 'PreconditionFailed');
    await expectS3Error(readForm(streamOf(body), 'multipart/form-data', '10'), 'MalformedPOSTRequest');
  });

  it('small files: the CRLF after the closing boundary is optional (workerd FormData omits it); an epilogue is refused', async () => {
    const data = bytes(50);
    for (const closing of [`\r\n--${BOUNDARY}--`, `\r\n--${BOUNDARY}--\r\n`]) {
      const body = rawBody([], { data }, { closing });
      const form = await readForm(streamOf(body, 4), ct, String(body.length));
      expect(form.file.length).toBe(50);
      expect(sameBytes(await readAll(form.file.body), data)).toBe(true);
    }
    const epilogue = rawBody([], { data }, { closing: `\r\n--${BOUNDARY}--\r\nepilogue` });
    await expectS3Error(readForm(streamOf(epilogue, 4), ct, String(epilogue.length)), 'MalformedPOSTRequest');
    const after = rawBody([], { data }, { after: [['late', 'v']] });
    await expectS3Error(
      readForm(streamOf(after, 4), ct, String(after.length)),
      'MalformedPOSTRequest',
      /fields after the file are not accepted/,
    );
  });

  it('large files stream exactly on any chunking, with near-miss delimiters inside', async () => {
    const data = concat(bytes(SMALL_REST, 31), `\r\n--${BOUNDARY.slice(0, -1)}x`, bytes(1000, 32), '\r\n-', `--${BOUNDARY}`);
    const body = rawBody([['k', 'v']], { data });
    for (const piece of [1, 3, 73, 65536]) {
      const form = await readForm(streamOf(body, piece), ct, String(body.length));
      expect(form.file.length).toBe(data.length);
      expect(sameBytes(await readAll(form.file.body), data), `piece ${piece}`).toBe(true);
    }
    // One-byte pieces of a body past the small-form limit: over 30 s on a loaded 2-core machine.
  }, 120_000);

  it('large files: fields after the file, a missing CRLF, an epilogue or a short body error the stream', async () => {
    const data = bytes(SMALL_REST + 10, 33);
    const cases: [Uint8Array, string, RegExp?][] = [
      [rawBody([], { data }, { after: [['late', 'v']] }), 'MalformedPOSTRequest', /fields after the file are not accepted/],
      [rawBody([], { data }, { closing: `\r\n--${BOUNDARY}--` }), 'MalformedPOSTRequest', /must be followed by CRLF/],
      [rawBody([], { data }, { closing: `\r\n--${BOUNDARY}--\r\nepilogue` }), 'MalformedPOSTRequest'],
    ];
    for (const [body, code, msg] of cases) {
      for (const piece of [1000, 7]) {
        const form = await readForm(streamOf(body, piece), ct, String(body.length));
        await expectS3Error(readAll(form.file.body), code, msg);
      }
    }
    // Truncated: the connection ends before Content-Length bytes arrived.
    const body = rawBody([], { data });
    const short = await readForm(streamOf(body.subarray(0, body.length - 5000), 4096), ct, String(body.length));
    await expectS3Error(readAll(short.file.body), 'IncompleteBody');
  });

  it('a body shorter than its Content-Length is IncompleteBody', async () => {
    const body = rawBody([], { data: bytes(500) });
    await expectS3Error(readForm(streamOf(body, 100), ct, String(body.length + 10)), 'IncompleteBody');
  });
});

describe('POST Object acl field', () => {
  it('keeps an owner-only acl (private, bucket-owner-full-control) and refuses a sharing one before storing anything', async () => {
    for (const acl of ['private', 'bucket-owner-full-control']) {
      const key = `acl/${acl}.bin`;
      const r = await post({ key, acl, ...(await v4Form(basic(key, [{ acl }]))) }, { data: bytes(100) });
      expect(r.status, await r.clone().text()).toBe(204);
    }
    for (const acl of ['public-read', 'public-read-write', 'authenticated-read']) {
      const key = `acl/${acl}.bin`;
      const r = await post({ key, acl, ...(await v4Form(basic(key, [{ acl }]))) }, { data: bytes(100) });
      await expectError(r, 400, 'AccessControlListNotSupported', 'The bucket does not allow ACLs');
      expect(await errorCode(await s3('HEAD', `/${B}/${key}`))).toBeUndefined();
      expect((await s3('HEAD', `/${B}/${key}`)).status).toBe(404);
    }
    const key = 'acl/cos-public.bin';
    const r = await post({ key, acl: 'public-read', ...(await cosForm(basic(key, [{ acl: 'public-read' }]))) }, { data: bytes(100) });
    await expectError(r, 400, 'AccessControlListNotSupported');
  });
});

describe('POST Object: tagging and storage class', () => {
  const tagging = '<Tagging><TagSet><Tag><Key>source</Key><Value>form</Value></Tag></TagSet></Tagging>';

  it('the tagging field (a Tagging document) tags the object; x-amz-storage-class STANDARD is accepted', async () => {
    const key = 'v4/tagged.txt';
    const fields = {
      key,
      tagging,
      'x-amz-storage-class': 'STANDARD',
      ...(await v4Form(basic(key, [{ tagging }, { 'x-amz-storage-class': 'STANDARD' }]))),
    };
    const r = await post(fields, { data: enc('tagged') });
    expect(r.status, await r.clone().text()).toBe(204);
    expect((await s3('HEAD', `/${B}/${key}`)).headers.get('x-amz-tagging-count')).toBe('1');
    expect(await (await s3('GET', `/${B}/${key}?tagging`)).text()).toContain('<Tag><Key>source</Key><Value>form</Value></Tag>');
  });

  it('a bad tagging field or another storage class is refused and nothing is stored', async () => {
    const bad = '<Tagging><TagSet><Tag><Key>aws:x</Key><Value>1</Value></Tag></TagSet></Tagging>';
    const k1 = 'v4/bad-tags.txt';
    const r1 = await post({ key: k1, tagging: bad, ...(await v4Form(basic(k1, [{ tagging: bad }]))) }, { data: enc('x') });
    expect(r1.status).toBe(400);
    expect(await errorCode(r1)).toBe('InvalidTag');
    const k2 = 'v4/ia.txt';
    const r2 = await post(
      { key: k2, 'x-amz-storage-class': 'STANDARD_IA', ...(await v4Form(basic(k2, [{ 'x-amz-storage-class': 'STANDARD_IA' }]))) },
      { data: enc('x') },
    );
    expect(r2.status).toBe(400);
    expect(await errorCode(r2)).toBe('InvalidStorageClass');
    for (const k of [k1, k2]) expect((await s3('HEAD', `/${B}/${k}`)).status).toBe(404);
  });
});
