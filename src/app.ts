// The Hono application: request ids, errors as S3/COS XML, authentication, dispatch.

import { Hono } from 'hono';
import { ADMIN_PREFIX, admin, authorizeAdmin } from './admin/endpoints';
import { authenticate } from './auth';
import { clientAcceptEncoding } from './auth/canonical';
import { credentialLookup, readConfig } from './config';
import { consoleResponse, isBrowserLanding, isConsoleRequest, landingRedirect } from './console';
import type { Env } from './env';
import { iamApi, iamService } from './iam/api';
import { iamStub } from './iam/durable';
import { DEFAULT_CACHE_SECONDS, type Identities, identities } from './iam/identities';
import { httpRequestKeys } from './iam/request-keys';
import type { Principal } from './iam/types';
import { isKmsRequest, kmsApi } from './kms/api';
import { kmsStub } from './kms/durable';
import { layoutsFor } from './layout';
import type { Layout } from './layout/types';
import { CORS_METHODS, cachedCorsRules, corsHeaders, corsRefusal, matchRule, NOT_ALLOWED, requestedHeaders } from './s3/cors';
import { isPostObject, postObject } from './s3/ops/post-object';
import { type Dialect, sniffDialect } from './s3/protocol/dialect';
import { S3Error, toS3Error } from './s3/protocol/errors';
import { xmlDocument } from './s3/protocol/xml';
import { address, dispatch, hostBucket } from './s3/router';
import { readSecret } from './secrets';
import { Sealer } from './sse';
import { keyringFrom } from './sse/keyring';
import { sseC } from './sse/sse-c';
import { manifestCustody, sseCos } from './sse/sse-cos';
import { sseKms } from './sse/sse-kms';
import { R2Store } from './store/r2';

/**
 * Who holds which access key: the root pairs from the secret store, then IAM users' keys from the
 * IAM Durable Object behind the isolate's cache (bound: IAM_CACHE_SECONDS). S3, POST Object, KMS,
 * IAM and STS all authenticate through this one.
 */
export function whoIs(env: Env): Identities {
  const seconds = Number(env.IAM_CACHE_SECONDS ?? DEFAULT_CACHE_SECONDS);
  return identities({
    root: credentialLookup(env),
    user: env.IAM ? (ak) => iamStub(env)!.keyRecord(ak) : undefined,
    cacheSeconds: Number.isFinite(seconds) && seconds >= 0 ? seconds : DEFAULT_CACHE_SECONDS,
  });
}

/** The store and SSE services for one request or one scheduled run. */
export function services(env: Env, config = readConfig(env), caller: () => Principal | undefined = () => undefined) {
  const keyring = async () => keyringFrom(await readSecret(env.MASTER_KEYRING_SECRET, env.MASTER_KEYRING));
  const store = new R2Store(env.STORE);
  return {
    config,
    keyring,
    store,
    layouts: layoutsFor(env, config, store),
    sealer: new Sealer(
      {
        cos: sseCos(keyring),
        c: sseC,
        // SSE-KMS judges the request's caller through S3 (kms:ViaService); no caller is the gateway itself.
        kms: sseKms(
          () => kmsStub(env),
          () => {
            const principal = caller();
            // The call from S3 to the KMS is internal (aws:SecureTransport true); S3's own policies judge the client's transport.
            return (
              principal && { principal, facts: { region: config.region, secure: true, viaService: `s3.${config.region}.amazonaws.com` } }
            );
          },
        ),
      },
      config.segmentSize,
      manifestCustody(keyring),
    ),
  };
}

type Vars = { requestId: string; dialect: Dialect };

export const app = new Hono<{ Bindings: Env; Variables: Vars }>();

app.use('*', async (c, next) => {
  const requestId = crypto.randomUUID().replace(/-/g, '').slice(0, 16).toUpperCase();
  const url = new URL(c.req.url);
  c.set('requestId', requestId);
  c.set('dialect', sniffDialect(c.req.raw, url));
  await next();
  const h = c.res.headers;
  if (c.get('dialect') === 'cos') h.set('x-cos-request-id', requestId);
  else {
    h.set('x-amz-request-id', requestId);
    h.set('x-amz-id-2', requestId);
  }
  h.set('server', 'sealbucket');
});

// CORS. A preflight OPTIONS is answered from the bucket's rules before, and without,
// authentication (browsers send it without credentials); every other request from an
// Origin that a rule allows gets the CORS headers on its response, errors included.
// The rules are read only for requests that carry an Origin (s3/cors.ts caches them briefly).
app.use('*', async (c, next) => {
  const req = c.req.raw;
  if (req.method === 'OPTIONS') {
    c.res = await preflight(req, corsTarget(c.env, req));
    return;
  }
  await next();
  const origin = req.headers.get('origin');
  if (origin === null) return;
  const target = corsTarget(c.env, req);
  if (!target) return;
  try {
    const { rules } = await cachedCorsRules(target.layout, target.bucket);
    // On an actual request S3 matches Access-Control-Request-Method when it is sent, else the method.
    const rule = rules && matchRule(rules, origin, req.headers.get('access-control-request-method') ?? req.method);
    if (rule) for (const [k, v] of Object.entries(corsHeaders(rule, origin))) c.res.headers.set(k, v);
  } catch (e) {
    // The response stands without CORS headers; the browser then withholds it from the page.
    console.error(JSON.stringify({ event: 'cors-rules-unreadable', requestId: c.get('requestId'), error: String(e) }));
  }
});

/** The bucket (and its layout) a request addresses, when it is an S3 request that names one. */
function corsTarget(env: Env, req: Request): { layout: Layout; bucket: string; key: string } | undefined {
  const config = readConfig(env);
  const url = new URL(req.url);
  if (isConsoleRequest(req, url, config) || isKmsRequest(req) || iamService(req, url) || url.pathname.startsWith(ADMIN_PREFIX))
    return undefined;
  let where: { bucket: string; key: string };
  try {
    where = address(url, req.headers.get('host') ?? url.host, config.baseDomains);
  } catch {
    return undefined;
  }
  if (!where.bucket) return undefined;
  return { ...where, layout: services(env, config).layouts.of(where.bucket) };
}

/** S3's answer to a preflight: 200 with the matching rule's headers, or the refusal S3 gives. */
async function preflight(req: Request, target: { layout: Layout; bucket: string; key: string } | undefined): Promise<Response> {
  const h = req.headers;
  const origin = h.get('origin');
  if (!origin) throw new S3Error('BadRequest', 'Insufficient information. Origin request header needed.');
  const method = h.get('access-control-request-method');
  const cors = target && (await cachedCorsRules(target.layout, target.bucket));
  if (!cors?.exists) throw corsRefusal('Bucket not found', method ?? 'OPTIONS', 'BUCKET');
  if (!cors.rules) throw corsRefusal('CORS is not enabled for this bucket.', method ?? 'OPTIONS', 'BUCKET');
  if (!method || !CORS_METHODS.includes(method))
    throw new S3Error('BadRequest', `Invalid Access-Control-Request-Method: ${method ?? 'null'}`);
  const headers = requestedHeaders(h.get('access-control-request-headers'));
  const rule = matchRule(cors.rules, origin, method, headers);
  if (!rule) throw corsRefusal(NOT_ALLOWED, method, target!.key ? 'OBJECT' : 'BUCKET');
  return new Response(null, { status: 200, headers: corsHeaders(rule, origin, headers) });
}

app.onError((err, c) => {
  const requestId = c.get('requestId') ?? '';
  const refusal = toS3Error(err);
  const e = refusal ?? new S3Error('InternalError');
  if (!refusal) console.error(JSON.stringify({ event: 'unhandled', requestId, error: String(err instanceof Error ? err.message : err) }));
  const url = new URL(c.req.url);
  const body =
    c.req.method === 'HEAD'
      ? null
      : xmlDocument(
          'Error',
          {
            Code: (c.get('dialect') === 'cos' && e.cosCode) || e.code,
            Message: e.message,
            ...e.fields,
            Resource: url.pathname,
            RequestId: requestId,
            ...(c.get('dialect') === 'cos' ? { TraceId: requestId } : {}),
          },
          '',
        );
  const res = new Response(body, { status: e.status, headers: { 'content-type': 'application/xml', ...e.headers } });
  const dialect = c.get('dialect') ?? 'amz';
  res.headers.set(dialect === 'cos' ? 'x-cos-request-id' : 'x-amz-request-id', requestId);
  res.headers.set('server', 'sealbucket');
  return res;
});

app.all('*', async (c) => {
  const env = c.env;
  const config = readConfig(env);
  const req = c.req.raw;
  const url = new URL(req.url);
  // The web console's static page and scripts are public (they hold no data; every call they make is signed).
  if (isConsoleRequest(req, url, config)) return consoleResponse(req, url, config);
  if (isBrowserLanding(req, url, config)) return landingRedirect(config);
  // The S3 request's signer, once verified: the caller SSE-KMS is authorized as.
  let caller: Principal | undefined;
  const { store, layouts, sealer, keyring } = services(env, config, () => caller);
  const who = whoIs(env);
  // The KMS JSON API (aws kms, @aws-sdk/client-kms) shares the endpoint; it signs for service "kms".
  if (isKmsRequest(req)) return kmsApi(req, env, config, who);
  // So do IAM's and STS's query APIs (aws iam, aws sts get-caller-identity): service "iam" / "sts".
  if (iamService(req, url)) return iamApi(req, url, env, who, c.get('requestId'));
  const base = { req, url, config, requestId: c.get('requestId'), layouts, sealer, secure: url.protocol === 'https:' };
  const where = () => address(url, req.headers.get('host') ?? url.host, config.baseDomains);
  // POST Object (browser form upload) is authenticated by the form's signed policy, not by the request;
  // the principal it resolves is the caller an SSE-KMS form upload is authorized as.
  if (isPostObject(req, url)) {
    const signer: Identities = { secret: (ak) => who.secret(ak), principal: async (ak) => (caller = await who.principal(ak)) };
    return postObject({ ...base, ...where() }, signer, (d) => c.set('dialect', d));
  }
  const auth = await authenticate(req, (ak) => who.secret(ak), undefined, {
    sigV2: config.sigV2,
    hostBucket: hostBucket(req.headers.get('host') ?? url.host, config.baseDomains),
  });
  c.set('dialect', auth.dialect);
  if (url.pathname.startsWith(ADMIN_PREFIX)) {
    // Operator endpoints (key rotation, raw export) refuse SigV2, the weakest scheme: no scope, no body, a 7-day URL.
    if (auth.method.startsWith('sigv2')) throw new S3Error('AccessDenied', 'Operator endpoints need Signature Version 4.');
    // Each endpoint is an action of its own (README: Users and policies); root has them all.
    const principal = await who.principal(auth.accessKeyId);
    authorizeAdmin(req, url, principal, httpRequestKeys(req, url));
    return admin(req, url, layouts, store, sealer, await keyring());
  }
  const principal = await who.principal(auth.accessKeyId);
  caller = principal;
  return dispatch({ ...base, ...where(), auth, principal, dialect: auth.dialect });
});

/** Whether an Accept-Encoding value admits some coding other than identity (q above 0). */
function acceptsCompression(value: string | null | undefined): boolean {
  return (value ?? '')
    .split(',')
    .map((part) => part.trim().split(';'))
    .some(([coding, ...params]) => {
      const c = coding.trim().toLowerCase();
      const q = params.map((p) => /^\s*q\s*=\s*([\d.]+)\s*$/i.exec(p)?.[1]).find((v) => v !== undefined);
      return c !== '' && c !== 'identity' && (q === undefined || Number(q) > 0);
    });
}

/**
 * A response goes out with the bytes the gateway made: S3 never compresses, and clients count on
 * Content-Length, ranges and checksums, or (rclone) sign their own Accept-Encoding and so decode
 * nothing. Two things would change them: the runtime compresses any body whose response names a
 * Content-Encoding (an object stored as "gzip" would come back gzipped twice), which
 * `encodeBody: "manual"` stops; and Cloudflare's edge (and wrangler dev, which imitates it)
 * compresses text, XML and JSON for a client that accepts gzip or br unless the response already
 * names an encoding, so such a client's responses say "identity".
 */
export function asMade(res: Response, req: Request): Response {
  if (res.status === 101 || res.webSocket) return res;
  const headers = new Headers(res.headers);
  if (!headers.has('content-encoding') && acceptsCompression(clientAcceptEncoding(req) ?? req.headers.get('accept-encoding')))
    headers.set('content-encoding', 'identity');
  return new Response(res.body, { status: res.status, statusText: res.statusText, headers, encodeBody: 'manual' });
}
