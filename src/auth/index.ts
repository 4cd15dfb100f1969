// Picks the signature scheme a request uses. There is no anonymous access.

import { S3Error } from '../s3/protocol/errors';
import { verifyCos } from './cos';
import { verifyPresignedV2, verifySigV2 } from './sigv2';
import { verifyPresignedV4, verifySigV4 } from './sigv4';
import type { Auth, SecretLookup } from './types';

export type { Auth, Dialect, Payload, SecretLookup } from './types';

const ONE_MECHANISM =
  'Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified';
/** S3's answer where Signature Version 2 is not accepted (the SIGV2 = "off" switch). */
export const USE_V4 = 'The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.';

export interface AuthOptions {
  /** Accept AWS Signature Version 2 (config SIGV2); refused unless set. */
  sigV2?: boolean;
  /** The bucket named by a virtual-hosted Host, which a V2 signature covers as part of its resource. */
  hostBucket?: string;
}

export async function authenticate(req: Request, lookup: SecretLookup, now = new Date(), opts: AuthOptions = {}): Promise<Auth> {
  const authz = req.headers.get('authorization');
  const q = new URL(req.url).searchParams;
  const v4Query = q.has('X-Amz-Signature') || q.has('X-Amz-Algorithm') || q.has('X-Amz-Credential');
  const cosQuery = q.has('q-signature') || q.has('q-sign-algorithm');
  const v2Query = q.has('AWSAccessKeyId') || q.has('Signature');
  const v2 = { now, hostBucket: opts.hostBucket };

  if (authz != null) {
    // Two credentials on one request would let a proxy or client confuse which one was checked.
    if (v4Query || cosQuery || v2Query) throw new S3Error('InvalidArgument', ONE_MECHANISM);
    if (authz.startsWith('AWS4-HMAC-SHA256')) return verifySigV4(req, lookup, { now });
    if (authz.startsWith('q-sign-algorithm=')) return verifyCos(req, lookup, now);
    if (authz.startsWith('AWS ')) {
      if (!opts.sigV2) throw new S3Error('InvalidRequest', USE_V4);
      return verifySigV2(req, lookup, v2);
    }
    throw new S3Error('InvalidArgument', 'Unsupported Authorization Type', {
      fields: { ArgumentName: 'Authorization', ArgumentValue: authz.split(' ')[0] },
    });
  }
  if ([v4Query, cosQuery, v2Query].filter(Boolean).length > 1) throw new S3Error('InvalidArgument', ONE_MECHANISM);
  if (v4Query) return verifyPresignedV4(req, lookup, { now });
  if (cosQuery) return verifyCos(req, lookup, now, true);
  if (v2Query) {
    if (!opts.sigV2) throw new S3Error('InvalidRequest', USE_V4);
    return verifyPresignedV2(req, lookup, v2);
  }
  throw new S3Error('AccessDenied');
}
