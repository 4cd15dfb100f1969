// CMK identifiers: key ids (UUIDs), aliases, and the ARN-like forms AWS tools
// send. The gateway answers with ARNs in the fixed account below.

/** The account every ARN the gateway produces names (it has no accounts). */
export const KMS_ACCOUNT = '000000000000';

/** The CMK the gateway creates the first time SSE-KMS is used without a key id. */
export const DEFAULT_ALIAS = 'alias/sealbucket/default';

/** Alias prefixes users may not create or delete: AWS's own and the gateway's. */
export const RESERVED_ALIAS_PREFIXES = ['alias/aws/', 'alias/sealbucket/'];

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const ALIAS = /^alias\/[a-zA-Z0-9/_-]{1,250}$/;
const ARN = /^arn:[a-z-]+:kms:([a-z0-9-]*):(\d*):(key\/.+|alias\/.+)$/;

export const isUuid = (s: string): boolean => UUID.test(s);
export const isAliasName = (s: string): boolean => ALIAS.test(s);

/** What a key-id parameter names: a key by id, or an alias. Undefined when it is neither. */
export type KeyRef = { keyId: string } | { alias: string };

export function parseKeyRef(s: string): KeyRef | undefined {
  const v = s.trim();
  const arn = ARN.exec(v);
  const id = arn ? arn[3] : v;
  if (id.startsWith('key/')) return isUuid(id.slice(4)) ? { keyId: id.slice(4).toLowerCase() } : undefined;
  if (isUuid(id)) return { keyId: id.toLowerCase() };
  if (isAliasName(id)) return { alias: id };
  return undefined;
}

export const keyArn = (region: string, keyId: string): string => `arn:aws:kms:${region}:${KMS_ACCOUNT}:key/${keyId}`;
export const aliasArn = (region: string, alias: string): string => `arn:aws:kms:${region}:${KMS_ACCOUNT}:${alias}`;
