import { createSigner, type RequestSigner } from '../../functions/shared/sigv4';
import { endpoints } from './endpoints';

/**
 * Calls straight to a service API (the internal routes) the way a granted caller does: SigV4
 * for execute-api. Default credentials are the emulator's root caller (`test`/`test`), which
 * every IAM policy allows; tests that prove refusals pass their own credentials or none.
 */
export type Credentials = { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
export const ROOT_CREDENTIALS: Credentials = { accessKeyId: 'test', secretAccessKey: 'test' };

const signers = new Map<string, RequestSigner>();
export function signerFor(credentials: Credentials = ROOT_CREDENTIALS): RequestSigner {
  const key = `${credentials.accessKeyId}:${credentials.secretAccessKey}:${credentials.sessionToken ?? ''}`;
  let signer = signers.get(key);
  if (!signer) {
    signer = createSigner({ region: endpoints().region, credentials });
    signers.set(key, signer);
  }
  return signer;
}

export async function signedFetch(url: string, init: RequestInit = {}, credentials?: Credentials): Promise<Response> {
  const method = (init.method ?? 'GET').toUpperCase();
  const headers: Record<string, string> = {};
  new Headers(init.headers).forEach((v, k) => (headers[k] = v));
  const body = typeof init.body === 'string' ? init.body : init.body === undefined || init.body === null ? undefined : String(init.body);
  const signed = await signerFor(credentials)({ method, url, headers, body });
  return fetch(url, { ...init, method, headers: signed, body });
}
