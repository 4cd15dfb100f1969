// The IAM query protocol (and STS GetCallerIdentity) on the gateway's own endpoint: `Action=...&
// Version=2010-05-08` as a form body (or a GET query), signed with SigV4 for service "iam" (or
// "sts"). Replies and errors are IAM's XML, so `aws iam --endpoint-url ...`, `aws sts
// get-caller-identity` and boto3 work unchanged. Root may do everything; a user what its identity
// policies allow (`iam:<Action>` on the resource IAM names). The users, keys and policies live in
// the IAM Durable Object (durable.ts).

import { precheckSigV4, verifyPresignedV4, verifySigV4 } from '../auth/sigv4';
import type { Auth } from '../auth/types';
import { toHex } from '../crypto/bytes';
import { readAtMost } from '../s3/payload/body';
import { S3Error } from '../s3/protocol/errors';
import { type Node, render } from '../s3/protocol/xml';
import { type IamAction, type IamEnv, type IamReply, iamStub, isIamAction } from './durable';
import { forgetIdentities, type Identities } from './identities';
import { decide } from './policy';
import { httpRequestKeys } from './request-keys';
import { IamError, type Page, policyArn, validationError } from './service';
import { ACCOUNT_ID, ROOT_ARN, userArn } from './types';

const IAM_NS = 'https://iam.amazonaws.com/doc/2010-05-08/';
const STS_NS = 'https://sts.amazonaws.com/doc/2011-06-15/';
const MAX_BODY = 64 * 1024;

type Service = 'iam' | 'sts';

/** The service a request's SigV4 credential scope names, when it is IAM or STS. */
export function iamService(req: Request, url: URL): Service | undefined {
  const header = /\bCredential=[^/,\s]+\/\d{8}\/[^/,\s]+\/(iam|sts)\/aws4_request/.exec(req.headers.get('authorization') ?? '');
  if (header) return header[1] as Service;
  const scope = (url.searchParams.get('X-Amz-Credential') ?? '').split('/');
  return scope.length === 5 && (scope[3] === 'iam' || scope[3] === 'sts') && scope[4] === 'aws4_request'
    ? (scope[3] as Service)
    : undefined;
}

/** Authentication failures in the names AWS query services give them. */
function authError(e: S3Error): IamError {
  switch (e.code) {
    case 'InvalidAccessKeyId':
      return new IamError('InvalidClientTokenId', 'The security token included in the request is invalid.', 403);
    case 'SignatureDoesNotMatch':
    case 'XAmzContentSHA256Mismatch':
      return new IamError(
        'SignatureDoesNotMatch',
        'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.',
        403,
      );
    case 'RequestTimeTooSkewed':
      return new IamError('SignatureDoesNotMatch', 'Signature expired: the request time is too far from the server time.', 403);
    case 'AuthorizationHeaderMalformed':
    case 'AuthorizationQueryParametersError':
      return new IamError('IncompleteSignature', e.message, 400);
    default:
      return new IamError('AccessDenied', e.message, 403);
  }
}

async function signed<T>(check: () => Promise<T>): Promise<T> {
  try {
    return await check();
  } catch (e) {
    throw e instanceof S3Error ? authError(e) : e;
  }
}

/** The request's parameters: the query, then a form body (whose values win). */
async function authenticated(
  req: Request,
  url: URL,
  service: Service,
  who: Identities,
): Promise<{ auth: Auth; params: Record<string, string> }> {
  const lookup = (ak: string) => who.secret(ak);
  const params: Record<string, string> = Object.fromEntries(url.searchParams);
  if (!req.headers.has('authorization')) {
    // A presigned IAM URL signs its query only: a body would be unsigned, so none is read.
    const auth = await signed(() => verifyPresignedV4(req, lookup, { service }));
    for (const k of Object.keys(params)) if (k.startsWith('X-Amz-')) delete params[k];
    return { auth, params };
  }
  // Who is asking, and when, is checked before a single byte of the body is read.
  await signed(() => precheckSigV4(req, lookup, { service }));
  const tooLarge = () => new IamError('ValidationError', `The request body is larger than ${MAX_BODY} bytes.`, 400);
  if (Number(req.headers.get('content-length') ?? 0) > MAX_BODY) throw tooLarge();
  const body = await readAtMost(req.body, MAX_BODY, tooLarge);
  const hash = toHex(await crypto.subtle.digest('SHA-256', body));
  const declared = req.headers.get('x-amz-content-sha256');
  if (declared !== null && declared.toLowerCase() !== hash) throw authError(new S3Error('XAmzContentSHA256Mismatch'));
  const auth = await signed(() => verifySigV4(req, lookup, { service, payloadHash: hash }));
  if (body.length) for (const [k, v] of new URLSearchParams(new TextDecoder().decode(body))) params[k] = v;
  return { auth, params };
}

/** Actions whose UserName, when absent, is the caller's own (IAM's rule for these). */
const DEFAULTS_TO_CALLER = new Set<IamAction>(['GetUser', 'CreateAccessKey', 'ListAccessKeys', 'UpdateAccessKey', 'DeleteAccessKey']);
const WRITES = new Set<IamAction>([
  'CreateUser',
  'DeleteUser',
  'CreateAccessKey',
  'UpdateAccessKey',
  'DeleteAccessKey',
  'PutUserPolicy',
  'DeleteUserPolicy',
  'CreatePolicy',
  'DeletePolicy',
  'AttachUserPolicy',
  'DetachUserPolicy',
]);
const POLICY_ACTIONS = new Set<IamAction>(['CreatePolicy', 'GetPolicy', 'GetPolicyVersion', 'DeletePolicy']);
/** Where each list's members go, and each single result's element. */
const LIST_TAG: Partial<Record<IamAction, string>> = {
  ListUsers: 'Users',
  ListAccessKeys: 'AccessKeyMetadata',
  ListUserPolicies: 'PolicyNames',
  ListPolicies: 'Policies',
  ListAttachedUserPolicies: 'AttachedPolicies',
};
const RESULT_TAG: Partial<Record<IamAction, string>> = {
  CreateUser: 'User',
  GetUser: 'User',
  CreateAccessKey: 'AccessKey',
  CreatePolicy: 'Policy',
  GetPolicy: 'Policy',
  GetPolicyVersion: 'PolicyVersion',
};

/** The resource ARN IAM authorizes an action on. */
async function resourceOf(
  action: IamAction,
  params: Record<string, string>,
  arnOfUser: (name: string) => Promise<string>,
): Promise<string> {
  if (action === 'ListUsers') return userArn('', params.PathPrefix ?? '/');
  if (action === 'ListPolicies') return policyArn('', params.PathPrefix ?? '/');
  if (action === 'CreateUser') return userArn(params.UserName ?? '', params.Path ?? '/');
  if (action === 'CreatePolicy') return policyArn(params.PolicyName ?? '', params.Path ?? '/');
  if (POLICY_ACTIONS.has(action)) return params.PolicyArn ?? '';
  return arnOfUser(params.UserName ?? '');
}

function xml(ns: string, action: string, result: { [tag: string]: Node } | undefined, requestId: string, status = 200): Response {
  const body = `<?xml version="1.0" encoding="UTF-8"?>\n<${action}Response xmlns="${ns}">${
    result ? `<${action}Result>${render(result)}</${action}Result>` : ''
  }<ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></${action}Response>`;
  return new Response(body, { status, headers: { 'content-type': 'text/xml' } });
}

export function iamErrorResponse(e: IamError, service: Service, requestId: string): Response {
  const type = e.status >= 500 ? 'Receiver' : 'Sender';
  const body = `<?xml version="1.0" encoding="UTF-8"?>\n<ErrorResponse xmlns="${service === 'sts' ? STS_NS : IAM_NS}">${render({
    Error: { Type: type, Code: e.code, Message: e.message },
  })}<RequestId>${requestId}</RequestId></ErrorResponse>`;
  return new Response(body, { status: e.status, headers: { 'content-type': 'text/xml' } });
}

/** A service result as IAM's XML: pages as members plus IsTruncated / Marker; documents URL-encoded. */
function shape(action: IamAction, result: unknown): { [tag: string]: Node } | undefined {
  if (result === null || result === undefined) return undefined;
  const list = LIST_TAG[action];
  if (list) {
    const p = result as Page<Node>;
    return { [list]: { member: p.items }, IsTruncated: p.IsTruncated, Marker: p.Marker };
  }
  const r = { ...(result as Record<string, Node>) };
  if (typeof r.PolicyDocument === 'string') r.PolicyDocument = encodeURIComponent(r.PolicyDocument);
  if (typeof r.Document === 'string') r.Document = encodeURIComponent(r.Document);
  const tag = RESULT_TAG[action];
  return tag ? { [tag]: r } : r;
}

export async function iamApi(req: Request, url: URL, env: IamEnv, who: Identities, requestId: string, now = new Date()): Promise<Response> {
  const service = iamService(req, url) ?? 'iam';
  try {
    if (req.method !== 'POST' && req.method !== 'GET')
      throw new IamError('InvalidAction', `IAM and STS calls are POST or GET requests.`, 400);
    const { auth, params } = await authenticated(req, url, service, who);
    const principal = await who.principal(auth.accessKeyId);
    const action = params.Action ?? '';
    if (service === 'sts') {
      // GetCallerIdentity needs no permission: no policy can deny it (as on AWS).
      if (action !== 'GetCallerIdentity')
        throw new IamError('InvalidAction', `Could not find operation ${action} for version 2011-06-15`, 400);
      const userId = principal.kind === 'user' ? principal.userId : ACCOUNT_ID;
      return xml(STS_NS, action, { UserId: userId, Account: ACCOUNT_ID, Arn: principal.arn }, requestId);
    }
    if (!isIamAction(action)) throw new IamError('InvalidAction', `Could not find operation ${action} for version 2010-05-08`, 400);
    if (params.Version !== undefined && params.Version !== '2010-05-08')
      throw new IamError('InvalidAction', `Could not find operation ${action} for version ${params.Version}`, 400);
    if (DEFAULTS_TO_CALLER.has(action) && params.UserName === undefined) {
      if (principal.kind === 'user') params.UserName = principal.userName;
      else if (action === 'GetUser') return xml(IAM_NS, action, { User: { UserId: ACCOUNT_ID, Arn: ROOT_ARN } }, requestId);
      else if (action === 'ListAccessKeys')
        // Root's keys are the pairs in the secret store, not IAM's to list.
        return xml(IAM_NS, action, { AccessKeyMetadata: { member: [] }, IsTruncated: false }, requestId);
      else throw validationError('The account root has no IAM access keys (its keys are the pairs in the secret store): name a UserName.');
    }
    const stub = iamStub(env);
    if (!stub) throw new IamError('ServiceFailure', 'This gateway has no IAM Durable Object binding (IAM).', 500);
    if (principal.kind !== 'root') {
      const resource = await resourceOf(action, params, (name) => stub.userArn(name));
      const extra: Record<string, string> = params.PolicyArn && action.endsWith('UserPolicy') ? { 'iam:PolicyARN': params.PolicyArn } : {};
      const req2 = {
        principal,
        action: `iam:${action}`,
        resource,
        context: { ...httpRequestKeys(req, url, now), ...Object.fromEntries(Object.entries(extra).map(([k, v]) => [k, [v]])) },
      };
      if (decide(req2) !== 'Allow')
        throw new IamError(
          'AccessDenied',
          `User: ${principal.arn} is not authorized to perform: iam:${action} on resource: ${resource}`,
          403,
        );
    }
    const reply = (await stub.call(action, params)) as IamReply;
    if (WRITES.has(action)) forgetIdentities();
    if (!reply.ok) throw new IamError(reply.code, reply.message, reply.status);
    return xml(IAM_NS, action, shape(action, reply.result), requestId);
  } catch (e) {
    if (e instanceof IamError) return iamErrorResponse(e, service, requestId);
    console.error(JSON.stringify({ event: 'iam-api-error', requestId, error: String(e instanceof Error ? e.message : e) }));
    return iamErrorResponse(
      new IamError('ServiceFailure', 'The request processing has failed because of an unknown error.', 500),
      service,
      requestId,
    );
  }
}
