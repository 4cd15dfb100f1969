// Bucket default encryption: PUT / GET / DELETE /<bucket>?encryption, in the
// COS form (SSEAlgorithm AES256|KMS) and the S3 form (AES256|aws:kms, with
// BucketKeyEnabled and BlockedEncryptionTypes). Kept on the bucket's record.

import { parseKeyRef } from '../../kms/ids';
import { type Ctx, layoutOf } from '../context';
import { MAX_CONFIG_BODY, requireBucket, wholeBody } from '../objects';
import { S3Error } from '../protocol/errors';
import { list, parseXml, text, xmlDocument, xmlResponse } from '../protocol/xml';
import { type BucketEncryption, bucketEncryption, withBucketEncryption } from '../write-mode';

const notFound = (ctx: Ctx) =>
  ctx.dialect === 'cos'
    ? new S3Error('NoSuchEncryptionConfiguration', 'The server side encryption configuration was not found.', { status: 404 })
    : new S3Error('ServerSideEncryptionConfigurationNotFoundError', 'The server side encryption configuration was not found', {
        status: 404,
        fields: { BucketName: ctx.bucket },
      });

export async function getBucketEncryption(ctx: Ctx): Promise<Response> {
  const cfg = bucketEncryption((await requireBucket(ctx)).custom);
  if (!cfg) throw notFound(ctx);
  const alg = cfg.mode === 'cos' ? 'AES256' : ctx.dialect === 'cos' ? 'KMS' : 'aws:kms';
  const rule: Record<string, unknown> = { ApplyServerSideEncryptionByDefault: { SSEAlgorithm: alg, KMSMasterKeyID: cfg.kmsKeyId } };
  if (ctx.dialect === 'amz') {
    rule.BucketKeyEnabled = cfg.bucketKeyEnabled ?? false;
    if (cfg.blocked.length) rule.BlockedEncryptionTypes = { EncryptionType: cfg.blocked };
  }
  return xmlResponse(xmlDocument('ServerSideEncryptionConfiguration', { Rule: rule as never }, ctx.dialect === 'cos' ? '' : undefined));
}

export async function putBucketEncryption(ctx: Ctx): Promise<Response> {
  const rec = await requireBucket(ctx);
  const doc = parseXml(await wholeBody(ctx, MAX_CONFIG_BODY), 'ServerSideEncryptionConfiguration');
  const rules = list(doc, 'Rule');
  if (rules.length !== 1) throw new S3Error('MalformedXML');
  const apply = list(rules[0], 'ApplyServerSideEncryptionByDefault')[0];
  const alg = text(apply, 'SSEAlgorithm');
  let mode: BucketEncryption['mode'];
  if (alg === 'AES256') mode = 'cos';
  else if (alg === 'KMS' || alg === 'aws:kms' || alg === 'aws:kms:dsse') mode = 'kms';
  else
    throw new S3Error(
      alg === undefined ? 'MalformedXML' : 'InvalidArgument',
      alg === undefined ? undefined : 'The encryption method specified is not supported',
      { fields: alg === undefined ? {} : { ArgumentName: 'SSEAlgorithm' } },
    );
  const kmsKeyId = text(apply, 'KMSMasterKeyID') || undefined;
  if (kmsKeyId && mode !== 'kms')
    throw new S3Error('InvalidArgument', 'a KMSMasterKeyID is not applicable if the default sse algorithm is not aws:kms', {
      fields: { ArgumentName: 'ApplyServerSideEncryptionByDefault' },
    });
  if (kmsKeyId && !parseKeyRef(kmsKeyId))
    throw new S3Error('InvalidArgument', 'KMSMasterKeyID must be a key id, key ARN, alias name or alias ARN.', {
      fields: { ArgumentName: 'KMSMasterKeyID' },
    });
  const blocked = list(list(rules[0], 'BlockedEncryptionTypes')[0], 'EncryptionType').map(String);
  for (const b of blocked)
    if (b !== 'SSE-C' && b !== 'NONE')
      throw new S3Error('InvalidArgument', `Unknown encryption type ${b}`, { fields: { ArgumentName: 'EncryptionType' } });
  const cfg: BucketEncryption = { mode, kmsKeyId, bucketKeyEnabled: text(rules[0], 'BucketKeyEnabled') === 'true', blocked };
  await layoutOf(ctx).setBucketCustom(ctx.bucket, withBucketEncryption(rec.custom, cfg));
  return new Response(null, { status: 200 });
}

export async function deleteBucketEncryption(ctx: Ctx): Promise<Response> {
  const rec = await requireBucket(ctx);
  await layoutOf(ctx).setBucketCustom(ctx.bucket, withBucketEncryption(rec.custom, undefined));
  return new Response(null, { status: 204 });
}
