import type { VaultClient } from '../../shared/vault';

/** Webhook secrets from Vault KV (secret/payments/<provider>), cached for a minute. */
const TTL_MS = 60_000;
const cache = new Map<string, { at: number; value: Record<string, unknown> }>();

export async function providerSecret(provider: 'stripe' | 'paypal', vault: VaultClient): Promise<Record<string, unknown>> {
  const hit = cache.get(provider);
  if (hit && Date.now() - hit.at < TTL_MS) return hit.value;
  const value = await vault.readKv<Record<string, unknown>>(`payments/${provider}`);
  cache.set(provider, { at: Date.now(), value });
  return value;
}
