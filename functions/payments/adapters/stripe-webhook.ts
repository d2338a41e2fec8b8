import Stripe from 'stripe';
import * as z from 'zod';
import { HttpProblem } from '../../shared/problem';
import type { ProviderEvent } from '../core/webhooks';

/** Stripe's signed events: verified by the SDK on the raw body, 5-minute tolerance. */
export const STRIPE_TOLERANCE_SECONDS = 300;

// constructEvent needs no API key; the placeholder never leaves the process.
const stripe = new Stripe('sk_test_webhook_verification_only');

/** Text that fits a btree key and a Postgres text column (no U+0000). */
const Text = (max: number) =>
  z
    .string()
    .min(1)
    .max(max)
    .refine((s) => !s.includes('\0'), 'must not contain NUL');

/**
 * The fields of a verified event that we read. A correctly signed body is still checked:
 * `null`, an array or an id that Postgres cannot store must be a 400, not a 500.
 */
const StripeEventShape = z
  .object({
    id: Text(255),
    type: Text(255),
    data: z
      .object({
        object: z
          .object({
            id: Text(255).optional(),
            metadata: z.record(z.string(), Text(1000)).nullish(),
            last_payment_error: z
              .object({ message: Text(2000).nullish() })
              .passthrough()
              .nullish(),
          })
          .passthrough()
          .nullish(),
      })
      .passthrough()
      .nullish(),
  })
  .passthrough();

/** A Stripe-Signature for `payload`, as Stripe signs a delivery (the webhook replay demo re-delivers an applied event). */
export const signStripePayload = (payload: string, secret: string): string => stripe.webhooks.generateTestHeaderString({ payload, secret });

export function verifyStripeEvent(rawBody: Buffer, signature: string | undefined, secret: string, now?: number): Stripe.Event {
  if (!signature) throw new HttpProblem(400, 'validation', 'Missing Stripe-Signature header');
  // The SDK only refuses old timestamps; a signature dated in the future would stay replayable
  // for that long (until the event id dedupe), so refuse it beyond the same tolerance.
  const t = Number(/(?:^|,)\s*t=(\d+)/.exec(signature)?.[1]);
  if (Number.isFinite(t) && t > Math.floor((now ?? Date.now()) / 1000) + STRIPE_TOLERANCE_SECONDS) {
    throw new HttpProblem(400, 'validation', 'Stripe signature verification failed: timestamp is in the future');
  }
  let event: Stripe.Event;
  try {
    event = stripe.webhooks.constructEvent(rawBody, signature, secret, STRIPE_TOLERANCE_SECONDS, undefined, now);
  } catch (err) {
    // Bad signature, stale timestamp or unparsable payload: reject without touching state.
    throw new HttpProblem(400, 'validation', `Stripe signature verification failed: ${(err as Error).message.split('\n')[0]}`);
  }
  const shape = StripeEventShape.safeParse(event);
  if (!shape.success) {
    throw new HttpProblem(
      400,
      'validation',
      `Stripe event has an unexpected shape: ${shape.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ')}`,
    );
  }
  return event;
}

const OUTCOMES: Record<string, ProviderEvent['outcome']> = {
  'payment_intent.succeeded': 'succeeded',
  'payment_intent.payment_failed': 'failed',
  // Manual capture: the customer confirmed and the funds are held; the saga captures next.
  'payment_intent.amount_capturable_updated': 'succeeded',
};

export function stripeToProviderEvent(event: Stripe.Event): ProviderEvent {
  const obj = event.data?.object as { id?: string; metadata?: Record<string, string>; last_payment_error?: { message?: string } } | undefined;
  return {
    provider: 'stripe',
    eventId: event.id,
    eventType: event.type,
    providerRef: obj?.id,
    outcome: OUTCOMES[event.type],
    authorizedOnly: event.type === 'payment_intent.amount_capturable_updated',
    metadata: obj?.metadata ?? {},
    failureMessage: obj?.last_payment_error?.message,
  };
}
