// The web console: a static page and its scripts, served at CONSOLE_PATH (default /-/console)
// before authentication. They hold no data and no credentials; the page signs every S3 and
// KMS call itself in the browser (aws4fetch) with the key pair the user types in, so
// everything it shows passes the same SigV4 checks as any other client.

import aws4fetchJs from '../../node_modules/aws4fetch/dist/aws4fetch.esm.js';
import type { Config } from '../config';
import apiJs from './assets/api.client.js';
import appJs from './assets/app.client.js';
import domJs from './assets/dom.client.js';
import usersJs from './assets/users.client.js';
import { consoleCss, consoleHtml } from './page';

/** Self only: no inline script or style, no framing, no form posts, no other origins. */
export const CONSOLE_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const JS = 'text/javascript; charset=utf-8';

interface Asset {
  type: string;
  body: (base: string) => string;
}

const ASSETS: Record<string, Asset> = {
  '': { type: 'text/html; charset=utf-8', body: consoleHtml },
  '/': { type: 'text/html; charset=utf-8', body: consoleHtml },
  '/index.html': { type: 'text/html; charset=utf-8', body: consoleHtml },
  '/app.js': { type: JS, body: () => appJs },
  '/api.js': { type: JS, body: () => apiJs },
  '/dom.js': { type: JS, body: () => domJs },
  '/users.js': { type: JS, body: () => usersJs },
  // aws4fetch's own ESM build, unchanged (MIT licence header included).
  '/aws4fetch.js': { type: JS, body: () => aws4fetchJs },
  '/console.css': { type: 'text/css; charset=utf-8', body: () => consoleCss },
};

/** A GET/HEAD under the console path on the gateway's own host (not a virtual-hosted bucket name). */
export function isConsoleRequest(req: Request, url: URL, config: Config): boolean {
  if (!config.console.enabled || (req.method !== 'GET' && req.method !== 'HEAD')) return false;
  const base = config.console.path;
  if (url.pathname !== base && !url.pathname.startsWith(`${base}/`)) return false;
  const host = (req.headers.get('host') ?? url.host).replace(/:\d+$/, '').toLowerCase();
  return !config.baseDomains.some((d) => host.endsWith(`.${d}`));
}

/**
 * A browser opening the endpoint itself: an unsigned GET of "/" (no Authorization header, no
 * query: neither presigned nor ListBuckets) on the gateway's own host that prefers HTML. It is
 * sent to the console; every other unsigned request still gets S3's 403 AccessDenied.
 */
export function isBrowserLanding(req: Request, url: URL, config: Config): boolean {
  if (!config.console.enabled || req.method !== 'GET' || url.pathname !== '/' || url.search !== '') return false;
  if (req.headers.has('authorization') || !/\btext\/html\b/i.test(req.headers.get('accept') ?? '')) return false;
  const host = (req.headers.get('host') ?? url.host).replace(/:\d+$/, '').toLowerCase();
  return !config.baseDomains.some((d) => host.endsWith(`.${d}`));
}

/** Where a browser landing goes: the console, by a relative redirect (right behind any proxy or port). */
export function landingRedirect(config: Config): Response {
  return new Response(null, { status: 302, headers: { location: `${config.console.path}/`, 'cache-control': 'no-store' } });
}

const etags = new Map<string, string>();

async function etagOf(text: string): Promise<string> {
  let tag = etags.get(text);
  if (!tag) {
    const d = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text)));
    tag = `"${[...d.slice(0, 12)].map((b) => b.toString(16).padStart(2, '0')).join('')}"`;
    etags.set(text, tag);
  }
  return tag;
}

export function consoleHeaders(type: string): Headers {
  return new Headers({
    'content-type': type,
    'content-security-policy': CONSOLE_CSP,
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'DENY',
    'referrer-policy': 'no-referrer',
    'cross-origin-opener-policy': 'same-origin',
    'cross-origin-resource-policy': 'same-origin',
    'permissions-policy': 'camera=(), microphone=(), geolocation=(), payment=()',
    // Revalidate every time (cheap: ETag), so a redeployed console is picked up at once.
    'cache-control': 'no-cache',
  });
}

export async function consoleResponse(req: Request, url: URL, config: Config): Promise<Response> {
  const rest = url.pathname.slice(config.console.path.length);
  const asset = ASSETS[rest];
  if (!asset) {
    const h = consoleHeaders('text/plain; charset=utf-8');
    return new Response(req.method === 'HEAD' ? null : 'Not found\n', { status: 404, headers: h });
  }
  const text = asset.body(config.console.path);
  const h = consoleHeaders(asset.type);
  const etag = await etagOf(text);
  h.set('etag', etag);
  if (req.headers.get('if-none-match') === etag) return new Response(null, { status: 304, headers: h });
  return new Response(req.method === 'HEAD' ? null : text, { status: 200, headers: h });
}
