// The global condition keys that describe the request itself, the same for S3, IAM, KMS and the
// operator endpoints. What the principal says (aws:PrincipalArn, aws:username, aws:userid, ...)
// the evaluator adds itself (policy.ts), so no caller repeats it.

/** aws:CurrentTime, aws:EpochTime, aws:SecureTransport and aws:SourceIp (absent when unknown). */
export function requestKeys(r: { now: Date; secure: boolean; sourceIp?: string | null }): Record<string, string[] | undefined> {
  return {
    'aws:CurrentTime': [r.now.toISOString().replace(/\.\d{3}Z$/, 'Z')],
    'aws:EpochTime': [String(Math.floor(r.now.getTime() / 1000))],
    'aws:SecureTransport': [String(r.secure)],
    'aws:SourceIp': r.sourceIp ? [r.sourceIp] : undefined,
  };
}

/** The request keys of an HTTP request: TLS from its URL, the client from CF-Connecting-IP (set by Cloudflare, and locally by the front). */
export const httpRequestKeys = (req: Request, url: URL, now = new Date()) =>
  requestKeys({ now, secure: url.protocol === 'https:', sourceIp: req.headers.get('cf-connecting-ip') });
