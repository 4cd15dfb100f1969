// The local front: a small HTTP(S) server that `npm start` and the end-to-end tests put before
// `wrangler dev`, to play locally the part Cloudflare's edge plays in production.
//
// - It answers `Expect: 100-continue` at once (node:http does so when no 'checkContinue'
//   listener is set). `wrangler dev` never sends a 100 Continue, so botocore waits 1 s and the
//   AWS SDK for JavaScript 6 s before every body it would send after one.
// - It streams both ways and forwards the request as the client wrote it: raw header names,
//   order and values, Host included, so every signature still verifies.
// - It strips what only the local runtime would trust: Miniflare's control headers ("MF-*": a
//   client's MF-CF-Blob would replace request.cf, e.g. forge cf.clientAcceptEncoding) and
//   CF-Connecting-IP (Miniflare keeps a client's own). Production's edge sets these itself.
// - When the gateway answers before the request body has all arrived (a refusal), the rest of
//   the body is read from the client and dropped rather than forwarded, and the answer reaches
//   the client whole: wrangler dev resets such a connection, often over its own answer, which
//   the front then replaces with a clear 502 instead of a torn or missing response.
// - It can serve HTTPS with a self-signed certificate (TLS-only clients, SSE-C).
//
// It is a development tool only: nothing here runs in production.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { join } from 'node:path';

/** Hop-by-hop headers (RFC 9110 7.6.1): they describe one connection, not the request. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'upgrade']);

/** The largest answer to a request with a body that is held until whole (see 'response'). */
const HOLD_LIMIT = 1024 * 1024;

/** Headers a client may not hand the local runtime (production's edge owns their meaning). */
const untrusted = (name) => name.startsWith('mf-') || name === 'cf-connecting-ip';

/** Raw [name, value, ...] pairs minus hop-by-hop headers, those `connection` names, and `drop`. */
function forwardable(raw, drop = () => false) {
  const named = new Set();
  for (let i = 0; i < raw.length; i += 2)
    if (raw[i].toLowerCase() === 'connection') for (const t of raw[i + 1].split(',')) named.add(t.trim().toLowerCase());
  const out = [];
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i].toLowerCase();
    if (HOP_BY_HOP.has(name) || named.has(name) || drop(name)) continue;
    out.push(raw[i], raw[i + 1]);
  }
  return out;
}

/**
 * Starts the front on `port` (0: any free one) and `host`, forwarding to the gateway at
 * `target` ({ host, port, https }). `tls` ({ key, cert }) serves HTTPS. Resolves once listening.
 * @param {{ port: number, host?: string, target: { host: string, port: number, https?: boolean }, tls?: { key: string|Buffer, cert: string|Buffer }, log?: (line: string) => void }} opts
 */
export function startFront(opts) {
  const { target, tls } = opts;
  const log = opts.log ?? ((line) => console.error(line));
  // wrangler dev's own TLS (--local-protocol https) has a throwaway certificate on loopback.
  const upstream = target.https ? https : http;
  // One loopback connection per request, never reused: after an early answer wrangler dev
  // resets the connection at a moment the front cannot see, and a reused one would fail the
  // next request (a new loopback connection costs far less than a request through wrangler).
  const agent = target.https ? new https.Agent({ keepAlive: false, rejectUnauthorized: false }) : new http.Agent({ keepAlive: false });
  const handler = (req, res) => {
    const headers = forwardable(req.rawHeaders, untrusted);
    const hasBody = req.headers['content-length'] !== undefined || req.headers['transfer-encoding'] !== undefined;
    // A body of unknown length goes on chunked, as it came.
    if (req.headers['transfer-encoding'] !== undefined && req.headers['content-length'] === undefined)
      headers.push('Transfer-Encoding', 'chunked');
    const up = upstream.request({
      host: target.host,
      port: target.port,
      method: req.method,
      path: req.url,
      headers,
      setHost: false,
      agent,
    });
    let bodyDone = !hasBody;
    let answered = false;
    req.once('end', () => {
      bodyDone = true;
    });
    /** The gateway failed this request: a clear 502, or a cut-off answer if one was under way. */
    const dropped = (why) => {
      if (res.headersSent) return res.destroy();
      log(`front: ${req.method} ${req.url}: the gateway dropped the request (${why})`);
      const text = Buffer.from(`The local gateway (wrangler dev) dropped the request (${why}); see its log.\n`);
      res.writeHead(502, { 'content-type': 'text/plain; charset=utf-8', 'content-length': text.length });
      res.end(text);
    };
    up.on('response', (upRes) => {
      answered = true;
      const status = upRes.statusCode ?? 502;
      const headers = forwardable(upRes.rawHeaders);
      if (!bodyDone) {
        // Answered before the body has all arrived: a refusal. The runtime reads no more of it,
        // so stop forwarding; read the rest from the client and drop it (a client that reads
        // only after sending, such as python requests, must get to send it all).
        req.unpipe(up);
        req.resume();
      }
      // A request that never got all its body out is ended with its connection.
      upRes.once('end', () => {
        if (!up.writableFinished) up.destroy();
      });
      const length = Number(upRes.headers['content-length']);
      if (!hasBody || !(length <= HOLD_LIMIT)) {
        res.writeHead(status, upRes.statusMessage, headers);
        upRes.pipe(res);
        upRes.on('close', () => {
          if (!upRes.complete) res.destroy();
        });
        return;
      }
      // The answer to an upload (a small document) is held until it is whole: when the runtime
      // answers before reading the whole body it resets the connection, often cutting its own
      // answer short, and the client must then get a clear 502, not a torn response.
      const chunks = [];
      upRes.on('data', (c) => chunks.push(c));
      upRes.on('close', () => {
        if (!upRes.complete) dropped('its answer was cut off');
      });
      upRes.on('end', () => {
        if (res.headersSent) return;
        res.writeHead(status, upRes.statusMessage, headers);
        res.end(Buffer.concat(chunks));
      });
    });
    let clientGone = false;
    up.on('error', (err) => {
      // The runtime resets the connection after an early answer: expected once answered. And a
      // client that hung up has nobody left to answer.
      if (answered || clientGone) return;
      req.unpipe(up);
      req.resume();
      dropped(err.message);
    });
    // The client hung up before its request was complete: end the forwarded one with it.
    req.on('close', () => {
      if (req.complete) return;
      clientGone = true;
      up.destroy();
    });
    res.on('close', () => {
      if (!res.writableFinished) up.destroy();
    });
    if (hasBody) req.pipe(up);
    else up.end();
  };
  const server = tls ? https.createServer({ key: tls.key, cert: tls.cert }, handler) : http.createServer(handler);
  // Large uploads over slow links must not be cut off by node's request timeout.
  server.requestTimeout = 0;
  server.headersTimeout = 60_000;
  server.keepAliveTimeout = 30_000;
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      const addr = server.address();
      resolve({
        server,
        port: typeof addr === 'object' && addr ? addr.port : opts.port,
        close: () =>
          new Promise((r) => {
            server.close(() => r());
            server.closeAllConnections();
            agent.destroy();
          }),
      });
    });
  });
}

/**
 * A self-signed certificate for 127.0.0.1 and localhost, made once with openssl and kept in
 * `dir` (git-ignored .wrangler/). Returns { key, cert, certFile }.
 */
export function selfSignedCertificate(dir) {
  const keyFile = join(dir, 'front-key.pem');
  const certFile = join(dir, 'front-cert.pem');
  if (!existsSync(keyFile) || !existsSync(certFile)) {
    mkdirSync(dir, { recursive: true });
    const r = spawnSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-days',
        '825',
        '-subj',
        '/CN=sealbucket local',
        '-addext',
        'subjectAltName=IP:127.0.0.1,DNS:localhost',
        '-keyout',
        keyFile,
        '-out',
        certFile,
      ],
      { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' },
    );
    if (r.status !== 0) throw new Error(`openssl could not make a certificate: ${r.error?.message ?? r.stderr}`);
  }
  return { key: readFileSync(keyFile), cert: readFileSync(certFile), certFile };
}
