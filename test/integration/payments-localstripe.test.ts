import { setTimeout as sleep } from 'node:timers/promises';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { stripeGateway } from '../../functions/payments/adapters/stripe-gateway';
import { stripeToProviderEvent, verifyStripeEvent } from '../../functions/payments/adapters/stripe-webhook';
import { ProviderRejected, type PaymentGateway } from '../../functions/payments/core/gateway';

// testTimeout in a jest project is not applied when several projects run together.
jest.setTimeout(60_000);

/**
 * Second opinion on the Stripe adapter: the same adapter the payments Lambda uses, pointed
 * (via its apiBase, like STRIPE_API_BASE does) at localstripe, a stateful Stripe fake written
 * by others, instead of our own fake. Only what localstripe gets right is driven here (see the
 * table in docs/payments.md); after each call the test reads back what localstripe stored, so
 * a wrong request shape fails here even when our own fake would accept it.
 *
 * Needs no stack: localstripe comes from the project's .venv (localstack/requirements.txt) and
 * runs on its own free 127.0.0.1 port. The integration project's globalSetup would still bring
 * the stack up, so run it alone with
 *   CM_TEST_NO_UP=1 npx jest --selectProjects integration test/integration/payments-localstripe.test.ts
 */

const ROOT = path.resolve(__dirname, '..', '..');
const VENV_BIN = path.join(ROOT, '.venv', 'bin');
const SECRET_KEY = 'sk_test_localstripe_adapter';
const WEBHOOK_SECRET = `whsec_${randomBytes(16).toString('hex')}`;

// The `localstripe` CLI binds [::] (all interfaces) and has no host option, so start its aiohttp
// app ourselves on 127.0.0.1. Its store also pickles itself to the shared /tmp/localstripe.pickle
// on every write (and the CLI reloads it unless --from-scratch): keep this run's state in memory.
const LAUNCHER = [
  'import sys',
  'from aiohttp import web',
  'from localstripe.resources import Store',
  'Store.dump_to_disk = lambda self: None',
  'from localstripe.server import app',
  "web.run_app(app, host='127.0.0.1', port=int(sys.argv[1]), print=None)",
].join('\n');

/** The PaymentIntent fields localstripe reports that these tests assert on. */
interface LocalIntent {
  id: string;
  amount: number;
  currency: string;
  capture_method: string;
  status: string;
  client_secret: string;
  metadata: Record<string, string>;
  latest_charge: null | { id: string; captured: boolean; status: string; refunded: boolean; amount_refunded: number };
  last_payment_error: null | { code?: string; message?: string };
}

interface Received {
  rawBody: Buffer;
  signature: string | undefined;
}

let proc: ChildProcess | undefined;
let output = '';
let base = '';
let receiver: http.Server | undefined;
const received: Received[] = [];
let gateway: PaymentGateway;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** Raw call to localstripe with the secret key: reading state, and the customer's side of a payment. */
// biome-ignore lint/suspicious/noExplicitAny: localstripe's JSON objects, read by path in the assertions
async function api(method: 'GET' | 'POST', p: string, form?: Record<string, string>): Promise<{ status: number; body: any }> {
  const res = await fetch(`${base}${p}`, {
    method,
    headers: { authorization: `Bearer ${SECRET_KEY}`, ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}) },
    body: form ? new URLSearchParams(form).toString() : undefined,
    signal: AbortSignal.timeout(5000),
  });
  return { status: res.status, body: await res.json() };
}

async function retrieve(id: string): Promise<LocalIntent> {
  const res = await api('GET', `/v1/payment_intents/${id}`);
  expect(res.status).toBe(200);
  return res.body as LocalIntent;
}

/**
 * What Stripe.js does, in the form localstripe accepts: it refuses a publishable-key confirm
 * and answers "Not implemented" to confirm with a payment_method, so set the method on the
 * intent first, then confirm with the secret key.
 */
async function customerConfirms(id: string, paymentMethod: string) {
  const set = await api('POST', `/v1/payment_intents/${id}`, { payment_method: paymentMethod });
  expect(set.status).toBe(200);
  expect(set.body.status).toBe('requires_confirmation');
  return api('POST', `/v1/payment_intents/${id}/confirm`);
}

async function newSession(amountCents = 2500) {
  const input = { sessionId: randomUUID(), orderId: `order-${randomUUID()}`, amountCents, currency: 'eur' };
  const session = await gateway.createSession(input, `session-${input.sessionId}`);
  return { input, session };
}

/** The first webhook delivered for this intent with this event type (localstripe waits 1 s before sending). */
async function webhookFor(intentId: string, type: string, timeoutMs = 10_000): Promise<Received> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const hit = received.find((r) => {
      const e = JSON.parse(r.rawBody.toString('utf8')) as { type?: string; data?: { object?: { id?: string } } };
      return e.type === type && e.data?.object?.id === intentId;
    });
    if (hit) return hit;
    await sleep(100);
  }
  throw new Error(`no ${type} webhook for ${intentId} from localstripe within ${timeoutMs} ms`);
}

async function expectRejected(p: Promise<unknown>, message?: RegExp): Promise<ProviderRejected> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ProviderRejected);
  if (message) expect((err as Error).message).toMatch(message);
  return err as ProviderRejected;
}

async function stopLocalstripe(): Promise<void> {
  const p = proc;
  if (!p || p.exitCode !== null || p.signalCode !== null) return;
  const exited = new Promise<void>((r) => p.once('exit', () => r()));
  // A bounded wait whose timer does not outlive it (jest would wait for it at exit).
  const within = (ms: number) => {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<boolean>((r) => (timer = setTimeout(() => r(false), ms)));
    return Promise.race([exited.then(() => true), timeout]).finally(() => clearTimeout(timer));
  };
  p.kill('SIGTERM');
  if (await within(5000)) return;
  p.kill('SIGKILL');
  await within(2000);
}

beforeAll(async () => {
  if (!fs.existsSync(path.join(VENV_BIN, 'localstripe'))) {
    // Not a skip: CI builds the venv in `npm run up` before the tests, so a missing one is a set-up bug.
    throw new Error(
      `localstripe is not installed: ${path.join(VENV_BIN, 'localstripe')} is missing. ` +
        'Create the venv from localstack/requirements.txt (`npm run up` does it, or ' +
        '`python3 -m venv .venv && .venv/bin/pip install -r localstack/requirements.txt`).',
    );
  }

  receiver = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ rawBody: Buffer.concat(chunks), signature: req.headers['stripe-signature'] as string | undefined });
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"received":true}');
    });
  });
  await new Promise<void>((r) => receiver!.listen(0, '127.0.0.1', r));
  const hookUrl = `http://127.0.0.1:${(receiver.address() as net.AddressInfo).port}/webhooks/stripe`;

  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  proc = spawn(path.join(VENV_BIN, 'python'), ['-c', LAUNCHER, String(port)], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  proc.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (output += d.toString()));

  const deadline = Date.now() + 20_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`localstripe exited with ${proc.exitCode} before answering:\n${output}`);
    const up = await fetch(`${base}/v1/events?limit=1`, { headers: { authorization: `Bearer ${SECRET_KEY}` }, signal: AbortSignal.timeout(1000) })
      .then((r) => r.ok)
      .catch(() => false);
    if (up) break;
    if (Date.now() > deadline) throw new Error(`localstripe did not answer on ${base} within 20 s:\n${output}`);
    await sleep(150);
  }

  const hook = await fetch(`${base}/_config/webhooks/checkout-mesh`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ url: hookUrl, secret: WEBHOOK_SECRET }),
  });
  expect(hook.status).toBe(200);

  gateway = stripeGateway(SECRET_KEY, base);
});

afterAll(async () => {
  await stopLocalstripe();
  await new Promise<void>((r) => (receiver ? receiver.close(() => r()) : r()));
});

describe('Stripe adapter against localstripe', () => {
  it('creates a manual-capture PaymentIntent with the order metadata', async () => {
    const { input, session } = await newSession(1234);
    expect(session.providerRef).toMatch(/^pi_/);
    expect(session.status).toBe('requires_payment_method');
    const pi = await retrieve(session.providerRef);
    expect(pi).toMatchObject({
      id: session.providerRef,
      amount: 1234,
      currency: 'eur',
      capture_method: 'manual',
      status: 'requires_payment_method',
      metadata: { orderId: input.orderId, sessionId: input.sessionId },
    });
    expect(session.clientSecret).toBe(pi.client_secret);
  });

  it('captures an authorised intent, then refunds it; each state as localstripe reports it', async () => {
    const { input, session } = await newSession();
    const confirmed = await customerConfirms(session.providerRef, 'pm_card_visa');
    expect(confirmed.status).toBe(200);
    expect((await retrieve(session.providerRef)).status).toBe('requires_capture');

    const cap = await gateway.operate('capture', session.providerRef, `${input.sessionId}-capture-1`);
    expect(cap).toEqual({ providerStatus: 'succeeded', providerId: session.providerRef });
    const captured = await retrieve(session.providerRef);
    expect(captured.status).toBe('succeeded');
    expect(captured.latest_charge).toMatchObject({ captured: true, status: 'succeeded', refunded: false });

    const ref = await gateway.operate('refund', session.providerRef, `${input.sessionId}-refund-1`);
    expect(ref.providerStatus).toBe('succeeded');
    expect(ref.providerId).toMatch(/^re_/);
    const refunds = await api('GET', `/v1/refunds?payment_intent=${session.providerRef}`);
    expect(refunds.status).toBe(200);
    expect(refunds.body.data).toEqual([
      expect.objectContaining({ id: ref.providerId, amount: 2500, currency: 'eur', status: 'succeeded', charge: captured.latest_charge!.id }),
    ]);
    expect((await retrieve(session.providerRef)).latest_charge).toMatchObject({ refunded: true, amount_refunded: 2500 });
  });

  it('cancels an unconfirmed and an authorised intent; a second cancel is refused', async () => {
    const fresh = await newSession();
    const c1 = await gateway.operate('cancel', fresh.session.providerRef, `${fresh.input.sessionId}-cancel-1`);
    expect(c1).toEqual({ providerStatus: 'canceled', providerId: fresh.session.providerRef });
    expect((await retrieve(fresh.session.providerRef)).status).toBe('canceled');
    await expectRejected(gateway.operate('cancel', fresh.session.providerRef, `${fresh.input.sessionId}-cancel-2`));

    const held = await newSession();
    expect((await customerConfirms(held.session.providerRef, 'pm_card_visa')).status).toBe(200);
    const c2 = await gateway.operate('cancel', held.session.providerRef, `${held.input.sessionId}-cancel-1`);
    expect(c2.providerStatus).toBe('canceled');
    const pi = await retrieve(held.session.providerRef);
    expect(pi.status).toBe('canceled');
    expect(pi.latest_charge).toMatchObject({ captured: false });
  });

  it("maps localstripe's 404 for an unknown intent to the adapter's ProviderRejected", async () => {
    const unknown = `pi_unknown${randomBytes(6).toString('hex')}`;
    for (const op of ['capture', 'cancel', 'refund'] as const) {
      await expectRejected(gateway.operate(op, unknown, `k-${op}-${unknown}`), /Not Found/);
    }
    expect((await api('GET', `/v1/payment_intents/${unknown}`)).status).toBe(404);
  });

  it('a pm_card_chargeCustomerFail decline: signed payment_failed webhook → failed, capture and refund refused, cancel works', async () => {
    const { input, session } = await newSession();
    const declined = await customerConfirms(session.providerRef, 'pm_card_chargeCustomerFail');
    expect(declined.status).toBe(402);
    expect(declined.body.error).toMatchObject({ code: 'card_declined' });
    const pi = await retrieve(session.providerRef);
    expect(pi.status).toBe('requires_payment_method');
    expect(pi.last_payment_error).toMatchObject({ code: 'card_declined', message: 'Your card was declined.' });

    const hook = await webhookFor(session.providerRef, 'payment_intent.payment_failed');
    const event = stripeToProviderEvent(verifyStripeEvent(hook.rawBody, hook.signature, WEBHOOK_SECRET));
    expect(event).toMatchObject({
      provider: 'stripe',
      eventType: 'payment_intent.payment_failed',
      providerRef: session.providerRef,
      outcome: 'failed',
      metadata: { orderId: input.orderId, sessionId: input.sessionId },
      failureMessage: 'Your card was declined.',
    });

    await expectRejected(gateway.operate('capture', session.providerRef, `${input.sessionId}-capture-1`));
    await expectRejected(gateway.operate('refund', session.providerRef, `${input.sessionId}-refund-1`), /failed payment/);
    expect((await retrieve(session.providerRef)).status).toBe('requires_payment_method');
    const c = await gateway.operate('cancel', session.providerRef, `${input.sessionId}-cancel-1`);
    expect(c.providerStatus).toBe('canceled');
    expect((await retrieve(session.providerRef)).status).toBe('canceled');
  });

  it('a signed payment_intent.succeeded webhook after capture passes our verification and maps to succeeded', async () => {
    const { input, session } = await newSession(4200);
    expect((await customerConfirms(session.providerRef, 'pm_card_visa')).status).toBe(200);
    await gateway.operate('capture', session.providerRef, `${input.sessionId}-capture-1`);

    const hook = await webhookFor(session.providerRef, 'payment_intent.succeeded');
    expect(hook.signature).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
    const verified = verifyStripeEvent(hook.rawBody, hook.signature, WEBHOOK_SECRET);
    expect(stripeToProviderEvent(verified)).toEqual({
      provider: 'stripe',
      eventId: verified.id,
      eventType: 'payment_intent.succeeded',
      providerRef: session.providerRef,
      outcome: 'succeeded',
      authorizedOnly: false,
      metadata: { orderId: input.orderId, sessionId: input.sessionId },
      failureMessage: undefined,
    });
    // The same event is listed by /v1/events, and the signature is really checked.
    const events = await api('GET', '/v1/events?type=payment_intent.succeeded');
    expect(events.body.data.map((e: { id: string }) => e.id)).toContain(verified.id);
    expect(() => verifyStripeEvent(hook.rawBody, hook.signature, 'whsec_wrong')).toThrow(/signature verification failed/);
    const tampered = Buffer.from(hook.rawBody.toString('utf8').replace('"amount": 4200', '"amount": 1'));
    expect(tampered.equals(hook.rawBody)).toBe(false);
    expect(() => verifyStripeEvent(tampered, hook.signature, WEBHOOK_SECRET)).toThrow(/signature verification failed/);
  });
});
