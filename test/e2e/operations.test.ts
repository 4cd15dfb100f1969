// Operator tools against real gateways: offline recovery (scripts/export.mjs +
// scripts/recover.mjs), encrypt-in-place, and master-key rotation across restarts.

import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { afterAll, describe, expect, inject, it } from 'vitest';
import vectors from '../vectors/format-v1.json';
import { backendVars, gateway, s3Client, sdkBody, sha256, sseCKey, uniq } from './helpers';
import { type Gateway, startGateway } from './setup';

const root = join(__dirname, '..', '..');
const work = mkdtempSync(join(tmpdir(), 'sealbucket-ops-'));

function script(
  name: string,
  args: string[],
  g: { endpoint: string; accessKeyId: string; secretAccessKey: string },
): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(root, 'scripts', name), ...args],
      {
        env: {
          ...process.env,
          SEALBUCKET_ENDPOINT: g.endpoint,
          AWS_ACCESS_KEY_ID: g.accessKeyId,
          AWS_SECRET_ACCESS_KEY: g.secretAccessKey,
        },
        timeout: 120_000,
      },
      (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out: stdout + stderr }),
    );
  });
}

const clientFor = (g: Gateway) =>
  new S3Client({
    endpoint: g.endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: g.accessKeyId, secretAccessKey: g.secretAccessKey },
  });

describe('offline recovery (scripts/recover.mjs)', () => {
  it('decrypts the FORMAT.md test vectors', async () => {
    for (const v of vectors) {
      const dir = join(work, `vector-${v.name}`);
      await import('node:fs').then((fs) => fs.mkdirSync(dir, { recursive: true }));
      writeFileSync(
        join(dir, 'record.json'),
        JSON.stringify({
          bucket: v.bucket,
          key: v.key,
          custom: { 'sb-size': String(v.plaintext.length / 2), 'sb-data': 'data', 'sb-env': JSON.stringify(v.envelope) },
          body: '',
        }),
      );
      writeFileSync(join(dir, 'data'), Buffer.from(v.ciphertext, 'hex'));
      const r = await script('recover.mjs', [dir, '--out', join(dir, 'out'), '--keyring', v.masterKeyring], gateway());
      expect(r.code, r.out).toBe(0);
      expect(readFileSync(join(dir, 'out')).toString('hex')).toBe(v.plaintext);
    }
  });

  it('recovers SSE-COS, SSE-C and multipart objects exported from the running gateway, and refuses tampered ones', async () => {
    const s3 = s3Client();
    const bucket = uniq('recover');
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    const single = randomBytes(700_000);
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'single.bin', Body: single }));
    const key = sseCKey();
    const ssec = randomBytes(300_000);
    await s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: 'ssec.bin',
        Body: ssec,
        SSECustomerAlgorithm: 'AES256',
        SSECustomerKey: key.raw.toString('base64'),
      }),
    );
    const mp = randomBytes(5 * 1024 * 1024 + 4321);
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'mp.bin' }));
    const e1 = (
      await s3.send(
        new UploadPartCommand({ Bucket: bucket, Key: 'mp.bin', UploadId, PartNumber: 1, Body: mp.subarray(0, 5 * 1024 * 1024) }),
      )
    ).ETag;
    const e2 = (
      await s3.send(new UploadPartCommand({ Bucket: bucket, Key: 'mp.bin', UploadId, PartNumber: 2, Body: mp.subarray(5 * 1024 * 1024) }))
    ).ETag;
    await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: bucket,
        Key: 'mp.bin',
        UploadId,
        MultipartUpload: {
          Parts: [
            { PartNumber: 1, ETag: e1 },
            { PartNumber: 2, ETag: e2 },
          ],
        },
      }),
    );
    // SSE-C in parts, completed without the key (as S3 allows): its commit uses the manifest key.
    const ssecParts = { SSECustomerAlgorithm: 'AES256', SSECustomerKey: key.raw.toString('base64') };
    const cmp = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'ssec-mp.bin', ...ssecParts }));
    const ce1 = (
      await s3.send(
        new UploadPartCommand({
          Bucket: bucket,
          Key: 'ssec-mp.bin',
          UploadId: cmp.UploadId,
          PartNumber: 1,
          Body: mp.subarray(0, 5 * 1024 * 1024),
          ...ssecParts,
        }),
      )
    ).ETag;
    const ce2 = (
      await s3.send(
        new UploadPartCommand({
          Bucket: bucket,
          Key: 'ssec-mp.bin',
          UploadId: cmp.UploadId,
          PartNumber: 2,
          Body: mp.subarray(5 * 1024 * 1024),
          ...ssecParts,
        }),
      )
    ).ETag;
    await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: bucket,
        Key: 'ssec-mp.bin',
        UploadId: cmp.UploadId,
        MultipartUpload: {
          Parts: [
            { PartNumber: 1, ETag: ce1 },
            { PartNumber: 2, ETag: ce2 },
          ],
        },
      }),
    );

    const keyring = inject('masterKeyring');
    for (const [name, data, secret] of [
      ['single.bin', single, ['--keyring', keyring]],
      ['ssec.bin', ssec, ['--sse-c-key', key.b64]],
      ['mp.bin', mp, ['--keyring', keyring]],
      ['ssec-mp.bin', mp, ['--sse-c-key', key.b64]],
    ] as const) {
      const dir = join(work, `export-${name}`);
      const ex = await script('export.mjs', [bucket, name, dir], gateway());
      expect(ex.code, ex.out).toBe(0);
      const out = join(dir, 'plain');
      const rc = await script('recover.mjs', [dir, '--out', out, ...secret], gateway());
      expect(rc.code, rc.out).toBe(0);
      expect(sha256(readFileSync(out))).toBe(sha256(data));
    }

    // A wrong SSE-C key, and a flipped ciphertext byte, are refused.
    const dir = join(work, 'export-ssec.bin');
    const wrong = await script('recover.mjs', [dir, '--out', join(dir, 'x'), '--sse-c-key', randomBytes(32).toString('base64')], gateway());
    expect(wrong.code).not.toBe(0);
    expect(wrong.out).toContain('not the one the object was stored with');
    const sdir = join(work, 'export-single.bin');
    const rec = JSON.parse(readFileSync(join(sdir, 'record.json'), 'utf8'));
    const dataFile = join(sdir, rec.files[0]);
    const bytes = readFileSync(dataFile);
    bytes[400_000] ^= 1;
    writeFileSync(dataFile, bytes);
    const bad = await script('recover.mjs', [sdir, '--out', join(sdir, 'x'), '--keyring', keyring], gateway());
    expect(bad.code).not.toBe(0);
    expect(bad.out).toContain('failed authentication');
  });
});

describe('encrypt-in-place (scripts/encrypt-in-place.mjs)', () => {
  let plain: Gateway;
  afterAll(async () => plain?.stop());

  it('seals every plaintext object under a prefix with identical content and metadata, and skips the rest', async () => {
    plain = await startGateway({ ...backendVars(), DEFAULT_SSE: 'none' });
    const s3 = clientFor(plain);
    await s3.send(new CreateBucketCommand({ Bucket: 'legacy' }));
    const objects = new Map<string, Buffer>();
    for (let i = 0; i < 7; i++) {
      const data = randomBytes(1000 + i * 100_000);
      objects.set(`old/${i}.bin`, data);
      await s3.send(
        new PutObjectCommand({
          Bucket: 'legacy',
          Key: `old/${i}.bin`,
          Body: data,
          ContentType: 'application/x-test',
          Metadata: { n: String(i) },
        }),
      );
    }
    await s3.send(
      new PutObjectCommand({ Bucket: 'legacy', Key: 'old/sealed.bin', Body: 'already sealed', ServerSideEncryption: 'AES256' }),
    );
    await s3.send(new PutObjectCommand({ Bucket: 'legacy', Key: 'other/x.bin', Body: 'outside the prefix' }));
    expect((await s3.send(new HeadObjectCommand({ Bucket: 'legacy', Key: 'old/0.bin' }))).ServerSideEncryption).toBeUndefined();

    const r = await script('encrypt-in-place.mjs', ['legacy', '--prefix', 'old/'], plain);
    expect(r.code, r.out).toBe(0);
    const report = JSON.parse(r.out.slice(r.out.indexOf('{')));
    expect(report).toMatchObject({ sealed: 7, skipped: 1, failed: 0 });

    for (const [key, data] of objects) {
      const h = await s3.send(new HeadObjectCommand({ Bucket: 'legacy', Key: key }));
      expect(h.ServerSideEncryption).toBe('AES256');
      expect(h.ContentType).toBe('application/x-test');
      expect(h.Metadata?.n).toBe(key.slice(4, 5));
      expect(sha256(await sdkBody(await s3.send(new GetObjectCommand({ Bucket: 'legacy', Key: key }))))).toBe(sha256(data));
    }
    expect((await s3.send(new HeadObjectCommand({ Bucket: 'legacy', Key: 'other/x.bin' }))).ServerSideEncryption).toBeUndefined();
    // Re-running finds nothing left to do.
    const again = await script('encrypt-in-place.mjs', ['legacy', '--prefix', 'old/'], plain);
    expect(JSON.parse(again.out.slice(again.out.indexOf('{')))).toMatchObject({ sealed: 0, skipped: 8, failed: 0 });
  });
});

describe('master-key rotation across restarts (scripts/rotate.mjs)', () => {
  it('rotates to a new version, refuses then allows retiring the old one, and the data survives with only the new key', async () => {
    const state = mkdtempSync(join(tmpdir(), 'sealbucket-rot-'));
    const k1 = `k1:${randomBytes(32).toString('base64')}`;
    const k2 = `k2:${randomBytes(32).toString('base64')}`;
    const objects = new Map<string, Buffer>();

    const backend = backendVars();
    const first = await startGateway({ ...backend, MASTER_KEYRING: k1 }, { persistDir: state });
    const creds = { ACCESS_KEY_ID: first.accessKeyId, SECRET_ACCESS_KEY: first.secretAccessKey };
    try {
      const s3 = clientFor(first);
      await s3.send(new CreateBucketCommand({ Bucket: 'rot' }));
      for (let i = 0; i < 25; i++) {
        const d = randomBytes(500 + i * 7000);
        objects.set(`o${i}`, d);
        await s3.send(new PutObjectCommand({ Bucket: 'rot', Key: `o${i}`, Body: d }));
      }
    } finally {
      await first.stop();
    }

    const second = await startGateway({ ...backend, ...creds, MASTER_KEYRING: `${k2},${k1}` }, { persistDir: state });
    try {
      const early = await script('rotate.mjs', ['--retire', 'k1'], second);
      expect(early.code).toBe(1);
      expect(early.out).toContain('refused');
      const r = await script('rotate.mjs', ['--batch', '7'], second);
      expect(r.code, r.out).toBe(0);
      expect(r.out).toContain('25 re-wrapped');
      expect(r.out).toContain('"k1":0');
      const retire = await script('rotate.mjs', ['--retire', 'k1'], second);
      expect(retire.code, retire.out).toBe(0);
    } finally {
      await second.stop();
    }

    const third = await startGateway({ ...backend, ...creds, MASTER_KEYRING: k2 }, { persistDir: state });
    try {
      const s3 = clientFor(third);
      for (const [key, data] of objects) {
        expect(sha256(await sdkBody(await s3.send(new GetObjectCommand({ Bucket: 'rot', Key: key }))))).toBe(sha256(data));
      }
    } finally {
      await third.stop();
    }
  });
});
