// `npm start`: install what is missing, create dev secrets in .dev.vars on first
// run, and serve the gateway with local R2 state persisted under .wrangler/.

import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

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

const port = process.env.PORT ?? '8787';
const endpoint = `http://127.0.0.1:${port}`;
const wrangler = join(root, 'node_modules', 'wrangler', 'bin', 'wrangler.js');
const child = spawn(
  process.execPath,
  [wrangler, 'dev', '--ip', '127.0.0.1', '--port', port, '--persist-to', join(root, '.wrangler', 'state')],
  {
    cwd: root,
    stdio: ['inherit', 'pipe', 'inherit'],
  },
);
let announced = false;
child.stdout.on('data', (buf) => {
  process.stdout.write(buf);
  if (!announced && /Ready on/i.test(buf.toString())) {
    announced = true;
    const env = `AWS_ACCESS_KEY_ID=${vars.ACCESS_KEY_ID} AWS_SECRET_ACCESS_KEY=${vars.SECRET_ACCESS_KEY} AWS_DEFAULT_REGION=us-east-1`;
    console.log(`
sealbucket is serving on ${endpoint}
  access key id:     ${vars.ACCESS_KEY_ID}
  secret access key: ${vars.SECRET_ACCESS_KEY}

Try it:
  ${env} aws --endpoint-url ${endpoint} s3 mb s3://demo
  ${env} aws --endpoint-url ${endpoint} s3 cp ./README.md s3://demo/README.md
  ${env} aws --endpoint-url ${endpoint} s3 cp s3://demo/README.md -
`);
  }
});
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
child.on('exit', (code) => process.exit(code ?? 0));
