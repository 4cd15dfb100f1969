// Crypto ceilings and the peer, all on this machine in this run:
//  - `openssl speed -evp aes-256-gcm` (one core; encrypt and -decrypt, one -bytes size at a time)
//  - node:crypto AES-256-GCM, segmented exactly like the sealbucket format (one cipher per segment)
//  - the AWS Encryption SDK for JavaScript (@aws-crypto/client-node), framed, raw AES keyring
import { execFileSync } from 'node:child_process';
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const MiB = 1 << 20;

/** MB/s (10^6 bytes/s) for one block size, one direction, median of `runs`. */
export function opensslSpeed({ sizes, runs = 3, seconds = 1 }) {
  const version = execFileSync('openssl', ['version'], { encoding: 'utf8' }).trim();
  const rows = [];
  for (const bytes of sizes) {
    const row = { bytes };
    for (const dir of ['encrypt', 'decrypt']) {
      const xs = [];
      for (let i = 0; i < runs; i++) {
        const args = [
          'speed',
          '-evp',
          'aes-256-gcm',
          '-seconds',
          String(seconds),
          '-bytes',
          String(bytes),
          ...(dir === 'decrypt' ? ['-decrypt'] : []),
        ];
        const out = execFileSync('openssl', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
        const m = /^aes-256-gcm\s+([\d.]+)k/im.exec(out);
        if (!m) throw new Error(`cannot parse openssl speed output:\n${out}`);
        xs.push(Number(m[1]) / 1000); // "1000s of bytes per second"
      }
      row[dir] = median(xs);
    }
    rows.push(row);
  }
  return { version, rows };
}

/** A deterministic plaintext (random-looking bytes, made once). */
export function plaintext(mib) {
  const b = Buffer.allocUnsafe(mib * MiB);
  const r = randomBytes(MiB);
  for (let o = 0; o < b.length; o += MiB) r.copy(b, o);
  return b;
}

/** node:crypto AES-256-GCM, one cipher per segment with a counter nonce (the sealbucket layout). */
export function nodeSegmented({ pt, segments, runs = 3 }) {
  const key = randomBytes(32);
  const prefix = randomBytes(7);
  const nonce = (i, last) => {
    const n = Buffer.alloc(12);
    prefix.copy(n);
    n.writeUInt32BE(i, 7);
    n[11] = last ? 1 : 0;
    return n;
  };
  const rows = [];
  for (const seg of segments) {
    const n = Math.ceil(pt.length / seg);
    const enc = () => {
      const out = [];
      for (let i = 0; i < n; i++) {
        const c = createCipheriv('aes-256-gcm', key, nonce(i, i === n - 1));
        out.push(c.update(pt.subarray(i * seg, Math.min(pt.length, (i + 1) * seg))), c.final(), c.getAuthTag());
      }
      return out;
    };
    const dec = (parts) => {
      let bytes = 0;
      for (let i = 0; i < n; i++) {
        const d = createDecipheriv('aes-256-gcm', key, nonce(i, i === n - 1));
        d.setAuthTag(parts[3 * i + 2]);
        bytes += d.update(parts[3 * i]).length;
        d.final();
      }
      return bytes;
    };
    const sealed = enc();
    if (dec(sealed) !== pt.length) throw new Error('node:crypto round trip');
    const e = [],
      d = [];
    for (let i = 0; i < runs; i++) {
      let t = performance.now();
      enc();
      e.push(performance.now() - t);
      t = performance.now();
      dec(sealed);
      d.push(performance.now() - t);
    }
    const mbps = (ms) => pt.length / 1e6 / (ms / 1000);
    rows.push({ seg, encryptMBps: mbps(median(e)), decryptMBps: mbps(median(d)) });
  }
  return rows;
}

/** The AWS Encryption SDK: framed messages with a raw AES-256 keyring, per frame length and suite. */
export async function awsEsdk({ pt, frames, runs = 3 }) {
  const sdk = await import('@aws-crypto/client-node');
  const { buildClient, CommitmentPolicy, RawAesKeyringNode, RawAesWrappingSuiteIdentifier, AlgorithmSuiteIdentifier } = sdk;
  const { encrypt, decrypt } = buildClient(CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT);
  const keyring = new RawAesKeyringNode({
    keyName: 'bench',
    keyNamespace: 'sealbucket-bench',
    unencryptedMasterKey: new Uint8Array(randomBytes(32)),
    wrappingSuite: RawAesWrappingSuiteIdentifier.AES256_GCM_IV12_TAG16_NO_PADDING,
  });
  const suites = [
    // The closest peer to sealbucket's format: HKDF-derived data key, key commitment, no signature.
    { name: 'committing, unsigned', id: AlgorithmSuiteIdentifier.ALG_AES256_GCM_IV12_TAG16_HKDF_SHA512_COMMIT_KEY },
    // The SDK's default: the same plus an ECDSA P-384 signature over the whole message.
    {
      name: 'default (committing + ECDSA P-384)',
      id: AlgorithmSuiteIdentifier.ALG_AES256_GCM_IV12_TAG16_HKDF_SHA512_COMMIT_KEY_ECDSA_P384,
    },
  ];
  const rows = [];
  for (const suite of suites) {
    for (const frameLength of frames) {
      const opts = { suiteId: suite.id, frameLength, encryptionContext: { bench: 'sealbucket' } };
      const { result: ct } = await encrypt(keyring, pt, opts);
      const { plaintext: back } = await decrypt(keyring, ct);
      if (back.length !== pt.length) throw new Error('ESDK round trip');
      const e = [],
        d = [];
      for (let i = 0; i < runs; i++) {
        let t = performance.now();
        await encrypt(keyring, pt, opts);
        e.push(performance.now() - t);
        t = performance.now();
        await decrypt(keyring, ct);
        d.push(performance.now() - t);
      }
      const mbps = (ms) => pt.length / 1e6 / (ms / 1000);
      rows.push({ suite: suite.name, frame: frameLength, encryptMBps: mbps(median(e)), decryptMBps: mbps(median(d)) });
    }
  }
  return {
    version:
      (await import('@aws-crypto/client-node/package.json', { with: { type: 'json' } }).catch(() => ({ default: {} }))).default.version ??
      '5.0.2',
    rows,
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const pt = plaintext(64);
  console.log(opensslSpeed({ sizes: [16384, 65536, 262144, 1048576], runs: 1 }));
  console.log(nodeSegmented({ pt, segments: [65536, 262144, 1048576], runs: 3 }));
  console.log(await awsEsdk({ pt, frames: [65536, 262144, 1048576], runs: 3 }));
}
