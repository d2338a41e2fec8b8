import { createSigner } from '../../functions/shared/sigv4';

/**
 * One IAM query-API action against the emulator, signed as its root caller (`test`/`test`, which
 * every policy allows). The project ships no IAM SDK client for the few calls it makes: the
 * deploy script's emulator-only grant and the tests' probe users. Returns the XML answer.
 */
export async function emulatorIam(endpoint: string, region: string, params: Record<string, string>): Promise<string> {
  const sign = createSigner({ region, service: 'iam', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
  const body = new URLSearchParams({ Version: '2010-05-08', ...params }).toString();
  const url = `${endpoint.replace(/\/+$/, '')}/`;
  const headers = await sign({ method: 'POST', url, headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' }, body });
  const res = await fetch(url, { method: 'POST', headers, body, signal: AbortSignal.timeout(10_000) });
  const text = await res.text();
  if (!res.ok) throw new Error(`IAM ${params.Action}: ${res.status} ${text.slice(0, 300)}`);
  return text;
}
