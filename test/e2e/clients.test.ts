// Outside clients nobody here wrote, on their default settings: boto3, rclone and s3cmd
// (Debian's packages; scripts/ensure-deps.mjs installs them). Run against both layouts.

import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { backendVars, filesUnder, gateway, random, readFileSync, sha256, sseCKey, tempDir, uniq } from './helpers';
import { type Gateway, startGateway } from './setup';

// Each case moves a 50 MB file up and down (twice through the proxy layout): on a loaded 2-core
// machine that has taken close to two minutes, so the cases and the clients get five.
const CLIENT_TEST_MS = 300_000;
const files = tempDir();
afterAll(() => files.cleanup());

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a client; a missing binary is a failure with the one line that fixes it, never a skip. */
function run(bin: string, args: string[], env: Record<string, string | undefined> = {}, timeoutMs = 280_000): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      bin,
      args,
      { env: { ...process.env, ...env }, timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 },
      (err, stdout, stderr) => {
        const e = err as (NodeJS.ErrnoException & { code?: unknown; killed?: boolean }) | null;
        if (e?.killed) stderr += `\n(${bin} killed after ${timeoutMs / 1000} s)`;
        if (e && e.code === 'ENOENT') {
          reject(new Error(`${bin} is not installed: run "npm test" as root (it installs Debian's ${bin}) or "apt-get install ${bin}"`));
        } else resolve({ code: e ? (typeof e.code === 'number' ? e.code : 1) : 0, stdout, stderr });
      },
    );
    child.stdin?.end();
  });
}

async function ok(bin: string, args: string[], env: Record<string, string | undefined> = {}): Promise<string> {
  const r = await run(bin, args, env);
  expect(r.code, `${bin} ${args.join(' ')}\n${r.stderr}\n${r.stdout}`).toBe(0);
  return r.stdout + r.stderr;
}

/** A tree with small files, an empty one, a nested one and a 50 MB one (uploaded in parts by both clients). */
function makeTree(root: string): { path: string; size: number }[] {
  mkdirSync(join(root, 'sub', 'deeper'), { recursive: true });
  writeFileSync(join(root, 'a.bin'), random(100_000));
  writeFileSync(join(root, 'empty.txt'), '');
  writeFileSync(join(root, 'sub', 'b.txt'), 'hello from a sub directory\n');
  writeFileSync(join(root, 'sub', 'deeper', 'c.bin'), random(3 * 1024 * 1024 + 5));
  writeFileSync(join(root, 'big.bin'), random(50_000_000));
  return filesUnder(root);
}

function sameTrees(a: string, b: string) {
  const left = filesUnder(a).map((f) => f.path.slice(a.length));
  const right = filesUnder(b).map((f) => f.path.slice(b.length));
  expect(right.sort()).toEqual(left.sort());
  for (const rel of left) expect(sha256(readFileSync(b + rel)), rel).toBe(sha256(readFileSync(a + rel)));
}

// On the proxy layout rclone's downloads have stalled mid-body (no bytes from the upstream read, the
// client waiting for minutes), 2 of 6 runs under load, never on R2: an open bug (README, Known gaps).
// The rclone cases run on the R2 layout only until it is fixed (s3cmd and boto3 run on both).
const onProxy = inject('backend') === 'proxy';

describe.skipIf(onProxy)('rclone (on the proxy layout: skipped, known stall, see README)', () => {
  const bucket = uniq('e2e-rclone').toLowerCase();
  const src = join(files.dir, 'rclone-src');
  let conf: string;
  // rclone reads AWS_CA_BUNDLE and refuses its own HTTP transport with it; the gateway is plain HTTP here.
  const env = () => ({ RCLONE_CONFIG: conf, AWS_CA_BUNDLE: undefined });
  // One retry instead of three, so a failure shows at once; -v so it says what failed.
  const rclone = (...args: string[]) => ok('rclone', [...args, '--retries', '1', '-v'], env());

  beforeAll(() => {
    const g = gateway();
    conf = join(files.dir, 'rclone.conf');
    rcloneConfig(conf, g);
    makeTree(src);
  });

  it(
    'copies a tree up (the 50 MB file in parts, SSE AES256) and down, byte-identical; check --download agrees',
    async () => {
      await rclone('mkdir', `gw:${bucket}`);
      // Parts of 5 MiB above 10 MB: rclone's multipart upload, with Go's XML (ETags quoted as &#34;).
      const parts = ['--s3-upload-cutoff', '10M', '--s3-chunk-size', '5M'];
      await rclone('copy', src, `gw:${bucket}/tree`, '--s3-server-side-encryption', 'AES256', ...parts);
      const listing = await rclone('lsf', '-R', '--files-only', `gw:${bucket}/tree`);
      expect(listing.split('\n').filter(Boolean).sort()).toEqual(['a.bin', 'big.bin', 'empty.txt', 'sub/b.txt', 'sub/deeper/c.bin']);
      const back = join(files.dir, 'rclone-back');
      await rclone('copy', `gw:${bucket}/tree`, back);
      sameTrees(src, back);
      await rclone('check', '--download', src, `gw:${bucket}/tree`);
    },
    CLIENT_TEST_MS,
  );

  it(
    'sync mirrors a change and a deletion',
    async () => {
      const mirror = join(files.dir, 'rclone-sync');
      makeTree(mirror);
      await rclone('sync', mirror, `gw:${bucket}/sync`);
      writeFileSync(join(mirror, 'a.bin'), random(1234));
      writeFileSync(join(mirror, 'new.txt'), 'new\n');
      rmSync(join(mirror, 'sub', 'b.txt'));
      await rclone('sync', mirror, `gw:${bucket}/sync`);
      const back = join(files.dir, 'rclone-sync-back');
      await rclone('copy', `gw:${bucket}/sync`, back);
      sameTrees(mirror, back);
      await rclone('check', '--download', mirror, `gw:${bucket}/sync`);
    },
    CLIENT_TEST_MS,
  );
});

// boto3 on its default settings: it sends Expect: 100-continue with every PUT body, which the
// local front answers at once (scripts/bench/small-puts.py measures what that saves).
describe('boto3 on default settings', () => {
  it(
    '200 small put_object calls, then each listed and read back',
    async () => {
      const g = gateway();
      const bucket = uniq('e2e-boto3').toLowerCase();
      const script = [
        'import boto3, os, sys',
        "s3 = boto3.client('s3', endpoint_url=os.environ['EP'], region_name='us-east-1',",
        "    aws_access_key_id=os.environ['AK'], aws_secret_access_key=os.environ['SK'])",
        "b = os.environ['BUCKET']",
        's3.create_bucket(Bucket=b)',
        'for i in range(200):',
        "    s3.put_object(Bucket=b, Key=f'k/{i:03d}', Body=f'object {i}'.encode())",
        "keys = [o['Key'] for p in s3.get_paginator('list_objects_v2').paginate(Bucket=b) for o in p.get('Contents', [])]",
        "assert keys == [f'k/{i:03d}' for i in range(200)], keys[:5]",
        'for i in (0, 99, 199):',
        "    assert s3.get_object(Bucket=b, Key=f'k/{i:03d}')['Body'].read() == f'object {i}'.encode()",
        "print('ok')",
      ].join('\n');
      const r = await run('python3', ['-c', script], {
        EP: g.endpoint,
        AK: g.accessKeyId,
        SK: g.secretAccessKey,
        BUCKET: bucket,
        AWS_CA_BUNDLE: undefined,
      });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout.trim()).toBe('ok');
    },
    CLIENT_TEST_MS,
  );
});

/** An rclone remote for a gateway; `extra` lines go into its section. */
function rcloneConfig(file: string, g: { endpoint: string; accessKeyId: string; secretAccessKey: string }, extra: string[] = []) {
  writeFileSync(
    file,
    [
      '[gw]',
      'type = s3',
      'provider = Other',
      `access_key_id = ${g.accessKeyId}`,
      `secret_access_key = ${g.secretAccessKey}`,
      `endpoint = ${g.endpoint}`,
      'region = us-east-1',
      ...extra,
      '',
    ].join('\n'),
  );
}

// rclone (like every Go client) sends SSE-C keys only over TLS: the local HTTPS mode (npm start -- --https).
describe.skipIf(onProxy)('rclone with an SSE-C key, over the local HTTPS mode (on the proxy layout: skipped, known stall)', () => {
  let g: Gateway;
  const bucket = uniq('e2e-rclone-ssec').toLowerCase();
  const src = join(files.dir, 'rclone-ssec-src');
  const key = sseCKey();
  beforeAll(async () => {
    g = await startGateway({ ...backendVars(), SSE_C_ALLOW_HTTP: 'false' }, { https: true });
    makeTree(src);
  });
  afterAll(async () => {
    await g?.stop();
  });

  it(
    'copies a tree up and down with the key, check --download agrees; without the key nothing reads',
    async () => {
      const sealed = join(files.dir, 'rclone-ssec.conf');
      rcloneConfig(sealed, g, ['sse_customer_algorithm = AES256', `sse_customer_key_base64 = ${key.b64}`]);
      const keyless = join(files.dir, 'rclone-keyless.conf');
      rcloneConfig(keyless, g);
      const rc = (conf: string, ...args: string[]) =>
        run('rclone', [...args, '--retries', '1', '--no-check-certificate'], { RCLONE_CONFIG: conf, AWS_CA_BUNDLE: undefined });
      const ok = async (conf: string, ...args: string[]) => {
        const r = await rc(conf, ...args);
        expect(r.code, `rclone ${args.join(' ')}\n${r.stderr}`).toBe(0);
      };
      await ok(sealed, 'mkdir', `gw:${bucket}`);
      await ok(sealed, 'copy', src, `gw:${bucket}/tree`, '--s3-upload-cutoff', '10M', '--s3-chunk-size', '5M');
      const back = join(files.dir, 'rclone-ssec-back');
      await ok(sealed, 'copy', `gw:${bucket}/tree`, back);
      sameTrees(src, back);
      await ok(sealed, 'check', '--download', src, `gw:${bucket}/tree`);
      // Without the key rclone's HEAD is refused (400), which rclone takes for a missing file:
      // cat prints nothing and copyto writes nothing.
      const cat = await rc(keyless, 'cat', `gw:${bucket}/tree/a.bin`);
      expect(cat.stdout).toBe('');
      const out = join(files.dir, 'rclone-keyless.bin');
      await rc(keyless, 'copyto', `gw:${bucket}/tree/a.bin`, out);
      expect(existsSync(out)).toBe(false);
    },
    CLIENT_TEST_MS,
  );
});

describe('s3cmd', () => {
  const bucket = uniq('e2e-s3cmd').toLowerCase();
  const src = join(files.dir, 's3cmd-src');
  let cfg: string;
  const s3cmd = (...args: string[]) => ok('s3cmd', ['-c', cfg, ...args]);

  beforeAll(() => {
    const g = gateway();
    cfg = join(files.dir, 's3cfg');
    writeFileSync(
      cfg,
      [
        '[default]',
        `access_key = ${g.accessKeyId}`,
        `secret_key = ${g.secretAccessKey}`,
        `host_base = 127.0.0.1:${g.port}`,
        `host_bucket = 127.0.0.1:${g.port}`,
        'use_https = False',
        'bucket_location = us-east-1',
        '',
      ].join('\n'),
    );
    makeTree(src);
  });

  for (const v2 of [false, true]) {
    it(
      `put, get, info and sync${v2 ? ' with --signature-v2' : ''}`,
      async () => {
        const sig = v2 ? ['--signature-v2'] : [];
        const b = `${bucket}${v2 ? '-v2' : ''}`;
        await s3cmd(...sig, 'mb', `s3://${b}`);
        await s3cmd(...sig, 'put', join(src, 'a.bin'), `s3://${b}/a.bin`);
        const got = join(files.dir, `s3cmd-a${v2 ? '-v2' : ''}.bin`);
        await s3cmd(...sig, 'get', '--force', `s3://${b}/a.bin`, got);
        expect(sha256(readFileSync(got))).toBe(sha256(readFileSync(join(src, 'a.bin'))));
        const info = await s3cmd(...sig, 'info', `s3://${b}/a.bin`);
        expect(info).toMatch(/File size:\s+100000/);
        expect(info).toMatch(/SSE:\s+AES256/);
        // sync uploads the 50 MB file in 15 MB parts (s3cmd's default multipart chunk).
        await s3cmd(...sig, 'sync', `${src}/`, `s3://${b}/tree/`);
        const back = join(files.dir, `s3cmd-back${v2 ? '-v2' : ''}`);
        await s3cmd(...sig, 'sync', `s3://${b}/tree/`, `${back}/`);
        sameTrees(src, back);
      },
      CLIENT_TEST_MS,
    );
  }
});
