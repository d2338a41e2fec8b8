import { SNSClient, GetTopicAttributesCommand } from '@aws-sdk/client-sns';
import { json, parseJsonBody, route, validate, type HttpRequest, type RouteHandler } from '../../shared/http';
import { serviceDb, withTransaction } from '../../shared/db';
import { serviceRuntime } from '../../shared/service';
import { HttpProblem } from '../../shared/problem';
import { vaultClient } from '../../shared/vault';
import { applyProviderEvent, type ProviderEvent } from '../core/webhooks';
import { PaymentError } from '../core/errors';
import { paymentProblem } from '../adapters/problems';
import { providerSecret } from '../adapters/secrets';
import { signStripePayload, stripeToProviderEvent, verifyStripeEvent } from '../adapters/stripe-webhook';
import { outboxRowsForProviderEvent, recentAppliedStripeEvents } from '../adapters/webhook-evidence';
import { replayLatestWebhook } from '../core/webhook-replay';
import { dispatcherKick, publishAfterCommit, snsPublisher } from '../../shared/mesh';
import { stripeGateway } from '../adapters/stripe-gateway';
import { paypalGateway } from '../adapters/paypal-gateway';
import { apiBaseUrl } from '../../shared/endpoints';
import { DEFAULT_CERT_PREFIXES, paypalHeaders, paypalToProviderEvent, verifyPayPalEvent } from '../adapters/paypal-webhook';
import { abandonSession, createSession, CreateSessionSchema, getSession, getSessionByOrder, operate, type Gateways } from '../core/sessions';
import * as z from 'zod';
import type { Operation, PaymentGateway } from '../core/gateway';

const sns = new SNSClient({});
const runtime = serviceRuntime('payments', {
  postgres: serviceDb,
  // Providers call the webhooks through the public API, unsigned: each is verified by its signature.
  openRoutes: (req) => req.method === 'POST' && /^\/webhooks\/[^/]+$/.test(req.path),
  extraChecks: {
    sns: async () => {
      await sns.send(new GetTopicAttributesCommand({ TopicArn: runtime.cfg.PAYMENTS_TOPIC_ARN }));
    },
  },
});
/** Wakes the payments outbox dispatcher after a commit (an asynchronous invoke; the sweep is the safety net). */
const kickDispatcher = dispatcherKick(runtime.cfg);
// Built on use: a missing VAULT_TOKEN fails the webhook that needs it, not the cold start.
const vault = () => vaultClient(runtime.cfg);

/**
 * A provider webhook: `verify` checks the delivery's signature and parses it, `toEvent` says what
 * it means for a session; the event is applied in one transaction (webhook inbox, session, outbox)
 * and the dispatcher woken when it changed something. A duplicate delivery is acknowledged with 200.
 */
function receiveWebhook<E extends { id: string }>(verify: (req: HttpRequest) => Promise<E>, toEvent: (event: E) => ProviderEvent): RouteHandler {
  return async (req) => {
    const event = await verify(req);
    const result = await withTransaction(runtime.db(), (client) => applyProviderEvent(client, toEvent(event), req.correlationId));
    // The payment outcome is what the saga waits for: publish it now rather than through the dispatcher.
    if (result.outcome === 'applied') await publishPaymentEvents();
    return json(200, { received: true, eventId: event.id, duplicate: result.duplicate, outcome: result.outcome });
  };
}

async function stripeWebhookSecret(): Promise<string> {
  const { webhookSecret } = (await providerSecret('stripe', vault())) as { webhookSecret?: string };
  if (!webhookSecret) throw new HttpProblem(503, 'dependencyDown', 'Stripe webhook secret is not configured');
  return webhookSecret;
}

/** Publishes the outbox rows this process just committed (falls back to the dispatcher; shared/mesh.ts). */
const publishPaymentEvents = async () => {
  const topicArn = runtime.cfg.PAYMENTS_TOPIC_ARN;
  await (topicArn ? publishAfterCommit({ db: runtime.db(), publish: snsPublisher(sns, topicArn), kick: kickDispatcher }) : kickDispatcher());
};

async function verifyStripe(req: HttpRequest) {
  return verifyStripeEvent(req.rawBody, req.headers['stripe-signature'], await stripeWebhookSecret());
}

const receiveStripeWebhook = receiveWebhook(verifyStripe, stripeToProviderEvent);

/** POST /ops/webhooks/stripe/replay (admin, through the BFF): core/webhook-replay.ts. */
async function postWebhookReplay(req: HttpRequest) {
  const stripe = (await gateways())('stripe');
  const evidence = await replayLatestWebhook({
    recentApplied: (limit) => recentAppliedStripeEvents(runtime.db(), limit),
    outboxRowsFor: (eventId) => outboxRowsForProviderEvent(runtime.db(), eventId),
    fetchEvent: async (eventId) => {
      if (!stripe.fetchEvent) throw new PaymentError('providerUnconfigured', 'stripe is not configured: secret/payments/stripe apiKey');
      return stripe.fetchEvent(eventId);
    },
    // The route a provider's delivery takes (signature verification, webhook inbox, outbox).
    deliver: async (payload) => {
      const signature = signStripePayload(payload, await stripeWebhookSecret());
      const res = await receiveStripeWebhook({
        ...req,
        method: 'POST',
        path: '/webhooks/stripe',
        headers: { 'content-type': 'application/json', 'stripe-signature': signature },
        rawBody: Buffer.from(payload),
      });
      const body = res.body as { duplicate: boolean; outcome: string };
      return { status: res.status, duplicate: body.duplicate, outcome: body.outcome };
    },
  });
  return json(200, evidence, { 'cache-control': 'no-store' });
}

async function verifyPayPal(req: HttpRequest) {
  const { webhookId } = (await providerSecret('paypal', vault())) as { webhookId?: string };
  if (!webhookId) throw new HttpProblem(503, 'dependencyDown', 'PayPal webhook id is not configured');
  // Locally the PayPal fake serves the certificate; PAYPAL_CERT_URL_PREFIXES adds its URL to the allow-list.
  return verifyPayPalEvent(req.rawBody, paypalHeaders(req.headers), webhookId, [...DEFAULT_CERT_PREFIXES, ...runtime.cfg.PAYPAL_CERT_URL_PREFIXES]);
}

/**
 * Provider adapters, built on first use from credentials in Vault (secret/payments/<provider>).
 * STRIPE_API_BASE / PAYPAL_API_BASE point them at the local fakes; unset, at the real providers.
 * A provider without credentials answers 503 for its own sessions and does not block the other.
 */
const unconfigured = (provider: 'stripe' | 'paypal', what: string): PaymentGateway => {
  const fail = async (): Promise<never> => {
    throw new PaymentError('providerUnconfigured', `${provider} is not configured: ${what}`);
  };
  return { provider, createSession: fail, operate: fail };
};

/** The store's address (the public API's root, where the BFF serves the storefront), or undefined. */
const storeBase = (): string | undefined =>
  runtime.cfg.STORE_API_ID
    ? apiBaseUrl(
        { apiId: runtime.cfg.STORE_API_ID, stage: runtime.cfg.STORE_API_STAGE },
        { region: runtime.cfg.AWS_REGION, emulatorEndpoint: runtime.cfg.AWS_ENDPOINT_URL },
      )
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

/** The buyer cancelled on the provider's page: see core/sessions.ts abandonSession. */
async function postAbandon(req: HttpRequest) {
  const id = validate(z.string().uuid(), req.params.id, 'path.id');
  const result = await abandonSession(runtime.db(), id, req.correlationId);
  if (result.outcome === 'applied') await publishPaymentEvents();
  return json(200, { sessionId: id, ...result });
}

const operation = (op: Operation) => async (req: HttpRequest) => {
  const result = await operate(runtime.db(), await gateways(), req.params.id, op, req.correlationId);
  if (!result.replayed) await kickDispatcher();
  return json(200, { session: result.session, operation: result.operation }, result.replayed ? { 'idempotent-replayed': 'true' } : {});
};

export const handler = runtime.api(
  [
    route('POST', '/webhooks/stripe', receiveStripeWebhook),
    route('POST', '/ops/webhooks/stripe/replay', postWebhookReplay),
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
    route('POST', '/internal/payment-sessions/{id}/abandon', postAbandon),
    route('POST', '/webhooks/paypal', receiveWebhook(verifyPayPal, paypalToProviderEvent)),
  ],
  { toProblem: paymentProblem },
);
