// Shared by the operator scripts: where the gateway is and how to sign for it.
// Endpoint and credentials come from the environment (SEALBUCKET_ENDPOINT,
// AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY) or, for local dev, from .dev.vars.
import { existsSync, readFileSync } from 'node:fs';
import { AwsClient } from 'aws4fetch';

export function gateway() {
  const vars = {};
  const file = new URL('../../.dev.vars', import.meta.url);
  if (existsSync(file)) {
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      const m = /^([A-Z_]+)=(.*)$/.exec(line);
      if (m) vars[m[1]] = m[2];
    }
  }
  const endpoint = (process.env.SEALBUCKET_ENDPOINT ?? `http://127.0.0.1:${process.env.PORT ?? 8787}`).replace(/\/$/, '');
  const accessKeyId = process.env.AWS_ACCESS_KEY_ID ?? vars.ACCESS_KEY_ID;
  const secretAccessKey = process.env.AWS_SECRET_ACCESS_KEY ?? vars.SECRET_ACCESS_KEY;
  if (!accessKeyId || !secretAccessKey)
    throw new Error('set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or run npm start once for .dev.vars)');
  const client = new AwsClient({ accessKeyId, secretAccessKey, service: 's3', region: process.env.AWS_DEFAULT_REGION ?? 'us-east-1' });
  const call = async (method, path, init = {}) => client.fetch(endpoint + path, { method, ...init });
  return { endpoint, call };
}

/** One line of progress, redrawn in place on a terminal. */
export function progress(label, done, total, extra = '') {
  const width = 30;
  const frac = total ? Math.min(1, done / total) : 1;
  const bar = '#'.repeat(Math.round(frac * width)).padEnd(width, '.');
  const line = `${label} [${bar}] ${done}/${total} ${extra}`;
  if (process.stdout.isTTY) process.stdout.write(`\r${line}`);
  else console.log(line);
}

export const arg = (name, def) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : def;
};
