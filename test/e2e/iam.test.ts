// IAM end to end: `aws iam` / `aws sts` and boto3 against the running gateway. Root creates a user,
// a key, an inline and a managed policy; the user learns who it is, is refused IAM calls it was not
// granted, and stops working when its key is made Inactive (within the cache bound); then all goes.

import { execFile } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { aws, type CliResult, gateway, hasAws, uniq } from './helpers';

if (!hasAws) console.warn('e2e: WARNING: the aws CLI is not on PATH, so the aws iam tests are skipped.');

/** The isolate cache bound (README: Users and policies); the gateway runs with the default. */
const BOUND_MS = 5_000;

type Creds = { accessKeyId: string; secretAccessKey: string };

/** `aws --endpoint-url <gateway> ...args` with these credentials instead of root's. */
const awsAs = (c: Creds, args: string[]): Promise<CliResult> => aws(args, { as: c });

async function json(p: Promise<CliResult>) {
  const r = await p;
  if (r.code !== 0) throw new Error(`aws failed (${r.code}): ${r.stderr}`);
  return r.stdout.trim() ? JSON.parse(r.stdout) : {};
}

const USER = uniq('e2e-user');
const POLICY = uniq('e2e-read');
const ACCOUNT = '000000000000';
const readOnly = JSON.stringify({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::nothing/*' }],
});
const listOwnKeys = JSON.stringify({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Action: 'iam:ListAccessKeys', Resource: `arn:aws:iam::${ACCOUNT}:user/${USER}` }],
});

describe.runIf(hasAws)('aws iam and aws sts', () => {
  let key: Creds;
  let policyArn: string;

  afterAll(async () => {
    // Whatever a failed case left behind goes too (each call may fail when it is already gone).
    if (key) await aws(['iam', 'delete-access-key', '--user-name', USER, '--access-key-id', key.accessKeyId]);
    await aws(['iam', 'delete-user-policy', '--user-name', USER, '--policy-name', 'own-keys']);
    if (policyArn) await aws(['iam', 'detach-user-policy', '--user-name', USER, '--policy-arn', policyArn]);
    if (policyArn) await aws(['iam', 'delete-policy', '--policy-arn', policyArn]);
    await aws(['iam', 'delete-user', '--user-name', USER]);
  });

  it('root creates a user, a key, an inline and a managed policy, and lists them', async () => {
    const u = await json(aws(['iam', 'create-user', '--user-name', USER]));
    expect(u.User).toMatchObject({ UserName: USER, Path: '/', Arn: `arn:aws:iam::${ACCOUNT}:user/${USER}` });
    const k = (await json(aws(['iam', 'create-access-key', '--user-name', USER]))).AccessKey;
    expect(k.AccessKeyId).toMatch(/^AKIA[A-Z0-9]{16}$/);
    expect(k.SecretAccessKey).toHaveLength(40);
    key = { accessKeyId: k.AccessKeyId, secretAccessKey: k.SecretAccessKey };
    await json(aws(['iam', 'put-user-policy', '--user-name', USER, '--policy-name', 'own-keys', '--policy-document', listOwnKeys]));
    // The CLI decodes the URL-encoded document into JSON.
    expect((await json(aws(['iam', 'get-user-policy', '--user-name', USER, '--policy-name', 'own-keys']))).PolicyDocument).toEqual(
      JSON.parse(listOwnKeys),
    );
    policyArn = (await json(aws(['iam', 'create-policy', '--policy-name', POLICY, '--policy-document', readOnly]))).Policy.Arn;
    expect(policyArn).toBe(`arn:aws:iam::${ACCOUNT}:policy/${POLICY}`);
    await json(aws(['iam', 'attach-user-policy', '--user-name', USER, '--policy-arn', policyArn]));
    expect((await json(aws(['iam', 'list-attached-user-policies', '--user-name', USER]))).AttachedPolicies).toEqual([
      { PolicyName: POLICY, PolicyArn: policyArn },
    ]);
    expect((await json(aws(['iam', 'list-user-policies', '--user-name', USER]))).PolicyNames).toEqual(['own-keys']);
    expect((await json(aws(['iam', 'list-users']))).Users.map((x: { UserName: string }) => x.UserName)).toContain(USER);
    expect((await json(aws(['iam', 'list-policies', '--scope', 'Local']))).Policies.map((x: { Arn: string }) => x.Arn)).toContain(
      policyArn,
    );
    const v = await json(aws(['iam', 'get-policy-version', '--policy-arn', policyArn, '--version-id', 'v1']));
    expect(v.PolicyVersion.Document).toEqual(JSON.parse(readOnly));
    const keys = (await json(aws(['iam', 'list-access-keys', '--user-name', USER]))).AccessKeyMetadata;
    expect(keys).toEqual([expect.objectContaining({ AccessKeyId: key.accessKeyId, Status: 'Active', UserName: USER })]);
    expect(JSON.stringify(keys)).not.toContain(key.secretAccessKey);
  });

  it('the user learns who it is, may list its own keys, and is refused list-users with AccessDenied', async () => {
    const me = await json(awsAs(key, ['sts', 'get-caller-identity']));
    expect(me).toMatchObject({ Account: ACCOUNT, Arn: `arn:aws:iam::${ACCOUNT}:user/${USER}` });
    expect(me.UserId).toMatch(/^AIDA/);
    expect((await json(awsAs(key, ['iam', 'list-access-keys']))).AccessKeyMetadata[0].AccessKeyId).toBe(key.accessKeyId);
    const r = await awsAs(key, ['iam', 'list-users']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('(AccessDenied)');
    expect(r.stderr).toContain(`User: arn:aws:iam::${ACCOUNT}:user/${USER} is not authorized to perform: iam:ListUsers`);
    expect((await aws(['sts', 'get-caller-identity'])).stdout).toContain(`arn:aws:iam::${ACCOUNT}:root`);
  });

  it('UpdateAccessKey Inactive takes effect within the bound; Active again restores the key', async () => {
    await json(aws(['iam', 'update-access-key', '--user-name', USER, '--access-key-id', key.accessKeyId, '--status', 'Inactive']));
    const deadline = Date.now() + BOUND_MS + 1_000;
    let r: CliResult;
    do r = await awsAs(key, ['sts', 'get-caller-identity']);
    while (r.code === 0 && Date.now() < deadline);
    expect(r.stderr).toContain('InvalidClientTokenId');
    const s3 = await awsAs(key, ['s3api', 'list-buckets']);
    expect(s3.stderr).toContain('InvalidAccessKeyId');
    await json(aws(['iam', 'update-access-key', '--user-name', USER, '--access-key-id', key.accessKeyId, '--status', 'Active']));
    expect((await json(awsAs(key, ['sts', 'get-caller-identity']))).Arn).toContain(USER);
  });

  it('deleting a user with keys is a DeleteConflict; then everything is deleted', async () => {
    const r = await aws(['iam', 'delete-user', '--user-name', USER]);
    expect(r.stderr).toContain('(DeleteConflict)');
    await json(aws(['iam', 'delete-access-key', '--user-name', USER, '--access-key-id', key.accessKeyId]));
    await json(aws(['iam', 'delete-user-policy', '--user-name', USER, '--policy-name', 'own-keys']));
    await json(aws(['iam', 'detach-user-policy', '--user-name', USER, '--policy-arn', policyArn]));
    await json(aws(['iam', 'delete-policy', '--policy-arn', policyArn]));
    await json(aws(['iam', 'delete-user', '--user-name', USER]));
    const gone = await aws(['iam', 'get-user', '--user-name', USER]);
    expect(gone.stderr).toContain('(NoSuchEntity)');
    expect((await awsAs(key, ['sts', 'get-caller-identity'])).stderr).toContain('InvalidClientTokenId');
  });
});

const PY = `
import json, sys, boto3, botocore
a = json.load(sys.stdin)
def client(svc, ak, sk):
    return boto3.client(svc, endpoint_url=a['endpoint'], region_name='us-east-1', aws_access_key_id=ak, aws_secret_access_key=sk)
iam = client('iam', a['ak'], a['sk'])
out = {}
u = a['user']
out['user'] = iam.create_user(UserName=u)['User']['Arn']
k = iam.create_access_key(UserName=u)['AccessKey']
doc = {'Version': '2012-10-17', 'Statement': [{'Effect': 'Allow', 'Action': 'iam:GetUser', 'Resource': '*'}]}
iam.put_user_policy(UserName=u, PolicyName='get-user', PolicyDocument=json.dumps(doc))
out['document'] = iam.get_user_policy(UserName=u, PolicyName='get-user')['PolicyDocument']
p = iam.create_policy(PolicyName=u + '-p', PolicyDocument=json.dumps(doc), Description='d')['Policy']
iam.attach_user_policy(UserName=u, PolicyArn=p['Arn'])
out['attached'] = [x['PolicyArn'] for x in iam.get_paginator('list_attached_user_policies').paginate(UserName=u).build_full_result()['AttachedPolicies']]
out['policyArn'] = p['Arn']
out['paged'] = len(iam.get_paginator('list_users').paginate(PaginationConfig={'PageSize': 1}).build_full_result()['Users'])
out['keyCreated'] = iam.list_access_keys(UserName=u)['AccessKeyMetadata'][0]['CreateDate'].isoformat()
mine = client('iam', k['AccessKeyId'], k['SecretAccessKey'])
out['me'] = mine.get_user()['User']['UserName']
# A presigned IAM call (botocore moves the form parameters into the signed query): POSTed with no body.
import urllib.request
url = mine.generate_presigned_url('get_user', Params={'UserName': u}, ExpiresIn=300)
with urllib.request.urlopen(urllib.request.Request(url, method='POST', data=b'')) as r:
    out['presigned'] = '<UserName>%s</UserName>' % u in r.read().decode()
out['caller'] = client('sts', k['AccessKeyId'], k['SecretAccessKey']).get_caller_identity()['Arn']
try:
    mine.create_user(UserName=u + '-2')
    out['denied'] = None
except botocore.exceptions.ClientError as e:
    out['denied'] = [e.response['Error']['Code'], e.response['ResponseMetadata']['HTTPStatusCode']]
try:
    iam.get_user(UserName=u + '-none')
except iam.exceptions.NoSuchEntityException as e:
    out['modeled'] = e.response['Error']['Code']
iam.delete_access_key(UserName=u, AccessKeyId=k['AccessKeyId'])
iam.delete_user_policy(UserName=u, PolicyName='get-user')
iam.detach_user_policy(UserName=u, PolicyArn=p['Arn'])
iam.delete_policy(PolicyArn=p['Arn'])
iam.delete_user(UserName=u)
print(json.dumps(out))
`;

function python(args: Record<string, unknown>): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      AWS_CONFIG_FILE: '/dev/null',
      AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
    };
    for (const k of ['PYENV_ROOT', 'PYENV_VERSION']) if (process.env[k]) env[k] = process.env[k];
    const child = execFile('python3', ['-c', PY], { env, timeout: 120_000 }, (err, stdout, stderr) =>
      err ? reject(new Error(`python3 failed: ${err.message}\n${stderr}`)) : resolve(JSON.parse(stdout)),
    );
    child.stdin?.end(JSON.stringify(args));
  });
}

describe('boto3', () => {
  it('parses every IAM answer: users, keys, inline and managed policies, paginators, errors', async () => {
    const g = gateway();
    const user = uniq('boto3-user');
    const out = await python({ endpoint: g.endpoint, ak: g.accessKeyId, sk: g.secretAccessKey, user });
    expect(out.user).toBe(`arn:aws:iam::${ACCOUNT}:user/${user}`);
    expect(out.document).toEqual({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'iam:GetUser', Resource: '*' }] });
    expect(out.attached).toEqual([out.policyArn]);
    expect(out.paged).toBeGreaterThanOrEqual(1);
    expect(out.keyCreated).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$/);
    expect(out.me).toBe(user);
    expect(out.presigned).toBe(true);
    expect(out.caller).toBe(`arn:aws:iam::${ACCOUNT}:user/${user}`);
    expect(out.denied).toEqual(['AccessDenied', 403]);
    expect(out.modeled).toBe('NoSuchEntity');
  });
});
