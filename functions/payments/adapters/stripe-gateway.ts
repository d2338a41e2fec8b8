import Stripe from 'stripe';
import { ProviderRejected, type CreateSessionInput, type Operation, type PaymentGateway } from '../core/gateway';

/**
 * Stripe adapter over the official SDK. `apiBase` points it at a local stateful fake
 * (localstack/fakes/stripe-fake.ts, or localstripe in test/integration/payments-localstripe.test.ts)
 * instead of api.stripe.com.
 */
export function stripeGateway(apiKey: string, apiBase?: string): PaymentGateway {
  const opts: Stripe.StripeConfig = { maxNetworkRetries: 1, timeout: 5000 };
  if (apiBase) {
    const u = new URL(apiBase);
    opts.host = u.hostname;
    opts.port = Number(u.port || (u.protocol === 'https:' ? 443 : 80));
    opts.protocol = u.protocol.replace(':', '') as 'http' | 'https';
  }
  const stripe = new Stripe(apiKey, opts);

  const rejected = (err: unknown): never => {
    if (err instanceof Stripe.errors.StripeInvalidRequestError) throw new ProviderRejected(err.message, err.code);
    throw err;
  };

  return {
    provider: 'stripe',
    async createSession(input: CreateSessionInput, idempotencyKey: string) {
      const pi = await stripe.paymentIntents
        .create(
          {
            amount: input.amountCents,
            currency: input.currency,
            capture_method: 'manual',
            metadata: { orderId: input.orderId, sessionId: input.sessionId },
          },
          { idempotencyKey },
        )
        .catch(rejected);
      return { providerRef: pi.id, clientSecret: pi.client_secret ?? undefined, status: pi.status };
    },
    async operate(op: Operation, providerRef: string, idempotencyKey: string) {
      try {
        if (op === 'capture') {
          const pi = await stripe.paymentIntents.capture(providerRef, {}, { idempotencyKey });
          return { providerStatus: pi.status, providerId: pi.id };
        }
        if (op === 'cancel') {
          const pi = await stripe.paymentIntents.cancel(providerRef, {}, { idempotencyKey });
          return { providerStatus: pi.status, providerId: pi.id };
        }
        const refund = await stripe.refunds.create({ payment_intent: providerRef }, { idempotencyKey });
        return { providerStatus: refund.status ?? 'pending', providerId: refund.id };
      } catch (err) {
        return rejected(err);
      }
    },
    async fetchEvent(eventId: string) {
      return JSON.stringify(await stripe.events.retrieve(eventId).catch(rejected));
    },
  };
}
