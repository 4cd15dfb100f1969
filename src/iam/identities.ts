// Access keys to secrets and principals. The pairs from the secret store are the account's root;
// IAM users' keys (issue "Least privilege") are looked up here too, so the signature checks and
// authorization ask one place.

import { type Principal, ROOT_ARN } from './types';

export interface Identities {
  /** The secret of an access key that may sign requests; undefined when the key is unknown or inactive. */
  secret(accessKeyId: string): Promise<string | undefined>;
  /** The principal an access key whose signature was just verified belongs to. */
  principal(accessKeyId: string): Promise<Principal>;
}

/** Identities over the root credential lookup (config.ts credentialLookup). */
export function identities(rootSecret: (accessKeyId: string) => Promise<string | undefined>): Identities {
  return {
    secret: rootSecret,
    async principal(accessKeyId) {
      if ((await rootSecret(accessKeyId)) === undefined) throw new Error('principal() of an access key that signed nothing');
      return { kind: 'root', accessKeyId, arn: ROOT_ARN };
    },
  };
}
