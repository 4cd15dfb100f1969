// Everything a handler needs about one request, resolved once by the router.

import type { Auth, Dialect } from '../auth/types';
import type { Config } from '../config';
import type { Principal } from '../iam/types';
import type { Layout, Layouts } from '../layout/types';
import type { Sealer } from '../sse';

export interface Ctx {
  req: Request;
  url: URL;
  config: Config;
  auth: Auth;
  /** Whom the verified signature belongs to (root, or an IAM user with its policies). */
  principal: Principal;
  dialect: Dialect;
  requestId: string;
  /** '' when the request names no bucket / no key. */
  bucket: string;
  key: string;
  /** The version an object request names (?versionId=, checked by parseVersionId); absent when it names none. */
  version?: string;
  /** Where each bucket's objects live (R2, or an upstream bucket the gateway fronts). */
  layouts: Layouts;
  sealer: Sealer;
  /** Whether the client reached us over TLS. */
  secure: boolean;
}

/** The layout holding a bucket (the request's own by default). */
export const layoutOf = (ctx: Ctx, bucket = ctx.bucket): Layout => ctx.layouts.of(bucket);
