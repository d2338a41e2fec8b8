import type { APIGatewayProxyEvent, Context } from 'aws-lambda';
import { endpoints, localSecrets } from './endpoints';

/**
 * Shared set-up of the payments tests: the payments API handler run in process (real
 * Postgres through its Vault lease, real Vault secrets), and the provider secrets that
 * `npm run up` wrote to Vault. The after-commit dispatcher kick is off in process
 * (DISPATCHER_FUNCTION_NAME unset): tests drive the dispatcher themselves.
 */
export type PaymentsHandler = (event: APIGatewayProxyEvent, context: Context) => Promise<{ statusCode: number; headers: Record<string, string>; body: string }>;

export async function loadPaymentsHandler(extraEnv: Record<string, string> = {}): Promise<PaymentsHandler> {
  const e = endpoints();
  Object.assign(process.env, {
    SERVICE_NAME: 'payments',
    VAULT_ADDR: e.vaultAddr,
    VAULT_TOKEN: localSecrets().serviceTokens.payments,
    DB_ROLE: 'payments',
    PGHOST: new URL(e.postgresUrl).hostname,
    PGPORT: new URL(e.postgresUrl).port || '5432',
    PAYMENTS_TOPIC_ARN: e.stack.PaymentsTopicArn,
    ...extraEnv,
  });
  delete process.env.DISPATCHER_FUNCTION_NAME;
  return (await import('../../functions/payments/handlers/api')).handler as unknown as PaymentsHandler;
}

/** Ends the in-process handler's leased pool (its lease is revoked). */
export async function closePaymentsHandler(): Promise<void> {
  const { serviceDb } = await import('../../functions/shared/db');
  const { config } = await import('../../functions/shared/config');
  await serviceDb(config()).close();
}

/** Vault KV secret/payments/<provider> (webhookSecret, apiKey, webhookId, clientId, ...). */
export async function providerSecrets(provider: 'stripe' | 'paypal'): Promise<Record<string, string>> {
  const e = endpoints();
  const res = await fetch(`${e.vaultAddr}/v1/secret/data/payments/${provider}`, { headers: { 'X-Vault-Token': e.vaultToken } });
  if (!res.ok) throw new Error(`Vault secret/payments/${provider}: ${res.status}`);
  return ((await res.json()) as { data: { data: Record<string, string> } }).data.data;
}
