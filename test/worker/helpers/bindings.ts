// Fixed test credentials and keyring (test-only values; never used outside tests).
export const TEST_BINDINGS = {
  ACCESS_KEY_ID: 'AKIDTESTGATEWAY',
  SECRET_ACCESS_KEY: 'test-secret-key-0123456789abcdef',
  CREDENTIALS: 'AKIDSECOND:second-secret-key-abcdefghijklmnop',
  MASTER_KEYRING: 'k1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=',
  // SSE-KMS root key (base64 of 32 bytes) that wraps CMK material.
  KMS_ROOT_KEY: 'oKGio6SlpqeoqaqrrK2ur7CxsrO0tba3uLm6u7y9vr8=',
  // SSE-C tests use an https:// origin; plain http must be refused.
  SSE_C_ALLOW_HTTP: 'false',
};
