// What authentication hands to the rest of the gateway.

export type Dialect = 'amz' | 'cos';

/** Looks up the secret for an access key id; undefined when unknown. */
export type SecretLookup = (accessKeyId: string) => Promise<string | undefined>;

/** How the request body is framed and what must be checked as it streams. */
export type Payload =
  | { kind: 'unsigned' } // UNSIGNED-PAYLOAD, COS, presigned
  | { kind: 'sha256'; hex: string } // signed payload hash, verified at end of stream
  | { kind: 'chunked-signed'; signingKey: CryptoKey; scope: string; datetime: string; seed: string; trailer: boolean } // STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER]
  | { kind: 'chunked-unsigned-trailer' }; // STREAMING-UNSIGNED-PAYLOAD-TRAILER

export interface Auth {
  accessKeyId: string;
  dialect: Dialect;
  /** 'sigv4' | 'sigv4-presigned' | 'sigv2' | 'sigv2-presigned' | 'cos' | 'cos-presigned' (and the POST policy variants) */
  method: string;
  payload: Payload;
  /** Region from the SigV4 credential scope (absent for COS and SigV2). */
  region?: string;
}
