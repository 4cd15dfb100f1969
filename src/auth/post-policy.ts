// The signed policy of a browser form upload (POST Object): its signature, SigV4
// (x-amz-signature over the base64 policy), SigV2 (signature: HMAC-SHA1 over the base64
// policy) or COS (q-signature over the policy's SHA-1), and the conditions it sets on
// the form's fields and the file's length.

import { parseB64, timingSafeEqual } from '../crypto/bytes';
import { S3Error } from '../s3/protocol/errors';
import { digestHex, hmacHex, hmacKey } from './canonical';
import { MAX_COS_WINDOW_S } from './cos';
import { signV2 } from './sigv2';
import { deriveSigningKey } from './sigv4';
import type { Dialect, SecretLookup } from './types';

const SIGV4 = 'AWS4-HMAC-SHA256';
const AMZ_DATE = /^(\d{8})T\d{6}Z$/;
const MAX_SKEW_S = 15 * 60;

const denied = (msg: string) => new S3Error('AccessDenied', msg);
const policyFailed = (msg: string) => denied(`Invalid according to Policy: ${msg}`);
const badPolicy = (msg: string) => new S3Error('InvalidPolicyDocument', `Invalid Policy: ${msg}`, { status: 400 });

/** Form fields that carry the signature itself and need no policy condition. */
const SIGNATURE_FIELDS: Record<Dialect, string[]> = {
  // A SigV2 form's access key id is checked by its signature.
  amz: ['x-amz-signature', 'awsaccesskeyid', 'signature'],
  // The COS key time and access key are part of the signature material (q-sign-time is its alias).
  cos: ['q-signature', 'q-sign-algorithm', 'q-ak', 'q-key-time', 'q-sign-time'],
};

export function decodePolicy(b64: string): Uint8Array {
  const bytes = parseB64(b64.replace(/\s+/g, ''), 'optional');
  if (!bytes) throw badPolicy('the policy field is not base64.');
  return bytes;
}

/** Whether an S3 form is signed the Signature Version 2 way (AWSAccessKeyId and signature fields). */
export const isV2Form = (f: Map<string, string>) => f.has('awsaccesskeyid') || f.has('signature');

/** S3's answer to a SigV2 form where Signature Version 2 is not accepted. */
const USE_V4 = 'The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.';

/** Verifies the form's signature over its policy; returns who signed it and how. */
export async function verifyPolicySignature(
  f: Map<string, string>,
  dialect: Dialect,
  lookup: SecretLookup,
  policy: Uint8Array | undefined,
  now: Date,
  sigV2 = false,
): Promise<{ accessKeyId: string; region: string | undefined; method: string }> {
  const need = (name: string) => {
    const v = f.get(name);
    if (!v) throw denied(`Bucket POST must contain a field named '${name}'.`);
    return v;
  };
  const secretFor = async (ak: string) => {
    const s = await lookup(ak);
    if (s === undefined) throw new S3Error('InvalidAccessKeyId');
    return s;
  };

  if (dialect === 'cos') {
    const alg = need('q-sign-algorithm');
    if (alg !== 'sha1')
      throw new S3Error('InvalidArgument', 'q-sign-algorithm must be sha1.', {
        fields: { ArgumentName: 'q-sign-algorithm', ArgumentValue: alg },
      });
    const ak = need('q-ak');
    const keyTime = need('q-key-time');
    const sig = need('q-signature');
    need('policy');
    const m = /^(\d{1,12});(\d{1,12})$/.exec(keyTime);
    if (!m)
      throw new S3Error('InvalidArgument', 'q-key-time must be "<start>;<end>" in unix seconds.', {
        fields: { ArgumentName: 'q-key-time' },
      });
    if (Number(m[2]) - Number(m[1]) > MAX_COS_WINDOW_S)
      throw new S3Error('InvalidArgument', `q-key-time may span at most ${MAX_COS_WINDOW_S} seconds (7 days).`, {
        fields: { ArgumentName: 'q-key-time' },
      });
    const t = Math.floor(now.getTime() / 1000);
    if (t < Number(m[1]) - MAX_SKEW_S || t > Number(m[2])) throw denied('Request has expired');
    const secret = await secretFor(ak);
    const signKey = await hmacHex(await hmacKey(secret, 'SHA-1'), keyTime);
    const expected = await hmacHex(await hmacKey(signKey, 'SHA-1'), await digestHex('SHA-1', policy!));
    if (!timingSafeEqual(expected, sig.toLowerCase())) throw new S3Error('SignatureDoesNotMatch');
    return { accessKeyId: ak, region: undefined, method: 'cos-post-policy' };
  }

  if (isV2Form(f)) {
    if (!sigV2) throw new S3Error('InvalidRequest', USE_V4);
    // No date and no scope: the policy's expiration is the only time bound a V2 form has.
    const ak = f.get('awsaccesskeyid');
    const sig = f.get('signature');
    // A missing field is a malformed request (400), as S3 answers it (ceph/s3-tests test_post_object_missing_signature).
    const missing = (name: string) =>
      new S3Error(
        'InvalidArgument',
        `Bucket POST must contain a field named '${name}'.  If it is specified, please check the order of the fields.`,
        {
          fields: { ArgumentName: name, ArgumentValue: '' },
        },
      );
    if (!ak) throw missing('AWSAccessKeyId');
    if (!sig) throw missing('Signature');
    const policyB64 = need('policy');
    const secret = await secretFor(ak);
    if (!timingSafeEqual(await signV2(secret, policyB64), sig)) throw new S3Error('SignatureDoesNotMatch');
    return { accessKeyId: ak, region: undefined, method: 'sigv2-post-policy' };
  }

  const alg = need('x-amz-algorithm');
  if (alg !== SIGV4)
    throw new S3Error('InvalidArgument', `x-amz-algorithm only supports "${SIGV4}"`, {
      fields: { ArgumentName: 'x-amz-algorithm', ArgumentValue: alg },
    });
  const cred = need('x-amz-credential');
  const date = need('x-amz-date');
  const sig = need('x-amz-signature');
  const policyB64 = need('policy');
  const parts = cred.split('/');
  if (parts.length < 5 || parts.at(-1) !== 'aws4_request' || parts.at(-2) !== 's3' || !/^\d{8}$/.test(parts.at(-4)!)) {
    throw new S3Error('InvalidArgument', 'x-amz-credential is malformed; expecting "<YOUR-AKID>/YYYYMMDD/REGION/s3/aws4_request".', {
      fields: { ArgumentName: 'x-amz-credential', ArgumentValue: cred },
    });
  }
  const [day, region] = parts.slice(-4);
  const ak = parts.slice(0, -4).join('/');
  const dm = AMZ_DATE.exec(date);
  if (!dm || dm[1] !== day)
    throw new S3Error('InvalidArgument', `x-amz-date must be in the form yyyyMMdd'T'HHmmss'Z' and on the day of the credential (${day}).`, {
      fields: { ArgumentName: 'x-amz-date', ArgumentValue: date },
    });
  const secret = await secretFor(ak);
  const expected = await hmacHex(await deriveSigningKey(secret, day, region, 's3'), policyB64);
  if (!timingSafeEqual(expected, sig.toLowerCase())) throw new S3Error('SignatureDoesNotMatch');
  return { accessKeyId: ak, region, method: 'sigv4-post-policy' };
}

export type PolicyCondition =
  | { op: 'eq' | 'starts-with'; field: string; value: string; text: string }
  | { op: 'range'; min: number; max: number };

export function parsePolicy(bytes: Uint8Array, now: Date): PolicyCondition[] {
  let doc: unknown;
  try {
    doc = JSON.parse(new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes));
  } catch {
    throw badPolicy('Invalid JSON.');
  }
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) throw badPolicy('Invalid JSON.');
  const { expiration, conditions } = doc as { expiration?: unknown; conditions?: unknown };
  if (expiration === undefined) throw badPolicy('Policy missing expiration.');
  // ISO 8601 in UTC, as S3 requires ("2007-12-01T12:00:00.000Z"); Date.parse alone takes far more.
  const iso = typeof expiration === 'string' && /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/.test(expiration);
  const exp = iso ? Date.parse(expiration as string) : NaN;
  if (Number.isNaN(exp)) throw badPolicy(`Invalid 'expiration' value: '${String(expiration)}'`);
  if (conditions === undefined) throw badPolicy('Policy missing conditions.');
  if (!Array.isArray(conditions)) throw badPolicy('Policy conditions must be a list.');
  if (now.getTime() > exp) throw policyFailed('Policy expired.');

  const str = (v: unknown) => (typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : undefined);
  const out: PolicyCondition[] = [];
  for (const c of conditions) {
    const invalid = () => badPolicy(`Invalid Condition: ${JSON.stringify(c)}`);
    if (Array.isArray(c)) {
      const op = typeof c[0] === 'string' ? c[0].toLowerCase() : '';
      if (op === 'content-length-range') {
        const [min, max] = [Number(c[1]), Number(c[2])];
        if (c.length !== 3 || !Number.isSafeInteger(min) || !Number.isSafeInteger(max) || min < 0 || max < min) throw invalid();
        out.push({ op: 'range', min, max });
        continue;
      }
      if ((op !== 'eq' && op !== 'starts-with') || c.length !== 3 || typeof c[1] !== 'string' || !c[1].startsWith('$')) throw invalid();
      const value = str(c[2]);
      if (value === undefined) throw invalid();
      out.push({ op, field: c[1].slice(1).toLowerCase(), value, text: `["${op}", "${c[1]}", ${JSON.stringify(value)}]` });
    } else if (c && typeof c === 'object') {
      const entries = Object.entries(c as Record<string, unknown>);
      if (!entries.length) throw invalid();
      for (const [k, v] of entries) {
        const value = str(v);
        if (value === undefined) throw invalid();
        out.push({ op: 'eq', field: k.toLowerCase(), value, text: `["eq", "$${k}", ${JSON.stringify(value)}]` });
      }
    } else throw invalid();
  }
  return out;
}

/** Checks every field condition and that every form field is covered by one. */
export function checkPolicyConditions(
  conds: PolicyCondition[],
  values: Map<string, string>,
  formFields: Iterable<string>,
  dialect: Dialect,
) {
  const exempt = SIGNATURE_FIELDS[dialect];
  for (const c of conds) {
    if (c.op === 'range') continue;
    const v = values.get(c.field);
    let ok: boolean;
    // ["starts-with", "$f", ""] allows any value, and S3 takes a form without the field as one
    // (ceph/s3-tests' SSE form uploads rely on it); every other condition needs the field.
    if (v === undefined) ok = c.op === 'starts-with' && c.value === '';
    else if (c.op === 'eq') ok = v === c.value;
    // Content-Type may list several types; each must match.
    else if (c.field === 'content-type') ok = v.split(',').every((t) => t.trim().startsWith(c.value));
    else ok = v.startsWith(c.value);
    if (!ok) throw policyFailed(`Policy Condition failed: ${c.text}`);
  }
  const covered = new Set(conds.flatMap((c) => (c.op === 'range' ? [] : [c.field])));
  const extra = [...formFields].filter(
    (n) => n !== 'policy' && n !== 'file' && !n.startsWith('x-ignore-') && !exempt.includes(n) && !covered.has(n),
  );
  if (extra.length) throw policyFailed(`Extra input fields: ${extra.join(', ')}`);
}

/** The policy's content-length-range conditions. */
export function checkPolicyLength(conds: PolicyCondition[], length: number) {
  for (const c of conds) {
    if (c.op !== 'range') continue;
    if (length < c.min)
      throw new S3Error('EntityTooSmall', 'Your proposed upload is smaller than the minimum allowed size', {
        status: 400,
        fields: { ProposedSize: String(length), MinSizeAllowed: String(c.min) },
      });
    if (length > c.max)
      throw new S3Error('EntityTooLarge', undefined, { fields: { ProposedSize: String(length), MaxSizeAllowed: String(c.max) } });
  }
}
