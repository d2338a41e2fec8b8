import http from 'node:http';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import Stripe from 'stripe';
import { WebhookSender, type Delivery } from './webhook-sender';

/**
 * FAKE Stripe API (not Stripe): a small, stateful, in-memory server speaking the wire format of
 * the PaymentIntents, Refunds and Events endpoints the payments adapter and the storefront use
 * (form-encoded requests, JSON objects and error bodies like api.stripe.com, Idempotency-Key
 * replay), and delivering signed webhooks (Stripe-Signature, HMAC-SHA256 by the official SDK)
 * to a configured endpoint with retries, like Stripe does.
 *
 * Started by `npm start` (localstack/fakes/serve.ts) so the deployed payments Lambda and the
 * browser have a provider to talk to; started in-process by integration tests.
 *
 * Customer side (what Stripe.js does): POST /v1/payment_intents/{id}/confirm with the
 * publishable key, the client_secret and a test payment method: `pm_card_visa` authorises,
 * `pm_card_chargeDeclined` declines (the real test-mode tokens). CORS is open for the browser.
 * Test hook: POST /_fake/payment_intents/{id}/authorize (no key needed).
 */
interface PaymentIntent {
  id: string;
  object: 'payment_intent';
  amount: number;
  amount_capturable: number;
  amount_received: number;
  currency: string;
  capture_method: string;
  client_secret: string;
  status: string;
  payment_method: string | null;
  metadata: Record<string, string>;
  created: number;
  livemode: false;
  last_payment_error: null | { type: string; code: string; decline_code?: string; message: string };
}

interface StripeEventRecord {
  id: string;
  object: 'event';
  api_version: string;
  created: number;
  type: string;
  livemode: false;
  pending_webhooks: number;
  data: { object: unknown };
  request: { id: string | null; idempotency_key: string | null };
}

export interface StripeFakeOptions {
  port?: number;
  host?: string;
  /** Where to deliver events, and the endpoint secret to sign them with (whsec_...). */
  webhook?: { url: string; secret: string };
  /** Delivery attempts per event (Stripe retries for days; a fake does a few quick ones). */
  maxDeliveryAttempts?: number;
  log?: (line: string) => void;
}

export interface StripeFake {
  url: string;
  host: string;
  port: number;
  intents: Map<string, PaymentIntent>;
  events: StripeEventRecord[];
  calls: Array<{ method: string; path: string }>;
  deliveries: Delivery[];
  close(): Promise<void>;
}

const API_VERSION = '2024-06-20';
const DECLINE_METHODS = new Set(['pm_card_chargeDeclined', 'pm_card_visa_chargeDeclined', 'pm_card_chargeDeclinedInsufficientFunds']);
const id = (prefix: string) => `${prefix}_${randomBytes(12).toString('hex')}`;
const signer = new Stripe('sk_test_fake_signer_only');

function parseForm(body: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of new URLSearchParams(body)) {
    const m = /^([^[]+)\[([^\]]*)\]$/.exec(k);
    if (m) {
      const bag = (out[m[1]] ??= {}) as Record<string, string>;
      bag[m[2]] = v;
    } else out[k] = v;
  }
  return out;
}

const CORS = {
  'access-control-allow-origin': '*',
  'access-control-allow-methods': 'GET, POST, OPTIONS',
  'access-control-allow-headers': 'authorization, content-type, idempotency-key, stripe-version',
  'access-control-max-age': '600',
};

export async function startStripeFake(opts: StripeFakeOptions | number = {}): Promise<StripeFake> {
  const o: StripeFakeOptions = typeof opts === 'number' ? { port: opts } : opts;
  const log = o.log ?? (() => {});
  const maxAttempts = o.maxDeliveryAttempts ?? 6;
  const intents = new Map<string, PaymentIntent>();
  const refunds = new Map<string, unknown>();
  const idempotent = new Map<string, { status: number; body: unknown }>();
  const calls: StripeFake['calls'] = [];
  const events: StripeEventRecord[] = [];
  const sender = new WebhookSender({ maxAttempts, log });

  const deliver = (event: StripeEventRecord): void => {
    const hook = o.webhook;
    if (!hook) return;
    const payload = JSON.stringify(event);
    sender.send(
      hook.url,
      event,
      payload,
      () => ({
        'content-type': 'application/json; charset=utf-8',
        'stripe-signature': signer.webhooks.generateTestHeaderString({ payload, secret: hook.secret }),
        'user-agent': 'Stripe/1.0 (+https://stripe.com/docs/webhooks) fake',
      }),
      () => {
        event.pending_webhooks = 0;
      },
    );
  };

  const emit = (type: string, object: unknown, requestKey: string | null): void => {
    const event: StripeEventRecord = {
      id: id('evt'),
      object: 'event',
      api_version: API_VERSION,
      created: Math.floor(Date.now() / 1000),
      type,
      livemode: false,
      pending_webhooks: o.webhook ? 1 : 0,
      data: { object: structuredClone(object) },
      request: { id: id('req'), idempotency_key: requestKey },
    };
    events.push(event);
    deliver(event);
  };

  const error = (status: number, code: string, message: string, type = 'invalid_request_error') => ({
    status,
    body: { error: { type, code, message } },
  });

  /** Card confirmation: authorise (manual capture), collect (automatic) or decline. */
  const confirm = (pi: PaymentIntent, form: Record<string, unknown>, key: string | null) => {
    if (!['requires_payment_method', 'requires_confirmation'].includes(pi.status)) {
      return error(400, 'payment_intent_unexpected_state', `You cannot confirm this PaymentIntent because it has a status of ${pi.status}.`);
    }
    const method = String(form.payment_method ?? 'pm_card_visa');
    pi.payment_method = method;
    if (DECLINE_METHODS.has(method)) {
      pi.status = 'requires_payment_method';
      pi.last_payment_error = { type: 'card_error', code: 'card_declined', decline_code: 'generic_decline', message: 'Your card was declined.' };
      emit('payment_intent.payment_failed', pi, key);
      return { status: 402, body: { error: { ...pi.last_payment_error, payment_intent: pi } } };
    }
    pi.last_payment_error = null;
    if (pi.capture_method === 'manual') {
      pi.status = 'requires_capture';
      pi.amount_capturable = pi.amount;
      emit('payment_intent.amount_capturable_updated', pi, key);
    } else {
      pi.status = 'succeeded';
      pi.amount_received = pi.amount;
      emit('payment_intent.succeeded', pi, key);
    }
    return { status: 200, body: pi };
  };

  const route = (method: string, path: string, form: Record<string, unknown>, auth: string, key: string | null): { status: number; body: unknown } => {
    let m: RegExpExecArray | null;
    const secretKey = auth.startsWith('sk_');
    if (method === 'POST' && path === '/v1/payment_intents') {
      if (!secretKey) return error(401, 'secret_key_required', 'This API call cannot be made with a publishable API key.');
      const amount = Number(form.amount);
      if (!Number.isInteger(amount) || amount <= 0) return error(400, 'parameter_invalid_integer', 'Invalid amount');
      if (typeof form.currency !== 'string') return error(400, 'parameter_missing', 'Missing required param: currency');
      const pi: PaymentIntent = {
        id: id('pi'),
        object: 'payment_intent',
        amount,
        amount_capturable: 0,
        amount_received: 0,
        currency: form.currency.toLowerCase(),
        capture_method: String(form.capture_method ?? 'automatic'),
        client_secret: '',
        status: 'requires_payment_method',
        payment_method: null,
        metadata: (form.metadata as Record<string, string>) ?? {},
        created: Math.floor(Date.now() / 1000),
        livemode: false,
        last_payment_error: null,
      };
      pi.client_secret = `${pi.id}_secret_${randomBytes(8).toString('hex')}`;
      intents.set(pi.id, pi);
      emit('payment_intent.created', pi, key);
      return { status: 200, body: pi };
    }
    if ((m = /^\/v1\/payment_intents\/([^/]+)$/.exec(path)) && method === 'GET') {
      const pi = intents.get(m[1]);
      if (!pi) return error(404, 'resource_missing', `No such payment_intent: '${m[1]}'`);
      // A publishable key sees the intent only with its client secret (as Stripe.js retrieves it).
      if (!secretKey && form.client_secret !== pi.client_secret) return error(404, 'resource_missing', `No such payment_intent: '${m[1]}'`);
      return { status: 200, body: pi };
    }
    if ((m = /^\/(v1|_fake)\/payment_intents\/([^/]+)\/(capture|cancel|authorize|confirm)$/.exec(path)) && method === 'POST') {
      const pi = intents.get(m[2]);
      if (!pi) return error(404, 'resource_missing', `No such payment_intent: '${m[2]}'`);
      const action = m[3];
      if (action === 'authorize') {
        if (m[1] !== '_fake') return error(404, 'resource_missing', `Unrecognized request URL (${method}: ${path})`);
        return confirm(pi, { payment_method: 'pm_card_visa' }, key);
      }
      if (action === 'confirm') {
        if (!secretKey && form.client_secret !== pi.client_secret) {
          return error(400, 'payment_intent_authentication_failure', 'The client_secret provided does not match the client_secret associated with the PaymentIntent.');
        }
        return confirm(pi, form, key);
      }
      if (!secretKey) return error(401, 'secret_key_required', 'This API call cannot be made with a publishable API key.');
      if (action === 'capture') {
        if (pi.status !== 'requires_capture') {
          return error(400, 'payment_intent_unexpected_state', `This PaymentIntent could not be captured because it has a status of ${pi.status}.`);
        }
        pi.status = 'succeeded';
        pi.amount_received = Number(form.amount_to_capture ?? pi.amount);
        pi.amount_capturable = 0;
        emit('payment_intent.succeeded', pi, key);
        return { status: 200, body: pi };
      }
      if (['succeeded', 'canceled'].includes(pi.status)) {
        return error(400, 'payment_intent_unexpected_state', `You cannot cancel this PaymentIntent because it has a status of ${pi.status}.`);
      }
      pi.status = 'canceled';
      pi.amount_capturable = 0;
      emit('payment_intent.canceled', pi, key);
      return { status: 200, body: pi };
    }
    if (method === 'POST' && path === '/v1/refunds') {
      if (!secretKey) return error(401, 'secret_key_required', 'This API call cannot be made with a publishable API key.');
      const pi = intents.get(String(form.payment_intent));
      if (!pi) return error(404, 'resource_missing', `No such payment_intent: '${String(form.payment_intent)}'`);
      if (pi.status !== 'succeeded') return error(400, 'charge_not_captured', 'This PaymentIntent has no captured charge to refund.');
      const refund = {
        id: id('re'),
        object: 'refund',
        amount: Number(form.amount ?? pi.amount_received),
        currency: pi.currency,
        payment_intent: pi.id,
        status: 'succeeded',
      };
      refunds.set(refund.id, refund);
      emit('charge.refunded', { ...refund }, key);
      return { status: 200, body: refund };
    }
    if (method === 'GET' && path === '/v1/events') {
      if (!secretKey) return error(401, 'secret_key_required', 'This API call cannot be made with a publishable API key.');
      return { status: 200, body: { object: 'list', data: [...events].reverse().slice(0, 100), has_more: events.length > 100, url: '/v1/events' } };
    }
    const eventPath = /^\/v1\/events\/([A-Za-z0-9_]+)$/.exec(path);
    if (method === 'GET' && eventPath) {
      if (!secretKey) return error(401, 'secret_key_required', 'This API call cannot be made with a publishable API key.');
      const event = events.find((e) => e.id === eventPath[1]);
      return event ? { status: 200, body: event } : error(404, 'resource_missing', `No such event: '${eventPath[1]}'`);
    }
    return error(404, 'resource_missing', `Unrecognized request URL (${method}: ${path})`);
  };

  const server = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => {
      raw += c.toString('utf8');
      if (raw.length > 1_000_000) req.destroy();
    });
    req.on('end', () => {
      const method = req.method ?? 'GET';
      const [path, query = ''] = (req.url ?? '/').split('?');
      if (method === 'OPTIONS') {
        res.writeHead(204, CORS);
        res.end();
        return;
      }
      if (method === 'GET' && path === '/health') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ fake: 'stripe', intents: intents.size, events: events.length }));
        return;
      }
      let result: { status: number; body: unknown };
      const bearer = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '')?.[1] ?? '';
      const form = parseForm(method === 'GET' ? query : raw);
      const apiKey = bearer || (typeof form.key === 'string' ? form.key : '');
      if (!/^(sk|pk|rk)_/.test(apiKey) && !path.startsWith('/_fake/')) {
        result = { status: 401, body: { error: { type: 'invalid_request_error', message: 'You did not provide an API key.' } } };
      } else {
        const key = req.headers['idempotency-key'];
        const idemKey = typeof key === 'string' && method === 'POST' ? key : null;
        const cacheKey = idemKey ? `${apiKey}|${path}|${idemKey}` : undefined;
        const cached = cacheKey ? idempotent.get(cacheKey) : undefined;
        if (cached) {
          result = cached;
          res.setHeader('idempotent-replayed', 'true');
        } else {
          if (method === 'POST' && !path.startsWith('/_fake/')) calls.push({ method, path });
          result = route(method, path, form, apiKey, idemKey);
          if (cacheKey && result.status < 500) idempotent.set(cacheKey, result);
        }
      }
      res.writeHead(result.status, { 'content-type': 'application/json', 'request-id': id('req'), 'stripe-version': API_VERSION, ...CORS });
      res.end(JSON.stringify(result.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(o.port ?? 0, o.host ?? '127.0.0.1', resolve));
  const actual = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${actual}`,
    host: '127.0.0.1',
    port: actual,
    intents,
    events,
    calls,
    deliveries: sender.deliveries,
    close: () =>
      new Promise<void>((resolve) => {
        sender.close();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
