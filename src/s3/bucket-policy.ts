// A bucket's policy (PutBucketPolicy): S3's checks on top of the policy language, where the
// document is kept (a layout document beside the bucket, deleted with it), and an isolate cache,
// because every authorized request of the bucket reads it.

import { POLICY_LIMITS, PolicyError, parsePolicy } from '../iam/policy';
import type { PolicyDocument } from '../iam/types';
import type { Layout } from '../layout/types';
import { S3Error } from './protocol/errors';

const DOCUMENT = 'policy';
/** S3: "The maximum size of a bucket policy is 20 KB." (parsePolicy counts it; this caps the body read.) */
export const MAX_BUCKET_POLICY_BYTES = POLICY_LIMITS.bucketPolicy.chars * 4;

const malformed = (message: string) => new S3Error('MalformedPolicy', message);

/** A PutBucketPolicy body, validated as the policy language and as S3 restricts it for this bucket. */
export function parseBucketPolicy(text: string, bucket: string): PolicyDocument {
  let doc: PolicyDocument;
  try {
    doc = parsePolicy(text, 'resource', POLICY_LIMITS.bucketPolicy);
  } catch (e) {
    if (e instanceof PolicyError) throw malformed(e.message);
    throw e;
  }
  const own = `arn:aws:s3:::${bucket}`;
  for (const st of doc.statements) {
    if (!st.principal && !st.notPrincipal) throw malformed('Missing required field Principal');
    for (const a of [...(st.action ?? []), ...(st.notAction ?? [])])
      if (a !== '*' && !a.toLowerCase().startsWith('s3:')) throw malformed('Policy has invalid action');
    const resources = [...(st.resource ?? []), ...(st.notResource ?? [])];
    if (!resources.length) throw malformed('Missing required field Resource');
    // Every resource must lie in this bucket: the bucket itself or an object pattern under it.
    for (const r of resources) if (r !== own && !r.startsWith(`${own}/`)) throw malformed('Policy has invalid resource');
  }
  return doc;
}

/** The policy as it was sent; null when the bucket has none. */
export const loadBucketPolicyText = (layout: Layout, bucket: string): Promise<string | null> => layout.bucketDocument(bucket, DOCUMENT);

/** Stores (or with null removes) the bucket's policy, and forgets this isolate's copy at once. */
export async function saveBucketPolicy(layout: Layout, bucket: string, text: string | null): Promise<void> {
  await layout.setBucketDocument(bucket, DOCUMENT, text);
  forgetBucketPolicy(layout, bucket);
}

// Every S3 request of a bucket is judged against its policy: one store read, kept here for
// CACHE_MS (absence too). A change made through this isolate is seen at once; one made through
// another isolate is seen here within CACHE_MS (README: Users and policies).
export const BUCKET_POLICY_CACHE_MS = 5_000;
const CACHE_ENTRIES = 512;
const cache = new Map<string, { until: number; policy: PolicyDocument | undefined }>();
const cacheKey = (layout: Layout, bucket: string) => `${layout.name}\n${bucket}`;

export function forgetBucketPolicy(layout: Layout, bucket: string): void {
  cache.delete(cacheKey(layout, bucket));
}

/** The bucket's parsed policy (undefined: none), read at most once per BUCKET_POLICY_CACHE_MS in this isolate. */
export async function cachedBucketPolicy(layout: Layout, bucket: string): Promise<PolicyDocument | undefined> {
  const k = cacheKey(layout, bucket);
  const hit = cache.get(k);
  if (hit && hit.until > Date.now()) return hit.policy;
  const text = await loadBucketPolicyText(layout, bucket);
  // A stored policy passed parseBucketPolicy when it was put; parsing again cannot fail for it.
  const policy = text ? parsePolicy(text, 'resource', POLICY_LIMITS.bucketPolicy) : undefined;
  if (cache.size >= CACHE_ENTRIES) cache.clear();
  cache.set(k, { until: Date.now() + BUCKET_POLICY_CACHE_MS, policy });
  return policy;
}
