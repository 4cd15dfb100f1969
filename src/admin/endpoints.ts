// Operator endpoints under /-/admin/ (bucket names cannot start with "-"), for
// root and for users whose policies allow the endpoint's action (ADMIN_ACTIONS): master-key
// status, rotation batches and the raw export.

import { toB64 } from '../crypto/bytes';
import { decide } from '../iam/policy';
import type { AuthzRequest, Principal } from '../iam/types';
import { decodeManifest, encodeObjectRecord, isMultipart } from '../layout/record';
import type { Layouts } from '../layout/types';
import { S3Error } from '../s3/protocol/errors';
import type { Sealer } from '../sse';
import type { Keyring } from '../sse/keyring';
import type { Store } from '../store/types';
import { keyUsage, rotateAll } from './rotation';

export const ADMIN_PREFIX = '/-/admin/';

const json = (body: unknown, status = 200) =>
  new Response(`${JSON.stringify(body, null, 2)}\n`, { status, headers: { 'content-type': 'application/json' } });

/**
 * The IAM action each operator endpoint needs (on resource "*"; root always has them).
 * Unknown paths have none and are answered MethodNotAllowed by admin().
 */
export const ADMIN_ACTIONS: Record<string, { method: string; action: string }> = {
  keyring: { method: 'GET', action: 'sealbucket:GetKeyringStatus' },
  rotate: { method: 'POST', action: 'sealbucket:RotateMasterKey' },
  retire: { method: 'POST', action: 'sealbucket:CheckMasterKeyRetirement' },
  object: { method: 'GET', action: 'sealbucket:ExportRawObject' },
  raw: { method: 'GET', action: 'sealbucket:ReadRawStoreEntry' },
};

/** Refuses `principal` an operator endpoint unless its identity policies allow the endpoint's action. */
export function authorizeAdmin(req: Request, url: URL, principal: Principal, context: AuthzRequest['context']): void {
  const endpoint = ADMIN_ACTIONS[url.pathname.slice(ADMIN_PREFIX.length)];
  if (!endpoint || endpoint.method !== req.method) return; // admin() answers MethodNotAllowed, to anyone signed
  const decision = decide({ principal, action: endpoint.action, resource: '*', context });
  if (decision === 'Allow') return;
  const why =
    decision === 'ExplicitDeny'
      ? 'with an explicit deny in an identity-based policy'
      : `because no identity-based policy allows the ${endpoint.action} action`;
  throw new S3Error('AccessDenied', `User: ${principal.arn} is not authorized to perform: ${endpoint.action} on resource: "*" ${why}`);
}

export async function admin(req: Request, url: URL, layouts: Layouts, store: Store, sealer: Sealer, ring: Keyring): Promise<Response> {
  const op = url.pathname.slice(ADMIN_PREFIX.length);
  if (op === 'keyring' && req.method === 'GET') {
    const usage = await keyUsage(layouts.all());
    const versions = Object.fromEntries(ring.ids().map((id) => [id, usage[`master:${id}`] ?? 0]));
    const unknown = Object.keys(usage).filter((k) => k.startsWith('master:') && !ring.get(k.slice(7)));
    return json({ active: ring.active.id, versions, missingVersions: unknown.map((k) => k.slice(7)), usage });
  }
  if (op === 'rotate' && req.method === 'POST') {
    const limit = Math.min(Math.max(Number(url.searchParams.get('limit') ?? 200) || 200, 1), 1000);
    return json(await rotateAll(layouts.all(), sealer, ring, limit));
  }
  if (op === 'retire' && req.method === 'POST') {
    // The keyring lives in the secret store, so retiring means the operator drops the version
    // from the secret; this answers whether that is safe now.
    const version = url.searchParams.get('version') ?? '';
    if (!ring.get(version)) throw new S3Error('InvalidArgument', `Master key version ${version} is not in the keyring.`);
    if (version === ring.active.id) return json({ version, retirable: false, reason: 'it is the active version' }, 409);
    const left = (await keyUsage(layouts.all()))[`master:${version}`] ?? 0;
    if (left) return json({ version, retirable: false, reason: `${left} records still need it; run the rotation first` }, 409);
    return json({ version, retirable: true, keyring: ring.ids().filter((id) => id !== version) });
  }
  if (op === 'object' && req.method === 'GET') {
    // The escape hatch against lock-in, whatever the layout: an object's record (its custom
    // metadata and manifest) as JSON, or with ?part=<i> its i-th data stream exactly as stored,
    // for scripts/export.mjs and the offline scripts/recover.mjs.
    const bucket = url.searchParams.get('bucket') ?? '';
    const key = url.searchParams.get('key') ?? '';
    const layout = layouts.of(bucket);
    layout.checkKey(bucket, key);
    const rec = await layout.head(bucket, key);
    if (!rec) throw new S3Error('NoSuchKey');
    const multipart = isMultipart(rec);
    const manifest = multipart ? await layout.manifest(bucket, key, rec) : null;
    const part = url.searchParams.get('part');
    if (part === null) return json({ bucket, key, custom: encodeObjectRecord(rec), manifest: manifest && toB64(manifest) });
    const parts = manifest ? decodeManifest(manifest).parts : [];
    const index = Number(part);
    if (!Number.isInteger(index) || index < 0 || index >= (multipart ? parts.length : 1))
      throw new S3Error('InvalidArgument', 'No such data stream.');
    const body = await layout.read(bucket, key, rec, undefined, multipart ? { parts, index } : undefined);
    if (!body) throw new S3Error('NoSuchKey');
    return new Response(body, { headers: { 'content-type': 'application/octet-stream' } });
  }
  if (op === 'raw' && req.method === 'GET') {
    // Any R2 store entry exactly as stored, with its custom metadata.
    const got = await store.get(url.searchParams.get('key') ?? '');
    if (!got) throw new S3Error('NoSuchKey');
    const meta = btoa(String.fromCharCode(...new TextEncoder().encode(JSON.stringify(got.object.custom))));
    return new Response(got.body, { headers: { 'content-type': 'application/octet-stream', 'x-sealbucket-metadata': meta } });
  }
  throw new S3Error('MethodNotAllowed', 'Unknown admin operation.');
}
