// The added latency of an IAM user's key against a root key (issue "Least privilege": "measure and
// report the added latency per request against the root-key path"). On a warm gateway, N HEADs of
// one small object with each key, interleaved so that drift hits both alike; median and p99.
//   hit:  the default bound (5 s): the user's key comes from the isolate's cache
//   miss: IAM_CACHE_SECONDS=0: every request of the user asks the IAM Durable Object
// Usage: node scripts/bench/iam-auth.mjs [N=200]
import { randomBytes } from 'node:crypto';
import { AwsClient } from 'aws4fetch';
import { request, s3, signed, startGateway } from './gateway.mjs';

const N = Number(process.argv[2] ?? 200);
const pct = (xs, p) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((xs.length * p) / 100))];
const round = (x) => +x.toFixed(2);

/** One IAM query call as root; the parsed fields the caller needs. */
async function iam(gw, params) {
  const root = new AwsClient({
    accessKeyId: gw.client.accessKeyId,
    secretAccessKey: gw.client.secretAccessKey,
    service: 'iam',
    region: 'us-east-1',
  });
  const r = await root.fetch(`${gw.endpoint}/`, {
    method: 'POST',
    body: new URLSearchParams({ Version: '2010-05-08', ...params }).toString(),
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
  });
  const text = await r.text();
  if (r.status !== 200) throw new Error(`${params.Action}: ${r.status} ${text}`);
  return text;
}

async function measure(label, overrides) {
  const gw = await startGateway(`iam-${label}`, { KMS_ROOT_KEY: randomBytes(32).toString('base64'), ...overrides }, { inspector: false });
  try {
    await s3(gw, 'PUT', '/bench');
    await s3(gw, 'PUT', '/bench/obj', { body: randomBytes(1024) });
    await iam(gw, { Action: 'CreateUser', UserName: 'bench' });
    await iam(gw, {
      Action: 'PutUserPolicy',
      UserName: 'bench',
      PolicyName: 'all-s3',
      PolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:*', Resource: '*' }] }),
    });
    const key = await iam(gw, { Action: 'CreateAccessKey', UserName: 'bench' });
    const user = {
      ...gw,
      client: new AwsClient({
        accessKeyId: /<AccessKeyId>([^<]+)</.exec(key)[1],
        secretAccessKey: /<SecretAccessKey>([^<]+)</.exec(key)[1],
        service: 's3',
        region: 'us-east-1',
      }),
    };
    const head = async (g) => {
      const headers = await signed(g, 'HEAD', '/bench/obj');
      const r = await request(g, 'HEAD', '/bench/obj', headers);
      if (r.status !== 200) throw new Error(`HEAD: ${r.status}`);
      return r.ms;
    };
    for (let i = 0; i < 30; i++) {
      await head(gw);
      await head(user);
    }
    const times = { root: [], user: [] };
    for (let i = 0; i < N; i++) {
      // Alternate which goes first, so neither always follows the other.
      if (i % 2) {
        times.root.push(await head(gw));
        times.user.push(await head(user));
      } else {
        times.user.push(await head(user));
        times.root.push(await head(gw));
      }
    }
    const row = {
      case: label,
      n: N,
      rootMedianMs: round(pct(times.root, 50)),
      userMedianMs: round(pct(times.user, 50)),
      rootP99Ms: round(pct(times.root, 99)),
      userP99Ms: round(pct(times.user, 99)),
    };
    row.addedMedianMs = round(row.userMedianMs - row.rootMedianMs);
    row.addedP99Ms = round(row.userP99Ms - row.rootP99Ms);
    console.log(JSON.stringify(row));
    return row;
  } finally {
    await gw.stop();
  }
}

await measure('hit', {});
await measure('miss', { IAM_CACHE_SECONDS: '0' });
