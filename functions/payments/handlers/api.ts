import { SNSClient, GetTopicAttributesCommand } from '@aws-sdk/client-sns';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { httpApi, json, route, type HttpRequest } from '../../shared/http';
import { notImplemented, serviceRuntime } from '../../shared/service';
import { outboxStats } from '../../shared/events';
import { HttpProblem } from '../../shared/problem';
import { VaultClient } from '../../shared/vault';
import { applyProviderEvent } from '../core/webhooks';
import { providerSecret } from '../adapters/secrets';
import { toProviderEvent, verifyStripeEvent } from '../adapters/stripe-webhook';
import { kickDispatcher } from '../adapters/mesh';

const sns = new SNSClient({});
const lambda = new LambdaClient({});
const runtime = serviceRuntime('payments', {
  postgres: true,
  extraChecks: {
    sns: async () => {
      await sns.send(new GetTopicAttributesCommand({ TopicArn: process.env.PAYMENTS_TOPIC_ARN }));
    },
  },
});
const vault = () => new VaultClient(runtime.cfg.VAULT_ADDR, runtime.cfg.VAULT_TOKEN ?? '');

async function stripeWebhook(req: HttpRequest) {
  const { webhookSecret } = (await providerSecret('stripe', vault())) as { webhookSecret?: string };
  if (!webhookSecret) throw new HttpProblem(503, 'dependencyDown', 'Stripe webhook secret is not configured');
  const event = verifyStripeEvent(req.rawBody, req.headers['stripe-signature'], webhookSecret);
  const result = await runtime.db().transaction((client) => applyProviderEvent(client, toProviderEvent(event), req.correlationId));
  if (result.outcome === 'applied') await kickDispatcher(lambda, process.env.DISPATCHER_FUNCTION_NAME);
  return json(200, { received: true, eventId: event.id, duplicate: result.duplicate, outcome: result.outcome });
}

export const handler = httpApi(
  [
    runtime.healthRoute,
    route('POST', '/webhooks/stripe', stripeWebhook),
    route('GET', '/ops/outbox', async () => json(200, await outboxStats(runtime.db()), { 'cache-control': 'no-store' })),
    ...notImplemented(['POST /webhooks/paypal', 'POST /internal/payment-sessions']),
  ],
  { beforeEach: runtime.beforeEach },
);
