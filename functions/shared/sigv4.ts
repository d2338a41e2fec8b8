import { Sha256 } from '@aws-crypto/sha256-js';
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { SignatureV4 } from '@smithy/signature-v4';

/**
 * SigV4 for calls to IAM-authorized API Gateway APIs (service `execute-api`). Each service API
 * accepts only callers whose role was granted `execute-api:Invoke` on the route, so every call
 * between services, the JWKS fetch included, goes out signed. Credentials come from the
 * standard provider chain (a Lambda's role session from its environment; a developer's profile
 * or the emulator's root key in scripts and tests) and are refreshed by the chain itself. In a
 * Lambda bundle that chain is its environment part alone (shared/lambda-credentials.ts).
 */
export interface SignableRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: string;
}

export type RequestSigner = (req: SignableRequest) => Promise<Record<string, string>>;

export interface SignerOptions {
  region: string;
  service?: string;
  /** Fixed credentials or a provider; default: the standard provider chain. */
  credentials?: ConstructorParameters<typeof SignatureV4>[0]['credentials'];
}

/** Returns the headers to send: the request's own plus x-amz-date, authorization (and the session token). */
export function createSigner(opts: SignerOptions): RequestSigner {
  const signer = new SignatureV4({
    service: opts.service ?? 'execute-api',
    region: opts.region,
    credentials: opts.credentials ?? defaultProvider(),
    sha256: Sha256,
    // Non-S3 services sign the path as sent, URI-encoded once more (SigV4's double encoding).
    uriEscapePath: true,
    // No x-amz-content-sha256 header (an S3 convention): the receiver hashes the body it got, so
    // a body changed in transit no longer matches the signature.
    applyChecksum: false,
  });
  return async (req) => {
    const url = new URL(req.url);
    const query: Record<string, string | string[]> = {};
    for (const [k, v] of url.searchParams) {
      const prev = query[k];
      query[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
    }
    const signed = await signer.sign({
      method: req.method.toUpperCase(),
      protocol: url.protocol,
      hostname: url.hostname,
      port: url.port ? Number(url.port) : undefined,
      path: url.pathname,
      query,
      headers: { ...req.headers, host: url.host },
      body: req.body,
    });
    // fetch sets Host itself (the same url.host that was signed).
    const { host: _host, ...headers } = signed.headers as Record<string, string>;
    return headers;
  };
}

let shared: RequestSigner | undefined;
let sharedRegion: string | undefined;

/** The process's execute-api signer (one credential chain per Lambda instance). */
export function executeApiSigner(region: string): RequestSigner {
  if (!shared || sharedRegion !== region) {
    shared = createSigner({ region });
    sharedRegion = region;
  }
  return shared;
}
