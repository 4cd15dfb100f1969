// `npm start`: install what is missing, create dev secrets in .dev.vars on first
// run, and serve the gateway with local R2 state persisted under .wrangler/.
// Clients talk to the local front (scripts/lib/front.mjs) on PORT (default 8787),
// which forwards to `wrangler dev` on an internal port. `npm start -- --https`
// (or SEALBUCKET_HTTPS=1) serves HTTPS with a self-signed certificate instead.

import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { selfSignedCertificate, startFront } from './lib/front.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const r = spawnSync(process.execPath, [join(root, 'scripts', 'ensure-deps.mjs')], { stdio: 'inherit' });
if (r.status !== 0) process.exit(r.status ?? 1);

const varsFile = join(root, '.dev.vars');
if (!existsSync(varsFile)) {
  const ak = `SB${randomBytes(9).toString('hex').toUpperCase()}`;
  const sk = randomBytes(30).toString('base64').replace(/[+/=]/g, 'x');
  const lines = [
    '# Local development secrets for sealbucket (git-ignored). Delete this file to regenerate.',
    `ACCESS_KEY_ID=${ak}`,
    `SECRET_ACCESS_KEY=${sk}`,
    '# More credential pairs, "AK:SK,AK:SK" (set, even empty, so the Secrets Store is not consulted locally).',
    'CREDENTIALS=',
    `MASTER_KEYRING=k1:${randomBytes(32).toString('base64')}`,
    '# SSE-KMS: the root key that wraps customer master keys (base64 of 32 bytes). Losing it loses every SSE-KMS object.',
    `KMS_ROOT_KEY=${randomBytes(32).toString('base64')}`,
    '# SSE-C keys over plain HTTP are acceptable only on this loopback dev server.',
    'SSE_C_ALLOW_HTTP=true',
    '',
  ];
  writeFileSync(varsFile, lines.join('\n'), { mode: 0o600 });
  console.log('sealbucket: wrote new dev credentials and master key to .dev.vars');
}
// .dev.vars written before SSE-KMS existed: add its root key.
if (!/^KMS_ROOT_KEY=/m.test(readFileSync(varsFile, 'utf8'))) {
  appendFileSync(varsFile, `KMS_ROOT_KEY=${randomBytes(32).toString('base64')}\n`);
}
const vars = Object.fromEntries(
  readFileSync(varsFile, 'utf8')
    .split('\n')
    .filter((l) => /^[A-Z_]+=/.test(l))
    .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
);

const port = Number(process.env.PORT ?? '8787');
const https = process.argv.includes('--https') || /^(1|true|yes)$/i.test(process.env.SEALBUCKET_HTTPS ?? '');
const endpoint = `${https ? 'https' : 'http'}://127.0.0.1:${port}`;
const consolePath = (vars.CONSOLE_PATH || '/-/console').replace(/\/+$/, '');
const innerPort = await freePort();
const wrangler = join(root, 'node_modules', 'wrangler', 'bin', 'wrangler.js');
const args = [wrangler, 'dev', '--ip', '127.0.0.1', '--port', String(innerPort), '--persist-to', join(root, '.wrangler', 'state')];
// Over HTTPS, wrangler dev serves TLS too, so the Worker sees an https: URL (SSE-C needs no
// SSE_C_ALLOW_HTTP then: the override shows it).
if (https) args.push('--local-protocol', 'https', '--var', 'SSE_C_ALLOW_HTTP:false');
const child = spawn(process.execPath, args, { cwd: root, stdio: ['inherit', 'pipe', 'inherit'] });
const tls = https ? selfSignedCertificate(join(root, '.wrangler', 'front-tls')) : undefined;
const front = await startFront({ port, target: { host: '127.0.0.1', port: innerPort, https }, tls }).catch((e) => {
  console.error(`sealbucket: cannot listen on 127.0.0.1:${port}: ${e.message} (set PORT to use another port)`);
  child.kill('SIGTERM');
  process.exit(1);
});
let announced = false;
child.stdout.on('data', (buf) => {
  // wrangler's own "Ready on" names its internal port; clients use the front's.
  process.stdout.write(buf.toString().replaceAll(`127.0.0.1:${innerPort}`, `127.0.0.1:${port} (internal ${innerPort})`));
  if (!announced && /Ready on/i.test(buf.toString())) {
    announced = true;
    const env = `AWS_ACCESS_KEY_ID=${vars.ACCESS_KEY_ID} AWS_SECRET_ACCESS_KEY=${vars.SECRET_ACCESS_KEY} AWS_DEFAULT_REGION=us-east-1${tls ? ` AWS_CA_BUNDLE=${tls.certFile}` : ''}`;
    console.log(`
sealbucket is serving on ${endpoint}
  web console:       ${endpoint}${consolePath}/
  access key id:     ${vars.ACCESS_KEY_ID}
  secret access key: ${vars.SECRET_ACCESS_KEY}
${tls ? `  TLS certificate:   ${tls.certFile} (self-signed, for 127.0.0.1 and localhost)\n` : ''}
Try it:
  ${env} aws --endpoint-url ${endpoint} s3 mb s3://demo
  ${env} aws --endpoint-url ${endpoint} s3 cp ./README.md s3://demo/README.md
  ${env} aws --endpoint-url ${endpoint} s3 cp s3://demo/README.md -
`);
  }
});
const shutdown = (sig) => {
  front.close();
  child.kill(sig);
};
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => shutdown(sig));
child.on('exit', (code) => process.exit(code ?? 0));

/** A free loopback port for wrangler dev behind the front. */
function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port: p } = srv.address();
      srv.close(() => resolve(p));
    });
  });
}
