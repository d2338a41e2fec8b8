import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';
import { postVaultAuth, redact, VaultConfigError, VaultError, type VaultLogin } from './vault-auth';

/**
 * Vault/OpenBao login with the `aws` auth method, IAM flavour: we sign (but do not send) an
 * sts:GetCallerIdentity request with the Lambda's role credentials and hand it to Vault, which
 * sends it to STS and maps the answered ARN to a Vault role. No static token ever reaches AWS.
 * The payload has the shape of the vault CLI's (awsutil.GenerateLoginData): method in clear,
 * url, body and headers base64, headers as Go's http.Header JSON (name -> [values]).
 */
export const GLOBAL_STS_ENDPOINT = 'https://sts.amazonaws.com/';
export const GET_CALLER_IDENTITY_BODY = 'Action=GetCallerIdentity&Version=2011-06-15';
export const STS_CONTENT_TYPE = 'application/x-www-form-urlencoded; charset=utf-8';
export const SERVER_ID_HEADER = 'X-Vault-AWS-IAM-Server-ID';

export type AwsCredentials = AwsCredentialIdentity | AwsCredentialIdentityProvider;

/** An HTTP request exactly as it is to be sent (and as Vault will replay it to STS). */
export interface SignedStsRequest {
  method: 'POST';
  url: string;
  /** Header name -> value; names as Go canonicalises them (what Vault sees). */
  headers: Record<string, string>;
  body: string;
}

export interface AwsLoginPayload {
  role: string;
  iam_http_request_method: 'POST';
  iam_request_url: string;
  iam_request_body: string;
  iam_request_headers: string;
}

export interface StsSigningOptions {
  /** Where Vault will send GetCallerIdentity: the global, a regional or the emulator's endpoint. */
  stsEndpoint: string;
  /** The configured region; used for signing unless the endpoint names its own. */
  region: string;
  /** Vault's iam_server_id_header_value, bound into the signature against replay to another Vault. */
  serverId?: string;
  credentials: AwsCredentials;
}

/** The STS endpoint Vault must call: explicit setting, else the emulator, else the global one. */
export function resolveStsEndpoint(cfg: { VAULT_AWS_STS_ENDPOINT?: string; AWS_ENDPOINT_URL?: string }): string {
  const raw = cfg.VAULT_AWS_STS_ENDPOINT ?? cfg.AWS_ENDPOINT_URL ?? GLOBAL_STS_ENDPOINT;
  const url = new URL(raw);
  // GetCallerIdentity is posted to the root path; Vault rejects any other path or a query.
  return `${url.protocol}//${url.host}/`;
}

/** The global endpoint signs for us-east-1; sts.<region>.amazonaws.com[.cn] for its region. */
export function stsSigningRegion(stsEndpoint: string, region: string): string {
  const host = new URL(stsEndpoint).hostname.toLowerCase();
  if (host === 'sts.amazonaws.com') return 'us-east-1';
  const m = /^sts(?:-fips)?\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?$/.exec(host);
  return m ? m[1] : region;
}

/** Go's textproto canonical form (x-amz-date -> X-Amz-Date), as Vault keys the headers. */
const goHeaderName = (name: string) => name.toLowerCase().replace(/(^|-)([a-z])/g, (_m, dash: string, c: string) => dash + c.toUpperCase());

/** Signs sts:GetCallerIdentity (SigV4, service sts) without sending it. */
export async function signGetCallerIdentity(opts: StsSigningOptions, now: Date = new Date()): Promise<SignedStsRequest> {
  const url = new URL(opts.stsEndpoint);
  const headers: Record<string, string> = {
    host: url.host,
    'content-type': STS_CONTENT_TYPE,
    ...(opts.serverId ? { [SERVER_ID_HEADER.toLowerCase()]: opts.serverId } : {}),
  };
  const signer = new SignatureV4({
    service: 'sts',
    region: stsSigningRegion(opts.stsEndpoint, opts.region),
    credentials: opts.credentials,
    sha256: Sha256,
    // No x-amz-content-sha256: STS does not need it and Vault's default header allow-list lacks it.
    applyChecksum: false,
  });
  const signed = await signer.sign(
    {
      method: 'POST',
      protocol: url.protocol,
      hostname: url.hostname,
      port: url.port ? Number(url.port) : undefined,
      path: url.pathname,
      query: {},
      headers,
      body: GET_CALLER_IDENTITY_BODY,
    },
    // Every header we set is signed; the server id must be, or Vault refuses the login.
    { signingDate: now, signableHeaders: new Set(Object.keys(headers)) },
  );
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(signed.headers)) out[goHeaderName(name)] = String(value);
  return { method: 'POST', url: `${url.protocol}//${url.host}${url.pathname}`, headers: out, body: GET_CALLER_IDENTITY_BODY };
}

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');
const unb64 = (s: string) => Buffer.from(s, 'base64').toString('utf8');

export function loginPayload(role: string, req: SignedStsRequest): AwsLoginPayload {
  const goHeaders: Record<string, string[]> = {};
  for (const [name, value] of Object.entries(req.headers)) goHeaders[name] = [value];
  return {
    role,
    iam_http_request_method: req.method,
    iam_request_url: b64(req.url),
    iam_request_body: b64(req.body),
    iam_request_headers: b64(JSON.stringify(goHeaders)),
  };
}

/** The STS request a login payload carries, as Vault decodes it (tests replay it to STS). */
export function decodeLoginPayload(payload: AwsLoginPayload): SignedStsRequest {
  const raw = JSON.parse(unb64(payload.iam_request_headers)) as Record<string, string | string[]>;
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(raw)) headers[name] = Array.isArray(value) ? value.join(',') : value;
  return { method: payload.iam_http_request_method, url: unb64(payload.iam_request_url), headers, body: unb64(payload.iam_request_body) };
}

export interface AwsIamLoginOptions extends StsSigningOptions {
  vaultAddr: string;
  /** Vault role (auth/<mount>/role/<role>). */
  role: string;
  /** Where the aws auth method is mounted. Default `aws`. */
  mount?: string;
  timeoutMs?: number;
}

/** One login: sign GetCallerIdentity, POST it to auth/<mount>/login, return the client token. */
export async function awsIamLogin(opts: AwsIamLoginOptions): Promise<VaultLogin> {
  const mount = (opts.mount ?? 'aws').replace(/^\/+|\/+$/g, '');
  if (!opts.role) throw new VaultConfigError('Vault AWS IAM login needs a role (VAULT_AWS_ROLE)');
  let creds: AwsCredentialIdentity;
  try {
    creds = typeof opts.credentials === 'function' ? await opts.credentials() : opts.credentials;
  } catch (err) {
    // The provider chain's messages name sources, not secrets; redact anyway.
    throw new VaultError(0, `Vault AWS IAM login: no AWS credentials (${redact((err as Error).message).slice(0, 200)})`);
  }
  const signed = await signGetCallerIdentity({ ...opts, credentials: creds });
  const signature = /Signature=([0-9a-f]+)/.exec(signed.headers.Authorization ?? '')?.[1] ?? '';
  return postVaultAuth({
    addr: opts.vaultAddr,
    path: `auth/${mount}/login`,
    body: loginPayload(opts.role, signed),
    timeoutMs: opts.timeoutMs ?? 5000,
    label: `Vault AWS IAM login (auth/${mount}/login, role ${opts.role})`,
    secrets: [creds.secretAccessKey, creds.sessionToken ?? '', signature],
  });
}
