import http from 'node:http';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';

/**
 * FAKE Stripe API for tests: a small, stateful, in-memory server speaking the wire format of
 * the PaymentIntents and Refunds endpoints the payments Stripe adapter uses (form-encoded
 * requests, JSON objects and error bodies like api.stripe.com, Idempotency-Key replay).
 * Not Stripe: no auth check beyond a Bearer key being present, no webhooks.
 *
 * Test hooks: POST /_fake/payment_intents/{id}/authorize moves an intent to requires_capture
 * (what the customer's card confirmation would do); `calls` counts mutating API calls.
 */
interface PaymentIntent {
  id: string;
  object: 'payment_intent';
  amount: number;
  amount_received: number;
  currency: string;
  capture_method: string;
  client_secret: string;
  status: string;
  metadata: Record<string, string>;
  created: number;
  livemode: false;
  last_payment_error: null | { message: string };
}

export interface StripeFake {
  url: string;
  host: string;
  port: number;
  intents: Map<string, PaymentIntent>;
  calls: Array<{ method: string; path: string }>;
  close(): Promise<void>;
}

const id = (prefix: string) => `${prefix}_${randomBytes(12).toString('hex')}`;

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

export async function startStripeFake(port = 0): Promise<StripeFake> {
  const intents = new Map<string, PaymentIntent>();
  const refunds = new Map<string, unknown>();
  const idempotent = new Map<string, { status: number; body: unknown }>();
  const calls: StripeFake['calls'] = [];

  const error = (status: number, code: string, message: string) => ({
    status,
    body: { error: { type: 'invalid_request_error', code, message } },
  });

  const route = (method: string, path: string, form: Record<string, unknown>): { status: number; body: unknown } => {
    let m: RegExpExecArray | null;
    if (method === 'POST' && path === '/v1/payment_intents') {
      const amount = Number(form.amount);
      if (!Number.isInteger(amount) || amount <= 0) return error(400, 'parameter_invalid_integer', 'Invalid amount');
      if (typeof form.currency !== 'string') return error(400, 'parameter_missing', 'Missing required param: currency');
      const pi: PaymentIntent = {
        id: id('pi'),
        object: 'payment_intent',
        amount,
        amount_received: 0,
        currency: form.currency.toLowerCase(),
        capture_method: String(form.capture_method ?? 'automatic'),
        client_secret: '',
        status: 'requires_payment_method',
        metadata: (form.metadata as Record<string, string>) ?? {},
        created: Math.floor(Date.now() / 1000),
        livemode: false,
        last_payment_error: null,
      };
      pi.client_secret = `${pi.id}_secret_${randomBytes(8).toString('hex')}`;
      intents.set(pi.id, pi);
      return { status: 200, body: pi };
    }
    if ((m = /^\/v1\/payment_intents\/([^/]+)$/.exec(path)) && method === 'GET') {
      const pi = intents.get(m[1]);
      return pi ? { status: 200, body: pi } : error(404, 'resource_missing', `No such payment_intent: '${m[1]}'`);
    }
    if ((m = /^\/(v1|_fake)\/payment_intents\/([^/]+)\/(capture|cancel|authorize)$/.exec(path)) && method === 'POST') {
      const pi = intents.get(m[2]);
      if (!pi) return error(404, 'resource_missing', `No such payment_intent: '${m[2]}'`);
      const action = m[3];
      if (action === 'authorize' && m[1] === '_fake') {
        pi.status = pi.capture_method === 'manual' ? 'requires_capture' : 'succeeded';
        if (pi.status === 'succeeded') pi.amount_received = pi.amount;
        return { status: 200, body: pi };
      }
      if (action === 'capture') {
        if (pi.status !== 'requires_capture') {
          return error(400, 'payment_intent_unexpected_state', `This PaymentIntent could not be captured because it has a status of ${pi.status}.`);
        }
        pi.status = 'succeeded';
        pi.amount_received = Number(form.amount_to_capture ?? pi.amount);
        return { status: 200, body: pi };
      }
      if (action === 'cancel') {
        if (['succeeded', 'canceled'].includes(pi.status)) {
          return error(400, 'payment_intent_unexpected_state', `You cannot cancel this PaymentIntent because it has a status of ${pi.status}.`);
        }
        pi.status = 'canceled';
        return { status: 200, body: pi };
      }
    }
    if (method === 'POST' && path === '/v1/refunds') {
      const pi = intents.get(String(form.payment_intent));
      if (!pi) return error(404, 'resource_missing', `No such payment_intent: '${String(form.payment_intent)}'`);
      if (pi.status !== 'succeeded') return error(400, 'charge_not_captured', 'This PaymentIntent has no captured charge to refund.');
      const refund = { id: id('re'), object: 'refund', amount: Number(form.amount ?? pi.amount_received), currency: pi.currency, payment_intent: pi.id, status: 'succeeded' };
      refunds.set(refund.id, refund);
      return { status: 200, body: refund };
    }
    return error(404, 'resource_missing', `Unrecognized request URL (${method}: ${path})`);
  };

  const server = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString('utf8')));
    req.on('end', () => {
      const method = req.method ?? 'GET';
      const path = (req.url ?? '/').split('?')[0];
      let result: { status: number; body: unknown };
      if (!/^Bearer \S+/.test(req.headers.authorization ?? '') && !path.startsWith('/_fake/')) {
        result = { status: 401, body: { error: { type: 'invalid_request_error', message: 'You did not provide an API key.' } } };
      } else {
        const key = req.headers['idempotency-key'];
        const cacheKey = typeof key === 'string' && method === 'POST' ? `${path}|${key}` : undefined;
        const cached = cacheKey ? idempotent.get(cacheKey) : undefined;
        if (cached) {
          result = cached;
          res.setHeader('idempotent-replayed', 'true');
        } else {
          if (method === 'POST' && !path.startsWith('/_fake/')) calls.push({ method, path });
          result = route(method, path, parseForm(raw));
          if (cacheKey && result.status < 500) idempotent.set(cacheKey, result);
        }
      }
      res.writeHead(result.status, { 'content-type': 'application/json', 'request-id': id('req') });
      res.end(JSON.stringify(result.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const actual = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${actual}`,
    host: '127.0.0.1',
    port: actual,
    intents,
    calls,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
