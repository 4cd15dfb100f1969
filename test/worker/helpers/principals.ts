// Root and IAM users in worker tests: users are made by root through the real IAM API, and calls
// are signed as whoever is named (S3, KMS, IAM), straight into the Worker.

import { AwsClient } from 'aws4fetch';
import { TEST_BINDINGS } from './bindings';
import { ORIGIN, worker } from './s3';

export type Creds = { accessKeyId: string; secretAccessKey: string };
export const ROOT: Creds = { accessKeyId: TEST_BINDINGS.ACCESS_KEY_ID, secretAccessKey: TEST_BINDINGS.SECRET_ACCESS_KEY };

export const signer = (c: Creds, service: string) => new AwsClient({ ...c, service, region: 'us-east-1' });
export const policyOf = (...statements: object[]) => JSON.stringify({ Version: '2012-10-17', Statement: statements });
export const userArn = (name: string) => `arn:aws:iam::000000000000:user/${name}`;

/** One IAM call by root; throws unless it answers 200. */
export async function iamAsRoot(params: Record<string, string>): Promise<string> {
  const req = await signer(ROOT, 'iam').sign(`${ORIGIN}/`, {
    method: 'POST',
    body: new URLSearchParams({ Version: '2010-05-08', ...params }).toString(),
    headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
  });
  const r = await worker(req);
  const text = await r.text();
  if (r.status !== 200) throw new Error(`${params.Action}: ${r.status} ${text}`);
  return text;
}

/** A user made by root, with an access key, and an inline identity policy (document text) when given. */
export async function newUser(name: string, policy?: string): Promise<Creds> {
  await iamAsRoot({ Action: 'CreateUser', UserName: name });
  if (policy) await iamAsRoot({ Action: 'PutUserPolicy', UserName: name, PolicyName: 'p', PolicyDocument: policy });
  const text = await iamAsRoot({ Action: 'CreateAccessKey', UserName: name });
  return {
    accessKeyId: /<AccessKeyId>([^<]+)</.exec(text)![1],
    secretAccessKey: /<SecretAccessKey>([^<]+)</.exec(text)![1],
  };
}

/** One S3 call signed by `as`. */
export async function s3As(as: Creds, method: string, path: string, init: { body?: string; headers?: Record<string, string> } = {}) {
  return worker(await signer(as, 's3').sign(ORIGIN + path, { method, body: init.body ?? null, headers: init.headers ?? {} }));
}

/** One KMS call signed by `as`: its status and parsed JSON body. */
export async function kmsAs(as: Creds, op: string, input: object = {}) {
  const req = await signer(as, 'kms').sign(`${ORIGIN}/`, {
    method: 'POST',
    body: JSON.stringify(input),
    headers: { 'x-amz-target': `TrentService.${op}`, 'content-type': 'application/x-amz-json-1.1' },
  });
  const r = await worker(req);
  const text = await r.text();
  return { status: r.status, body: text ? JSON.parse(text) : undefined };
}
