import fc from 'fast-check';
import Stripe from 'stripe';
import { verifyStripeEvent, stripeToProviderEvent } from '../../functions/payments/adapters/stripe-webhook';
import { paypalToProviderEvent, verifyPayPalEvent } from '../../functions/payments/adapters/paypal-webhook';
import { HttpProblem } from '../../functions/shared/problem';

/**
 * The webhook parsers on any correctly signed body: either a 400 HttpProblem, or a provider
 * event whose fields Postgres can store (strings, ≤ 255 characters, no NUL). Before the shape
 * check, a signed `null` or an array crashed stripeToProviderEvent (a 500) and an id with NUL or of
 * 3000+ characters failed in Postgres (a 500).
 */
const secret = 'whsec_unit_hostile';
const stripe = new Stripe('sk_test_unit');
const storable = (s: unknown) => typeof s === 'string' && s.length > 0 && s.length <= 255 && !s.includes('\0');

describe('Stripe parser on signed hostile bodies', () => {
  it('answers 400 or a storable provider event, never throws anything else', () => {
    const body = fc.oneof(
      fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)),
      fc
        .record({
          id: fc.oneof(fc.string(), fc.constant('evt_\u0000'), fc.constant('e'.repeat(3000)), fc.jsonValue({ maxDepth: 1 })),
          type: fc.jsonValue({ maxDepth: 1 }),
          data: fc.jsonValue({ maxDepth: 3 }),
        })
        .map((o) => JSON.stringify(o)),
    );
    fc.assert(
      fc.property(body, (payload) => {
        const header = stripe.webhooks.generateTestHeaderString({ payload, secret });
        let event: Stripe.Event;
        try {
          event = verifyStripeEvent(Buffer.from(payload), header, secret);
        } catch (err) {
          expect(err).toBeInstanceOf(HttpProblem);
          expect((err as HttpProblem).status).toBe(400);
          return;
        }
        const pe = stripeToProviderEvent(event);
        expect(storable(pe.eventId) && storable(pe.eventType)).toBe(true);
        if (pe.providerRef !== undefined) expect(storable(pe.providerRef)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('refuses a signed null, an array and an id Postgres cannot store', () => {
    for (const payload of ['null', '[]', JSON.stringify({ id: 'evt_\u0000', type: 't' }), JSON.stringify({ id: 'e'.repeat(3000), type: 't' })]) {
      const header = stripe.webhooks.generateTestHeaderString({ payload, secret });
      expect(() => verifyStripeEvent(Buffer.from(payload), header, secret)).toThrow(HttpProblem);
    }
  });

  it('refuses a timestamp beyond the tolerance in the future, accepts clock skew', () => {
    const payload = JSON.stringify({ id: 'evt_1', type: 'payment_intent.succeeded', data: { object: { id: 'pi_1' } } });
    const at = (dt: number) => stripe.webhooks.generateTestHeaderString({ payload, secret, timestamp: Math.floor(Date.now() / 1000) + dt });
    expect(() => verifyStripeEvent(Buffer.from(payload), at(3600), secret)).toThrow(/future/);
    expect(verifyStripeEvent(Buffer.from(payload), at(30), secret).id).toBe('evt_1');
  });
});

describe('PayPal mapping on odd resources', () => {
  it('never throws on any resource shape', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1 }), fc.jsonValue({ maxDepth: 3 }), (type, resource) => {
        paypalToProviderEvent({ id: 'WH-1', event_type: type, resource: resource as Record<string, unknown> });
      }),
      { numRuns: 300 },
    );
  });
});

describe('PayPal verification before any certificate fetch', () => {
  const prefix = 'http://127.0.0.1:1/certs/'; // allow-listed here, nothing listens there
  const headers = (sig: string) => ({
    transmissionId: 't-1',
    transmissionTime: new Date().toISOString(),
    transmissionSig: sig,
    certUrl: `${prefix}c1`,
    authAlgo: 'SHA256withRSA',
  });
  const status = (p: Promise<unknown>) =>
    p.then(
      () => 200,
      (err: unknown) => (err instanceof HttpProblem ? err.status : 500),
    );

  it('refuses junk signatures with 400 without fetching (the port is closed: a fetch would be a 502)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.base64String({ maxLength: 168 }),
          fc.string({ maxLength: 300 }).filter((s) => !/^[A-Za-z0-9+/]+={0,2}$/.test(s)),
        ),
        async (sig) => {
          expect(await status(verifyPayPalEvent(Buffer.from('{}'), headers(sig), 'WH', [prefix]))).toBe(400);
        },
      ),
      { numRuns: 100 },
    );
  });

  it('an unreachable certificate host is a 502 problem, not an unhandled error', async () => {
    expect(await status(verifyPayPalEvent(Buffer.from('{}'), headers(Buffer.alloc(256, 1).toString('base64')), 'WH', [prefix]))).toBe(502);
  });
});
