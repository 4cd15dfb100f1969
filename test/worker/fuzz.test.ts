// Property-based fuzzing (fast-check) of every parser that sees client bytes.
//
// The contract for each parser: given arbitrary input it either succeeds or
// fails with an S3Error (thrown, rejected, or as the error of the stream it
// returns). Never another exception type (TypeError, RangeError, SyntaxError...),
// never an unhandled promise rejection, never a hang: every case is raced
// against a timer. The segment decryptor fails with its own IntegrityError /
// LengthError (callers map those to S3 errors) and must never hand back
// plaintext for tampered ciphertext.
//
// Each parser gets fully random input and structured input: valid requests,
// bodies and documents with bytes flipped, inserted, deleted, duplicated or
// truncated, split at random chunk boundaries, which reach the deeper code.
// A failure prints fast-check's seed and the shrunk counterexample; rerun one
// with fc.assert(..., { seed, path }) to reproduce it.

import { AwsV4Signer } from 'aws4fetch';
import * as fc from 'fast-check';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { authenticate } from '../../src/auth';
import { rawPairs, recode, unescapeBytes } from '../../src/auth/canonical';
import { verifyCos } from '../../src/auth/cos';
import { verifyPresignedV2, verifySigV2 } from '../../src/auth/sigv2';
import { canonicalQuery, canonicalRequest, canonicalUri, deriveSigningKey, verifyPresignedV4, verifySigV4 } from '../../src/auth/sigv4';
import type { Payload } from '../../src/auth/types';
import { toB64 as toBase64 } from '../../src/crypto/bytes';
import {
  cipherLength,
  decryptBody,
  decryptStream,
  deriveStream,
  encryptStream,
  plainLength,
  type SegmentKey,
  segmentSpan,
} from '../../src/crypto/stream';
import { Crc32 } from '../../src/s3/payload/checksum';
import { decodePayload, type PayloadInfo } from '../../src/s3/payload/chunked';
import { boundaryOf, readForm, SMALL_REST } from '../../src/s3/payload/form';
import { S3Error } from '../../src/s3/protocol/errors';
import { parseRange } from '../../src/s3/protocol/range';
import { list, parseXml, text } from '../../src/s3/protocol/xml';
import { IntegrityError, LengthError } from '../../src/sse';
import { concat, signedChunkedBody, unsignedChunkedBody } from './helpers/auth-helpers';

// ---------------------------------------------------------------------------
// Harness

/** Cases per property; the heavy ones (256 KiB bodies) run fewer. */
const RUNS = 300;
const HEAVY_RUNS = 40;
/** A case that has not settled after this long is a hang. */
const HANG_MS = 2000;
/** Cases that stream a body larger than one read batch in tiny pieces. */
const STREAMED_HANG_MS = 15_000;

// A property (its runs and any shrinking) stops after this long; a stopped run is a failure.
fc.configureGlobal({ interruptAfterTimeLimit: 20_000, markInterruptAsFailure: true });

class Hang extends Error {}

type Outcome<T> = { ok: true; value: T } | { ok: false; error: unknown };

/** Runs one case against the hang timer; a hang fails the property, any other outcome is returned. */
async function bounded<T>(run: () => Promise<T> | T, ms = HANG_MS): Promise<Outcome<T>> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const hang = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Hang(`no answer within ${ms} ms (hang)`)), ms);
  });
  try {
    return { ok: true, value: await Promise.race([Promise.resolve().then(run), hang]) };
  } catch (error) {
    if (error instanceof Hang) throw error;
    return { ok: false, error };
  } finally {
    if (timer !== undefined) clearTimeout(timer);
  }
}

const describeError = (e: unknown) => (e instanceof Error ? `${e.constructor.name}: ${e.message}` : `non-Error thrown: ${String(e)}`);

type ErrorClass = abstract new (...args: never[]) => unknown;

/** Fails the case unless it succeeded or failed with one of `allowed`. */
function within(o: Outcome<unknown>, allowed: ErrorClass[] = [S3Error]): void {
  tally(o);
  if (o.ok || allowed.some((t) => o.error instanceof t)) return;
  throw new Error(`contract broken: ${describeError(o.error)}\n${(o.error as Error)?.stack ?? ''}`, { cause: o.error });
}

/** Outcomes per test (success, S3Error code, error class), printed at the end: how deep the inputs got. */
const outcomes = new Map<string, Map<string, number>>();
function tally(o: Outcome<unknown>) {
  const test = expect.getState().currentTestName ?? '?';
  const key = o.ok ? 'ok' : o.error instanceof S3Error ? o.error.code : ((o.error as Error)?.constructor?.name ?? 'thrown');
  const m = outcomes.get(test) ?? new Map<string, number>();
  m.set(key, (m.get(key) ?? 0) + 1);
  outcomes.set(test, m);
}

// Unhandled rejections are collected and checked after every test, so one is
// pinned to the parser under test rather than surfacing somewhere later.
const unhandled: unknown[] = [];
const onUnhandled = (ev: Event) => unhandled.push((ev as PromiseRejectionEvent).reason);
beforeAll(() => globalThis.addEventListener('unhandledrejection', onUnhandled));
afterAll(() => globalThis.removeEventListener('unhandledrejection', onUnhandled));
afterEach(async () => {
  await new Promise((r) => setTimeout(r, 20));
  const seen = unhandled.splice(0).map(describeError);
  expect(seen, 'unhandled promise rejections').toEqual([]);
});

const enc = (s: string) => new TextEncoder().encode(s);

const sameBytes = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((x, i) => x === b[i]);
const isPrefix = (a: Uint8Array, of: Uint8Array) => a.length <= of.length && a.every((x, i) => x === of[i]);

/** Cheap deterministic filler (a xorshift), so large inputs cost no generation time. */
function pattern(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed | 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/** The error of a body whose client went away (a TypeError, as workerd's). */
class SourceGone extends TypeError {}

/** `bytes` as a stream cut into pieces of the given sizes (cycled); a byte stream when asked (for BYOB readers); erroring after `abortAfter` pieces when asked. */
function streamOf(bytes: Uint8Array, sizes: number[], type?: 'bytes', abortAfter?: number): ReadableStream<Uint8Array> {
  let i = 0;
  let k = 0;
  const pull = (c: ReadableStreamDefaultController<Uint8Array> | ReadableByteStreamController) => {
    // A client that disconnects: the body errors (as workerd's do) instead of ending.
    if (abortAfter !== undefined && (k >= abortAfter || i >= bytes.length)) return c.error(new SourceGone('Network connection lost.'));
    if (i >= bytes.length) return c.close();
    const n = Math.max(1, sizes[k++ % sizes.length]);
    c.enqueue(bytes.slice(i, i + n));
    i += n;
  };
  return (
    type === 'bytes' ? new ReadableStream({ type: 'bytes', pull }) : new ReadableStream<Uint8Array>({ pull })
  ) as ReadableStream<Uint8Array>;
}

/** The chunks joined; not concat(...parts): a body cut into 1-byte pieces has more chunks than a call has arguments. */
function joined(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Reads a stream to its end or its error. */
async function collect(s: ReadableStream<Uint8Array>): Promise<{ data: Uint8Array; error?: unknown }> {
  const r = s.getReader();
  const parts: Uint8Array[] = [];
  try {
    for (;;) {
      const { value, done } = await r.read();
      if (done) return { data: joined(parts) };
      parts.push(value);
    }
  } catch (error) {
    return { data: joined(parts), error };
  }
}

/** Piece sizes for cutting a stream: mostly small, sometimes large. */
const piecesArb = (max: number) =>
  fc.array(fc.oneof(fc.integer({ min: 1, max: 16 }), fc.integer({ min: 1, max })), { minLength: 1, maxLength: 12 });

// --- Mutations --------------------------------------------------------------
// Positions are biased towards the head and tail of an input, where framing,
// headers and signatures live, as well as uniform.

type Pos = { from: 'start' | 'end' | 'any'; off: number };
const posArb: fc.Arbitrary<Pos> = fc.record({ from: fc.constantFrom('start', 'end', 'any'), off: fc.nat({ max: 1 << 20 }) });

/** An index in [0, len) (or [0, len] for insertion). */
function place(p: Pos, len: number, insert = false): number {
  const n = len + (insert ? 1 : 0);
  if (n <= 0) return 0;
  const near = Math.min(n, 512);
  if (p.from === 'start') return p.off % near;
  if (p.from === 'end') return n - 1 - (p.off % near);
  return p.off % n;
}

type Op<T> =
  | { k: 'flip'; at: Pos; bit: number }
  | { k: 'set'; at: Pos; v: T }
  | { k: 'insert'; at: Pos; v: T }
  | { k: 'delete'; at: Pos; n: number }
  | { k: 'truncate'; at: Pos }
  | { k: 'dup'; at: Pos; n: number };

function opsArb<T>(insertArb: fc.Arbitrary<T>, setArb: fc.Arbitrary<T>): fc.Arbitrary<Op<T>[]> {
  const op: fc.Arbitrary<Op<T>> = fc.oneof(
    fc.record({ k: fc.constant('flip' as const), at: posArb, bit: fc.integer({ min: 0, max: 7 }) }),
    fc.record({ k: fc.constant('set' as const), at: posArb, v: setArb }),
    fc.record({ k: fc.constant('insert' as const), at: posArb, v: insertArb }),
    fc.record({ k: fc.constant('delete' as const), at: posArb, n: fc.integer({ min: 1, max: 64 }) }),
    fc.record({ k: fc.constant('truncate' as const), at: posArb }),
    fc.record({ k: fc.constant('dup' as const), at: posArb, n: fc.integer({ min: 1, max: 64 }) }),
  );
  return fc.array(op, { minLength: 1, maxLength: 4 });
}

/** Byte mutations; insertions draw on `tokens` (framing the parser cares about) as well as random bytes. */
const byteOps = (tokens: string[]) =>
  opsArb<Uint8Array>(
    fc.oneof(fc.uint8Array({ minLength: 1, maxLength: 8 }), fc.constantFrom(...tokens).map(enc)),
    fc.uint8Array({ minLength: 1, maxLength: 1 }),
  );

function mutateBytes(input: Uint8Array, ops: Op<Uint8Array>[]): Uint8Array {
  let b = input;
  for (const op of ops) {
    const len = b.length;
    switch (op.k) {
      case 'flip':
        if (len) {
          b = b.slice();
          b[place(op.at, len)] ^= 1 << op.bit;
        }
        break;
      case 'set':
        if (len) {
          b = b.slice();
          b[place(op.at, len)] = op.v[0];
        }
        break;
      case 'insert': {
        const i = place(op.at, len, true);
        b = concat(b.subarray(0, i), op.v, b.subarray(i));
        break;
      }
      case 'delete': {
        const i = place(op.at, len);
        b = concat(b.subarray(0, i), b.subarray(i + op.n));
        break;
      }
      case 'truncate':
        b = b.slice(0, place(op.at, len));
        break;
      case 'dup': {
        const i = place(op.at, len);
        b = concat(b.subarray(0, i + op.n), b.subarray(i));
        break;
      }
    }
  }
  return b;
}

/** Text mutations (UTF-16 code units); insertions draw on `tokens` as well as random text. ASCII only when asked (header values). */
const textOps = (tokens: string[], ascii = false) => {
  const unit = ascii ? 'binary-ascii' : 'binary';
  const toks = ascii ? tokens.filter((t) => /^\p{ASCII}*$/u.test(t)) : tokens;
  return opsArb<string>(
    fc.oneof(fc.string({ minLength: 1, maxLength: 6, unit }), fc.constantFrom(...toks)),
    fc.string({ minLength: 1, maxLength: 1, unit }),
  );
};

function mutateText(input: string, ops: Op<string>[]): string {
  let s = input;
  for (const op of ops) {
    const len = s.length;
    switch (op.k) {
      case 'flip':
        if (len) {
          const i = place(op.at, len);
          s = s.slice(0, i) + String.fromCharCode(s.charCodeAt(i) ^ (1 << op.bit)) + s.slice(i + 1);
        }
        break;
      case 'set':
        if (len) {
          const i = place(op.at, len);
          s = s.slice(0, i) + op.v + s.slice(i + 1);
        }
        break;
      case 'insert': {
        const i = place(op.at, len, true);
        s = s.slice(0, i) + op.v + s.slice(i);
        break;
      }
      case 'delete': {
        const i = place(op.at, len);
        s = s.slice(0, i) + s.slice(i + op.n);
        break;
      }
      case 'truncate':
        s = s.slice(0, place(op.at, len));
        break;
      case 'dup': {
        const i = place(op.at, len);
        s = s.slice(0, i + op.n) + s.slice(i);
        break;
      }
    }
  }
  return s;
}

/**
 * Header values are kept ASCII (a flipped top bit is dropped): workerd accepts other
 * characters but logs a warning for each, which would bury the test output.
 */
const ascii = (s: string) => s.replace(/\P{ASCII}/gu, '');

/** Builds a Request, or undefined when the Request constructor itself refuses the input. */
function request(
  url: string,
  init: { method?: string; headers?: [string, string][] | Record<string, string>; body?: BodyInit | null },
): Request | undefined {
  try {
    return new Request(url, init);
  } catch {
    return undefined;
  }
}

/** How many generated cases the Request constructor refused (skipped; printed at the end, not asserted). */
const refused = { sigv4: 0, cos: 0, random: 0 };

// ---------------------------------------------------------------------------
// 1. Authentication: canonicalisation, SigV4 (header and presigned), COS

const AK = 'AKFUZZEXAMPLE';
const SK = 'fuzz/secret+KEY/0123456789abcdefghijklm';
const lookup = async (ak: string) => (ak === AK ? SK : undefined);
const DATETIME = '20260301T080000Z';
const NOW = new Date('2026-03-01T08:01:00Z');
const HOST = 'https://gw.example';

const URL_TOKENS = [
  '%',
  '%2',
  '%2F',
  '%2f',
  '%25',
  '%zz',
  '%E2%82',
  '%FF',
  '%00',
  '+',
  '&',
  '=',
  '?',
  '#',
  '/',
  '//',
  '..',
  '.',
  '~',
  ' ',
  'é',
  'ሴ',
  '\u{1F600}',
  '\uD800',
  ';',
  ',',
];
const AUTH_TOKENS = [
  ',',
  ';',
  '=',
  '/',
  ' ',
  '  ',
  'AWS4-HMAC-SHA256 ',
  'Credential=',
  'SignedHeaders=',
  'Signature=',
  'aws4_request',
  '/s3/',
  'host',
  'HOST',
  'é',
  ';;',
  'a b',
  ':',
  '\t',
  '&',
  'q-ak=',
  'q-sign-time=',
  'q-key-time=',
  'q-header-list=',
  'q-url-param-list=',
  'q-signature=',
  'q-sign-algorithm=sha1',
  '1772352000;1772355600',
  '%3B',
  '__proto__',
  'constructor',
  '99999999999999',
  '0',
];

/** Characters that make awkward paths, queries and header values. */
const urlish = fc.oneof(fc.string({ maxLength: 12, unit: 'binary' }), fc.constantFrom(...URL_TOKENS));
const pathArb = fc.oneof(
  fc.string({ maxLength: 40, unit: 'binary' }),
  fc.array(urlish, { maxLength: 8 }).map((xs) => xs.join('/')),
);
const queryArb = fc.oneof(
  fc.string({ maxLength: 40, unit: 'binary' }),
  fc
    .array(fc.tuple(urlish, fc.option(urlish, { nil: undefined })), { maxLength: 6 })
    .map((ps) => ps.map(([k, v]) => (v === undefined ? k : `${k}=${v}`)).join('&')),
);
const headerValueArb = fc.oneof(
  fc.string({ maxLength: 30 }),
  fc.string({ maxLength: 30, unit: 'binary-ascii' }),
  fc.constantFrom(
    DATETIME,
    'UNSIGNED-PAYLOAD',
    'STREAMING-AWS4-HMAC-SHA256-PAYLOAD',
    'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    'Sun, 01 Mar 2026 08:00:00 GMT',
    '  a   b  ',
  ),
);
const headerNameArb = fc.oneof(
  fc.constantFrom(
    'x-amz-date',
    'date',
    'x-amz-content-sha256',
    'host',
    'content-md5',
    'content-type',
    'content-length',
    'x-amz-meta-a',
    'x-cos-acl',
    'x-amz-decoded-content-length',
  ),
  fc.stringMatching(/^[a-zA-Z0-9!#$%&'*+.^_`|~-]{1,12}$/),
);
const hex64 = fc.stringMatching(/^[0-9a-f]{64}$/);
/** A SignedHeaders list: usually with host (so it passes the form checks), with odd names now and then. */
const signedListArb = fc
  .tuple(
    fc.array(
      fc.oneof(
        fc.constantFrom('x-amz-date', 'x-amz-content-sha256', 'date', 'content-type', 'x-amz-meta-note', 'absent-header'),
        fc.constantFrom('a b', 'x(y)', 'x"', 'x{y}', '\t', '\u0000', '\u007f', '', 'HOST', ' host'),
        fc.string({ maxLength: 8, unit: 'binary-ascii' }),
      ),
      { maxLength: 4 },
    ),
    fc.nat(),
    fc.integer({ min: 0, max: 9 }),
  )
  .map(([generated, at, hostUnlessZero]) => {
    const names = [...generated]; // generated values are reused while shrinking: never modify them
    if (hostUnlessZero) names.splice(at % (names.length + 1), 0, 'host');
    return names.join(';');
  });
const sigv4HeaderArb = fc
  .record({
    ak: fc.oneof(fc.constant(AK), fc.string({ maxLength: 12 })),
    date: fc.oneof(fc.constant(DATETIME.slice(0, 8)), fc.stringMatching(/^\d{8}$/), fc.string({ maxLength: 10 })),
    region: fc.oneof(fc.constantFrom('us-east-1', 'auto', ''), fc.string({ maxLength: 8, unit: 'binary-ascii' })),
    service: fc.oneof(fc.constant('s3'), fc.string({ maxLength: 4 })),
    signed: fc.oneof(fc.constantFrom('host', 'host;x-amz-date', 'host;x-amz-content-sha256;x-amz-date', 'HOST', ''), signedListArb),
    sig: fc.oneof(hex64, fc.string({ maxLength: 70 })),
    sep: fc.constantFrom(', ', ',', ' ,  '),
  })
  .map(
    (p) =>
      `AWS4-HMAC-SHA256 Credential=${p.ak}/${p.date}/${p.region}/${p.service}/aws4_request${p.sep}SignedHeaders=${p.signed}${p.sep}Signature=${p.sig}`,
  );
const cosFieldsArb = fc.record({
  alg: fc.oneof(fc.constant('sha1'), fc.string({ maxLength: 5 })),
  ak: fc.oneof(fc.constant(AK), fc.string({ maxLength: 10 })),
  time: fc.oneof(
    fc.constant('1772352000;1772355600'),
    fc.tuple(fc.nat(), fc.nat()).map(([a, b]) => `${a};${b}`),
    fc.string({ maxLength: 12 }),
  ),
  headers: fc.oneof(
    fc.constantFrom('', 'host', 'host;content-type', 'HOST;x-cos-acl'),
    signedListArb,
    fc.string({ maxLength: 20, unit: 'binary-ascii' }),
  ),
  params: fc.oneof(fc.constantFrom('', 'prefix', 'a;b', 'max-keys;prefix'), fc.string({ maxLength: 20, unit: 'binary-ascii' })),
  sig: fc.oneof(fc.stringMatching(/^[0-9a-f]{40}$/), fc.string({ maxLength: 44 })),
});
const cosString = (f: { alg: string; ak: string; time: string; headers: string; params: string; sig: string }) =>
  `q-sign-algorithm=${f.alg}&q-ak=${f.ak}&q-sign-time=${f.time}&q-key-time=${f.time}&q-header-list=${f.headers}&q-url-param-list=${f.params}&q-signature=${f.sig}`;
const authHeaderArb = fc.oneof(
  fc.string({ maxLength: 60, unit: 'binary-ascii' }),
  // SigV2: "AWS <AK>:<base64>" with random parts.
  fc
    .tuple(
      fc.oneof(fc.constant(AK), fc.string({ maxLength: 12, unit: 'binary-ascii' })),
      fc.string({ maxLength: 32, unit: 'binary-ascii' }),
    )
    .map(([ak, sig]) => `AWS ${ak}:${sig}`),
  sigv4HeaderArb,
  cosFieldsArb.map(cosString),
  fc.tuple(fc.oneof(sigv4HeaderArb, cosFieldsArb.map(cosString)), textOps(AUTH_TOKENS, true)).map(([s, ops]) => ascii(mutateText(s, ops))),
);
/** Query-string auth: SigV4 presigned and COS presigned parameters with random values. */
const queryAuthArb = fc.oneof(
  fc
    .record({
      alg: fc.oneof(fc.constant('AWS4-HMAC-SHA256'), fc.string({ maxLength: 5 })),
      cred: fc.oneof(fc.constant(`${AK}/${DATETIME.slice(0, 8)}/us-east-1/s3/aws4_request`), fc.string({ maxLength: 30, unit: 'binary' })),
      date: fc.oneof(fc.constant(DATETIME), fc.stringMatching(/^\d{8}T\d{6}Z$/), fc.string({ maxLength: 16 })),
      expires: fc.oneof(fc.constantFrom('1', '3600', '604800', '604801', '0', '-1', '1e3', '9999999'), fc.string({ maxLength: 8 })),
      signed: fc.oneof(fc.constantFrom('host', 'host;x-amz-date'), signedListArb, fc.string({ maxLength: 12, unit: 'binary' })),
      sha: fc.option(
        fc.oneof(fc.constantFrom('UNSIGNED-PAYLOAD', 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD'), hex64, fc.string({ maxLength: 8 })),
        { nil: undefined },
      ),
      sig: fc.oneof(hex64, fc.string({ maxLength: 10 })),
    })
    .map((p) => {
      const q = new URLSearchParams({
        'X-Amz-Algorithm': p.alg,
        'X-Amz-Credential': p.cred,
        'X-Amz-Date': p.date,
        'X-Amz-Expires': p.expires,
        'X-Amz-SignedHeaders': p.signed,
        'X-Amz-Signature': p.sig,
      });
      if (p.sha !== undefined) q.set('X-Amz-Content-Sha256', p.sha);
      return q.toString();
    }),
  cosFieldsArb.map((f) => cosString(f).replace(/;/g, '%3B')),
  fc.constantFrom('AWSAccessKeyId=a&Signature=b', 'X-Amz-Signature=', 'q-signature=&X-Amz-Algorithm=x'),
  // SigV2 presigned: AWSAccessKeyId, Expires, Signature with random values.
  fc
    .record({
      ak: fc.oneof(fc.constant(AK), fc.string({ maxLength: 12, unit: 'binary' })),
      expires: fc.oneof(fc.constantFrom('0', '1', '4102444800', '99999999999999', '-1', ''), fc.string({ maxLength: 12 })),
      sig: fc.string({ maxLength: 32, unit: 'binary' }),
    })
    .map((p) => new URLSearchParams({ AWSAccessKeyId: p.ak, Expires: p.expires, Signature: p.sig }).toString()),
);

const randomRequestArb = fc.record({
  // workerd's Request takes the standard methods only (any case).
  method: fc.constantFrom('GET', 'PUT', 'POST', 'HEAD', 'DELETE', 'OPTIONS', 'PATCH', 'get', 'put', 'post'),
  path: pathArb,
  query: queryArb,
  queryAuth: fc.option(queryAuthArb, { nil: undefined }),
  auth: fc.option(authHeaderArb, { nil: undefined }),
  headers: fc.array(fc.tuple(headerNameArb, headerValueArb), { maxLength: 6 }),
  amzDate: fc.option(fc.oneof(fc.constant(DATETIME), fc.stringMatching(/^\d{8}T\d{6}Z$/), fc.string({ maxLength: 20 })), {
    nil: undefined,
  }),
  // Most requests carry a payload hash SigV4 accepts, so random ones get past the early checks.
  sha: fc.option(
    fc.oneof(
      fc.constantFrom('UNSIGNED-PAYLOAD', 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER', 'STREAMING-UNSIGNED-PAYLOAD-TRAILER'),
      hex64,
      fc.string({ maxLength: 10 }),
    ),
    { nil: undefined, freq: 4 },
  ),
});

/** Every verifier, canonicaliser and helper on one request: each must keep the contract. */
async function checkAllAuth(req: Request): Promise<void> {
  const url = new URL(req.url);
  const runs: (() => unknown)[] = [
    () => authenticate(req, lookup, NOW),
    () => authenticate(req, lookup, NOW, { sigV2: true, hostBucket: 'bucket' }),
    () => verifySigV2(req, lookup, { now: NOW }),
    () => verifyPresignedV2(req, lookup, { now: NOW }),
    () => verifySigV4(req, lookup, { now: NOW }),
    () => verifyPresignedV4(req, lookup, { now: NOW }),
    () => verifyCos(req, lookup, NOW, false),
    () => verifyCos(req, lookup, NOW, true),
    () => canonicalUri(url.pathname),
    () => canonicalQuery(url.search),
    () => canonicalQuery(url.search, 'X-Amz-Signature'),
    () => rawPairs(url.search).map(([k, v]) => [recode(k, true), recode(v, false), unescapeBytes(k, false)]),
  ];
  for (const run of runs) within(await bounded(run));
  // canonicalRequest sees only names parseSignedHeaders lets through: non-empty and lowercase.
  const fromHeader = /SignedHeaders=([^,]*)/.exec(req.headers.get('authorization') ?? '')?.[1] ?? '';
  const listed = [...fromHeader.trim().split(';'), ...(url.searchParams.get('X-Amz-SignedHeaders') ?? '').split(';')];
  const names = [...new Set(['host', ...req.headers.keys(), ...listed])].filter((n) => n && n === n.toLowerCase());
  within(await bounded(() => canonicalRequest(req, url, names, 'UNSIGNED-PAYLOAD')));
}

/** A valid COS signature over method, path, signed params and headers (independent of src: COS's published algorithm). */
async function cosSign(
  method: string,
  path: string,
  params: [string, string][],
  headers: [string, string][],
  keyTime: string,
): Promise<string> {
  const hex = (b: ArrayBuffer) => [...new Uint8Array(b)].map((x) => x.toString(16).padStart(2, '0')).join('');
  const hmacSha1 = async (key: string, msg: string) =>
    hex(
      await crypto.subtle.sign(
        'HMAC',
        await crypto.subtle.importKey('raw', enc(key), { name: 'HMAC', hash: 'SHA-1' }, false, ['sign']),
        enc(msg),
      ),
    );
  const part = (xs: [string, string][]) => xs.map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&');
  const http = [method.toLowerCase(), path, part(params), part(headers), ''].join('\n');
  const sts = ['sha1', keyTime, hex(await crypto.subtle.digest('SHA-1', enc(http))), ''].join('\n');
  return hmacSha1(await hmacSha1(SK, keyTime), sts);
}

interface Signed {
  name: string;
  method: string;
  url: string;
  headers: [string, string][];
}

/** Valid signed requests of every scheme; mutating them reaches the signature checks. */
async function signedRequests(): Promise<Signed[]> {
  const out: Signed[] = [];
  const v4 = [
    { path: '/bucket/key.txt', query: '' },
    { path: '/bucket/dir/a%20b~%24ሴ', query: '?prefix=a%20b&x-id=GetObject&empty=' },
    { path: '/', query: '?list-type=2&continuation-token=abc%2Fdef%3D' },
  ];
  for (const { path, query } of v4) {
    for (const signQuery of [false, true]) {
      const s = await new AwsV4Signer({
        url: HOST + path + query,
        method: 'PUT',
        headers: { 'content-type': 'text/plain', 'x-amz-meta-note': '  two  spaces ' },
        accessKeyId: AK,
        secretAccessKey: SK,
        service: 's3',
        region: 'us-east-1',
        datetime: DATETIME,
        signQuery,
      }).sign();
      out.push({
        name: `sigv4${signQuery ? '-presigned' : ''} ${path}${query}`,
        method: s.method,
        url: s.url.toString(),
        headers: [...s.headers],
      });
    }
  }
  const keyTime = `${NOW.getTime() / 1000 - 120};${NOW.getTime() / 1000 + 3600}`;
  const params: [string, string][] = [
    ['max-keys', '10'],
    ['prefix', 'a b/c'],
  ];
  const query = '?prefix=a%20b%2Fc&max-keys=10';
  const hdrs: [string, string][] = [
    ['content-type', 'text/plain'],
    ['host', 'gw.example'],
  ];
  const sig = await cosSign('GET', '/b/obj-1.txt', params, hdrs, keyTime);
  const fields = `q-sign-algorithm=sha1&q-ak=${AK}&q-sign-time=${keyTime}&q-key-time=${keyTime}&q-header-list=content-type;host&q-url-param-list=max-keys;prefix&q-signature=${sig}`;
  out.push({
    name: 'cos',
    method: 'GET',
    url: `${HOST}/b/obj-1.txt${query}`,
    headers: [
      ['content-type', 'text/plain'],
      ['authorization', fields],
    ],
  });
  out.push({
    name: 'cos-presigned',
    method: 'GET',
    url: `${HOST}/b/obj-1.txt${query}&${fields.replace(/;/g, '%3B')}`,
    headers: [['content-type', 'text/plain']],
  });
  return out;
}

describe('fuzz: authentication', () => {
  let signed: Signed[] = [];
  beforeAll(async () => {
    signed = await signedRequests();
  });

  it('the structured inputs are valid before mutation (so mutations start deep)', async () => {
    for (const s of signed) {
      const auth = await authenticate(new Request(s.url, { method: s.method, headers: s.headers }), lookup, NOW);
      expect(auth.accessKeyId, s.name).toBe(AK);
    }
  });

  it('random requests: every verifier and canonicaliser succeeds or throws S3Error', async () => {
    await fc.assert(
      fc.asyncProperty(randomRequestArb, async (r) => {
        const query = [r.query, r.queryAuth].filter((x) => x !== undefined && x !== '').join('&');
        const headers: [string, string][] = [...r.headers];
        if (r.auth !== undefined) headers.push(['authorization', r.auth]);
        if (r.amzDate !== undefined) headers.push(['x-amz-date', r.amzDate]);
        if (r.sha !== undefined) headers.push(['x-amz-content-sha256', r.sha]);
        // NUL, CR and LF cannot occur in a header value on the wire (the Request constructor refuses them).
        const clean = headers.map(([k, v]): [string, string] => [k, ascii(v).replace(/[\0\r\n]/g, '')]);
        const req = request(`${HOST}/${r.path}${query ? `?${query}` : ''}`, { method: r.method, headers: clean });
        if (!req) return void refused.random++;
        await checkAllAuth(req);
      }),
      { numRuns: RUNS * 2 },
    );
  });

  it('mutated valid signed requests (Authorization, URL, a header value): succeed or throw S3Error', async () => {
    const target = fc.constantFrom('authorization', 'url', 'header', 'add-header');
    await fc.assert(
      fc.asyncProperty(
        fc.nat(),
        target,
        textOps([...AUTH_TOKENS, ...URL_TOKENS]),
        textOps([...AUTH_TOKENS, ...URL_TOKENS], true),
        fc.nat(),
        headerNameArb,
        async (which, what, urlOps, ops, hi, extraName) => {
          const s = signed[which % signed.length];
          let url = s.url;
          let headers = s.headers.map(([k, v]): [string, string] => [k, v]);
          if (what === 'url') url = HOST + mutateText(s.url.slice(HOST.length), urlOps);
          else if (what === 'authorization' && headers.some(([k]) => k === 'authorization'))
            headers = headers.map(([k, v]) => [k, k === 'authorization' ? ascii(mutateText(v, ops)) : v]);
          else if (what === 'add-header') headers.push([extraName, ascii(mutateText('value', ops))]);
          else {
            const i = hi % headers.length;
            headers[i] = [headers[i][0], ascii(mutateText(headers[i][1], ops))];
          }
          const req = request(url, { method: s.method, headers });
          if (!req) return void (s.name.startsWith('cos') ? refused.cos++ : refused.sigv4++);
          await checkAllAuth(req);
        },
      ),
      { numRuns: RUNS * 3 },
    );
  });

  it('unescapeBytes / recode / rawPairs on arbitrary strings', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ unit: 'binary', maxLength: 60 }),
          fc.array(urlish, { maxLength: 10 }).map((xs) => xs.join('')),
        ),
        fc.boolean(),
        (s, plus) => {
          const b = unescapeBytes(s, plus);
          expect(b).toBeInstanceOf(Uint8Array);
          const r = recode(s, plus);
          // Re-encoding is idempotent: the canonical form of a canonical form is itself.
          expect(recode(r, plus)).toBe(r);
          for (const [k, v] of rawPairs(s)) expect(typeof k === 'string' && typeof v === 'string').toBe(true);
          expect(canonicalUri(s)).toBe(canonicalUri(canonicalUri(s)));
        },
      ),
      { numRuns: RUNS * 3 },
    );
  });
});

// ---------------------------------------------------------------------------
// 2. aws-chunked decoding

const CHUNK_TOKENS = [
  '\r\n',
  '\n',
  '\r',
  ';',
  '=',
  ':',
  '0',
  'f',
  'F',
  '10000',
  'ffffffffffff',
  '0\r\n\r\n',
  ';chunk-signature=',
  'x-amz-checksum-crc32:',
  'x-amz-trailer-signature:',
  '\r\n\r\n',
  ' ',
  '-1',
  'é',
];
const REGION = 'eu-1';
const SCOPE = `${DATETIME.slice(0, 8)}/${REGION}/s3/aws4_request`;
const SEED = `${'f'.repeat(8) + '0123456789abcdef'.repeat(3)}01234567`;

async function signedPayload(trailer: boolean): Promise<Payload> {
  return {
    kind: 'chunked-signed',
    signingKey: await deriveSigningKey(SK, DATETIME.slice(0, 8), REGION, 's3'),
    scope: SCOPE,
    datetime: DATETIME,
    seed: SEED,
    trailer,
  };
}

const crc32 = (data: Uint8Array) => {
  const c = new Crc32();
  c.update(data);
  return c.digestBase64();
};
const md5b64 = async (data: Uint8Array) => toBase64(new Uint8Array(await crypto.subtle.digest('MD5', data)));

interface ChunkedCase {
  payload: Payload;
  body: Uint8Array;
  headers: Record<string, string>;
  data: Uint8Array;
  /** The decoder must catch any change to the data (signed chunks, a declared checksum or MD5). */
  protectedData: boolean;
}

const chunkedCaseArb = fc.record({
  kind: fc.constantFrom('signed', 'signed-trailer', 'unsigned-trailer'),
  len: fc.oneof(fc.integer({ min: 0, max: 40 }), fc.integer({ min: 0, max: 20000 })),
  seed: fc.integer(),
  chunk: fc.oneof(fc.constantFrom(8192, 9000, 16384), fc.integer({ min: 1, max: 5000 })),
  crc: fc.boolean(),
  md5: fc.boolean(),
  decodedLength: fc.boolean(),
});

async function buildChunked(
  c: { kind: string; len: number; seed: number; chunk: number; crc: boolean; md5: boolean; decodedLength: boolean },
  payloads: Record<string, Payload>,
): Promise<ChunkedCase> {
  const data = pattern(c.len, c.seed);
  const headers: Record<string, string> = {};
  if (c.decodedLength) headers['x-amz-decoded-content-length'] = String(data.length);
  if (c.md5) headers['content-md5'] = await md5b64(data);
  const trailers: [string, string][] = [];
  if (c.crc && c.kind !== 'signed') {
    headers['x-amz-trailer'] = 'x-amz-checksum-crc32';
    trailers.push(['x-amz-checksum-crc32', crc32(data)]);
  }
  let body: Uint8Array;
  if (c.kind === 'unsigned-trailer') body = unsignedChunkedBody(data, c.chunk, trailers);
  else {
    // Signed chunks must be at least 8 KiB, except the last.
    const chunkSize = Math.max(8192, c.chunk);
    body = await signedChunkedBody({
      secret: SK,
      datetime: DATETIME,
      region: REGION,
      seed: SEED,
      data,
      chunkSize,
      trailers: c.kind === 'signed-trailer' ? trailers : undefined,
    });
  }
  return { payload: payloads[c.kind], body, headers, data, protectedData: c.kind !== 'unsigned-trailer' || c.crc || c.md5 };
}

/** How a consumer treats a stream: reads it to the end, or cancels it after some reads (a refused write). */
type Consume = { abortAfter?: number; cancelAfter?: number };
const consumeArb: fc.Arbitrary<Consume> = fc.oneof(
  { weight: 4, arbitrary: fc.constant({}) },
  fc.record({ abortAfter: fc.nat({ max: 12 }) }),
  fc.record({ cancelAfter: fc.nat({ max: 4 }) }),
);

/** Reads `s` to its end or error, or cancels it after `cancelAfter` reads (the cancel must settle too). */
async function consume(
  s: ReadableStream<Uint8Array>,
  cancelAfter?: number,
): Promise<{ data: Uint8Array; error?: unknown; cancelled?: boolean }> {
  if (cancelAfter === undefined) return collect(s);
  const r = s.getReader();
  const parts: Uint8Array[] = [];
  try {
    for (let i = 0; i < cancelAfter; i++) {
      const { value, done } = await r.read();
      if (done) return { data: concat(...parts) };
      parts.push(value);
    }
    await r.cancel('consumer gone');
    return { data: concat(...parts), cancelled: true };
  } catch (error) {
    return { data: concat(...parts), error };
  }
}

/** Decodes one body: the synchronous header checks and the stream must both keep the contract. */
async function decodeCase(body: Uint8Array, pieces: number[], payload: Payload, headers: Record<string, string>, how: Consume = {}) {
  const info: PayloadInfo = { checksums: {} };
  let passedThrough = false;
  const o = await bounded(async () => {
    const src = streamOf(body, pieces, undefined, how.abortAfter);
    const out = decodePayload(src, payload, new Headers(headers), info);
    // With nothing to check, the body itself is handed back (and so is its own error).
    passedThrough = out === src;
    return consume(out, how.cancelAfter);
  });
  within(o);
  if (o.ok && o.value.error !== undefined && !(passedThrough && o.value.error instanceof SourceGone))
    within({ ok: false, error: o.value.error });
  return o.ok ? { ...o.value, info } : undefined;
}

describe('fuzz: aws-chunked decoder', () => {
  const payloads: Record<string, Payload> = {};
  beforeAll(async () => {
    payloads.signed = await signedPayload(false);
    payloads['signed-trailer'] = await signedPayload(true);
    payloads['unsigned-trailer'] = { kind: 'chunked-unsigned-trailer' };
  });

  it('valid bodies decode exactly, however they are cut', async () => {
    await fc.assert(
      fc.asyncProperty(chunkedCaseArb, piecesArb(20000), async (c, pieces) => {
        const k = await buildChunked(c, payloads);
        const r = await decodeCase(k.body, pieces, k.payload, k.headers);
        expect(r?.error).toBeUndefined();
        expect(sameBytes(r!.data, k.data)).toBe(true);
        expect(r!.info.decodedLength).toBe(k.data.length);
      }),
      { numRuns: RUNS / 3 },
    );
  });

  it('mutated bodies: S3Error or success, and success never changes protected data', async () => {
    await fc.assert(
      fc.asyncProperty(chunkedCaseArb, byteOps(CHUNK_TOKENS), piecesArb(20000), consumeArb, async (c, ops, pieces, how) => {
        const k = await buildChunked(c, payloads);
        const body = mutateBytes(k.body, ops);
        const r = await decodeCase(body, pieces, k.payload, k.headers, how);
        if (r && r.error === undefined && !r.cancelled && k.protectedData)
          expect(sameBytes(r.data, k.data), 'a tampered body decoded to other data').toBe(true);
        // A body that errors (disconnects) never ends successfully.
        if (r && how.abortAfter !== undefined && !r.cancelled) expect(r.error).toBeDefined();
      }),
      { numRuns: RUNS },
    );
  });

  it('random bodies and random headers, every payload kind', async () => {
    const payloadArb = fc.oneof(
      fc.constantFrom('signed', 'signed-trailer', 'unsigned-trailer', 'unsigned'),
      hex64.map((hex) => ({ kind: 'sha256' as const, hex })),
    );
    // A few headers at most, so that many bodies get past the header checks.
    const headersArb = fc
      .array(
        fc.oneof(
          fc.tuple(fc.constant('content-md5'), fc.oneof(fc.string({ maxLength: 26 }), fc.constant('1B2M2Y8AsgTpgAmY7PhCfg=='))),
          fc.tuple(
            fc.constant('x-amz-checksum-crc32'),
            fc.oneof(fc.string({ maxLength: 10 }), fc.constantFrom('AAAAAA==', 'y/Q5Jg==', 'AAAA')),
          ),
          fc.tuple(fc.constant('x-amz-checksum-sha256'), fc.string({ maxLength: 46 })),
          fc.tuple(
            fc.constant('x-amz-trailer'),
            fc.oneof(
              fc.constantFrom('x-amz-checksum-crc32', 'x-amz-checksum-crc64nvme, x-amz-checksum-sha1', 'x-amz-checksum-md5', ','),
              fc.string({ maxLength: 20 }),
            ),
          ),
          fc.tuple(fc.constant('x-amz-decoded-content-length'), fc.oneof(fc.nat({ max: 100 }).map(String), fc.string({ maxLength: 18 }))),
        ),
        { maxLength: 2 },
      )
      .map((pairs) => Object.fromEntries(pairs));
    const bodyArb = fc.oneof(
      fc.uint8Array({ maxLength: 300 }),
      fc
        .array(fc.oneof(fc.constantFrom(...CHUNK_TOKENS), fc.stringMatching(/^[0-9a-fA-F]{1,4}$/), fc.string({ maxLength: 8 })), {
          maxLength: 20,
        })
        .map((xs) => enc(xs.join(''))),
    );
    await fc.assert(
      fc.asyncProperty(payloadArb, headersArb, bodyArb, piecesArb(300), consumeArb, async (p, headers, body, pieces, how) => {
        const payload = typeof p === 'string' ? (payloads[p] ?? { kind: 'unsigned' }) : p;
        const h = request(HOST, { headers: headers as Record<string, string> });
        if (!h) return;
        await decodeCase(body, pieces, payload, Object.fromEntries(h.headers), how);
      }),
      { numRuns: RUNS },
    );
  });
});

// ---------------------------------------------------------------------------
// 3. multipart/form-data (POST Object)

const BOUNDARY = '----fuzzBoundary7MA4YWxkTrZu0gW';
const FORM_TOKENS = [
  '\r\n',
  '\r\n\r\n',
  '--',
  `--${BOUNDARY}`,
  `\r\n--${BOUNDARY}`,
  `\r\n--${BOUNDARY}--`,
  `\r\n--${BOUNDARY}--\r\n`,
  'Content-Disposition: form-data; name="file"',
  ':',
  ';',
  '"',
  '\\',
  ' ',
  '\t',
  'name=',
  "filename*=utf-8''%E2%82",
  '%',
];

interface FormSpec {
  fields: [string, string][];
  fileLen: number;
  seed: number;
  filename: string;
  closingCrlf: boolean;
  preamble: string;
}

const fieldNameArb = fc.string({ minLength: 1, maxLength: 12, unit: fc.constantFrom(...'abcKEY-_$é ✓%'.split('')) });
const formSpecArb = (large: boolean): fc.Arbitrary<FormSpec> =>
  fc.record({
    fields: fc.array(
      fc.tuple(
        fieldNameArb.filter((n) => n.toLowerCase() !== 'file'),
        fc.string({ maxLength: 30, unit: 'binary' }),
      ),
      { maxLength: 5 },
    ),
    fileLen: large
      ? fc.integer({ min: SMALL_REST + 1, max: SMALL_REST + 20000 })
      : fc.oneof(fc.integer({ min: 0, max: 64 }), fc.integer({ min: 0, max: 3000 })),
    seed: fc.integer(),
    filename: fieldNameArb,
    closingCrlf: large ? fc.constant(true) : fc.boolean(),
    preamble: fc.constantFrom('', 'preamble\r\n'),
  });

function formBody(s: FormSpec): { body: Uint8Array; data: Uint8Array } {
  const data = pattern(s.fileLen, s.seed);
  const parts: (string | Uint8Array)[] = [s.preamble];
  for (const [k, v] of s.fields) parts.push(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`);
  parts.push(
    `--${BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="${s.filename}"\r\nContent-Type: application/octet-stream\r\n\r\n`,
    data,
    `\r\n--${BOUNDARY}--${s.closingCrlf ? '\r\n' : ''}`,
  );
  return { body: concat(...parts), data };
}

/** After readForm: read the file to the end, cancel it at once, or read some then cancel. */
const fileActionArb = fc.oneof(
  fc.constant({ k: 'drain' as const }),
  fc.constant({ k: 'cancel' as const }),
  fc.record({ k: fc.constant('partial' as const), reads: fc.integer({ min: 1, max: 4 }) }),
);
type FileAction = { k: 'drain' } | { k: 'cancel' } | { k: 'partial'; reads: number };

/** readForm and then the file stream; all of it must keep the contract. Returns what a full read delivered. */
async function formCase(
  body: Uint8Array,
  pieces: number[],
  contentType: string | null,
  contentLength: string | null,
  action: FileAction,
  abortAfter?: number,
  hangMs = HANG_MS,
) {
  const o = await bounded(async () => {
    const form = await readForm(streamOf(body, pieces, undefined, abortAfter), contentType, contentLength);
    if (action.k === 'drain') return { form, read: await collect(form.file.body) };
    if (action.k === 'cancel') {
      await form.file.body.cancel('client gone');
      return { form };
    }
    const r = form.file.body.getReader();
    for (let i = 0; i < action.reads; i++) if ((await r.read()).done) break;
    await r.cancel('client gone');
    return { form };
  }, hangMs);
  within(o);
  if (!o.ok) return undefined;
  if (o.value.read?.error !== undefined) within({ ok: false, error: o.value.read.error });
  // The announced length is exact: a file stream that ends cleanly delivered exactly that many bytes.
  if (o.value.read && o.value.read.error === undefined) expect(o.value.read.data.length).toBe(o.value.form.file.length);
  // A body that errors (the client went away) never yields a file that ends cleanly.
  if (abortAfter !== undefined && o.value.read) expect(o.value.read.error).toBeDefined();
  return o.value;
}

const CT = `multipart/form-data; boundary=${BOUNDARY}`;
/** Now and then the body errors after some pieces (a client that disconnects). */
const ABORT = fc.oneof({ weight: 4, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.nat({ max: 12 }) });

describe('fuzz: multipart/form-data', () => {
  it('valid forms parse exactly, however they are cut', async () => {
    await fc.assert(
      fc.asyncProperty(formSpecArb(false), piecesArb(4000), async (s, pieces) => {
        const { body, data } = formBody(s);
        const r = await formCase(body, pieces, CT, String(body.length), { k: 'drain' });
        expect(r?.form.fields).toEqual(s.fields);
        expect(r?.form.file.filename).toBe(s.filename);
        expect(r?.read?.error).toBeUndefined();
        expect(sameBytes(r!.read!.data, data)).toBe(true);
      }),
      { numRuns: RUNS / 3 },
    );
  });

  const contentLengthArb = fc.oneof(
    { weight: 6, arbitrary: fc.constant('exact') },
    { weight: 1, arbitrary: fc.integer({ min: -40, max: 40 }) },
    { weight: 1, arbitrary: fc.oneof(fc.string({ maxLength: 18 }), fc.constantFrom('9999999999999999', '0', '00012')) },
  );
  const lengthOf = (cl: string | number, n: number) =>
    cl === 'exact' ? String(n) : typeof cl === 'number' ? String(Math.max(0, n + cl)) : cl;

  it('mutated forms (small file): S3Error or a file of exactly the announced length', async () => {
    await fc.assert(
      fc.asyncProperty(
        formSpecArb(false),
        byteOps(FORM_TOKENS),
        piecesArb(4000),
        contentLengthArb,
        fileActionArb,
        ABORT,
        async (s, ops, pieces, cl, action, abortAfter) => {
          const body = mutateBytes(formBody(s).body, ops);
          await formCase(body, pieces, CT, lengthOf(cl, body.length), action, abortAfter);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it(`mutated forms (file over ${SMALL_REST} bytes, streamed): S3Error or a file of exactly the announced length`, async () => {
    await fc.assert(
      fc.asyncProperty(
        formSpecArb(true),
        byteOps(FORM_TOKENS),
        piecesArb(70000),
        contentLengthArb,
        fileActionArb,
        ABORT,
        async (s, ops, pieces, cl, action, abortAfter) => {
          const body = mutateBytes(formBody(s).body, ops);
          // A quarter-megabyte body cut into 1-16 byte pieces is ~10^5 reads: slow on a busy machine, not a hang.
          await formCase(body, pieces, CT, lengthOf(cl, body.length), action, abortAfter, STREAMED_HANG_MS);
        },
      ),
      { numRuns: HEAVY_RUNS },
    );
  });

  it('random bodies, Content-Types and Content-Lengths', async () => {
    const ctArb = fc.oneof(
      fc.constant(CT),
      fc.constant(`multipart/form-data; boundary="${BOUNDARY}"`),
      fc.string({ maxLength: 60, unit: 'binary' }),
      fc.tuple(fc.constant(CT), textOps(['"', ';', '\\', ' ', 'boundary=', '\r\n', 'x'.repeat(71)])).map(([c, ops]) => mutateText(c, ops)),
      fc.constant(null),
    );
    const bodyArb = fc.oneof(
      fc.uint8Array({ maxLength: 400 }),
      fc.array(fc.oneof(fc.constantFrom(...FORM_TOKENS), fc.string({ maxLength: 10 })), { maxLength: 16 }).map((xs) => enc(xs.join(''))),
    );
    await fc.assert(
      fc.asyncProperty(
        ctArb,
        bodyArb,
        piecesArb(400),
        fc.oneof(fc.constant('exact'), fc.integer({ min: -5, max: 5 }), fc.string({ maxLength: 5 })),
        fileActionArb,
        async (ct, body, pieces, cl, action) => {
          within(await bounded(() => boundaryOf(ct)));
          await formCase(body, pieces, ct, lengthOf(cl, body.length), action);
        },
      ),
      { numRuns: RUNS },
    );
  });
});

// ---------------------------------------------------------------------------
// 4. XML bodies

const XML_TOKENS = [
  '<',
  '>',
  '</',
  '/>',
  '<?xml version="1.0" encoding="UTF-8"?>',
  '<!DOCTYPE x [<!ENTITY e "v">]>',
  '&e;',
  '&amp;',
  '&lt;',
  '&#60;',
  '&#x3C;',
  '&#0;',
  '&#xD800;',
  '&#99999999;',
  '&',
  ';',
  '"',
  "'",
  '=',
  ' ',
  '<![CDATA[',
  ']]>',
  '<!--',
  '-->',
  'xmlns="http://s3.amazonaws.com/doc/2006-03-01/"',
  'a:',
  '__proto__',
  'constructor',
  'toString',
  'valueOf',
  'Object',
  'Key',
  'Part',
];
const ROOTS = ['Delete', 'CompleteMultipartUpload', 'ServerSideEncryptionConfiguration', 'CreateBucketConfiguration'];

/** Element text: mostly characters XML allows (so unmutated documents parse), now and then anything. */
const xmlValueArb = fc.oneof(
  { weight: 4, arbitrary: fc.string({ maxLength: 12, unit: fc.constantFrom(...'abc XYZ/-_.~0129"\'>é✓ሴ\t\n'.split(''), '\u{1F600}') }) },
  { weight: 2, arbitrary: fc.constantFrom('', ' x ', '&amp;', '"etag"', '1', '10000', 'true', '&#34;a&#x22;') },
  { weight: 1, arbitrary: fc.string({ maxLength: 12, unit: 'binary' }) },
);
const esc = (s: string) => s.replace(/&(?!amp;|#)/g, '&amp;').replace(/</g, '&lt;');
const xmlDocArb = fc.oneof(
  fc
    .record({ quiet: fc.boolean(), objects: fc.array(fc.tuple(xmlValueArb, fc.option(xmlValueArb, { nil: undefined })), { maxLength: 4 }) })
    .map(
      (d) =>
        `<?xml version="1.0" encoding="UTF-8"?><Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Quiet>${d.quiet}</Quiet>${d.objects.map(([k, v]) => `<Object><Key>${esc(k)}</Key>${v === undefined ? '' : `<VersionId>${esc(v)}</VersionId>`}</Object>`).join('')}</Delete>`,
    ),
  fc
    .array(fc.tuple(fc.oneof(fc.nat({ max: 10001 }).map(String), xmlValueArb), xmlValueArb), { maxLength: 4 })
    .map(
      (parts) =>
        `<CompleteMultipartUpload>${parts.map(([n, e]) => `<Part><PartNumber>${esc(n)}</PartNumber><ETag>${esc(e)}</ETag></Part>`).join('')}</CompleteMultipartUpload>`,
    ),
  fc
    .record({
      alg: fc.oneof(fc.constantFrom('AES256', 'aws:kms', 'SM4'), xmlValueArb),
      kid: fc.option(xmlValueArb, { nil: undefined }),
      bke: fc.boolean(),
      blocked: fc.array(xmlValueArb, { maxLength: 2 }),
    })
    .map(
      (c) =>
        `<ServerSideEncryptionConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Rule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>${esc(c.alg)}</SSEAlgorithm>${c.kid === undefined ? '' : `<KMSMasterKeyID>${esc(c.kid)}</KMSMasterKeyID>`}</ApplyServerSideEncryptionByDefault><BucketKeyEnabled>${c.bke}</BucketKeyEnabled>${c.blocked.length ? `<BlockedEncryptionTypes>${c.blocked.map((b) => `<EncryptionType>${esc(b)}</EncryptionType>`).join('')}</BlockedEncryptionTypes>` : ''}</Rule></ServerSideEncryptionConfiguration>`,
    ),
  fc.constant('<CreateBucketConfiguration><LocationConstraint>eu-1</LocationConstraint></CreateBucketConfiguration>'),
);

/** Well-formed-ish element trees with awkward names (prototype keys, prefixes), entities, references, CDATA and comments. */
const TAGS = [
  'Object',
  'Key',
  'VersionId',
  'Quiet',
  'Part',
  'PartNumber',
  'ETag',
  'Rule',
  'ApplyServerSideEncryptionByDefault',
  'SSEAlgorithm',
  'KMSMasterKeyID',
  'BlockedEncryptionTypes',
  'EncryptionType',
  '__proto__',
  'constructor',
  'toString',
  'valueOf',
  'hasOwnProperty',
  'a:Key',
  's3:Object',
  'x',
  'x-y',
  '_',
];
const xmlTree = fc.letrec<{ node: string; text: string; elem: string }>((tie) => ({
  node: fc.oneof({ depthSize: 'small' }, tie('text'), tie('elem')),
  text: fc.oneof(
    fc.constantFrom(
      '&amp;',
      '&lt;',
      '&gt;',
      '&quot;',
      '&apos;',
      '&#34;',
      '&#x22;',
      '&#x1F600;',
      '&#0;',
      '&#xD800;',
      '&#1114112;',
      '&#65;',
      '&nbsp;',
      '&e;',
      '<![CDATA[x<y&z]]>',
      '<!-- c -->',
      '<?pi x?>',
      ' ',
      '\n',
      '',
    ),
    fc.string({ maxLength: 6, unit: fc.constantFrom(...'ab 1"\'>é\t'.split('')) }),
  ),
  elem: fc
    .tuple(
      fc.constantFrom(...TAGS),
      fc.constantFrom('', ' a="1"', " xmlns='x'", ' xmlns:a="urn:a"', ' a:b="c"'),
      fc.array(tie('node'), { maxLength: 4 }),
    )
    .map(([t, attr, kids]) => (kids.length ? `<${t}${attr}>${kids.join('')}</${t}>` : `<${t}${attr}/>`)),
}));
const xmlTreeDocArb = fc
  .tuple(fc.constantFrom(...ROOTS), fc.array(xmlTree.node, { maxLength: 5 }), fc.boolean())
  .map(([root, kids, decl]) => `${decl ? '<?xml version="1.0"?>' : ''}<${root}>${kids.join('')}</${root}>`);

/** Runs one read of a parsed document; it may refuse with an S3Error (text() of an element is MalformedXML), nothing else. */
function probe<T>(read: () => T): T | undefined {
  try {
    const v = read();
    tally({ ok: true, value: v });
    return v;
  } catch (error) {
    within({ ok: false, error });
    return undefined;
  }
}

/** Reads a parsed document the way the handlers do (delete.ts, multipart.ts, encryption.ts), then walks every node with list and text. */
function readLikeHandlers(doc: Record<string, unknown>): void {
  probe(() => text(doc, 'Quiet'));
  for (const o of list(doc, 'Object')) probe(() => [text(o, 'Key'), text(o, 'VersionId')]);
  for (const p of list(doc, 'Part')) probe(() => [Number(text(p, 'PartNumber')), text(p, 'ETag')]);
  const rules = list(doc, 'Rule');
  const apply = list(rules[0], 'ApplyServerSideEncryptionByDefault')[0];
  probe(() => [text(apply, 'SSEAlgorithm'), text(apply, 'KMSMasterKeyID'), text(rules[0], 'BucketKeyEnabled')]);
  probe(() => list(list(rules[0], 'BlockedEncryptionTypes')[0], 'EncryptionType').map(String));
  const walk = (node: unknown, depth: number) => {
    if (!node || typeof node !== 'object' || depth > 20) return;
    for (const tag of Object.keys(node)) {
      probe(() => text(node, tag));
      for (const child of probe(() => list(node, tag)) ?? []) walk(child, depth + 1);
    }
  };
  walk(doc, 0);
}

/** parseXml under every root the handlers use, then the reads. */
function xmlCase(s: string): void {
  for (const root of ROOTS) {
    const doc = probe(() => parseXml(s, root));
    if (doc) readLikeHandlers(doc);
  }
}

describe('fuzz: XML bodies', () => {
  it('arbitrary strings and token soup', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ maxLength: 80, unit: 'binary' }),
          fc
            .array(fc.oneof(fc.constantFrom(...XML_TOKENS, ...ROOTS), fc.string({ maxLength: 6 })), { maxLength: 24 })
            .map((xs) => xs.join('')),
        ),
        (s) => xmlCase(s),
      ),
      { numRuns: RUNS * 2 },
    );
  });

  it('generated element trees (prototype-named tags, prefixes, entities, references, CDATA), as is and mutated', () => {
    fc.assert(
      fc.property(xmlTreeDocArb, textOps(XML_TOKENS), (doc, ops) => {
        xmlCase(doc);
        xmlCase(mutateText(doc, ops));
      }),
      { numRuns: RUNS * 2 },
    );
  });

  it('mutated valid documents (DeleteObjects, CompleteMultipartUpload, ServerSideEncryptionConfiguration)', () => {
    fc.assert(
      fc.property(xmlDocArb, textOps(XML_TOKENS), (doc, ops) => {
        xmlCase(doc);
        xmlCase(mutateText(doc, ops));
      }),
      { numRuns: RUNS * 2 },
    );
  });
});

// ---------------------------------------------------------------------------
// 5. Range

describe('fuzz: Range', () => {
  const sizeArb = fc.oneof(
    fc.constant(0),
    fc.integer({ min: 1, max: 100 }),
    fc.maxSafeNat(),
    fc.constantFrom(1, Number.MAX_SAFE_INTEGER, 2 ** 40),
  );
  const digits = fc.oneof(fc.constant(''), fc.nat({ max: 200 }).map(String), fc.maxSafeNat().map(String), fc.stringMatching(/^\d{1,400}$/));
  const headerArb = fc.oneof(
    fc.string({ maxLength: 30, unit: 'binary' }),
    fc.tuple(digits, digits).map(([a, b]) => `bytes=${a}-${b}`),
    fc
      .tuple(digits, digits, textOps(['bytes=', '-', ',', ' ', '0', '9', '=', '\t']))
      .map(([a, b, ops]) => mutateText(`bytes=${a}-${b}`, ops)),
    fc.constant(null),
  );

  it('null, a whole-object null, a range inside the object, or InvalidRange', () => {
    fc.assert(
      fc.property(headerArb, sizeArb, (h, size) => {
        let r: ReturnType<typeof parseRange>;
        try {
          r = parseRange(h, size);
          tally({ ok: true, value: r });
        } catch (e) {
          within({ ok: false, error: e });
          expect((e as S3Error).code).toBe('InvalidRange');
          return;
        }
        if (r === null) return;
        expect(Number.isSafeInteger(r.start) && Number.isSafeInteger(r.end)).toBe(true);
        expect(0 <= r.start && r.start <= r.end && r.end < size).toBe(true);
      }),
      { numRuns: RUNS * 3 },
    );
  });

  it('well-formed single ranges inside the object are served exactly', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2 ** 40 }), fc.nat(), fc.nat(), (size, a, b) => {
        const start = a % size;
        const end = start + (b % (size - start));
        expect(parseRange(`bytes=${start}-${end}`, size)).toEqual({ start, end });
        expect(parseRange(`bytes=${start}-`, size)).toEqual({ start, end: size - 1 });
        expect(parseRange(`bytes=-${end - start + 1}`, size)).toEqual({ start: size - (end - start + 1), end: size - 1 });
      }),
      { numRuns: RUNS },
    );
  });
});

// ---------------------------------------------------------------------------
// 6. The segment decryptor

/** Stream-level tampering on top of byte mutations: segments swapped or replayed. */
type SegOp = { k: 'swap'; i: number; j: number } | { k: 'replay'; i: number; j: number } | { k: 'none' };
const segOpArb: fc.Arbitrary<SegOp> = fc.oneof(
  { weight: 3, arbitrary: fc.constant({ k: 'none' as const }) },
  fc.record({ k: fc.constant('swap' as const), i: fc.nat(), j: fc.nat() }),
  fc.record({ k: fc.constant('replay' as const), i: fc.nat(), j: fc.nat() }),
);

/** Applies a segment operation to ciphertext cut into records of `rec` bytes (the last may be shorter). */
function segmentOp(ct: Uint8Array, rec: number, op: SegOp): Uint8Array {
  if (op.k === 'none') return ct;
  const recs: Uint8Array[] = [];
  for (let o = 0; o < ct.length; o += rec) recs.push(ct.subarray(o, o + rec));
  if (recs.length < 2) return ct;
  const i = op.i % recs.length;
  const j = op.j % recs.length;
  if (op.k === 'swap') [recs[i], recs[j]] = [recs[j], recs[i]];
  else recs[i] = recs[j];
  return concat(...recs);
}

const BYTE_TOKENS = ['\0', '\0'.repeat(16)];

describe('fuzz: segment decryptor', () => {
  const keys = new Map<number, SegmentKey>();
  /** One of four distinct stream keys. */
  async function keyFor(seed: number): Promise<SegmentKey> {
    const id = ((seed % 4) + 4) % 4;
    if (!keys.has(id)) keys.set(id, (await deriveStream(pattern(32, 1000 + 7 * id), pattern(16, 99), enc('fuzz'))).key);
    return keys.get(id)!;
  }
  async function seal(key: SegmentKey, plain: Uint8Array, seg: number): Promise<Uint8Array> {
    const ct = (await collect(streamOf(plain, [997]).pipeThrough(encryptStream(key, plain.length, seg)))).data;
    expect(ct.length).toBe(cipherLength(plain.length, seg));
    return ct;
  }

  const caseArb = fc.record({
    seg: fc.constantFrom(1, 16, 64, 1000),
    len: fc.oneof(fc.integer({ min: 0, max: 70 }), fc.integer({ min: 0, max: 3000 })),
    seed: fc.integer(),
    range: fc.option(fc.tuple(fc.nat(), fc.nat()), { nil: undefined }),
    reader: fc.constantFrom('byob', 'pipe'),
    batch: fc.oneof(fc.integer({ min: 1, max: 3000 }), fc.constant(1 << 20)),
  });

  /** Decrypts `stored` (mutated or not) and checks the contract and the integrity promise. */
  async function decryptCase(
    c: { seg: number; len: number; seed: number; range?: [number, number]; reader: string; batch: number },
    mutate: (ct: Uint8Array) => Uint8Array,
    pieces: number[],
  ) {
    const key = await keyFor(c.seed);
    // The stream is opened with a key from a neighbouring seed now and then: under the wrong key nothing opens.
    const wrongKey = c.seed % 7 === 0;
    const openKey = wrongKey ? await keyFor(c.seed + 1) : key;
    const plain = pattern(c.len, c.seed);
    const ct = await seal(key, plain, c.seg);
    let start = 0;
    let end = c.len - 1;
    if (c.range && c.len > 0) {
      start = c.range[0] % c.len;
      end = start + (c.range[1] % (c.len - start));
    }
    const span = segmentSpan(c.len, c.seg, start, Math.max(start, end));
    const stored = ct.slice(span.offset, span.offset + span.length);
    const expected = c.len ? plain.slice(start, end + 1) : new Uint8Array(0);
    const tampered = mutate(stored);
    const o = await bounded(() => {
      const out =
        c.reader === 'byob'
          ? decryptBody(openKey, c.len, c.seg, span, streamOf(tampered, pieces, 'bytes'), c.batch)
          : streamOf(tampered, pieces).pipeThrough(decryptStream(openKey, c.len, c.seg, span));
      return collect(out);
    });
    within(o, [IntegrityError, LengthError, S3Error]);
    if (!o.ok) return;
    if (o.value.error !== undefined) within({ ok: false, error: o.value.error }, [IntegrityError, LengthError, S3Error]);
    // Whatever came out before an error was authenticated plaintext of the right place.
    expect(isPrefix(o.value.data, expected), 'plaintext emitted that is not the original').toBe(true);
    if (o.value.error === undefined) {
      expect(sameBytes(tampered, stored) && openKey === key, 'tampered ciphertext (or the wrong key) opened without an error').toBe(true);
      expect(sameBytes(o.value.data, expected)).toBe(true);
    }
  }

  it('valid streams open exactly, whole and ranged, however they are cut', async () => {
    await fc.assert(
      fc.asyncProperty(caseArb, piecesArb(3000), async (c, pieces) => {
        // Under the right key (decryptCase opens every seventh seed with a wrong one).
        await decryptCase({ ...c, seed: c.seed % 7 === 0 ? c.seed + 1 : c.seed }, (ct) => ct, pieces);
      }),
      { numRuns: RUNS / 3 },
    );
  });

  it('truncated, extended, bit-flipped, spliced or reordered ciphertext: IntegrityError, never plaintext', async () => {
    await fc.assert(
      fc.asyncProperty(caseArb, byteOps(BYTE_TOKENS), segOpArb, fc.boolean(), piecesArb(3000), async (c, ops, segOp, bytes, pieces) => {
        await decryptCase(
          c,
          (ct) => (bytes ? mutateBytes(segmentOp(ct, c.seg + 16, segOp), ops) : segmentOp(ct, c.seg + 16, segOp)),
          pieces,
        );
      }),
      { numRuns: RUNS },
    );
  });

  it('stored lengths and spans: plainLength inverts cipherLength, spans stay inside the ciphertext', () => {
    fc.assert(
      // segmentSpan walks the span's segments, so lengths stay within 20,000 segments (a stream is at most
      // 5 GiB of 1 KiB+ segments, ~5M; the walk is cheap but 2^40 single-byte segments are not).
      fc.property(fc.integer({ min: 1, max: 1 << 24 }), fc.nat({ max: 20_000 }), fc.nat(), fc.nat(), fc.nat(), (seg, segs, extra, a, b) => {
        const n = segs < 5000 && seg > 5000 ? segs : segs * seg + (extra % seg);
        // Any stored length: null, or the one plaintext length that seals to it.
        const p = plainLength(n, seg);
        if (p !== null) expect(p >= 0 && cipherLength(p, seg) === n).toBe(true);
        expect(plainLength(cipherLength(n, seg), seg)).toBe(n);
        if (n === 0) return;
        const start = a % n;
        const end = start + (b % (n - start));
        const span = segmentSpan(n, seg, start, end);
        expect(span.offset + span.length).toBeLessThanOrEqual(cipherLength(n, seg));
        expect(span.skip >= 0 && span.skip < seg && span.take === end - start + 1).toBe(true);
      }),
      { numRuns: RUNS * 3 },
    );
  });

  it('random ciphertext of any length', async () => {
    await fc.assert(
      fc.asyncProperty(caseArb, fc.uint8Array({ maxLength: 400 }), piecesArb(400), async (c, junk, pieces) => {
        await decryptCase({ ...c, len: Math.min(c.len, 300) }, () => junk, pieces);
      }),
      { numRuns: RUNS },
    );
  });
});

// ---------------------------------------------------------------------------
// Contract breaks the fuzzer found, fixed: their shrunk counterexamples, through the public entry point.

describe('fuzz: regressions', () => {
  const zeros = '0'.repeat(64);
  const cases: [string, Request][] = [
    [
      'header-signed, SignedHeaders=host;a b',
      new Request(`${HOST}/b/k`, {
        headers: {
          'x-amz-date': DATETIME,
          'x-amz-content-sha256': 'UNSIGNED-PAYLOAD',
          authorization: `AWS4-HMAC-SHA256 Credential=${AK}/${DATETIME.slice(0, 8)}/us-east-1/s3/aws4_request, SignedHeaders=host;a b, Signature=${zeros}`,
        },
      }),
    ],
    [
      'presigned, X-Amz-SignedHeaders=host;a b',
      new Request(
        `${HOST}/b/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=${AK}%2F${DATETIME.slice(0, 8)}%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=${DATETIME}&X-Amz-Expires=3600&X-Amz-SignedHeaders=host%3Ba%20b&X-Amz-Signature=${zeros}`,
      ),
    ],
  ];
  for (const [name, req] of cases) {
    it(`SignedHeaders that are not HTTP tokens are malformed, not a TypeError: ${name}`, async () => {
      const o = await bounded(() => authenticate(req, lookup, NOW));
      if (o.ok) throw new Error('a malformed SignedHeaders list was accepted');
      expect(o.error, describeError(o.error)).toBeInstanceOf(S3Error);
      expect((o.error as S3Error).code).toMatch(/^Authorization(HeaderMalformed|QueryParametersError)$/);
    });
  }
});

afterAll(() => {
  // How many generated requests the Request constructor refused (those inputs never reach the gateway).
  console.log('fuzz: inputs refused by new Request():', JSON.stringify(refused));
  const lines = [...outcomes].map(
    ([test, m]) =>
      `  ${test.replace(/^.*?> /, '')}: ${[...m]
        .sort((a, b) => b[1] - a[1])
        .slice(0, 8)
        .map(([k, n]) => `${k} ${n}`)
        .join(', ')}`,
  );
  console.log(`fuzz: outcomes per property (most frequent first)\n${lines.join('\n')}`);
});
