// Picks the signature scheme a request uses. There is no anonymous access.

import { S3Error } from '../s3/protocol/errors';
import { verifyCos } from './cos';
import { verifyPresignedV4, verifySigV4 } from './sigv4';
import type { Auth, SecretLookup } from './types';

export type { Auth, Dialect, Payload, SecretLookup } from './types';

const ONE_MECHANISM =
  'Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified';
const USE_V4 = 'Please use AWS4-HMAC-SHA256.';

export async function authenticate(req: Request, lookup: SecretLookup, now = new Date()): Promise<Auth> {
  const authz = req.headers.get('authorization');
  const q = new URL(req.url).searchParams;
  const v4Query = q.has('X-Amz-Signature') || q.has('X-Amz-Algorithm') || q.has('X-Amz-Credential');
  const cosQuery = q.has('q-signature') || q.has('q-sign-algorithm');
  const v2Query = q.has('AWSAccessKeyId') && q.has('Signature');

  if (authz != null) {
    // Two credentials on one request would let a proxy or client confuse which one was checked.
    if (v4Query || cosQuery || v2Query) throw new S3Error('InvalidArgument', ONE_MECHANISM);
    if (authz.startsWith('AWS4-HMAC-SHA256')) return verifySigV4(req, lookup, { now });
    if (authz.startsWith('q-sign-algorithm=')) return verifyCos(req, lookup, now);
    if (authz.startsWith('AWS ')) throw new S3Error('InvalidRequest', USE_V4);
    throw new S3Error('InvalidArgument', 'Unsupported Authorization Type', {
      fields: { ArgumentName: 'Authorization', ArgumentValue: authz.split(' ')[0] },
    });
  }
  if (v4Query && cosQuery) throw new S3Error('InvalidArgument', ONE_MECHANISM);
  if (v4Query) return verifyPresignedV4(req, lookup, { now });
  if (cosQuery) return verifyCos(req, lookup, now, true);
  if (v2Query) throw new S3Error('InvalidRequest', USE_V4);
  throw new S3Error('AccessDenied');
}
