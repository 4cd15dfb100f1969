// CORS (the document, rule matching, preflights, headers on actual responses) and ACLs
// (owner-only, sharing refused), through the Worker itself.

import { beforeAll, describe, expect, it } from 'vitest';
import { checkAclBody, checkAclHeaders } from '../../src/s3/acl';
import { corsHeaders, matchRule, parseCorsConfiguration, requestedHeaders, wildcardMatch } from '../../src/s3/cors';
import { S3Error } from '../../src/s3/protocol/errors';
import { TEST_BINDINGS } from './helpers/bindings';
import { errorCode, ORIGIN, rawStore, s3, worker } from './helpers/s3';

const B = 'cors-acl-bucket';
const OWNER = TEST_BINDINGS.ACCESS_KEY_ID;
const APP = 'https://app.example';

const rule = (inner: string) => `<CORSRule>${inner}</CORSRule>`;
const config = (...rules: string[]) =>
  `<CORSConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${rules.join('')}</CORSConfiguration>`;

async function md5b64(s: string): Promise<string> {
  const d = new Uint8Array(await crypto.subtle.digest('MD5', new TextEncoder().encode(s)));
  return btoa(String.fromCharCode(...d));
}

/** PutBucketCors with the Content-MD5 S3 asks for. */
async function putCors(bucket: string, body: string) {
  return s3('PUT', `/${bucket}?cors`, { body, headers: { 'content-md5': await md5b64(body) } });
}

/** An unsigned preflight, as a browser sends it. */
const preflight = (path: string, headers: Record<string, string>) => worker(new Request(ORIGIN + path, { method: 'OPTIONS', headers }));

/** The S3 error an S3Error-throwing call ends in: [code, message]. */
function refusal(f: () => unknown): [string, string] {
  try {
    f();
  } catch (e) {
    if (e instanceof S3Error) return [e.code, e.message];
    throw e;
  }
  throw new Error('no refusal');
}

beforeAll(async () => {
  expect((await s3('PUT', `/${B}`)).status).toBe(200);
});

describe('the CORS document', () => {
  it('parses every member, keeping what was sent', () => {
    const rules = parseCorsConfiguration(
      config(
        rule(
          '<ID>upload</ID><AllowedOrigin>https://*.example.com</AllowedOrigin><AllowedOrigin>http://localhost:3000</AllowedOrigin>' +
            '<AllowedMethod>PUT</AllowedMethod><AllowedMethod>GET</AllowedMethod><AllowedHeader>x-amz-*</AllowedHeader>' +
            '<AllowedHeader>Content-Type</AllowedHeader><ExposeHeader>ETag</ExposeHeader><MaxAgeSeconds>3000</MaxAgeSeconds>',
        ),
        rule('<AllowedOrigin>*</AllowedOrigin><AllowedMethod>HEAD</AllowedMethod>'),
      ),
    );
    expect(rules).toEqual([
      {
        id: 'upload',
        origins: ['https://*.example.com', 'http://localhost:3000'],
        methods: ['PUT', 'GET'],
        headers: ['x-amz-*', 'Content-Type'],
        expose: ['ETag'],
        maxAge: 3000,
      },
      { origins: ['*'], methods: ['HEAD'], headers: [], expose: [] },
    ]);
  });

  it('refuses what S3 refuses, with its codes and messages', () => {
    const only = (inner: string) => refusal(() => parseCorsConfiguration(config(rule(inner))));
    const ok = '<AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod>';
    expect(refusal(() => parseCorsConfiguration(config()))[0]).toBe('MalformedXML');
    expect(refusal(() => parseCorsConfiguration('<CORSConfiguration>'))[0]).toBe('MalformedXML');
    expect(only('<AllowedMethod>GET</AllowedMethod>')[0]).toBe('MalformedXML');
    expect(only('<AllowedOrigin>*</AllowedOrigin>')[0]).toBe('MalformedXML');
    expect(only('<AllowedOrigin>*</AllowedOrigin><AllowedMethod>PATCH</AllowedMethod>')).toEqual([
      'InvalidRequest',
      'Found unsupported HTTP method in CORS config. Unsupported method is PATCH',
    ]);
    expect(only('<AllowedOrigin>*</AllowedOrigin><AllowedMethod>get</AllowedMethod>')[0]).toBe('InvalidRequest');
    expect(only('<AllowedOrigin>*example*.com</AllowedOrigin><AllowedMethod>GET</AllowedMethod>')).toEqual([
      'InvalidRequest',
      'AllowedOrigin "*example*.com" can not have more than one wildcard.',
    ]);
    expect(only(`${ok}<AllowedHeader>x-*-*</AllowedHeader>`)).toEqual([
      'InvalidRequest',
      'AllowedHeader "x-*-*" can not have more than one wildcard.',
    ]);
    expect(only(`${ok}<ExposeHeader>x-amz-*</ExposeHeader>`)[1]).toBe(
      'ExposeHeader "x-amz-*" contains wildcard. We currently do not support wildcard for ExposeHeader.',
    );
    expect(only(`${ok}<MaxAgeSeconds>-1</MaxAgeSeconds>`)[0]).toBe('MalformedXML');
    expect(only(`${ok}<MaxAgeSeconds>1</MaxAgeSeconds><MaxAgeSeconds>2</MaxAgeSeconds>`)[0]).toBe('MalformedXML');
    expect(only(`${ok}<ID>${'i'.repeat(256)}</ID>`)[0]).toBe('InvalidArgument');
    expect(refusal(() => parseCorsConfiguration(config(...Array(101).fill(rule(ok)))))[0]).toBe('MalformedXML');
    expect(parseCorsConfiguration(config(...Array(100).fill(rule(ok))))).toHaveLength(100);
  });
});

describe('rule matching', () => {
  it('matches origins whole, with one * for any run of characters (none included)', () => {
    expect(wildcardMatch('https://*.example.com', 'https://a.b.example.com')).toBe(true);
    expect(wildcardMatch('https://*.example.com', 'https://example.com')).toBe(false);
    expect(wildcardMatch('*suffix', 'suffix')).toBe(true);
    expect(wildcardMatch('start*end', 'startend')).toBe(true);
    expect(wildcardMatch('start*end', '0start12end')).toBe(false);
    expect(wildcardMatch('prefix*', 'bla.prefix')).toBe(false);
    expect(wildcardMatch('http://a.example', 'http://a.example/')).toBe(false);
    expect(wildcardMatch('http://a.example', 'https://a.example')).toBe(false);
    expect(wildcardMatch('X-Amz-*', 'x-amz-date')).toBe(true);
  });

  it('uses the first rule allowing the origin, the method and every requested header', () => {
    const rules = parseCorsConfiguration(
      config(
        rule('<ID>get</ID><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod>'),
        rule(`<ID>app</ID><AllowedOrigin>${APP}</AllowedOrigin><AllowedMethod>PUT</AllowedMethod><AllowedMethod>GET</AllowedMethod>
          <AllowedHeader>content-type</AllowedHeader><AllowedHeader>x-amz-*</AllowedHeader>`),
      ),
    );
    expect(matchRule(rules, APP, 'GET')?.id).toBe('get');
    expect(matchRule(rules, APP, 'GET', ['content-type'])?.id).toBe('app');
    expect(matchRule(rules, APP, 'PUT', requestedHeaders('Content-Type,X-Amz-Date, x-amz-meta-a'))?.id).toBe('app');
    expect(matchRule(rules, APP, 'PUT', ['authorization'])).toBeUndefined();
    expect(matchRule(rules, 'https://evil.example', 'PUT')).toBeUndefined();
    expect(matchRule(rules, APP, 'DELETE')).toBeUndefined();
  });

  it('answers * without credentials for a rule open to every origin, and echoes the origin with credentials otherwise', () => {
    const [any, app] = parseCorsConfiguration(
      config(
        rule('<AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod>'),
        rule(`<AllowedOrigin>${APP}</AllowedOrigin><AllowedMethod>GET</AllowedMethod><AllowedMethod>PUT</AllowedMethod>
          <AllowedHeader>*</AllowedHeader><ExposeHeader>ETag</ExposeHeader><ExposeHeader>x-amz-request-id</ExposeHeader>
          <MaxAgeSeconds>600</MaxAgeSeconds>`),
      ),
    );
    expect(corsHeaders(any, APP)).toEqual({
      'access-control-allow-origin': '*',
      'access-control-allow-methods': 'GET',
      vary: 'Origin, Access-Control-Request-Headers, Access-Control-Request-Method',
    });
    expect(corsHeaders(app, APP, ['content-type', 'x-amz-date'])).toEqual({
      'access-control-allow-origin': APP,
      'access-control-allow-methods': 'GET, PUT',
      'access-control-allow-credentials': 'true',
      'access-control-allow-headers': 'content-type, x-amz-date',
      'access-control-expose-headers': 'ETag, x-amz-request-id',
      'access-control-max-age': '600',
      vary: 'Origin, Access-Control-Request-Headers, Access-Control-Request-Method',
    });
  });
});

describe('Put/Get/DeleteBucketCors', () => {
  it('stores, answers and deletes the configuration; 404 NoSuchCORSConfiguration when there is none', async () => {
    const b = 'cors-crud';
    expect((await s3('PUT', `/${b}`)).status).toBe(200);
    const none = await s3('GET', `/${b}?cors`);
    expect(none.status).toBe(404);
    const text = await none.text();
    expect(text).toContain('<Code>NoSuchCORSConfiguration</Code>');
    expect(text).toContain('<Message>The CORS configuration does not exist</Message>');
    expect(text).toContain(`<BucketName>${b}</BucketName>`);
    expect((await s3('DELETE', `/${b}?cors`)).status).toBe(204);

    const put = await putCors(
      b,
      config(rule(`<ID>r1</ID><AllowedOrigin>${APP}</AllowedOrigin><AllowedMethod>GET</AllowedMethod><MaxAgeSeconds>5</MaxAgeSeconds>`)),
    );
    expect(put.status, await put.clone().text()).toBe(200);
    const got = await s3('GET', `/${b}?cors`);
    expect(got.status).toBe(200);
    expect(await got.text()).toContain(
      `<CORSRule><ID>r1</ID><AllowedMethod>GET</AllowedMethod><AllowedOrigin>${APP}</AllowedOrigin><MaxAgeSeconds>5</MaxAgeSeconds></CORSRule>`,
    );
    expect((await s3('DELETE', `/${b}?cors`)).status).toBe(204);
    expect(await errorCode(await s3('GET', `/${b}?cors`))).toBe('NoSuchCORSConfiguration');
    expect(await errorCode(await s3('GET', '/no-such-cors-bucket?cors'))).toBe('NoSuchBucket');
  });

  it('asks for Content-MD5 (or a checksum) when the body is not signed, and checks it', async () => {
    const body = config(rule('<AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod>'));
    const bare = await s3('PUT', `/${B}?cors`, { body });
    expect(bare.status).toBe(400);
    expect(await bare.text()).toContain('Missing required header for this request: Content-MD5');
    const wrong = await s3('PUT', `/${B}?cors`, { body, headers: { 'content-md5': await md5b64('other') } });
    expect(await errorCode(wrong)).toBe('BadDigest');
    expect((await s3('PUT', `/${B}?cors`, { body, signBody: true })).status).toBe(200);
    expect((await s3('DELETE', `/${B}?cors`)).status).toBe(204);
  });

  it('keeps a rule set too large for the bucket record in a document beside it, and drops it with the configuration', async () => {
    const b = 'cors-large';
    expect((await s3('PUT', `/${b}`)).status).toBe(200);
    const rules = Array.from({ length: 100 }, (_, i) =>
      rule(`<ID>rule-${i}</ID><AllowedOrigin>https://app-${i}.example.com</AllowedOrigin><AllowedMethod>GET</AllowedMethod>`),
    );
    expect((await putCors(b, config(...rules))).status).toBe(200);
    expect(await rawStore().head(`c/${b}/cors`)).not.toBeNull();
    expect((await rawStore().head(`b/${b}`))!.customMetadata!.cors).toBe('doc');
    const got = await (await s3('GET', `/${b}?cors`)).text();
    expect(got.match(/<CORSRule>/g)).toHaveLength(100);
    expect(got).toContain('<ID>rule-99</ID>');
    const last = await preflight(`/${b}/k`, { origin: 'https://app-99.example.com', 'access-control-request-method': 'GET' });
    expect(last.status).toBe(200);
    // A small set again: back in the record, the document gone.
    expect((await putCors(b, config(rule('<AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod>')))).status).toBe(200);
    expect(await rawStore().head(`c/${b}/cors`)).toBeNull();
    expect((await s3('GET', `/${b}?cors`)).status).toBe(200);
    expect((await putCors(b, config(...rules))).status).toBe(200);
    expect((await s3('DELETE', `/${b}?cors`)).status).toBe(204);
    expect(await rawStore().head(`c/${b}/cors`)).toBeNull();
    expect((await s3('DELETE', `/${b}`)).status).toBe(204);
  });
});

describe('preflight OPTIONS (unauthenticated)', () => {
  const b = 'cors-preflight';
  beforeAll(async () => {
    expect((await s3('PUT', `/${b}`)).status).toBe(200);
  });

  it('answers as S3 does before any rule exists', async () => {
    const noOrigin = await preflight(`/${b}/k`, {});
    expect(noOrigin.status).toBe(400);
    const t = await noOrigin.text();
    expect(t).toContain('<Code>BadRequest</Code>');
    expect(t).toContain('<Message>Insufficient information. Origin request header needed.</Message>');
    const disabled = await preflight(`/${b}/k`, { origin: APP, 'access-control-request-method': 'PUT' });
    expect(disabled.status).toBe(403);
    const d = await disabled.text();
    expect(d).toContain('<Code>AccessForbidden</Code>');
    expect(d).toContain('<Message>CORSResponse: CORS is not enabled for this bucket.</Message>');
    expect(d).toContain('<Method>PUT</Method><ResourceType>BUCKET</ResourceType>');
    const missing = await preflight('/no-such-preflight-bucket/k', { origin: APP, 'access-control-request-method': 'GET' });
    expect(missing.status).toBe(403);
    expect(await missing.text()).toContain('CORSResponse: Bucket not found');
  });

  it('answers 200 with the rule, 403 when no rule allows the origin, method or headers, 400 without a method', async () => {
    const cfg = config(
      rule(`<AllowedOrigin>${APP}</AllowedOrigin><AllowedMethod>PUT</AllowedMethod><AllowedMethod>GET</AllowedMethod>
        <AllowedHeader>content-type</AllowedHeader><AllowedHeader>x-amz-*</AllowedHeader><ExposeHeader>ETag</ExposeHeader>
        <MaxAgeSeconds>3000</MaxAgeSeconds>`),
    );
    expect((await putCors(b, cfg)).status).toBe(200);
    const ok = await preflight(`/${b}/dir/k?X-Amz-Signature=whatever`, {
      origin: APP,
      'access-control-request-method': 'PUT',
      'access-control-request-headers': 'content-type,x-amz-meta-note',
    });
    expect(ok.status).toBe(200);
    expect(await ok.text()).toBe('');
    expect(Object.fromEntries([...ok.headers].filter(([k]) => k.startsWith('access-control-') || k === 'vary'))).toEqual({
      'access-control-allow-origin': APP,
      'access-control-allow-methods': 'PUT, GET',
      'access-control-allow-credentials': 'true',
      'access-control-allow-headers': 'content-type, x-amz-meta-note',
      'access-control-expose-headers': 'ETag',
      'access-control-max-age': '3000',
      vary: 'Origin, Access-Control-Request-Headers, Access-Control-Request-Method',
    });
    const refusedPreflights: Record<string, string>[] = [
      { origin: 'https://evil.example', 'access-control-request-method': 'PUT' },
      { origin: APP, 'access-control-request-method': 'DELETE' },
      { origin: APP, 'access-control-request-method': 'PUT', 'access-control-request-headers': 'authorization' },
    ];
    for (const h of refusedPreflights) {
      const r = await preflight(`/${b}/dir/k`, h);
      expect(r.status).toBe(403);
      expect(r.headers.get('access-control-allow-origin')).toBeNull();
      const t = await r.text();
      expect(t).toContain(
        '<Message>CORSResponse: This CORS request is not allowed. This is usually because the evalution of Origin, request method / Access-Control-Request-Method or Access-Control-Request-Headers are not whitelisted by the resource&apos;s CORS spec.</Message>',
      );
      expect(t).toContain('<ResourceType>OBJECT</ResourceType>');
    }
    const noMethod = await preflight(`/${b}/dir/k`, { origin: APP });
    expect(noMethod.status).toBe(400);
    expect(await noMethod.text()).toContain('Invalid Access-Control-Request-Method: null');
    expect((await s3('DELETE', `/${b}?cors`)).status).toBe(204);
    expect((await preflight(`/${b}/dir/k`, { origin: APP, 'access-control-request-method': 'PUT' })).status).toBe(403);
  });
});

describe('CORS headers on actual responses', () => {
  const b = 'cors-actual';
  beforeAll(async () => {
    expect((await s3('PUT', `/${b}`)).status).toBe(200);
    expect((await s3('PUT', `/${b}/k`, { body: 'hello' })).status).toBe(200);
    const cfg = config(
      rule(`<AllowedOrigin>${APP}</AllowedOrigin><AllowedMethod>GET</AllowedMethod><ExposeHeader>ETag</ExposeHeader>`),
      rule('<AllowedOrigin>*</AllowedOrigin><AllowedMethod>HEAD</AllowedMethod>'),
    );
    expect((await putCors(b, cfg)).status).toBe(200);
  });

  it('adds the matching rule’s headers to a signed request from an allowed origin, and nothing for others', async () => {
    const r = await s3('GET', `/${b}/k`, { headers: { origin: APP } });
    expect(r.status).toBe(200);
    expect(await r.text()).toBe('hello');
    expect(r.headers.get('access-control-allow-origin')).toBe(APP);
    expect(r.headers.get('access-control-allow-credentials')).toBe('true');
    expect(r.headers.get('access-control-expose-headers')).toBe('ETag');
    expect(r.headers.get('vary')).toContain('Origin');
    const head = await s3('HEAD', `/${b}/k`, { headers: { origin: 'https://other.example' } });
    expect(head.headers.get('access-control-allow-origin')).toBe('*');
    const other = await s3('GET', `/${b}/k`, { headers: { origin: 'https://other.example' } });
    expect(other.status).toBe(200);
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
    expect(other.headers.get('vary')).toBeNull();
    const none = await s3('GET', `/${b}/k`);
    expect(none.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('adds them to errors too, and adds nothing readable: an unsigned request from an allowed origin is still refused', async () => {
    const missing = await s3('GET', `/${b}/nope`, { headers: { origin: APP } });
    expect(await errorCode(missing)).toBe('NoSuchKey');
    expect(missing.headers.get('access-control-allow-origin')).toBe(APP);
    const anonymous = await worker(new Request(`${ORIGIN}/${b}/k`, { headers: { origin: APP } }));
    expect(anonymous.status).toBe(403);
    expect(anonymous.headers.get('access-control-allow-origin')).toBe(APP);
    expect(await anonymous.text()).not.toContain('hello');
  });
});

describe('ACLs', () => {
  it('answers the owner’s FULL_CONTROL for the bucket and its objects', async () => {
    expect((await s3('PUT', `/${B}/obj`, { body: 'x' })).status).toBe(200);
    for (const path of [`/${B}?acl`, `/${B}/obj?acl`]) {
      const r = await s3('GET', path);
      expect(r.status).toBe(200);
      const t = await r.text();
      expect(t).toContain(`<AccessControlPolicy xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Owner><ID>${OWNER}</ID>`);
      expect(t).toContain(
        `<Grant><Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="CanonicalUser"><ID>${OWNER}</ID><DisplayName>${OWNER}</DisplayName></Grantee><Permission>FULL_CONTROL</Permission></Grant>`,
      );
      expect(t.match(/<Grant>/g)).toHaveLength(1);
    }
    expect(await errorCode(await s3('GET', `/${B}/missing?acl`))).toBe('NoSuchKey');
    expect(await errorCode(await s3('PUT', `/${B}/missing?acl`, { headers: { 'x-amz-acl': 'private' } }))).toBe('NoSuchKey');
    expect(await errorCode(await s3('GET', '/no-such-acl-bucket?acl'))).toBe('NoSuchBucket');
  });

  it('accepts owner-only ACLs and refuses every sharing one with AccessControlListNotSupported', async () => {
    for (const acl of ['private', 'bucket-owner-full-control', 'bucket-owner-read']) {
      expect((await s3('PUT', `/${B}/obj?acl`, { headers: { 'x-amz-acl': acl } })).status).toBe(200);
      expect((await s3('PUT', `/${B}/acl-${acl}`, { body: 'x', headers: { 'x-amz-acl': acl } })).status).toBe(200);
    }
    expect((await s3('PUT', `/${B}?acl`, { headers: { 'x-amz-grant-full-control': `id="${OWNER}"` } })).status).toBe(200);
    const body = `<AccessControlPolicy><Owner><ID>${OWNER}</ID></Owner><AccessControlList><Grant><Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="CanonicalUser"><ID>${OWNER}</ID></Grantee><Permission>FULL_CONTROL</Permission></Grant></AccessControlList></AccessControlPolicy>`;
    expect((await s3('PUT', `/${B}/obj?acl`, { body })).status).toBe(200);

    const refused = async (r: Promise<Response>) => {
      const res = await r;
      expect(res.status).toBe(400);
      const t = await res.text();
      expect(t).toContain('<Code>AccessControlListNotSupported</Code>');
      expect(t).toContain('<Message>The bucket does not allow ACLs</Message>');
    };
    await refused(s3('PUT', `/${B}/obj?acl`, { headers: { 'x-amz-acl': 'public-read' } }));
    await refused(s3('PUT', `/${B}?acl`, { headers: { 'x-amz-acl': 'public-read-write' } }));
    await refused(s3('PUT', `/${B}/shared`, { body: 'x', headers: { 'x-amz-acl': 'public-read' } }));
    await refused(s3('PUT', `/${B}/shared`, { body: 'x', headers: { 'x-cos-acl': 'public-read' } }));
    await refused(s3('PUT', `/${B}/shared`, { body: 'x', headers: { 'x-amz-acl': 'authenticated-read' } }));
    await refused(
      s3('PUT', `/${B}/shared`, { body: 'x', headers: { 'x-amz-grant-read': 'uri="http://acs.amazonaws.com/groups/global/AllUsers"' } }),
    );
    await refused(s3('PUT', `/${B}/shared`, { body: 'x', headers: { 'x-amz-grant-full-control': `id="${OWNER}", id="someone-else"` } }));
    await refused(s3('PUT', `/${B}/shared`, { headers: { 'x-amz-copy-source': `/${B}/obj`, 'x-amz-acl': 'public-read' } }));
    await refused(s3('POST', `/${B}/shared?uploads`, { headers: { 'x-amz-acl': 'public-read' } }));
    await refused(s3('PUT', '/acl-new-bucket', { headers: { 'x-amz-acl': 'public-read' } }));
    await refused(
      s3('PUT', `/${B}/obj?acl`, {
        body: body.replace(`<ID>${OWNER}</ID></Grantee>`, '<URI>http://acs.amazonaws.com/groups/global/AllUsers</URI></Grantee>'),
      }),
    );
    await refused(s3('PUT', `/${B}/obj?acl`, { body: body.replace('FULL_CONTROL', 'READ') }));
    // Nothing refused was stored.
    expect((await s3('HEAD', `/${B}/shared`)).status).toBe(404);
    expect((await s3('HEAD', '/acl-new-bucket')).status).toBe(404);
    expect((await s3('GET', `/${B}/obj`)).status).toBe(200);
    expect((await worker(new Request(`${ORIGIN}/${B}/obj`))).status).toBe(403);
  });

  it('refuses an unknown canned ACL, both kinds at once, and a PutObjectAcl that names no ACL', async () => {
    const bad = await s3('PUT', `/${B}/obj?acl`, { headers: { 'x-amz-acl': 'everyone' } });
    expect(await errorCode(bad)).toBe('InvalidArgument');
    const both = await s3('PUT', `/${B}/obj?acl`, { headers: { 'x-amz-acl': 'private', 'x-amz-grant-full-control': `id="${OWNER}"` } });
    expect(await errorCode(both)).toBe('InvalidRequest');
    const nothing = await s3('PUT', `/${B}/obj?acl`);
    expect(await errorCode(nothing)).toBe('MissingSecurityHeader');
    expect(await errorCode(await s3('PUT', `/${B}/obj?acl`, { body: '<AccessControlPolicy>' }))).toBe('MalformedXML');
  });

  it('checks the pure rules: grants parse strictly, and the policy body must name only the owner', () => {
    const get = (h: Record<string, string>) => (n: string) => h[n] ?? null;
    const t = { owners: [OWNER], object: true };
    expect(checkAclHeaders(get({}), t)).toBe(false);
    expect(checkAclHeaders(get({ 'x-cos-acl': 'default' }), t)).toBe(true);
    expect(refusal(() => checkAclHeaders(get({ 'x-amz-acl': 'default' }), t))[0]).toBe('InvalidArgument');
    expect(refusal(() => checkAclHeaders(get({ 'x-cos-acl': 'default' }), { ...t, object: false }))[0]).toBe('InvalidArgument');
    expect(checkAclHeaders(get({ acl: 'private' }), { ...t, form: true })).toBe(true);
    expect(refusal(() => checkAclHeaders(get({ acl: 'public-read' }), { ...t, form: true }))[0]).toBe('AccessControlListNotSupported');
    expect(refusal(() => checkAclHeaders(get({ 'x-amz-grant-read': 'id=abc' }), t))[0]).toBe('InvalidArgument');
    expect(refusal(() => checkAclHeaders(get({ 'x-amz-grant-read': `id="${OWNER}"` }), t))[0]).toBe('AccessControlListNotSupported');
    expect(refusal(() => checkAclHeaders(get({ 'x-cos-grant-full-control': 'id="qcs::cam::uin/1:uin/2"' }), t))[0]).toBe(
      'AccessControlListNotSupported',
    );
    expect(
      refusal(() =>
        checkAclBody(
          `<AccessControlPolicy><Owner><ID>${OWNER}</ID></Owner><AccessControlList><Grant><Grantee><EmailAddress>a@b.c</EmailAddress></Grantee><Permission>READ</Permission></Grant></AccessControlList></AccessControlPolicy>`,
          [OWNER],
        ),
      )[0],
    ).toBe('AccessControlListNotSupported');
    expect(
      refusal(() =>
        checkAclBody(
          `<AccessControlPolicy><AccessControlList><Grant><Grantee><ID>${OWNER}</ID></Grantee><Permission>ALL</Permission></Grant></AccessControlList></AccessControlPolicy>`,
          [OWNER],
        ),
      )[0],
    ).toBe('MalformedACLError');
  });
});
