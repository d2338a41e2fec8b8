import http from 'node:http';
import https from 'node:https';
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import { decodeLoginPayload, loginPayload, resolveStsEndpoint, signGetCallerIdentity, type AwsCredentials } from '../../functions/shared/vault-aws-login';
import { endpoints } from '../support/endpoints';
import { stackFunctions } from '../support/stack-functions';

/**
 * What Vault does with our AWS IAM login, done against the emulator's STS: the Lambda-side code
 * signs sts:GetCallerIdentity, we decode it from the login payload exactly as Vault does and
 * replay it. Tests cannot get a deployed Lambda's credentials, so we assume that Lambda's role
 * with the emulator's root credentials and sign with those.
 * CM_E2E_AWS_ENDPOINT / CM_E2E_AWS_REGION point it at another emulator (default: the stack's).
 */
const awsEndpoint = process.env.CM_E2E_AWS_ENDPOINT ?? endpoints().awsEndpoint;
const region = process.env.CM_E2E_AWS_REGION ?? (process.env.CM_E2E_AWS_ENDPOINT ? 'us-east-1' : endpoints().region);
const ROOT = { accessKeyId: 'test', secretAccessKey: 'test' };
const SERVER_ID = 'vault.checkout-mesh.test';

interface Reply {
  status: number;
  body: string;
}

/** Sends a request byte for byte as given, Host header included (fetch would set its own). */
function replay(req: { method: string; url: string; headers: Record<string, string | string[]>; body: string }): Promise<Reply> {
  const url = new URL(req.url);
  const lib = url.protocol === 'https:' ? https : http;
  // Like Go's client: one header line per value (node wants Host as a plain string).
  const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) && v.length === 1 ? v[0] : v]));
  return new Promise((resolve, reject) => {
    const out = lib.request(url, { method: req.method, headers }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    out.on('error', reject);
    out.end(req.body);
  });
}

/** A signed STS/IAM query-API call (no @aws-sdk/client-sts or client-iam in this repo). */
async function awsQuery(service: 'sts' | 'iam', params: Record<string, string>, credentials: AwsCredentials = ROOT): Promise<Reply> {
  const url = new URL(awsEndpoint);
  const body = new URLSearchParams(params).toString();
  const signed = await new SignatureV4({ service, region, credentials, sha256: Sha256 }).sign({
    method: 'POST',
    protocol: url.protocol,
    hostname: url.hostname,
    port: url.port ? Number(url.port) : undefined,
    path: '/',
    query: {},
    headers: { host: url.host, 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
    body,
  });
  return replay({ method: 'POST', url: `${url.protocol}//${url.host}/`, headers: signed.headers, body });
}

const xml = (body: string, tag: string) => new RegExp(`<${tag}>([^<]*)</${tag}>`).exec(body)?.[1];

/** One of the stack's Lambdas (ours carry SERVICE_NAME), payments' API preferred. */
async function stackLambdaRole(): Promise<{ fn: string; roleArn: string }> {
  const ours = (await stackFunctions({ endpoint: awsEndpoint, region, credentials: ROOT })).filter((f) => f.Role);
  const pick = ours.find((f) => f.Environment!.Variables!.SERVICE_NAME === 'payments') ?? ours[0];
  if (!pick) throw new Error(`no Lambda of the stack (with SERVICE_NAME) found at ${awsEndpoint}`);
  return { fn: pick.FunctionName!, roleArn: pick.Role! };
}

describe('Vault AWS IAM login: the signed GetCallerIdentity is accepted by STS', () => {
  const stsEndpoint = resolveStsEndpoint({ AWS_ENDPOINT_URL: awsEndpoint });

  /** Signs as a Lambda would, wraps it as the login payload, decodes it as Vault does, replays it. */
  async function loginRoundTrip(credentials: AwsCredentials): Promise<Reply & { signedHeaders: string }> {
    const payload = loginPayload('payments', await signGetCallerIdentity({ stsEndpoint, region, serverId: SERVER_ID, credentials }));
    const req = decodeLoginPayload(payload);
    expect(req.url).toBe(stsEndpoint);
    expect(req.body).toBe('Action=GetCallerIdentity&Version=2011-06-15');
    const signedHeaders = /SignedHeaders=([^,]+)/.exec(req.headers.Authorization)?.[1] ?? '';
    // Go-style header JSON (name -> [values]), as Vault's http.Header would carry it.
    const goHeaders = JSON.parse(Buffer.from(payload.iam_request_headers, 'base64').toString()) as Record<string, string[]>;
    return { ...(await replay({ method: payload.iam_http_request_method, url: req.url, headers: goHeaders, body: req.body })), signedHeaders };
  }

  it('with the emulator root credentials', async () => {
    const res = await loginRoundTrip(ROOT);
    expect(res.status).toBe(200);
    expect(xml(res.body, 'Arn')).toMatch(/^arn:aws:iam::\d{12}:root$/);
    expect(res.signedHeaders.split(';')).toContain('x-vault-aws-iam-server-id');
  });

  it("with a deployed Lambda's role, assumed: STS answers that role's assumed-role ARN", async () => {
    const { roleArn } = await stackLambdaRole();
    const session = `vault-login-e2e-${Date.now()}`;
    const assumed = await awsQuery('sts', { Action: 'AssumeRole', Version: '2011-06-15', RoleArn: roleArn, RoleSessionName: session });
    expect(assumed.status).toBe(200);
    const credentials = {
      accessKeyId: xml(assumed.body, 'AccessKeyId')!,
      secretAccessKey: xml(assumed.body, 'SecretAccessKey')!,
      sessionToken: xml(assumed.body, 'SessionToken')!,
    };
    expect(credentials.sessionToken).toBeTruthy();

    const res = await loginRoundTrip(credentials);
    expect(res.status).toBe(200);
    expect(res.signedHeaders.split(';')).toEqual(expect.arrayContaining(['x-amz-security-token', 'x-vault-aws-iam-server-id']));
    // arn:aws:iam::<acct>:role/<path/>name -> arn:aws:sts::<acct>:assumed-role/name/<session>: what Vault binds to.
    const [, account, roleName] = /^arn:aws:iam::(\d{12}):role\/(?:.*\/)?([^/]+)$/.exec(roleArn)!;
    expect(xml(res.body, 'Arn')).toBe(`arn:aws:sts::${account}:assumed-role/${roleName}/${session}`);
  });
});
