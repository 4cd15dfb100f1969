// Signature Version 2 with real clients: boto3 on default settings (its presigned URLs and POST
// forms are V2 in us-east-1), botocore header auth with signature_version='s3', and the aws CLI
// v1's `aws s3 presign`. URLs and forms are used by plain HTTP from here.

import { execFile } from 'node:child_process';
import { CreateBucketCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aws, gateway, hasAws, httpGet, md5, random, s3Client, sdkBody, sseCHeaders, sseCKey, uniq, xmlErrorCode } from './helpers';

const BUCKET = uniq('e2e-sigv2').toLowerCase();
const s3 = s3Client();

/** boto3/botocore as installed for python3; `op` picks what the script does, `args` is passed as JSON. */
const PY = String.raw`
import base64, hashlib, json, sys
import boto3
from botocore.config import Config

a = json.load(sys.stdin)
op = a['op']

def session():
    return boto3.session.Session(aws_access_key_id=a['ak'], aws_secret_access_key=a['sk'], region_name='us-east-1')

def default_client(endpoint=None, **cfg):
    # No signature_version: whatever boto3 picks by default.
    return session().client('s3', endpoint_url=endpoint or a['endpoint'], config=Config(**cfg) if cfg else None)

out = {}
if op == 'presign':
    c = default_client()
    b = a['bucket']
    out['get'] = c.generate_presigned_url('get_object', Params={'Bucket': b, 'Key': a['key']}, ExpiresIn=300)
    out['put'] = c.generate_presigned_url('put_object', Params={'Bucket': b, 'Key': a['putKey']}, ExpiresIn=300)
    out['getOverride'] = c.generate_presigned_url(
        'get_object', Params={'Bucket': b, 'Key': a['key'], 'ResponseContentType': 'text/x-override; charset=utf-8'}, ExpiresIn=300)
    out['expired'] = c.generate_presigned_url('get_object', Params={'Bucket': b, 'Key': a['key']}, ExpiresIn=-60)
    key = base64.b64decode(a['ssecKey'])
    out['ssecGet'] = c.generate_presigned_url('get_object', Params={
        'Bucket': b, 'Key': a['key'], 'SSECustomerAlgorithm': 'AES256', 'SSECustomerKey': key}, ExpiresIn=300)
    out['postSse'] = c.generate_presigned_post(b, a['postKey'], Fields={'x-amz-server-side-encryption': 'AES256'},
        Conditions=[{'x-amz-server-side-encryption': 'AES256'}], ExpiresIn=300)
    md5 = base64.b64encode(hashlib.md5(key).digest()).decode()
    ssec = {'x-amz-server-side-encryption-customer-algorithm': 'AES256',
            'x-amz-server-side-encryption-customer-key': a['ssecKey'],
            'x-amz-server-side-encryption-customer-key-MD5': md5}
    out['postSsec'] = c.generate_presigned_post(b, a['postSsecKey'], Fields=dict(ssec),
        Conditions=[{k: v} for k, v in ssec.items()], ExpiresIn=300)
    # Virtual-hosted: the bucket is in the Host, and in the V2 resource.
    v = default_client(a['vhostEndpoint'], s3={'addressing_style': 'virtual'})
    out['vhostGet'] = v.generate_presigned_url('get_object', Params={'Bucket': b, 'Key': a['key']}, ExpiresIn=300)
elif op == 'header':
    # Header auth the V2 way: "Authorization: AWS AK:sig".
    c = default_client(signature_version='s3', s3={'addressing_style': 'path'})
    b, k = a['bucket'], a['key']
    body = base64.b64decode(a['body'])
    p = c.put_object(Bucket=b, Key=k, Body=body, ServerSideEncryption='AES256', Metadata={'who': 'botocore-v2'}, ContentType='application/x-v2')
    out['putSse'] = p.get('ServerSideEncryption')
    h = c.head_object(Bucket=b, Key=k)
    out['head'] = {'length': h['ContentLength'], 'meta': h['Metadata'], 'type': h['ContentType']}
    g = c.get_object(Bucket=b, Key=k)
    out['getMd5'] = hashlib.md5(g['Body'].read()).hexdigest()
    r = c.get_object(Bucket=b, Key=k, Range='bytes=10-19')
    out['range'] = base64.b64encode(r['Body'].read()).decode()
    out['list'] = [o['Key'] for o in c.list_objects_v2(Bucket=b, Prefix='hdr/').get('Contents', [])]
    out['versions'] = [v['Key'] for v in c.list_object_versions(Bucket=b, Prefix='hdr/').get('Versions', [])]
    try:
        # ?encryption is no V2 sub-resource, so V2 cannot sign it: refused rather than left unsigned.
        c.get_bucket_encryption(Bucket=b)
        out['encryption'] = 'read'
    except c.exceptions.ClientError as e:
        out['encryption'] = e.response['Error']['Code']
    c.copy_object(Bucket=b, Key=k + '.copy', CopySource={'Bucket': b, 'Key': k})
    out['copyMd5'] = hashlib.md5(c.get_object(Bucket=b, Key=k + '.copy')['Body'].read()).hexdigest()
    key = base64.b64decode(a['ssecKey'])
    c.put_object(Bucket=b, Key=k + '.ssec', Body=body, SSECustomerAlgorithm='AES256', SSECustomerKey=key)
    out['ssecMd5'] = hashlib.md5(c.get_object(Bucket=b, Key=k + '.ssec', SSECustomerAlgorithm='AES256', SSECustomerKey=key)['Body'].read()).hexdigest()
    try:
        c.get_object(Bucket=b, Key=k + '.ssec')
        out['ssecWithoutKey'] = 'read'
    except c.exceptions.ClientError as e:
        out['ssecWithoutKey'] = e.response['Error']['Code']
    mp = c.create_multipart_upload(Bucket=b, Key=k + '.mp')
    part = c.upload_part(Bucket=b, Key=k + '.mp', UploadId=mp['UploadId'], PartNumber=1, Body=body)
    c.complete_multipart_upload(Bucket=b, Key=k + '.mp', UploadId=mp['UploadId'],
        MultipartUpload={'Parts': [{'PartNumber': 1, 'ETag': part['ETag']}]})
    out['mpMd5'] = hashlib.md5(c.get_object(Bucket=b, Key=k + '.mp')['Body'].read()).hexdigest()
    d = c.delete_objects(Bucket=b, Delete={'Objects': [{'Key': k + '.copy'}, {'Key': k + '.ssec'}, {'Key': k + '.mp'}]})
    out['deleted'] = sorted(o['Key'] for o in d.get('Deleted', []))
    try:
        session().client('s3', endpoint_url=a['endpoint'], aws_access_key_id=a['ak'], aws_secret_access_key='wrong',
                         config=Config(signature_version='s3', s3={'addressing_style': 'path'})).head_object(Bucket=b, Key=k)
        out['wrongSecret'] = 'ok'
    except c.exceptions.ClientError as e:
        out['wrongSecret'] = e.response['Error']['Code']
print(json.dumps(out))
`;

function python(args: Record<string, unknown>): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    // Only what boto3 is handed here: no user config, credentials or AWS_* settings from the environment.
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      AWS_CONFIG_FILE: '/dev/null',
      AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
    };
    for (const k of ['PYENV_ROOT', 'PYENV_VERSION']) if (process.env[k]) env[k] = process.env[k];
    const child = execFile('python3', ['-c', PY], { env, timeout: 120_000, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`python3 failed: ${err.message}\n${stderr}`));
      resolve(JSON.parse(stdout));
    });
    child.stdin?.end(JSON.stringify(args));
  });
}

interface PresignedPost {
  url: string;
  fields: Record<string, string>;
}

/** A multipart/form-data body with the fields in order and then the file, sent with its length. */
function postForm(p: PresignedPost, data: Buffer): Promise<Response> {
  const boundary = `----sigv2${Date.now()}`;
  const parts: Buffer[] = [];
  for (const [k, v] of Object.entries(p.fields))
    parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`));
  parts.push(
    Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="f.bin"\r\nContent-Type: application/octet-stream\r\n\r\n`,
    ),
  );
  parts.push(data, Buffer.from(`\r\n--${boundary}--\r\n`));
  const body = Buffer.concat(parts);
  return fetch(p.url, { method: 'POST', body, headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } });
}

const data = random(300_000);
const ssec = sseCKey();

beforeAll(async () => {
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
  await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'pre/get.bin', Body: data }));
});
afterAll(() => s3.destroy());

describe('boto3 on default settings (V2 presigned URLs and POST forms)', () => {
  let urls: Record<string, unknown>;
  beforeAll(async () => {
    const g = gateway();
    urls = await python({
      op: 'presign',
      endpoint: g.endpoint,
      vhostEndpoint: `http://${g.cosBaseDomain}:${g.port}`,
      ak: g.accessKeyId,
      sk: g.secretAccessKey,
      bucket: BUCKET,
      key: 'pre/get.bin',
      putKey: 'pre/put.bin',
      postKey: 'pre/post-sse.bin',
      postSsecKey: 'pre/post-ssec.bin',
      ssecKey: ssec.b64,
    });
    // The point of these tests: boto3's defaults really are Signature Version 2.
    expect(urls.get).toMatch(/[?&]AWSAccessKeyId=.*&Signature=.*&Expires=\d+$/);
    expect((urls.postSse as PresignedPost).fields).toHaveProperty('AWSAccessKeyId');
  });

  it('generate_presigned_url GET, fetched by plain HTTP', async () => {
    const r = await fetch(urls.get as string);
    expect(r.status).toBe(200);
    expect(md5(Buffer.from(await r.arrayBuffer()))).toBe(md5(data));
    expect(r.headers.get('x-amz-server-side-encryption')).toBe('AES256');
  });

  it('a response-content-type override is signed and applied', async () => {
    const r = await fetch(urls.getOverride as string);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('text/x-override; charset=utf-8');
    await r.arrayBuffer();
    const tampered = await fetch((urls.getOverride as string).replace('x-override', 'html'));
    expect(tampered.status).toBe(403);
    expect(xmlErrorCode(await tampered.text())).toBe('SignatureDoesNotMatch');
  });

  it('generate_presigned_url PUT, used by plain HTTP: the object is sealed and reads back', async () => {
    const body = random(70_000);
    const r = await fetch(urls.put as string, { method: 'PUT', body });
    expect(r.status, await r.clone().text()).toBe(200);
    expect(r.headers.get('x-amz-server-side-encryption')).toBe('AES256');
    const back = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'pre/put.bin' }));
    expect(md5(await sdkBody(back))).toBe(md5(body));
    // Signed for PUT without a Content-Type: one added afterwards breaks the signature.
    const typed = await fetch(urls.put as string, { method: 'PUT', body, headers: { 'content-type': 'text/html' } });
    expect(typed.status).toBe(403);
    expect(xmlErrorCode(await typed.text())).toBe('SignatureDoesNotMatch');
  });

  it('an expired URL is 403 AccessDenied "Request has expired"; another method is SignatureDoesNotMatch', async () => {
    const r = await fetch(urls.expired as string);
    expect(r.status).toBe(403);
    const text = await r.text();
    expect(xmlErrorCode(text)).toBe('AccessDenied');
    expect(text).toContain('<Message>Request has expired</Message>');
    const del = await fetch(urls.get as string, { method: 'DELETE' });
    expect(del.status).toBe(403);
    expect(xmlErrorCode(await del.text())).toBe('SignatureDoesNotMatch');
    expect((await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'pre/get.bin' }))).ContentLength).toBe(data.length);
  });

  it('a virtual-hosted presigned URL (the bucket in the Host) works', async () => {
    const u = new URL(urls.vhostGet as string);
    expect(u.hostname).toBe(`${BUCKET}.${gateway().cosBaseDomain}`);
    const r = await httpGet(u.toString(), u.host);
    expect(r.status).toBe(200);
    expect(md5(r.body)).toBe(md5(data));
  });

  it('SSE-C parameters that botocore moves into a V2 URL are refused, not ignored', async () => {
    const r = await fetch(urls.ssecGet as string);
    expect(r.status).toBe(400);
    const text = await r.text();
    expect(xmlErrorCode(text)).toBe('InvalidRequest');
    expect(text).toContain('x-amz-server-side-encryption-customer-key');
  });

  it('generate_presigned_post with x-amz-server-side-encryption: AES256', async () => {
    const body = random(50_000);
    const r = await postForm(urls.postSse as PresignedPost, body);
    expect(r.status, await r.clone().text()).toBe(204);
    expect(r.headers.get('x-amz-server-side-encryption')).toBe('AES256');
    const back = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'pre/post-sse.bin' }));
    expect(md5(await sdkBody(back))).toBe(md5(body));
  });

  it('generate_presigned_post with SSE-C fields: the object needs the key', async () => {
    const body = random(40_000);
    const r = await postForm(urls.postSsec as PresignedPost, body);
    expect(r.status, await r.clone().text()).toBe(204);
    expect(r.headers.get('x-amz-server-side-encryption-customer-algorithm')).toBe('AES256');
    const withKey = await fetch(`${gateway().endpoint}/${BUCKET}/pre/post-ssec.bin`, { headers: sseCHeaders(ssec) });
    // Unsigned: refused whatever the key. Read it with the SDK instead.
    expect(withKey.status).toBe(403);
    const back = await s3.send(
      new GetObjectCommand({
        Bucket: BUCKET,
        Key: 'pre/post-ssec.bin',
        SSECustomerAlgorithm: 'AES256',
        SSECustomerKey: ssec.b64,
        SSECustomerKeyMD5: ssec.md5,
      }),
    );
    expect(md5(await sdkBody(back))).toBe(md5(body));
    const without = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'pre/post-ssec.bin' })).catch((e) => e);
    expect(without.$metadata?.httpStatusCode).toBe(400);
  });

  it('a tampered POST policy or signature is refused', async () => {
    const p = urls.postSse as PresignedPost;
    const bad = await postForm({ url: p.url, fields: { ...p.fields, signature: 'AAAAAAAAAAAAAAAAAAAAAAAAAAA=' } }, random(10));
    expect(bad.status).toBe(403);
    expect(xmlErrorCode(await bad.text())).toBe('SignatureDoesNotMatch');
  });
});

describe("botocore header auth: Config(signature_version='s3')", () => {
  it('PUT with SSE and metadata, HEAD, GET (ranged too), list, versions, copy, SSE-C, multipart, DeleteObjects; ?encryption refused', async () => {
    const g = gateway();
    const body = random(200_000);
    const out = await python({
      op: 'header',
      endpoint: g.endpoint,
      ak: g.accessKeyId,
      sk: g.secretAccessKey,
      bucket: BUCKET,
      key: 'hdr/obj.bin',
      body: body.toString('base64'),
      ssecKey: ssec.b64,
    });
    expect(out).toMatchObject({
      putSse: 'AES256',
      head: { length: body.length, meta: { who: 'botocore-v2' }, type: 'application/x-v2' },
      getMd5: md5(body),
      range: body.subarray(10, 20).toString('base64'),
      list: ['hdr/obj.bin'],
      versions: ['hdr/obj.bin'],
      encryption: 'AccessDenied',
      copyMd5: md5(body),
      ssecMd5: md5(body),
      ssecWithoutKey: 'InvalidRequest',
      mpMd5: md5(body),
      deleted: ['hdr/obj.bin.copy', 'hdr/obj.bin.mp', 'hdr/obj.bin.ssec'],
      wrongSecret: '403',
    });
  });
});

describe.skipIf(!hasAws)('aws s3 presign (CLI v1)', () => {
  it('makes a V2 URL that plain HTTP can GET', async () => {
    const r = await aws(['s3', 'presign', `s3://${BUCKET}/pre/get.bin`, '--expires-in', '300']);
    expect(r.code, r.stderr).toBe(0);
    const url = r.stdout.trim();
    expect(url).toContain('AWSAccessKeyId=');
    const got = await fetch(url);
    expect(got.status).toBe(200);
    expect(md5(Buffer.from(await got.arrayBuffer()))).toBe(md5(data));
  });
});
