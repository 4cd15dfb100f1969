// A request does exactly what was signed: the attacks of the hardening review,
// each as it was reproduced (one presigned URL, a man in the middle, bad input),
// against the real Worker and the R2 simulator.

import { AwsClient } from 'aws4fetch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cos, kmsSigner } from './helpers/kms';
import { orphans } from './helpers/orphans';
import { bytes, client, errorCode, ORIGIN, rawStore, s3, sha256hex, worker } from './helpers/s3';

const B = 'harden';
const OTHER = 'harden-other';
const HTTPS = 'https://gw.test';
const enc = (s: string) => new TextEncoder().encode(s);
const b64 = (b: Uint8Array) => btoa(String.fromCharCode(...b));
const md5b64 = async (b: Uint8Array | string) => b64(new Uint8Array(await crypto.subtle.digest('MD5', typeof b === 'string' ? enc(b) : b)));

async function put(key: string, body: string, headers: Record<string, string> = {}, bucket = B) {
  const r = await s3('PUT', `/${bucket}/${key}`, { body, headers });
  expect(r.status, await r.clone().text()).toBe(200);
}
const path = (key: string) => key.split('/').map(encodeURIComponent).join('/');
const read = async (key: string, bucket = B) => {
  const r = await s3('GET', `/${bucket}/${path(key)}`);
  return r.status === 200 ? r.text() : `(${r.status})`;
};
const exists = async (key: string) => (await s3('HEAD', `/${B}/${path(key)}`)).status === 200;

/** Sends `signed`'s method, URL and headers (plus `add`) with another body: what a man in the middle or a URL holder can do. */
function resend(signed: Request, body: BodyInit | null, add: Record<string, string> = {}): Promise<Response> {
  const h = new Headers(signed.headers);
  for (const [k, v] of Object.entries(add)) h.set(k, v);
  return worker(new Request(signed.url, { method: signed.method, headers: h, body }));
}

const errorOf = async (r: Response) => {
  const x = await r.text();
  return { status: r.status, code: /<Code>([^<]+)</.exec(x)?.[1], message: /<Message>([^<]*)</.exec(x)?.[1], xml: x };
};

const customerKey = (seed: number) => bytes(32, seed);
async function sseCHeaders(key: Uint8Array, prefix = 'x-amz-server-side-encryption-customer-') {
  return { [`${prefix}algorithm`]: 'AES256', [`${prefix}key`]: b64(key), [`${prefix}key-MD5`]: await md5b64(key) };
}

// Every refusal above happened before anything was stored, or cleaned up after itself.
afterAll(async () => {
  expect(await orphans()).toEqual([]);
});

beforeAll(async () => {
  for (const b of [B, OTHER]) expect((await s3('PUT', `/${b}`)).status).toBe(200);
  await put('payroll.csv', 'name,salary\nalice,100', {}, OTHER);
});

describe('signed means signed', () => {
  it('a presigned PUT URL cannot be turned into a copy by an added x-amz-copy-source', async () => {
    await put('uploads/avatar.png', 'the avatar');
    const url = (await client.sign(`${ORIGIN}/${B}/uploads/avatar.png?X-Amz-Expires=300`, { method: 'PUT', aws: { signQuery: true } })).url;
    expect(new URL(url).searchParams.get('X-Amz-SignedHeaders')).toBe('host');
    const r = await worker(new Request(url, { method: 'PUT', headers: { 'x-amz-copy-source': `/${OTHER}/payroll.csv` } }));
    const e = await errorOf(r);
    expect(e.status).toBe(403);
    expect(e.code).toBe('AccessDenied');
    expect(e.message).toBe('There were headers present in the request which were not signed');
    expect(e.xml).toContain('<HeadersNotSigned>x-amz-copy-source</HeadersNotSigned>');
    expect(await read('uploads/avatar.png')).toBe('the avatar');
    // The same URL still does what it was signed for.
    expect((await worker(new Request(url, { method: 'PUT', body: 'new avatar' }))).status).toBe(200);
    expect(await read('uploads/avatar.png')).toBe('new avatar');
  });

  it('a presigned PUT URL cannot seal its upload under a key its owner never had', async () => {
    const url = (await client.sign(`${HTTPS}/${B}/sealed-by-stranger?X-Amz-Expires=300`, { method: 'PUT', aws: { signQuery: true } })).url;
    const r = await worker(new Request(url, { method: 'PUT', body: 'data', headers: await sseCHeaders(customerKey(7)) }));
    expect((await errorOf(r)).code).toBe('AccessDenied');
    expect(await exists('sealed-by-stranger')).toBe(false);
  });

  it('a header-signed PUT with an injected x-amz-copy-source (or SSE, metadata, MD5 or checksum header) is refused', async () => {
    await put('victim.txt', 'original');
    const signed = await client.sign(`${ORIGIN}/${B}/victim.txt`, { method: 'PUT', body: 'replacement' });
    const injections: Record<string, string>[] = [
      { 'x-amz-copy-source': `/${OTHER}/payroll.csv` },
      { 'x-amz-server-side-encryption': 'aws:kms' },
      { 'x-amz-meta-owner': 'mallory' },
      { 'content-md5': await md5b64('replacement') },
      { 'x-amz-checksum-crc32': 'AAAAAA==' },
      { 'x-cos-copy-source': `/${OTHER}/payroll.csv` },
      { 'x-amz-decoded-content-length': '3' },
    ];
    for (const add of injections) {
      const e = await errorOf(await resend(signed, 'replacement', add));
      expect(e.code, JSON.stringify(add)).toBe('AccessDenied');
      expect(e.xml).toContain(`<HeadersNotSigned>${Object.keys(add)[0]}</HeadersNotSigned>`);
    }
    expect(await read('victim.txt')).toBe('original');
    expect((await resend(signed, 'replacement')).status).toBe(200);
    expect(await read('victim.txt')).toBe('replacement');
  });

  it('COS signatures: an unsigned x-cos-* header is refused, a signed one obeyed', async () => {
    await put('cos-victim.txt', 'original');
    const copy = { 'x-cos-copy-source': `${OTHER}.cos.test/payroll.csv` };
    const e = await errorOf(await cos('PUT', `/${B}/cos-victim.txt`, { headers: copy, unsigned: ['x-cos-copy-source'] }));
    expect(e.code).toBe('AccessDenied');
    expect(e.xml).toContain('<HeadersNotSigned>x-cos-copy-source</HeadersNotSigned>');
    expect(await read('cos-victim.txt')).toBe('original');
    const sse = { 'x-cos-server-side-encryption': 'AES256' };
    expect(
      (await errorOf(await cos('PUT', `/${B}/cos-victim.txt`, { body: 'x', headers: sse, unsigned: ['x-cos-server-side-encryption'] })))
        .code,
    ).toBe('AccessDenied');
    expect((await cos('PUT', `/${B}/cos-victim.txt`, { body: 'signed', headers: sse })).status).toBe(200);
    expect(await read('cos-victim.txt')).toBe('signed');
  });

  it('COS signatures: every query parameter must be signed (response-*, partNumber, uploadId...)', async () => {
    await put('cos-page.html', '<p>hi</p>', { 'content-type': 'text/plain' });
    for (const presign of [false, true]) {
      const e = await errorOf(
        await cos('GET', `/${B}/cos-page.html?response-content-type=text%2Fhtml`, { unsigned: ['response-content-type'], presign }),
      );
      expect(e.code, `presign=${presign}`).toBe('AccessDenied');
      expect(e.xml).toContain('<ParametersNotSigned>response-content-type</ParametersNotSigned>');
      const ok = await cos('GET', `/${B}/cos-page.html?response-content-type=text%2Fhtml`, { presign });
      expect(ok.status).toBe(200);
      expect(ok.headers.get('content-type')).toBe('text/html');
    }
  });

  it('COS key-time windows are capped at 7 days', async () => {
    const now = Math.floor(Date.now() / 1000);
    for (const presign of [false, true]) {
      const century = await errorOf(
        await cos('GET', `/${B}/cos-page.html`, { keyTime: `${now - 60};${now + 100 * 365 * 86400}`, presign }),
      );
      expect(century.status).toBe(400);
      expect(century.code).toBe(presign ? 'AuthorizationQueryParametersError' : 'AuthorizationHeaderMalformed');
      expect((await cos('GET', `/${B}/cos-page.html`, { keyTime: `${now - 60};${now + 7 * 86400 - 120}`, presign })).status).toBe(200);
    }
  });

  it('a presigned URL with a repeated signature parameter is refused', async () => {
    const url = new URL(
      (await client.sign(`${ORIGIN}/${B}/cos-page.html?X-Amz-Expires=300`, { method: 'GET', aws: { signQuery: true } })).url,
    );
    expect((await worker(new Request(url))).status).toBe(200);
    for (const name of ['X-Amz-Signature', 'X-Amz-Credential', 'X-Amz-SignedHeaders']) {
      const twice = new URL(url);
      twice.searchParams.append(name, twice.searchParams.get(name)!);
      const e = await errorOf(await worker(new Request(twice)));
      expect(e.code, name).toBe('AuthorizationQueryParametersError');
    }
    // A second q-signature or q-ak on a COS signature, likewise.
    for (const presign of [false, true]) {
      for (const repeat of ['q-signature', 'q-ak']) {
        const e = await errorOf(await cos('GET', `/${B}/cos-page.html`, { presign, repeat }));
        expect(e.code, `${repeat} presign=${presign}`).toBe(presign ? 'AuthorizationQueryParametersError' : 'AuthorizationHeaderMalformed');
      }
    }
  });
});

describe('every body is bound to its signature', () => {
  it('DeleteObjects signed for one key cannot delete another', async () => {
    await put('decoy', 'd');
    await put('keep-me', 'k');
    const signedBody = '<Delete><Object><Key>decoy</Key></Object></Delete>';
    const swapped = '<Delete><Object><Key>keep-me</Key></Object></Delete>';
    const signed = await client.sign(`${ORIGIN}/${B}?delete`, {
      method: 'POST',
      body: signedBody,
      headers: { 'x-amz-content-sha256': await sha256hex(enc(signedBody)), 'content-md5': await md5b64(signedBody) },
    });
    // Both digests were of the signed body; whichever is checked first refuses the swap.
    const e = await errorOf(await resend(signed, swapped));
    expect(['XAmzContentSHA256Mismatch', 'BadDigest']).toContain(e.code);
    const shaOnly = await client.sign(`${ORIGIN}/${B}?delete`, {
      method: 'POST',
      body: signedBody,
      headers: { 'x-amz-content-sha256': await sha256hex(enc(signedBody)) },
    });
    expect((await errorOf(await resend(shaOnly, swapped))).code).toBe('XAmzContentSHA256Mismatch');
    expect(await exists('keep-me')).toBe(true);
    expect(await exists('decoy')).toBe(true);
    expect((await resend(signed, signedBody)).status).toBe(200);
    expect(await exists('decoy')).toBe(false);
  });

  it('an unsigned DeleteObjects body must carry a signed Content-MD5 or checksum, and match it', async () => {
    await put('md5-bound', 'x');
    const body = '<Delete><Object><Key>md5-bound</Key></Object></Delete>';
    expect(await errorCode(await s3('POST', `/${B}?delete`, { body }))).toBe('InvalidRequest');
    const signed = await client.sign(`${ORIGIN}/${B}?delete`, { method: 'POST', body, headers: { 'content-md5': await md5b64(body) } });
    expect((await errorOf(await resend(signed, body.replace('md5-bound', 'keep-me')))).code).toBe('BadDigest');
    expect(await exists('keep-me')).toBe(true);
    expect((await resend(signed, body)).status).toBe(200);
    expect(await exists('md5-bound')).toBe(false);
  });

  it('a swapped PutBucketEncryption body is not applied', async () => {
    const cfg = (alg: string) =>
      `<ServerSideEncryptionConfiguration><Rule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>${alg}</SSEAlgorithm></ApplyServerSideEncryptionByDefault></Rule></ServerSideEncryptionConfiguration>`;
    const signed = await client.sign(`${ORIGIN}/${B}?encryption`, {
      method: 'PUT',
      body: cfg('AES256'),
      headers: { 'x-amz-content-sha256': await sha256hex(enc(cfg('AES256'))) },
    });
    expect((await errorOf(await resend(signed, cfg('aws:kms')))).code).toBe('XAmzContentSHA256Mismatch');
    expect((await s3('GET', `/${B}?encryption`)).status).toBe(404);
    expect((await resend(signed, cfg('AES256'))).status).toBe(200);
    expect(await (await s3('GET', `/${B}?encryption`)).text()).toContain('<SSEAlgorithm>AES256</SSEAlgorithm>');
    expect((await s3('DELETE', `/${B}?encryption`)).status).toBe(204);
  });

  it('whole-read bodies are capped as the bytes arrive, whatever Content-Length says', async () => {
    let pulled = 0;
    const big = new ReadableStream<Uint8Array>({
      pull(c) {
        if (pulled >= 20 * 1024 * 1024) return c.close();
        pulled += 65536;
        c.enqueue(new Uint8Array(65536).fill(0x20));
      },
    });
    const signed = await client.sign(`${ORIGIN}/${B}?delete`, { method: 'POST', headers: { 'content-md5': await md5b64('x') }, body: 'x' });
    const e = await errorOf(await resend(signed, big));
    expect(e.code).toBe('MaxMessageLengthExceeded');
    expect(pulled).toBeLessThan(4 * 1024 * 1024);
  });
});

describe('the KMS API acts on the signed body only', () => {
  const target = (op: string) => ({ 'x-amz-target': `TrentService.${op}`, 'content-type': 'application/x-amz-json-1.1' });
  const kmsError = async (r: Response) => ((await r.json()) as { __type: string }).__type;

  it('refuses a body other than the signed one, and unsigned or streaming payloads', async () => {
    const signed = await kmsSigner.sign(`${ORIGIN}/`, { method: 'POST', body: '{"Description":"mine"}', headers: target('CreateKey') });
    expect(await kmsError(await resend(signed, '{"Description":"theirs"}'))).toBe('InvalidSignatureException');
    for (const hash of ['UNSIGNED-PAYLOAD', 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD', 'STREAMING-UNSIGNED-PAYLOAD-TRAILER']) {
      const s = await kmsSigner.sign(`${ORIGIN}/`, {
        method: 'POST',
        body: '{}',
        headers: { ...target('ListKeys'), 'x-amz-content-sha256': hash },
      });
      expect(await kmsError(await worker(s)), hash).toBe('InvalidSignatureException');
    }
    const declared = await kmsSigner.sign(`${ORIGIN}/`, {
      method: 'POST',
      body: '{}',
      headers: { ...target('ListKeys'), 'x-amz-content-sha256': await sha256hex(enc('{}')) },
    });
    expect((await worker(declared)).status).toBe(200);
  });

  it('answers an unknown access key before reading any of the body, and caps the body as it arrives', async () => {
    const stream = (limit: number, seen: { n: number }) =>
      new ReadableStream<Uint8Array>({
        pull(c) {
          if (seen.n >= limit) return c.close();
          seen.n += 65536;
          c.enqueue(new Uint8Array(65536).fill(0x20));
        },
      });
    const stranger = new AwsClient({ accessKeyId: 'AKIDNOBODY', secretAccessKey: 'x'.repeat(32), service: 'kms', region: 'us-east-1' });
    const unknown = { n: 0 };
    const s = await stranger.sign(`${ORIGIN}/`, { method: 'POST', body: '{}', headers: target('ListKeys') });
    expect(await kmsError(await resend(s, stream(256 * 1024 * 1024, unknown)))).toBe('UnrecognizedClientException');
    expect(unknown.n).toBeLessThan(1024 * 1024);

    const known = { n: 0 };
    const k = await kmsSigner.sign(`${ORIGIN}/`, { method: 'POST', body: '{}', headers: target('ListKeys') });
    expect(await kmsError(await resend(k, stream(32 * 1024 * 1024, known)))).toBe('ValidationException');
    expect(known.n).toBeLessThan(1024 * 1024);
  });
});

describe('XML values exactly as sent', () => {
  const deleteXml = (keys: string[], extra = '') =>
    `<?xml version="1.0" encoding="UTF-8"?>\n${extra}<Delete>\n  ${keys.map((k) => `<Object><Key>${k}</Key></Object>`).join('\n  ')}\n  <Quiet>false</Quiet>\n</Delete>`;
  const del = (body: string) => s3('POST', `/${B}?delete`, { body, signBody: true });

  it('deletes keys with leading, trailing and only whitespace, never their trimmed twins', async () => {
    const keys = ['ws', 'ws ', ' ws', ' ', '  ', 'tab\t'];
    for (const k of keys) await put(path(k), `content of [${k}]`);
    for (const k of keys) expect(await read(k), JSON.stringify(k)).toBe(`content of [${k}]`);

    const r = await del(deleteXml(['ws ']));
    expect(r.status).toBe(200);
    expect(await r.text()).toContain('<Deleted><Key>ws </Key></Deleted>');
    expect(await exists('ws ')).toBe(false);
    for (const k of ['ws', ' ws', ' ', '  ']) expect(await read(k), JSON.stringify(k)).toBe(`content of [${k}]`);

    expect((await del(deleteXml([' ']))).status).toBe(200);
    expect(await read(' ')).toBe('(404)');
    expect(await read('  ')).toBe('content of [  ]');
    expect((await del(deleteXml(['  ', ' ws', 'ws', 'tab\t']))).status).toBe(200);
    for (const k of keys) expect(await read(k)).toBe('(404)');
  });

  it('refuses a DOCTYPE, so no entity ever expands into a key', async () => {
    await put('expanded', 'still here');
    const internal = deleteXml(['&e;'], '<!DOCTYPE Delete [<!ENTITY e "expanded">]>\n');
    expect(await errorCode(await del(internal))).toBe('MalformedXML');
    const external = deleteXml(['&e;'], '<!DOCTYPE Delete [<!ENTITY e SYSTEM "file:///etc/passwd">]>\n');
    expect(await errorCode(await del(external))).toBe('MalformedXML');
    expect(await errorCode(await del(deleteXml(['&nbsp;'])))).toBe('MalformedXML');
    expect(await read('expanded')).toBe('still here');
  });

  it('decodes character references: Go clients write the quotes of an ETag as &#34;', async () => {
    const init = await s3('POST', `/${B}/go-client?uploads`);
    const id = /<UploadId>([^<]+)</.exec(await init.text())![1];
    const part = await s3('PUT', `/${B}/go-client?partNumber=1&uploadId=${id}`, { body: 'made by Go' });
    const etag = part.headers.get('etag')!.replace(/"/g, '');
    const body = `<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>&#34;${etag}&#x22;</ETag></Part></CompleteMultipartUpload>`;
    const done = await s3('POST', `/${B}/go-client?uploadId=${id}`, { body, signBody: true });
    expect(done.status, await done.clone().text()).toBe(200);
    expect(await read('go-client')).toBe('made by Go');
  });

  it('part numbers in CompleteMultipartUpload are decimal integers from 1 to 10,000', async () => {
    const init = await s3('POST', `/${B}/part-numbers?uploads`);
    const id = /<UploadId>([^<]+)</.exec(await init.text())![1];
    const etag = (await s3('PUT', `/${B}/part-numbers?partNumber=1&uploadId=${id}`, { body: 'p' })).headers.get('etag')!;
    for (const n of ['1.0', '0x1', '1e0', ' 1', '+1', '0', '10001', '']) {
      const body = `<CompleteMultipartUpload><Part><PartNumber>${n}</PartNumber><ETag>${etag}</ETag></Part></CompleteMultipartUpload>`;
      const code = await errorCode(await s3('POST', `/${B}/part-numbers?uploadId=${id}`, { body, signBody: true }));
      expect(code, JSON.stringify(n)).toBe(/^\d+$/.test(n) ? 'InvalidArgument' : 'MalformedXML');
    }
    for (const q of ['1.0', '0x1', '1e0', '01x']) {
      expect(await errorCode(await s3('PUT', `/${B}/part-numbers?partNumber=${q}&uploadId=${id}`, { body: 'p' })), q).toBe(
        'InvalidArgument',
      );
    }
  });
});

describe('bad input gets a precise error', () => {
  it('keys too long for the layout are refused with KeyTooLongError before any data is written', async () => {
    const before = (await rawStore().list({ prefix: 'd/' })).objects.length;
    // R2 keys hold 1,024 bytes; the record entry "o/<bucket>/" takes its share.
    const limit = 1024 - `o/${B}/`.length;
    const tooLong = 'k'.repeat(limit + 1);
    for (const [m, q] of [
      ['PUT', ''],
      ['POST', '?uploads'],
      ['GET', ''],
      ['HEAD', ''],
      ['DELETE', ''],
    ]) {
      const r = await s3(m, `/${B}/${tooLong}${q}`, { body: m === 'PUT' ? 'data' : null });
      expect(r.status, m).toBe(400);
      if (m !== 'HEAD') expect(await errorCode(r), m).toBe('KeyTooLongError');
    }
    expect((await rawStore().list({ prefix: 'd/' })).objects.length).toBe(before);
    await put('k'.repeat(limit), 'fits');
    expect(await read('k'.repeat(limit))).toBe('fits');
  });

  it('DeleteObjects validates each key and reports generic per-key errors', async () => {
    await put('fine', 'x');
    const r = await s3('POST', `/${B}?delete`, {
      body: `<Delete><Object><Key>${'k'.repeat(1100)}</Key></Object><Object><Key>fine</Key></Object></Delete>`,
      signBody: true,
    });
    const x = await r.text();
    expect(r.status).toBe(200);
    expect(x).toContain('<Deleted><Key>fine</Key></Deleted>');
    expect(x).toMatch(/<Error><Key>k+<\/Key><Code>KeyTooLongError<\/Code><Message>Your key is too long.<\/Message><\/Error>/);
    expect(
      await errorCode(await s3('POST', `/${B}?delete`, { body: '<Delete><Object><Key></Key></Object></Delete>', signBody: true })),
    ).toBe('MalformedXML');
    const many = `<Delete>${'<Object><Key>x</Key></Object>'.repeat(1001)}</Delete>`;
    expect(await errorCode(await s3('POST', `/${B}?delete`, { body: many, signBody: true }))).toBe('MalformedXML');
  });

  it('a record with a malformed size is an integrity error, not an unhandled one', async () => {
    await put('bad-size', 'twelve bytes');
    const o = (await rawStore().get(`o/${B}/bad-size`))!;
    const body = new Uint8Array(await o.arrayBuffer());
    for (const size of ['twelve', '-1', '1e3', '', '99999999999999999999']) {
      await rawStore().put(`o/${B}/bad-size`, body, {
        customMetadata: { ...o.customMetadata, 'sb-size': size },
        httpMetadata: o.httpMetadata,
      });
      const g = await s3('GET', `/${B}/bad-size`);
      expect(g.status, size).toBe(500);
      expect(await g.text()).toContain('integrity check');
      expect((await s3('HEAD', `/${B}/bad-size`)).status).toBe(500);
    }
    // Listings still show the object (with what can be said of it).
    expect(await (await s3('GET', `/${B}?prefix=bad-size`)).text()).toContain('<Key>bad-size</Key>');
  });

  it('bytes appended to a stored data entry are an integrity error, sealed or not', async () => {
    for (const sse of ['AES256', 'none']) {
      const key = `appended-${sse}`;
      const data = bytes(1000, 3);
      const r = await s3('PUT', `/${B}/${key}`, {
        body: data,
        headers: sse === 'AES256' ? { 'x-amz-server-side-encryption': 'AES256' } : {},
      });
      expect(r.status).toBe(200);
      if (sse === 'none') {
        // Only objects written unsealed (DEFAULT_SSE = none) have a plaintext data entry; make one by hand.
        const o = (await rawStore().head(`o/${B}/${key}`))!;
        const { 'sb-env': _, ...custom } = o.customMetadata!;
        const rec = (await rawStore().get(`o/${B}/${key}`))!;
        await rawStore().put(`o/${B}/${key}`, await rec.arrayBuffer(), { customMetadata: custom, httpMetadata: o.httpMetadata });
        await rawStore().put(`d/${custom['sb-data']}`, data);
        expect(await (await s3('GET', `/${B}/${key}`)).text()).toBe(new TextDecoder().decode(data));
      }
      const dataKey = `d/${(await rawStore().head(`o/${B}/${key}`))!.customMetadata!['sb-data']}`;
      const stored = new Uint8Array(await (await rawStore().get(dataKey))!.arrayBuffer());
      const longer = new Uint8Array(stored.length + 5);
      longer.set(stored);
      await rawStore().put(dataKey, longer);
      const g = await s3('GET', `/${B}/${key}`);
      expect(g.status, sse).toBe(500);
      expect(await g.text()).toContain('integrity check');
      const ranged = await s3('GET', `/${B}/${key}`, { headers: { range: 'bytes=0-9' } });
      expect(ranged.status, sse).toBe(500);
      await ranged.body?.cancel();
    }
  });
});
