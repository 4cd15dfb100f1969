// Everything a handler needs about one request, resolved once by the router.

import type { Config, Env } from '../config';
import type { Sse } from '../sse';
import type { Store } from '../store/types';
import type { Auth, Dialect } from './auth/types';

export interface Ctx {
  req: Request;
  url: URL;
  env: Env;
  config: Config;
  auth: Auth;
  dialect: Dialect;
  requestId: string;
  /** '' when the request names no bucket / no key. */
  bucket: string;
  key: string;
  store: Store;
  sse: Sse;
  /** Whether the client reached us over TLS. */
  secure: boolean;
}
