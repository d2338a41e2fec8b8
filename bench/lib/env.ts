import fs from 'node:fs';
import path from 'node:path';
import type { Endpoints } from '../../scripts/lib/deploy';

export const ROOT = path.resolve(__dirname, '..', '..');

/** What `npm run up` wrote (.local/endpoints.json): the stack's URLs and the local services. */
export function endpoints(): Endpoints {
  const file = path.join(ROOT, '.local', 'endpoints.json');
  if (!fs.existsSync(file)) throw new Error('.local/endpoints.json is missing: run `npm run up` first');
  return JSON.parse(fs.readFileSync(file, 'utf8')) as Endpoints;
}

export function localSecrets(): { vaultRootToken: string; vaultDbPassword: string; serviceTokens: Record<string, string> } {
  return JSON.parse(fs.readFileSync(path.join(ROOT, '.local', 'secrets.json'), 'utf8'));
}

export const awsConfig = (e: Endpoints = endpoints()) => ({
  endpoint: e.awsEndpoint,
  region: e.region,
  credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
});

/** Every benchmark talks to this machine only. */
export function assertLoopback(url: string): void {
  const host = new URL(url).hostname;
  if (!['127.0.0.1', 'localhost', '::1', '[::1]'].includes(host)) throw new Error(`benchmarks run against 127.0.0.1 only, not ${host}`);
}
