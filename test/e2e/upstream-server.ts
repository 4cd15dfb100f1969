// A real S3-compatible server for tests of the upstream client: s3rver, run as a
// separate child process on a free loopback port, with its data in a temp dir.
//
// s3rver checks that a SigV4 request names a known access key (S3RVER) and is
// dated within 15 minutes, but does not verify the signature itself.
//
// Node >= 17 needs --openssl-legacy-provider for s3rver: its ListObjectsV2
// continuation tokens are DES-encrypted, and OpenSSL 3 has DES only in the legacy
// provider (without it every truncated listing answers 500).

import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, mkdirSync, mkdtempSync, rmSync, type WriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, sleep, tail } from './process';

export interface UpstreamServer {
  /** http://127.0.0.1:<port> */
  endpoint: string;
  port: number;
  accessKeyId: 'S3RVER';
  secretAccessKey: 'S3RVER';
  /** s3rver's data directory: one folder per bucket. */
  dir: string;
  /** s3rver's captured stdout and stderr (one request a line). */
  logFile: string;
  /** SIGKILL, as a crash would: resolves once the process has exited. */
  kill(): Promise<void>;
  /**
   * SIGTERM, then SIGKILL if it lingers: resolves once the process has exited.
   * Then removes the temp dir it made (with the data, unless `dir` was given; E2E_KEEP keeps it).
   */
  stop(): Promise<void>;
  /** Stops s3rver if it runs and starts it again on the same port and data directory. */
  restart(): Promise<void>;
}

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
// s3rver's own CLI, with its listing order and delimiter handling fixed (see s3rver.cjs).
const S3RVER = join(root, 'test', 'e2e', 's3rver.cjs');
const READY_TIMEOUT_MS = 20_000;
const STOP_TIMEOUT_MS = 5_000;

const running = (c: ChildProcess | undefined): c is ChildProcess => !!c && c.exitCode === null && c.signalCode === null;

async function end(child: ChildProcess | undefined, signal: NodeJS.Signals): Promise<void> {
  if (!running(child)) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill(signal);
  await Promise.race([exited, sleep(STOP_TIMEOUT_MS)]);
  if (running(child)) {
    child.kill('SIGKILL');
    await exited;
  }
}

/**
 * Starts s3rver with the given buckets (default: one named "upstream") keeping its
 * data in `dir` (default: in a fresh temp dir, which stop() removes).
 */
export async function startUpstream(opts: { dir?: string; buckets?: string[] } = {}): Promise<UpstreamServer> {
  const base = mkdtempSync(join(tmpdir(), 'sealbucket-s3rver-'));
  const dir = opts.dir ?? join(base, 'data');
  const logFile = join(base, 's3rver.log');
  const buckets = opts.buckets ?? ['upstream'];
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  let child: ChildProcess | undefined;

  const cleanup = () => {
    if (!process.env.E2E_KEEP) rmSync(base, { recursive: true, force: true });
  };
  const onExit = () => {
    if (running(child)) child.kill('SIGKILL');
    cleanup();
  };
  process.once('exit', onExit);

  const start = async () => {
    for (const d of [base, dir]) mkdirSync(d, { recursive: true });
    const log: WriteStream = createWriteStream(logFile, { flags: 'a' });
    const args = [
      '--openssl-legacy-provider',
      S3RVER,
      '--address',
      '127.0.0.1',
      '--port',
      String(port),
      '--directory',
      dir,
      ...buckets.flatMap((b) => ['--configure-bucket', b]),
    ];
    const c = spawn(process.execPath, args, {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' },
    });
    child = c;
    c.stdout!.pipe(log, { end: false });
    c.stderr!.pipe(log, { end: false });
    c.once('close', () => log.end());
    let exitInfo: string | undefined;
    c.once('exit', (code, sig) => (exitInfo = `exited with ${code ?? sig}`));

    // Ready when it answers HTTP at all (an unsigned GET / lists the buckets).
    const deadline = Date.now() + READY_TIMEOUT_MS;
    while (Date.now() < deadline && !exitInfo) {
      try {
        const r = await fetch(`${endpoint}/`, { signal: AbortSignal.timeout(2_000) });
        await r.arrayBuffer();
        if (r.status === 200) return;
      } catch {
        /* not listening yet */
      }
      await sleep(100);
    }
    const why = exitInfo ?? `not ready after ${READY_TIMEOUT_MS / 1000} s`;
    await end(c, 'SIGKILL');
    throw new Error(`s3rver ${why}. Log tail:\n${tail(logFile)}`);
  };

  await start().catch((e) => {
    process.off('exit', onExit);
    cleanup();
    throw e;
  });
  return {
    endpoint,
    port,
    accessKeyId: 'S3RVER',
    secretAccessKey: 'S3RVER',
    dir,
    logFile,
    kill: () => end(child, 'SIGKILL'),
    stop: async () => {
      await end(child, 'SIGTERM');
      process.off('exit', onExit);
      cleanup();
    },
    restart: async () => {
      await end(child, 'SIGTERM');
      await start();
    },
  };
}
