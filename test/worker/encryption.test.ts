import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { app } from '../../src/app';
import { bytes, client, errorCode, ORIGIN, rawStore, s3 } from './helpers/s3';

const B = 'enc-bucket';

/** The same Worker with DEFAULT_SSE = "none", as an operator could configure it. */
async function plainDefault(method: string, path: string, init: { body?: string; headers?: Record<string, string>; origin?: string } = {}) {
  // Called without the HTTP layer, so Content-Length is set here as a client would send it.
  const headers = {
    ...init.headers,
    ...(init.body !== undefined ? { 'content-length': String(new TextEncoder().encode(init.body).length) } : {}),
  };
  const req = await client.sign((init.origin ?? ORIGIN) + path, { method, body: init.body ?? null, headers });
  return app.fetch(req, { ...(env as object), DEFAULT_SSE: 'none' });
}

const cfgXml = (alg: string, extra = '') =>
  `<ServerSideEncryptionConfiguration><Rule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>${alg}</SSEAlgorithm></ApplyServerSideEncryptionByDefault>${extra}</Rule></ServerSideEncryptionConfiguration>`;

const rawData = async (key: string) => {
  const rec = await rawStore().head(`o/${B}/${key}`);
  return new TextDecoder().decode(await (await rawStore().get(`d/${rec!.customMetadata!['sb-data']}`))!.arrayBuffer());
};

beforeAll(async () => {
  expect((await s3('PUT', `/${B}`)).status).toBe(200);
});

describe('DEFAULT_SSE = "none"', () => {
  it('stores writes that name no encryption in plaintext and reports them unencrypted', async () => {
    const p = await plainDefault('PUT', `/${B}/plain.txt`, { body: 'visible text' });
    expect(p.status).toBe(200);
    expect(p.headers.get('x-amz-server-side-encryption')).toBeNull();
    const h = await plainDefault('HEAD', `/${B}/plain.txt`);
    expect(h.headers.get('x-amz-server-side-encryption')).toBeNull();
    expect(await rawData('plain.txt')).toBe('visible text');
    // Ranges on plaintext objects read straight from the store.
    const g = await plainDefault('GET', `/${B}/plain.txt`, { headers: { range: 'bytes=8-11' } });
    expect(await g.text()).toBe('text');
    // An explicit header still seals.
    await plainDefault('PUT', `/${B}/asked.txt`, { body: 'sealed text', headers: { 'x-amz-server-side-encryption': 'AES256' } });
    expect(await rawData('asked.txt')).not.toContain('sealed text');
  });
});

describe('bucket default encryption', () => {
  it('answers 404 ServerSideEncryptionConfigurationNotFoundError when none is set', async () => {
    const r = await s3('GET', `/${B}?encryption`);
    expect(r.status).toBe(404);
    expect(await errorCode(r)).toBe('ServerSideEncryptionConfigurationNotFoundError');
  });

  it('applies the bucket default to writes that name none (S3 form), and not to existing objects', async () => {
    await plainDefault('PUT', `/${B}/before.txt`, { body: 'written before the default' });
    const put = await s3('PUT', `/${B}?encryption`, { body: cfgXml('AES256', '<BucketKeyEnabled>true</BucketKeyEnabled>') });
    expect(put.status, await put.clone().text()).toBe(200);
    const got = await (await s3('GET', `/${B}?encryption`)).text();
    expect(got).toContain('<SSEAlgorithm>AES256</SSEAlgorithm>');
    expect(got).toContain('<BucketKeyEnabled>true</BucketKeyEnabled>');

    const p = await plainDefault('PUT', `/${B}/after.txt`, { body: 'written after the default' });
    expect(p.headers.get('x-amz-server-side-encryption')).toBe('AES256');
    expect(await rawData('after.txt')).not.toContain('written after');
    expect(await rawData('before.txt')).toBe('written before the default');

    // Multipart and copy follow the default too.
    const id = /<UploadId>([^<]+)</.exec(await (await plainDefault('POST', `/${B}/mp.txt?uploads`)).text())![1];
    const part = await plainDefault('PUT', `/${B}/mp.txt?partNumber=1&uploadId=${id}`, { body: 'multipart body' });
    expect(part.headers.get('x-amz-server-side-encryption')).toBe('AES256');
    const c = await plainDefault('PUT', `/${B}/copied.txt`, { headers: { 'x-amz-copy-source': `/${B}/before.txt` } });
    expect(c.headers.get('x-amz-server-side-encryption')).toBe('AES256');
    expect(await rawData('copied.txt')).not.toContain('written before');

    expect((await s3('DELETE', `/${B}?encryption`)).status).toBe(204);
    expect((await s3('GET', `/${B}?encryption`)).status).toBe(404);
    const again = await plainDefault('PUT', `/${B}/after-delete.txt`, { body: 'plain again' });
    expect(again.headers.get('x-amz-server-side-encryption')).toBeNull();
  });

  it('accepts the COS form and refuses SSE-C or unknown algorithms as defaults', async () => {
    expect((await s3('PUT', `/${B}?encryption`, { body: cfgXml('AES256') })).status).toBe(200);
    for (const alg of ['SSE-C', 'AES128'])
      expect(await errorCode(await s3('PUT', `/${B}?encryption`, { body: cfgXml(alg) }))).toBe('InvalidArgument');
    expect(await errorCode(await s3('PUT', `/${B}?encryption`, { body: '<ServerSideEncryptionConfiguration><Rule>' }))).toBe(
      'MalformedXML',
    );
    expect(await errorCode(await s3('PUT', `/${B}?encryption`, { body: '<ServerSideEncryptionConfiguration/>' }))).toBe('MalformedXML');
    expect(await errorCode(await s3('GET', `/no-such-bucket-enc?encryption`))).toBe('NoSuchBucket');
  });

  it('refuses blocked encryption types with 403 AccessDenied', async () => {
    const blocked = '<BlockedEncryptionTypes><EncryptionType>SSE-C</EncryptionType></BlockedEncryptionTypes>';
    expect((await s3('PUT', `/${B}?encryption`, { body: cfgXml('AES256', blocked) })).status).toBe(200);
    expect(await (await s3('GET', `/${B}?encryption`)).text()).toContain('<EncryptionType>SSE-C</EncryptionType>');
    const key = bytes(32, 9);
    const headers = {
      'x-amz-server-side-encryption-customer-algorithm': 'AES256',
      'x-amz-server-side-encryption-customer-key': btoa(String.fromCharCode(...key)),
      'x-amz-server-side-encryption-customer-key-md5': btoa(String.fromCharCode(...new Uint8Array(await crypto.subtle.digest('MD5', key)))),
    };
    const r = await s3('PUT', `/${B}/ssec`, { body: 'x', headers, origin: 'https://gw.test' });
    expect(r.status).toBe(403);
    expect(await errorCode(r)).toBe('AccessDenied');
    expect((await s3('PUT', `/${B}/cos`, { body: 'x' })).status).toBe(200);
    await s3('DELETE', `/${B}?encryption`);
  });
});
