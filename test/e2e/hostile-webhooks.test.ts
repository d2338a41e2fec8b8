import fc from 'fast-check';
import type { Client } from 'pg';
import Stripe from 'stripe';
import { endpoints } from '../support/endpoints';
import { adminDb, expectProblem, fcRuns, fingerprint, hostileBodies, problemType, send } from '../support/hostile';

/**
 * The provider webhooks through the public API (POST /webhooks/{provider} -> payments Lambda):
 * random bodies and headers never get a 5xx and never change state; correctly *signed* but
 * malformed events (null, arrays, ids Postgres cannot store) are 400, not 500; and the signature
 * attacks the payments suites do not already cover (a timestamp in the future, a signature
 * for another body next to a valid-looking one, a v0-only header, a replay re-dated).
 */
jest.setTimeout(120_000);
const e = endpoints();
const stripe = new Stripe('sk_test_hostile');
let db: Client;
let secret: string;

beforeAll(async () => {
  db = await adminDb();
  const res = await fetch(`${e.vaultAddr}/v1/secret/data/payments/stripe`, { headers: { 'X-Vault-Token': e.vaultToken } });
  secret = ((await res.json()) as { data: { data: { webhookSecret: string } } }).data.data.webhookSecret;
});
afterAll(async () => {
  await db?.end();
});

// What a webhook delivery can write (the audit consumer's inbox, event_audit and Lambda idempotency
// records follow the outbox asynchronously, after earlier tests' applied events, so they are left out).
const payments = async () => {
  const {
    'payments.event_audit': _a,
    'payments.inbox': _i,
    'payments.idempotency_records': _r,
    ...rest
  } = await fingerprint(db, ['payments'], {
    statuses: 'SELECT status, count(*)::int FROM payments.payment_sessions GROUP BY 1 ORDER BY 1',
  });
  return rest;
};
const stripeHook = (body: string | Buffer | undefined, headers: Record<string, string>, contentType: string | undefined = 'application/json') =>
  send(`${e.apiBaseUrl}/webhooks/stripe`, 'POST', { body, contentType, headers });
const sign = (payload: string, opts: { timestamp?: number; secret?: string } = {}) =>
  stripe.webhooks.generateTestHeaderString({ payload, secret: opts.secret ?? secret, ...(opts.timestamp ? { timestamp: opts.timestamp } : {}) });

async function newSession() {
  const pi = `pi_hostile_${Date.now()}_${Math.random().toString(36).slice(2, 8)}`;
  const { rows } = await db.query<{ id: string }>(
    `INSERT INTO payments.payment_sessions (order_id, provider, provider_ref, amount_cents, currency)
     VALUES ($1, 'stripe', $2, 1234, 'eur') RETURNING id`,
    [`order-${pi}`, pi],
  );
  return { id: rows[0].id, pi };
}
const sessionState = async (id: string) => ({
  status: (await db.query('SELECT status FROM payments.payment_sessions WHERE id = $1', [id])).rows[0].status as string,
  outbox: (await db.query('SELECT count(*)::int AS n FROM payments.outbox WHERE aggregate_id = $1', [id])).rows[0].n as number,
});

describe('Stripe webhook parser under hostile input', () => {
  it('unsigned, mis-signed and malformed deliveries: 400/415 problem+json, nothing written', async () => {
    const before = await payments();
    const header = fc.oneof(
      fc.constant(undefined),
      fc.string({ maxLength: 200 }),
      fc.tuple(fc.integer({ min: 0, max: 2 ** 32 }), fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), maxLength: 64 })).map(([t, v]) => `t=${t},v1=${v}`),
      fc.constant(`t=${'9'.repeat(400)},v1=${'a'.repeat(64)}`),
      fc.constant('t=,v1=,v0=,,,=,'),
    );
    await fc.assert(
      fc.asyncProperty(hostileBodies(['id', 'type', 'data', 'object']), header, async (b, sig) => {
        const headers: Record<string, string> = {};
        if (sig !== undefined) headers['stripe-signature'] = sig.replace(/[\r\n\0]/g, '');
        const res = await stripeHook(b.body, headers, b.contentType);
        expectProblem(res, `stripe ${b.kind} sig=${String(sig).slice(0, 60)}`);
      }),
      fcRuns(30),
    );
    expect(await payments()).toEqual(before);
  });

  it('correctly signed but malformed events: never a 5xx; a 400 writes nothing', async () => {
    const id = fc.oneof(
      fc.constant(null),
      fc.integer(),
      fc.constant(''),
      fc.string({ maxLength: 10 }).map((s) => `evt_${s}\u0000`),
      fc.integer({ min: 3000, max: 9000 }).map((n) => `evt_${'x'.repeat(n)}`),
      fc.jsonValue({ maxDepth: 2 }),
    );
    const event = fc.oneof(
      fc.constantFrom('null', '[]', '"evt"', '1', 'true', '{}'),
      fc
        .record({ id, type: fc.oneof(fc.constant('payment_intent.succeeded'), fc.jsonValue({ maxDepth: 1 })), data: fc.jsonValue({ maxDepth: 3 }) })
        .map((o) => JSON.stringify(o)),
      fc
        .record({
          id: fc.uuid().map((u) => `evt_hostile_${u}`),
          type: fc.constant('payment_intent.payment_failed'),
          data: fc.record({
            object: fc.oneof(
              fc.constant(null),
              fc.jsonValue({ maxDepth: 2 }),
              fc.record({ id: fc.jsonValue({ maxDepth: 1 }), metadata: fc.jsonValue({ maxDepth: 2 }), last_payment_error: fc.jsonValue({ maxDepth: 2 }) }),
            ),
          }),
        })
        .map((o) => JSON.stringify(o)),
    );
    const before = await payments();
    let accepted = 0;
    await fc.assert(
      fc.asyncProperty(event, async (body) => {
        const res = await stripeHook(body, { 'stripe-signature': sign(body) });
        if (res.status === 200) {
          // A well-formed event for no known session: acknowledged and recorded as such, nothing else.
          expect(JSON.parse(res.text)).toMatchObject({ received: true, duplicate: false, outcome: expect.stringMatching(/^(ignored|unknown-session)$/) });
          accepted++;
          return;
        }
        expect(expectProblem(res, `signed ${body.slice(0, 120)}`)).toBe(problemType('validation'));
      }),
      fcRuns(30),
    );
    const after = await payments();
    // Only the webhook inbox may grow, by exactly the acknowledged (well-formed) events.
    expect({ ...after, 'payments.webhook_inbox': String(Number(after['payments.webhook_inbox']) - accepted) }).toEqual(before);
  });

  it('refuses a signature dated in the future beyond the tolerance (the SDK only refuses old ones)', async () => {
    const { id, pi } = await newSession();
    const body = JSON.stringify({ id: `evt_future_${pi}`, object: 'event', type: 'payment_intent.succeeded', data: { object: { id: pi, object: 'payment_intent' } } });
    const res = await stripeHook(body, { 'stripe-signature': sign(body, { timestamp: Math.floor(Date.now() / 1000) + 3600 }) });
    expect(expectProblem(res, 'future')).toBe(problemType('validation'));
    expect(await sessionState(id)).toEqual({ status: 'pending', outbox: 0 });
    // Within the tolerance (clock skew) it is accepted.
    const ok = await stripeHook(body, { 'stripe-signature': sign(body, { timestamp: Math.floor(Date.now() / 1000) + 30 }) });
    expect(ok.status).toBe(200);
    expect(await sessionState(id)).toEqual({ status: 'succeeded', outbox: 1 });
  });

  it('refuses a header whose v1 signs another body, a v0-only header and a wrong-secret signature; a re-dated replay is a duplicate', async () => {
    const { id, pi } = await newSession();
    const body = JSON.stringify({ id: `evt_sig_${pi}`, object: 'event', type: 'payment_intent.succeeded', data: { object: { id: pi, object: 'payment_intent' } } });
    const other = body.replace('payment_intent.succeeded', 'payment_intent.payment_failed');
    const ts = Math.floor(Date.now() / 1000);
    const otherSig = /v1=([0-9a-f]+)/.exec(sign(other, { timestamp: ts }))![1];
    const attacks: Record<string, string> = {
      signatureOfAnotherBody: `t=${ts},v1=${otherSig}`,
      v0Only: `t=${ts},v0=${otherSig}`,
      wrongSecret: sign(body, { secret: 'whsec_attacker' }),
      emptyV1: `t=${ts},v1=`,
    };
    for (const [name, header] of Object.entries(attacks)) {
      expect(expectProblem(await stripeHook(body, { 'stripe-signature': header }), name)).toBe(problemType('validation'));
    }
    expect(await sessionState(id)).toEqual({ status: 'pending', outbox: 0 });
    const first = await stripeHook(body, { 'stripe-signature': sign(body) });
    expect(JSON.parse(first.text)).toMatchObject({ outcome: 'applied' });
    // The same event re-signed later (a replay with a fresh timestamp): acknowledged, no second effect.
    const replay = await stripeHook(body, { 'stripe-signature': sign(body, { timestamp: ts + 5 }) });
    expect(JSON.parse(replay.text)).toMatchObject({ duplicate: true, outcome: 'duplicate' });
    expect(await sessionState(id)).toEqual({ status: 'succeeded', outbox: 1 });
  });
});

describe('PayPal webhook parser under hostile input', () => {
  it('random bodies and transmission headers: 400/415 problem+json, nothing written, no certificate fetched from elsewhere', async () => {
    const before = await payments();
    const now = new Date().toISOString();
    const headers = fc.record(
      {
        'paypal-transmission-id': fc.oneof(fc.uuid(), fc.string({ maxLength: 40 })),
        'paypal-transmission-time': fc.oneof(fc.constant(now), fc.constant('1970-01-01T00:00:00Z'), fc.string({ maxLength: 30 })),
        // Junk signatures (too short for RSA, or not base64): refused before any certificate fetch.
        'paypal-transmission-sig': fc.oneof(fc.base64String({ maxLength: 168 }), fc.string({ maxLength: 400 })),
        'paypal-cert-url': fc.constantFrom(
          'https://api.paypal.com/v1/notifications/certs/CERT-1',
          'https://api.paypal.com.evil.example/cert',
          'https://api.paypal.com/../../evil',
          'https://api.paypal.com@evil.example/cert',
          'http://127.0.0.1:1/cert',
          'file:///etc/passwd',
        ),
        'paypal-auth-algo': fc.constantFrom('SHA256withRSA', 'none', 'HS256'),
      },
      { requiredKeys: [] },
    );
    await fc.assert(
      fc.asyncProperty(hostileBodies(['id', 'event_type', 'resource']), headers, async (b, h) => {
        const clean = Object.fromEntries(Object.entries(h).map(([k, v]) => [k, String(v).replace(/[^\x20-\x7e]/g, '')]));
        const res = await send(`${e.apiBaseUrl}/webhooks/paypal`, 'POST', { body: b.body, contentType: b.contentType, headers: clean });
        expectProblem(res, `paypal ${b.kind} ${JSON.stringify(clean).slice(0, 120)}`);
      }),
      fcRuns(25),
    );
    expect(await payments()).toEqual(before);
  });

  it('a well-formed signature whose certificate host cannot be reached is a 502 problem (PayPal retries), not a 500', async () => {
    const before = await payments();
    const res = await send(`${e.apiBaseUrl}/webhooks/paypal`, 'POST', {
      body: JSON.stringify({ id: 'WH-hostile', event_type: 'PAYMENT.CAPTURE.COMPLETED', resource: {} }),
      contentType: 'application/json',
      headers: {
        'paypal-transmission-id': 'hostile-1',
        'paypal-transmission-time': new Date().toISOString(),
        'paypal-transmission-sig': Buffer.alloc(256, 7).toString('base64'),
        // Allow-listed (PayPal's host), but this machine has no route to it, or it answers 404.
        'paypal-cert-url': 'https://api.paypal.com/v1/notifications/certs/CERT-hostile',
        'paypal-auth-algo': 'SHA256withRSA',
      },
    });
    expect(res.status === 502 ? res.contentType : expectProblem(res, 'cert')).toMatch(/problem\+json|validation-error$/);
    if (res.status === 502) expect(JSON.parse(res.text).type).toBe(problemType('upstreamUnavailable'));
    expect(await payments()).toEqual(before);
  });

  it('an unknown provider is a 404 problem', async () => {
    expect(expectProblem(await send(`${e.apiBaseUrl}/webhooks/evilpay`, 'POST', { body: '{}', contentType: 'application/json' }))).toBe(problemType('notFound'));
  });
});
