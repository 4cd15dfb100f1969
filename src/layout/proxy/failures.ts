// Upstream failures in the layout's own terms (LayoutError kinds).

import { UpstreamError } from '../../store/upstream';
import { LayoutError } from '../errors';

const DENIED = new Set([
  'AccessDenied',
  'SignatureDoesNotMatch',
  'InvalidAccessKeyId',
  'ExpiredToken',
  'RequestTimeTooSkewed',
  'AuthorizationHeaderMalformed',
]);

/**
 * An upstream failure in the layout's terms: retryable, the gateway refused, a client-side
 * refusal with its S3 code (the protocol layer decides whether it passes that code on), or
 * anything else. Never the upstream's own words.
 */
export function upstreamFailure(layout: string, e: unknown): unknown {
  if (!(e instanceof UpstreamError)) return e;
  console.error(JSON.stringify({ event: 'upstream-failure', layout, status: e.status, code: e.code, retryable: e.retryable }));
  if (e.retryable) return new LayoutError('UpstreamUnavailable');
  // The gateway's own credentials for the upstream: the client did nothing wrong with theirs.
  if (DENIED.has(e.code) || e.status === 403) return new LayoutError('UpstreamDenied');
  if ((e.status >= 400 && e.status < 500) || e.status === 501) return new LayoutError('UpstreamRefused', undefined, { code: e.code });
  return new LayoutError('UpstreamFailed');
}
