// The aws CLI (v1 here) against the running gateway.

import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  aws,
  filesNaming,
  filesUnder,
  findInFiles,
  gateway,
  hasAws,
  md5,
  random,
  readFileSync,
  sha256,
  tempDir,
  uniq,
  writeFileSync,
} from './helpers';

if (!hasAws) console.warn('e2e: WARNING: the aws CLI is not on PATH, so the aws-cli tests are skipped (install awscli to run them).');

const BUCKET = uniq('e2e-cli').toLowerCase();
const files = tempDir();
/** A CLI config that raises the multipart threshold: `s3 cp` then sends one PutObject (and one GetObject). */
const singlePutConfig = join(files.dir, 'aws-config-single-put');
/**
 * The default multipart settings (8 MB threshold and parts) with 2 parts in
 * flight instead of the CLI's 10. The local R2 simulator serialises writes, so
 * a queued part's body sits unread; after ~13 s `wrangler dev` (its
 * ProxyWorker, not the gateway) gives up on it and answers 503 "Your worker
 * restarted mid-request", which happened with 10 and with 4 parts in flight
 * for the 100 MB file on this shared 2-core machine.
 */
const fewerThreadsConfig = join(files.dir, 'aws-config-fewer-threads');
const MiB = 1024 * 1024;
const SIZE = 20 * MiB;
let data: Buffer;
let src: string;

/**
 * Runs the CLI and fails with its stderr when it does not exit 0. The CLI's
 * default configuration (multipart above 8 MB, 8 MB parts) unless `singlePut`.
 */
async function ok(args: string[], opts: { singlePut?: boolean; fewerThreads?: boolean; timeoutMs?: number } = {}): Promise<string> {
  const configFile = opts.singlePut ? singlePutConfig : opts.fewerThreads ? fewerThreadsConfig : undefined;
  const r = await aws(args, { configFile, timeoutMs: opts.timeoutMs });
  expect(r.code, `aws ${args.join(' ')}\nstderr: ${r.stderr}\nstdout: ${r.stdout}`).toBe(0);
  return r.stdout;
}

/** The S3 multipart ETag of data cut into parts of partSize: MD5 of the part MD5s, dash, count. */
function multipartEtag(d: Buffer, partSize: number): string {
  const md5s: Buffer[] = [];
  for (let o = 0; o < d.length; o += partSize)
    md5s.push(
      createHash('md5')
        .update(d.subarray(o, o + partSize))
        .digest(),
    );
  return `"${createHash('md5').update(Buffer.concat(md5s)).digest('hex')}-${md5s.length}"`;
}

beforeAll(() => {
  writeFileSync(singlePutConfig, '[default]\ns3 =\n  multipart_threshold = 200MB\n');
  writeFileSync(fewerThreadsConfig, '[default]\ns3 =\n  max_concurrent_requests = 2\n');
  data = random(SIZE);
  src = join(files.dir, 'big.bin');
  writeFileSync(src, data);
});

afterAll(() => files.cleanup());

describe.skipIf(!hasAws)('aws CLI', () => {
  it('s3 mb makes a bucket', async () => {
    expect(await ok(['s3', 'mb', `s3://${BUCKET}`])).toContain(`make_bucket: ${BUCKET}`);
  });

  it('s3 cp (default settings: a multipart upload and ranged downloads) uploads a 20 MB file and downloads the same bytes', async () => {
    await ok(['s3', 'cp', '--only-show-errors', src, `s3://${BUCKET}/dir/big.bin`]);
    const dst = join(files.dir, 'big.back');
    await ok(['s3', 'cp', '--only-show-errors', `s3://${BUCKET}/dir/big.bin`, dst]);
    const back = readFileSync(dst);
    expect(back.length).toBe(SIZE);
    expect(sha256(back)).toBe(sha256(data));
  });

  it('s3 ls shows the plaintext size', async () => {
    const out = await ok(['s3', 'ls', `s3://${BUCKET}/dir/`]);
    expect(out).toMatch(new RegExp(`\\s${SIZE}\\s+big\\.bin\\s*$`, 'm'));
    const buckets = await ok(['s3', 'ls']);
    expect(buckets).toMatch(new RegExp(`\\s${BUCKET}\\s*$`, 'm'));
  });

  it('s3api head-object reports AES256, the plaintext length and the multipart ETag (three 8 MiB parts)', async () => {
    const head = JSON.parse(await ok(['s3api', 'head-object', '--bucket', BUCKET, '--key', 'dir/big.bin', '--output', 'json']));
    expect(head.ServerSideEncryption).toBe('AES256');
    expect(head.ContentLength).toBe(SIZE);
    expect(head.ETag).toBe(multipartEtag(data, 8 * MiB));
    expect(head.ETag).toMatch(/-3"$/);
  });

  it('s3 cp with multipart_threshold 200MB: a single PutObject of the 20 MB file, the plain MD5 ETag, the same bytes back', async () => {
    await ok(['s3', 'cp', '--only-show-errors', src, `s3://${BUCKET}/dir/single.bin`], { singlePut: true });
    const head = JSON.parse(await ok(['s3api', 'head-object', '--bucket', BUCKET, '--key', 'dir/single.bin', '--output', 'json']));
    expect(head.ETag).toBe(`"${md5(data)}"`);
    expect(head.ServerSideEncryption).toBe('AES256');
    const dst = join(files.dir, 'single.back');
    await ok(['s3', 'cp', '--only-show-errors', `s3://${BUCKET}/dir/single.bin`, dst], { singlePut: true });
    expect(sha256(readFileSync(dst))).toBe(sha256(data));
  });

  it('s3 cp of a 100 MB file up and back: identical bytes, and no 32-byte slice of it in the persisted state', async () => {
    const BIG = 100 * 1000 * 1000;
    const big = random(BIG);
    const p = join(files.dir, 'huge.bin');
    writeFileSync(p, big);
    // Multipart with the default threshold and 8 MB parts, two at a time (see fewerThreadsConfig).
    await ok(['s3', 'cp', '--only-show-errors', p, `s3://${BUCKET}/dir/huge.bin`], { fewerThreads: true, timeoutMs: 150_000 });
    const dst = join(files.dir, 'huge.back');
    await ok(['s3', 'cp', '--only-show-errors', `s3://${BUCKET}/dir/huge.bin`, dst], { fewerThreads: true, timeoutMs: 150_000 });
    const back = readFileSync(dst);
    expect(back.length).toBe(BIG);
    expect(sha256(back)).toBe(sha256(big));
    const head = JSON.parse(await ok(['s3api', 'head-object', '--bucket', BUCKET, '--key', 'dir/huge.bin', '--output', 'json']));
    expect(head.ETag).toBe(multipartEtag(big, 8 * MiB));

    // The scan sees what is stored: at least the 100 MB object's bytes, and its (plaintext) key name.
    const g = gateway();
    const stored = filesUnder(g.persistDir);
    expect(stored.reduce((n, f) => n + f.size, 0)).toBeGreaterThanOrEqual(BIG);
    expect(filesNaming(g.persistDir, 'dir/huge.bin').length).toBeGreaterThan(0);
    // 32-byte slices: spread evenly, plus the first and last bytes and both sides of every 8 MiB part boundary.
    const offsets = new Set<number>([0, BIG - 32]);
    for (let i = 0; i < 96; i++) offsets.add(Math.floor((i * (BIG - 32)) / 96) + 7);
    for (let b = 8 * MiB; b < BIG; b += 8 * MiB) for (const o of [b - 32, b - 16, b]) offsets.add(o);
    const needles = [...offsets].map((o) => ({ what: `plaintext[${o}..+32]`, bytes: big.subarray(o, o + 32) }));
    expect(findInFiles(g.persistDir, needles)).toEqual([]);
  });

  it('s3 cp --sse AES256 uploads a sealed object', async () => {
    const small = random(123_457);
    const p = join(files.dir, 'small.bin');
    writeFileSync(p, small);
    await ok(['s3', 'cp', '--only-show-errors', '--sse', 'AES256', p, `s3://${BUCKET}/sse.bin`]);
    const head = JSON.parse(await ok(['s3api', 'head-object', '--bucket', BUCKET, '--key', 'sse.bin', '--output', 'json']));
    expect(head.ServerSideEncryption).toBe('AES256');
    expect(head.ContentLength).toBe(small.length);
    const dst = join(files.dir, 'small.back');
    await ok(['s3', 'cp', '--only-show-errors', `s3://${BUCKET}/sse.bin`, dst]);
    expect(sha256(readFileSync(dst))).toBe(sha256(small));
  });

  it('s3 rb refuses a non-empty bucket; s3 rm and s3 rb remove everything', async () => {
    const full = await aws(['s3', 'rb', `s3://${BUCKET}`]);
    expect(full.code).not.toBe(0);
    expect(full.stderr).toContain('BucketNotEmpty');
    expect(await ok(['s3', 'rm', `s3://${BUCKET}/sse.bin`])).toContain('delete: s3://');
    await ok(['s3', 'rm', '--recursive', `s3://${BUCKET}/dir/`]);
    const empty = await aws(['s3', 'ls', `s3://${BUCKET}/`]);
    expect(empty.stdout.trim()).toBe(''); // (the CLI exits 1 when a listing is empty)
    expect(empty.stderr).toBe('');
    expect(await ok(['s3', 'rb', `s3://${BUCKET}`])).toContain(`remove_bucket: ${BUCKET}`);
    expect(await ok(['s3', 'ls'])).not.toContain(BUCKET);
  });
});
