import fs from 'node:fs';
import path from 'node:path';

/** What `npm run up` wrote: the deployed stack's URLs and the local services. */
export type { Endpoints } from '../../scripts/lib/deploy';
import type { Endpoints } from '../../scripts/lib/deploy';

const ROOT = path.resolve(__dirname, '..', '..');

export function endpoints(): Endpoints {
  const file = path.join(ROOT, '.local', 'endpoints.json');
  if (!fs.existsSync(file)) throw new Error('.local/endpoints.json is missing: run `npm run up` before integration and e2e tests');
  return JSON.parse(fs.readFileSync(file, 'utf8')) as Endpoints;
}

export function localSecrets(): { vaultRootToken: string; vaultDbPassword: string; serviceTokens: Record<string, string> } {
  return JSON.parse(fs.readFileSync(path.join(ROOT, '.local', 'secrets.json'), 'utf8'));
}

export const awsClientConfig = () => {
  const e = endpoints();
  return { endpoint: e.awsEndpoint, region: e.region, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } };
};
