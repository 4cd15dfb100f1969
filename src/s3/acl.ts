// Access control lists. Nothing the gateway stores is ever readable without a
// signature, so the only ACL a bucket or object can have is its owner's FULL_CONTROL.
// Requests may still name that ACL (`private`, the bucket-owner canned ACLs, a grant
// of FULL_CONTROL to the owner, in headers, a POST form or an AccessControlPolicy
// body); anything granting someone else is refused as S3 refuses ACLs on a bucket
// whose ACLs are disabled (AccessControlListNotSupported), and nothing is stored.

import { S3Error } from './protocol/errors';
import { escapeXml, list, parseXml, text } from './protocol/xml';

/** Canned ACLs that grant the owner alone: the object's and the bucket's owner are one here. */
const OWNER_ONLY = ['private', 'bucket-owner-read', 'bucket-owner-full-control'];
/** Every other canned ACL S3 (and COS) define: each grants someone else. */
const SHARING = ['public-read', 'public-read-write', 'authenticated-read', 'aws-exec-read', 'log-delivery-write'];
const GRANTS = ['full-control', 'read', 'write', 'read-acp', 'write-acp'];
const PERMISSIONS = ['FULL_CONTROL', 'READ', 'WRITE', 'READ_ACP', 'WRITE_ACP'];

export const aclsNotSupported = () => new S3Error('AccessControlListNotSupported');

type Get = (name: string) => string | null | undefined;

export interface AclTarget {
  /** Ids that name the owner (the bucket's owner, the requester). */
  owners: string[];
  /** An object (COS objects also take `default`: the bucket's ACL, which is private). */
  object: boolean;
  /** A POST form: the canned ACL is its `acl` field. */
  form?: boolean;
}

/**
 * Checks the ACL a request sets in headers (x-amz-acl / x-cos-acl, x-amz-grant-* /
 * x-cos-grant-*) or form fields; refuses one that shares. True when it sets one.
 */
export function checkAclHeaders(get: Get, t: AclTarget): boolean {
  const cannedName = t.form && get('acl') != null ? 'acl' : get('x-amz-acl') != null ? 'x-amz-acl' : 'x-cos-acl';
  const canned = get(cannedName);
  const grants: [string, string][] = [];
  for (const g of GRANTS)
    for (const p of ['x-amz-grant-', 'x-cos-grant-']) {
      const v = get(p + g);
      if (v != null) grants.push([p + g, v]);
    }
  if (canned != null && grants.length) throw new S3Error('InvalidRequest', 'Specifying both Canned ACLs and Header Grants is not allowed');
  if (canned != null) {
    const v = canned.trim();
    if (OWNER_ONLY.includes(v) || (t.object && v === 'default' && cannedName !== 'x-amz-acl')) return true;
    if (SHARING.includes(v)) throw aclsNotSupported();
    throw new S3Error('InvalidArgument', undefined, { fields: { ArgumentName: cannedName, ArgumentValue: canned } });
  }
  for (const [name, value] of grants) {
    const grantees = parseGrantees(name, value);
    // Only FULL_CONTROL keeps the owner's access whole; a narrower grant would be a promise not kept.
    if (!name.endsWith('full-control') || grantees.some((g) => g.type !== 'id' || !t.owners.includes(g.value))) throw aclsNotSupported();
  }
  return grants.length > 0;
}

/** `id="…", uri="…", emailAddress="…"`, comma-separated; anything else is InvalidArgument. */
function parseGrantees(name: string, value: string): { type: string; value: string }[] {
  const out: { type: string; value: string }[] = [];
  const re = /\s*(id|uri|emailAddress)\s*=\s*"([^"]*)"\s*(,|$)/iy;
  let at = 0;
  while (at < value.length) {
    re.lastIndex = at;
    const m = re.exec(value);
    if (!m || m[0].length === 0) throw new S3Error('InvalidArgument', undefined, { fields: { ArgumentName: name, ArgumentValue: value } });
    out.push({ type: m[1].toLowerCase(), value: m[2] });
    at = re.lastIndex;
  }
  if (!out.length) throw new S3Error('InvalidArgument', undefined, { fields: { ArgumentName: name, ArgumentValue: value } });
  return out;
}

/** An AccessControlPolicy body: accepted when it grants FULL_CONTROL to the owner and nothing else. */
export function checkAclBody(body: string, owners: string[]): void {
  const doc = parseXml(body, 'AccessControlPolicy');
  const ownerId = text(list(doc, 'Owner')[0], 'ID');
  if (ownerId !== undefined && !owners.includes(ownerId)) throw aclsNotSupported();
  const acl = list(doc, 'AccessControlList');
  if (acl.length > 1) throw new S3Error('MalformedACLError');
  for (const grant of list(acl[0], 'Grant')) {
    const grantee = list(grant, 'Grantee')[0];
    const permission = text(grant, 'Permission');
    if (!grantee || permission === undefined || !PERMISSIONS.includes(permission)) throw new S3Error('MalformedACLError');
    const id = text(grantee, 'ID');
    const other = text(grantee, 'URI') ?? text(grantee, 'EmailAddress');
    if (other !== undefined || id === undefined || !owners.includes(id) || permission !== 'FULL_CONTROL') throw aclsNotSupported();
  }
}

/** The one ACL there is: the owner's FULL_CONTROL, in S3's shape (COS: the same, without S3's namespace). */
export function ownerOnlyPolicy(owner: string, cos: boolean): string {
  const who = `<ID>${escapeXml(owner)}</ID><DisplayName>${escapeXml(owner)}</DisplayName>`;
  const ns = cos ? '' : ' xmlns="http://s3.amazonaws.com/doc/2006-03-01/"';
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n<AccessControlPolicy${ns}><Owner>${who}</Owner><AccessControlList>` +
    `<Grant><Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="CanonicalUser">${who}</Grantee>` +
    '<Permission>FULL_CONTROL</Permission></Grant></AccessControlList></AccessControlPolicy>'
  );
}
