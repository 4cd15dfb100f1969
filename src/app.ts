// The Hono application: request ids, errors as S3/COS XML, authentication, dispatch.

import { Hono } from 'hono';
import { ADMIN_PREFIX, admin } from './admin/endpoints';
import { authenticate } from './auth';
import { credentialLookup, readConfig } from './config';
import { consoleResponse, isConsoleRequest } from './console';
import type { Env } from './env';
import { isKmsRequest, kmsApi } from './kms/api';
import { kmsStub } from './kms/durable';
import { layoutsFor } from './layout';
import { isPostObject, postObject } from './s3/ops/post-object';
import { type Dialect, sniffDialect } from './s3/protocol/dialect';
import { S3Error, toS3Error } from './s3/protocol/errors';
import { xmlDocument } from './s3/protocol/xml';
import { address, dispatch } from './s3/router';
import { readSecret } from './secrets';
import { Sealer } from './sse';
import { keyringFrom } from './sse/keyring';
import { sseC } from './sse/sse-c';
import { manifestCustody, sseCos } from './sse/sse-cos';
import { sseKms } from './sse/sse-kms';
import { R2Store } from './store/r2';

/** The store and SSE services for one request or one scheduled run. */
export function services(env: Env, config = readConfig(env)) {
  const keyring = async () => keyringFrom(await readSecret(env.MASTER_KEYRING_SECRET, env.MASTER_KEYRING));
  const store = new R2Store(env.STORE);
  return {
    config,
    keyring,
    store,
    layouts: layoutsFor(env, config, store),
    sealer: new Sealer({ cos: sseCos(keyring), c: sseC, kms: sseKms(() => kmsStub(env)) }, config.segmentSize, manifestCustody(keyring)),
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
  const { store, layouts, sealer, keyring } = services(env, config);
  // The KMS JSON API (aws kms, @aws-sdk/client-kms) shares the endpoint; it signs for service "kms".
  if (isKmsRequest(req)) return kmsApi(req, env, config, credentialLookup(env));
  const base = { req, url, config, requestId: c.get('requestId'), layouts, sealer, secure: url.protocol === 'https:' };
  const where = () => address(url, req.headers.get('host') ?? url.host, config.baseDomains);
  // POST Object (browser form upload) is authenticated by the form's signed policy, not by the request.
  if (isPostObject(req, url)) return postObject({ ...base, ...where() }, credentialLookup(env), (d) => c.set('dialect', d));
  const auth = await authenticate(req, credentialLookup(env));
  c.set('dialect', auth.dialect);
  if (url.pathname.startsWith(ADMIN_PREFIX)) return admin(req, url, layouts, store, sealer, await keyring());
  return dispatch({ ...base, ...where(), auth, dialect: auth.dialect });
});
