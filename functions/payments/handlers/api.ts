import { SNSClient, GetTopicAttributesCommand } from '@aws-sdk/client-sns';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { SQSClient } from '@aws-sdk/client-sqs';
import { dlqDepths, redriveDlq } from '../adapters/dlq';
import { httpApi, json, parseJsonBody, route, validate, type HttpRequest } from '../../shared/http';
import { serviceRuntime } from '../../shared/service';
import { outboxStats } from '../../shared/events';
import { HttpProblem } from '../../shared/problem';
import { vaultClient } from '../../shared/vault';
import { applyProviderEvent } from '../core/webhooks';
import { providerSecret } from '../adapters/secrets';
import { toProviderEvent, verifyStripeEvent } from '../adapters/stripe-webhook';
import { kickDispatcher } from '../../shared/mesh';
import { stripeGateway } from '../adapters/stripe-gateway';
import { paypalGateway } from '../adapters/paypal-gateway';
import { apiBaseUrl } from '../../shared/endpoints';
import { DEFAULT_CERT_PREFIXES, paypalHeaders, paypalToProviderEvent, verifyPayPalEvent } from '../adapters/paypal-webhook';
import { createSession, CreateSessionSchema, getSession, getSessionByOrder, operate, type Gateways } from '../core/sessions';
import * as z from 'zod';
import type { Operation, PaymentGateway } from '../core/gateway';

/**
 * The consumers whose DLQs GET /ops/dlq reports: payments' own (cdk/lib/services/payments.ts). Least
 * privilege grants this Lambda no access to other services' queues; each service reports its own.
 */
const DLQ_CONSUMERS = ['payments-audit'] as const;

const sns = new SNSClient({});
const lambda = new LambdaClient({});
const sqs = new SQSClient({});
const runtime = serviceRuntime('payments', {
  postgres: true,
  // Providers call the webhooks through the public API, unsigned: each is verified by its signature.
  openRoutes: (req) => req.method === 'POST' && /^\/webhooks\/[^/]+$/.test(req.path),
  extraChecks: {
    sns: async () => {
      await sns.send(new GetTopicAttributesCommand({ TopicArn: runtime.cfg.PAYMENTS_TOPIC_ARN }));
    },
  },
});
// Built on use: a missing VAULT_TOKEN fails the webhook that needs it, not the cold start.
const vault = () => vaultClient(runtime.cfg);

async function stripeWebhook(req: HttpRequest) {
  const { webhookSecret } = (await providerSecret('stripe', vault())) as { webhookSecret?: string };
  if (!webhookSecret) throw new HttpProblem(503, 'dependencyDown', 'Stripe webhook secret is not configured');
  const event = verifyStripeEvent(req.rawBody, req.headers['stripe-signature'], webhookSecret);
  const result = await runtime.db().transaction((client) => applyProviderEvent(client, toProviderEvent(event), req.correlationId));
  if (result.outcome === 'applied') await kickDispatcher(lambda, runtime.cfg.DISPATCHER_FUNCTION_NAME);
  return json(200, { received: true, eventId: event.id, duplicate: result.duplicate, outcome: result.outcome });
}

async function paypalWebhook(req: HttpRequest) {
  const { webhookId } = (await providerSecret('paypal', vault())) as { webhookId?: string };
  if (!webhookId) throw new HttpProblem(503, 'dependencyDown', 'PayPal webhook id is not configured');
  // Locally the PayPal fake serves the certificate; PAYPAL_CERT_URL_PREFIXES adds its URL to the allow-list.
  const extra = runtime.cfg.PAYPAL_CERT_URL_PREFIXES;
  const event = await verifyPayPalEvent(req.rawBody, paypalHeaders(req.headers), webhookId, [...DEFAULT_CERT_PREFIXES, ...extra]);
  const result = await runtime.db().transaction((client) => applyProviderEvent(client, paypalToProviderEvent(event), req.correlationId));
  if (result.outcome === 'applied') await kickDispatcher(lambda, runtime.cfg.DISPATCHER_FUNCTION_NAME);
  return json(200, { received: true, eventId: event.id, duplicate: result.duplicate, outcome: result.outcome });
}

/**
 * Provider adapters, built on first use from credentials in Vault (secret/payments/<provider>).
 * STRIPE_API_BASE / PAYPAL_API_BASE point them at the local fakes; unset, at the real providers.
 * A provider without credentials answers 503 for its own sessions and does not block the other.
 */
const unconfigured = (provider: 'stripe' | 'paypal', what: string): PaymentGateway => {
  const fail = async (): Promise<never> => {
    throw new HttpProblem(503, 'dependencyDown', `${provider} is not configured: ${what}`);
  };
  return { provider, createSession: fail, operate: fail };
};

/** The store's address (the public API's root, where the BFF serves the storefront), or undefined. */
const storeBase = (): string | undefined =>
  runtime.cfg.STORE_API_ID
    ? apiBaseUrl({ apiId: runtime.cfg.STORE_API_ID, stage: runtime.cfg.STORE_API_STAGE }, { region: runtime.cfg.AWS_REGION, emulatorEndpoint: runtime.cfg.AWS_ENDPOINT_URL })
    : undefined;

let built: Record<'stripe' | 'paypal', PaymentGateway> | undefined;
const gateways = async (): Promise<Gateways> => {
  if (!built) {
    const [s, p] = await Promise.all([providerSecret('stripe', vault()), providerSecret('paypal', vault())]);
    const { apiKey } = s as { apiKey?: string };
    const { clientId, clientSecret } = p as { clientId?: string; clientSecret?: string };
    built = {
      stripe: apiKey ? stripeGateway(apiKey, runtime.cfg.STRIPE_API_BASE) : unconfigured('stripe', 'secret/payments/stripe apiKey'),
      paypal:
        clientId && clientSecret
          ? paypalGateway({ clientId, clientSecret }, runtime.cfg.PAYPAL_API_BASE, storeBase())
          : unconfigured('paypal', 'secret/payments/paypal clientId, clientSecret'),
    };
  }
  const b = built;
  return (provider) => b[provider];
};

async function postSession(req: HttpRequest) {
  const input = parseJsonBody(req, CreateSessionSchema);
  const { created, session } = await createSession(runtime.db(), await gateways(), input);
  return json(created ? 201 : 200, session, created ? { location: `/internal/payment-sessions/${session.id}` } : { 'idempotent-replayed': 'true' });
}

/**
 * The buyer cancelled on the provider's page (PayPal's cancel_url brought them back to the
 * store): a still-pending session fails at once, recorded like a provider's failure event (one
 * inbox row, one PaymentFailed in the outbox), so the saga compensates now instead of at its
 * payment timeout. A session past pending (approved, paid, cancelled) is left as it is; a repeat
 * finds it failed already.
 */
async function abandonSession(req: HttpRequest) {
  const id = validate(z.string().uuid(), req.params.id, 'path.id');
  const result = await runtime.db().transaction(async (client) => {
    const { rows } = await client.query<{ provider: 'stripe' | 'paypal'; provider_ref: string | null; status: string }>(
      'SELECT provider, provider_ref, status FROM payment_sessions WHERE id = $1 FOR UPDATE',
      [id],
    );
    const session = rows[0];
    if (!session) throw new HttpProblem(404, 'notFound', `Payment session ${id} does not exist`);
    if (session.status !== 'pending') return { status: session.status, outcome: 'no-transition' };
    const applied = await applyProviderEvent(
      client,
      {
        provider: session.provider,
        eventId: `buyer-cancelled-${id}`,
        eventType: 'buyer.cancelled',
        providerRef: session.provider_ref ?? undefined,
        outcome: 'failed',
        metadata: { sessionId: id },
        failureMessage: "The buyer cancelled on the provider's page",
      },
      req.correlationId,
    );
    return { status: applied.outcome === 'applied' ? 'failed' : session.status, outcome: applied.outcome };
  });
  if (result.outcome === 'applied') await kickDispatcher(lambda, runtime.cfg.DISPATCHER_FUNCTION_NAME);
  return json(200, { sessionId: id, ...result });
}

const operation = (op: Operation) => async (req: HttpRequest) => {
  const result = await operate(runtime.db(), await gateways(), req.params.id, op, req.correlationId);
  if (!result.replayed) await kickDispatcher(lambda, runtime.cfg.DISPATCHER_FUNCTION_NAME);
  return json(200, { session: result.session, operation: result.operation }, result.replayed ? { 'idempotent-replayed': 'true' } : {});
};

export const handler = httpApi(
  [
    runtime.healthRoute,
    route('POST', '/webhooks/stripe', stripeWebhook),
    route('POST', '/ops/dlq/{queue}/redrive', async (req) => json(200, await redriveDlq(sqs, req.params.queue))),
    route('GET', '/ops/dlq', async () => json(200, await dlqDepths(sqs, DLQ_CONSUMERS), { 'cache-control': 'no-store' })),
    route('GET', '/ops/outbox', async () => json(200, await outboxStats(runtime.db()), { 'cache-control': 'no-store' })),
    route('POST', '/internal/payment-sessions', postSession),
    route('GET', '/internal/payment-sessions/{id}', async (req) => json(200, await getSession(runtime.db(), req.params.id))),
    // The session of an order (the saga's CancelPaymentSession when the order never recorded it).
    route('GET', '/internal/payment-sessions', async (req) => {
      const orderId = validate(z.string().min(1).max(200), req.query.orderId, 'query.orderId');
      return json(200, await getSessionByOrder(runtime.db(), orderId));
    }),
    route('POST', '/internal/payment-sessions/{id}/capture', operation('capture')),
    route('POST', '/internal/payment-sessions/{id}/cancel', operation('cancel')),
    route('POST', '/internal/payment-sessions/{id}/refund', operation('refund')),
    route('POST', '/internal/payment-sessions/{id}/abandon', abandonSession),
    route('POST', '/webhooks/paypal', paypalWebhook),
  ],
  { beforeEach: runtime.beforeEach, middlewares: runtime.middlewares },
);
