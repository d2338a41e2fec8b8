import { execFileSync } from 'node:child_process';
import { createSign, randomBytes, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { paypalSignedMessage } from '../../functions/payments/adapters/paypal-webhook';
import { WebhookSender, type Delivery } from './webhook-sender';

/**
 * FAKE PayPal (not PayPal): a small, stateful, in-memory server speaking the REST wire format
 * the payments PayPal adapter uses — OAuth2 client credentials, Orders v2 (create, show,
 * capture), Payments v2 refunds, PayPal-Request-Id replay, error bodies with `name`/`details` —
 * plus the buyer's approval page and signed webhooks (PayPal-Transmission-* headers, RSA-SHA256
 * over id|time|webhook id|CRC32(body), with a locally generated certificate served like PayPal's
 * cert URL).
 *
 * Buyer side: GET /checkoutnow?token={orderId} shows Approve / Cancel (what the approval link
 * from create-order points at); POST /checkoutnow/approve?token=… approves (webhook
 * CHECKOUT.ORDER.APPROVED) and redirects to the order's return_url when one was given.
 */
interface PayPalOrder {
  id: string;
  intent: 'CAPTURE' | 'AUTHORIZE';
  status: 'CREATED' | 'PAYER_ACTION_REQUIRED' | 'APPROVED' | 'COMPLETED' | 'VOIDED';
  purchase_units: Array<{
    reference_id: string;
    custom_id?: string;
    amount: { currency_code: string; value: string };
    payments?: { captures: Array<{ id: string; status: string; amount: { currency_code: string; value: string } }> };
  }>;
  create_time: string;
  update_time: string;
  links: Array<{ href: string; rel: string; method: string }>;
  returnUrl?: string;
  cancelUrl?: string;
}

export interface PayPalFakeOptions {
  port?: number;
  host?: string;
  /** Credentials the OAuth endpoint accepts (any non-empty pair when not given). */
  clientId?: string;
  clientSecret?: string;
  /** Where to deliver webhooks, signed for this webhook id. */
  webhook?: { url: string; webhookId: string };
  maxDeliveryAttempts?: number;
  log?: (line: string) => void;
  /** Base URL of the certificate link in webhook headers, when the receiver reaches this server by another name (Docker). */
  certBaseUrl?: string;
}

export interface PayPalFake {
  url: string;
  certUrl: string;
  orders: Map<string, PayPalOrder>;
  calls: Array<{ method: string; path: string }>;
  deliveries: Delivery[];
  sign(body: string, webhookId: string, opts?: { time?: Date; transmissionId?: string }): Record<string, string>;
  close(): Promise<void>;
}

const newId = (len = 17) => randomBytes(len).toString('hex').toUpperCase().slice(0, len);

function keyPair(): { key: string; cert: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'paypal-fake-'));
  try {
    const keyFile = path.join(dir, 'key.pem');
    const certFile = path.join(dir, 'cert.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '30', '-subj', '/CN=paypal-fake.local'], {
      stdio: 'ignore',
    });
    return { key: fs.readFileSync(keyFile, 'utf8'), cert: fs.readFileSync(certFile, 'utf8') };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export async function startPayPalFake(opts: PayPalFakeOptions = {}): Promise<PayPalFake> {
  const log = opts.log ?? (() => {});
  const maxAttempts = opts.maxDeliveryAttempts ?? 6;
  const { key, cert } = keyPair();
  const orders = new Map<string, PayPalOrder>();
  const tokens = new Set<string>();
  const idempotent = new Map<string, { status: number; body: unknown }>();
  const calls: PayPalFake['calls'] = [];
  const sender = new WebhookSender({ maxAttempts, log });
  let base = '';
  let certUrl = '';
  const certId = `CERT-fake-${randomBytes(6).toString('hex')}`;

  const sign: PayPalFake['sign'] = (body, webhookId, o = {}) => {
    const transmissionId = o.transmissionId ?? randomUUID();
    const transmissionTime = (o.time ?? new Date()).toISOString();
    const sig = createSign('RSA-SHA256')
      .update(paypalSignedMessage(transmissionId, transmissionTime, webhookId, Buffer.from(body)))
      .sign(key, 'base64');
    return {
      'paypal-transmission-id': transmissionId,
      'paypal-transmission-time': transmissionTime,
      'paypal-transmission-sig': sig,
      'paypal-cert-url': certUrl,
      'paypal-auth-algo': 'SHA256withRSA',
    };
  };

  const deliver = (event: { id: string; event_type: string }, body: string): void => {
    const hook = opts.webhook;
    if (!hook) return;
    sender.send(hook.url, { id: event.id, type: event.event_type }, body, () => ({ 'content-type': 'application/json', ...sign(body, hook.webhookId) }));
  };

  const emit = (eventType: string, resourceType: string, resource: unknown, summary: string) => {
    const event = {
      id: `WH-${newId(8)}-${newId(17)}`,
      event_version: '1.0',
      create_time: new Date().toISOString(),
      resource_type: resourceType,
      resource_version: '2.0',
      event_type: eventType,
      summary,
      resource: structuredClone(resource),
    };
    deliver(event, JSON.stringify(event));
  };

  const orderView = (o: PayPalOrder) => {
    const { returnUrl: _r, cancelUrl: _c, ...rest } = o;
    return rest;
  };
  const problem = (status: number, name: string, message: string, issue?: string) => ({
    status,
    body: { name, message, debug_id: newId(13).toLowerCase(), ...(issue ? { details: [{ issue, description: message }] } : {}) },
  });

  const route = (method: string, p: string, body: Record<string, unknown>): { status: number; body: unknown } => {
    let m: RegExpExecArray | null;
    if (method === 'POST' && p === '/v2/checkout/orders') {
      const units = body.purchase_units as PayPalOrder['purchase_units'] | undefined;
      const unit = units?.[0];
      if (!unit?.amount?.currency_code || !/^\d+(\.\d{1,2})?$/.test(String(unit.amount.value ?? ''))) {
        return problem(400, 'INVALID_REQUEST', 'Request is not well-formed, syntactically incorrect, or violates schema.', 'INVALID_PARAMETER_VALUE');
      }
      const intent = body.intent === 'AUTHORIZE' ? 'AUTHORIZE' : 'CAPTURE';
      const ctx = ((body.payment_source as { paypal?: { experience_context?: Record<string, string> } })?.paypal?.experience_context ?? {}) as Record<string, string>;
      const id = newId(17);
      const now = new Date().toISOString();
      const order: PayPalOrder = {
        id,
        intent,
        status: 'PAYER_ACTION_REQUIRED',
        purchase_units: [
          {
            reference_id: unit.reference_id ?? 'default',
            custom_id: unit.custom_id,
            amount: { currency_code: unit.amount.currency_code, value: String(unit.amount.value) },
          },
        ],
        create_time: now,
        update_time: now,
        links: [
          { href: `${base}/v2/checkout/orders/${id}`, rel: 'self', method: 'GET' },
          { href: `${base}/checkoutnow?token=${id}`, rel: 'payer-action', method: 'GET' },
        ],
        returnUrl: ctx.return_url,
        cancelUrl: ctx.cancel_url,
      };
      orders.set(id, order);
      return { status: 201, body: orderView(order) };
    }
    if ((m = /^\/v2\/checkout\/orders\/([A-Z0-9]+)$/.exec(p)) && method === 'GET') {
      const order = orders.get(m[1]);
      return order ? { status: 200, body: orderView(order) } : problem(404, 'RESOURCE_NOT_FOUND', 'The specified resource does not exist.', 'INVALID_RESOURCE_ID');
    }
    if ((m = /^\/v2\/checkout\/orders\/([A-Z0-9]+)\/capture$/.exec(p)) && method === 'POST') {
      const order = orders.get(m[1]);
      if (!order) return problem(404, 'RESOURCE_NOT_FOUND', 'The specified resource does not exist.', 'INVALID_RESOURCE_ID');
      if (order.status === 'COMPLETED') return problem(422, 'UNPROCESSABLE_ENTITY', 'The requested action could not be performed.', 'ORDER_ALREADY_CAPTURED');
      if (order.status !== 'APPROVED') return problem(422, 'UNPROCESSABLE_ENTITY', 'The requested action could not be performed.', 'ORDER_NOT_APPROVED');
      const unit = order.purchase_units[0];
      const capture = { id: newId(17), status: 'COMPLETED', amount: unit.amount };
      unit.payments = { captures: [capture] };
      order.status = 'COMPLETED';
      order.update_time = new Date().toISOString();
      emit(
        'PAYMENT.CAPTURE.COMPLETED',
        'capture',
        { ...capture, custom_id: unit.custom_id, supplementary_data: { related_ids: { order_id: order.id } } },
        `Payment completed for ${unit.amount.value} ${unit.amount.currency_code}`,
      );
      return { status: 201, body: orderView(order) };
    }
    if ((m = /^\/v2\/payments\/captures\/([A-Z0-9]+)\/refund$/.exec(p)) && method === 'POST') {
      const order = [...orders.values()].find((o) => o.purchase_units[0].payments?.captures.some((c) => c.id === m![1]));
      const capture = order?.purchase_units[0].payments?.captures.find((c) => c.id === m![1]);
      if (!order || !capture) return problem(404, 'RESOURCE_NOT_FOUND', 'The specified resource does not exist.', 'INVALID_RESOURCE_ID');
      if (capture.status === 'REFUNDED') return problem(422, 'UNPROCESSABLE_ENTITY', 'The requested action could not be performed.', 'CAPTURE_FULLY_REFUNDED');
      capture.status = 'REFUNDED';
      const refund = { id: newId(17), status: 'COMPLETED', amount: capture.amount };
      emit('PAYMENT.CAPTURE.REFUNDED', 'refund', { ...refund, supplementary_data: { related_ids: { order_id: order.id } } }, 'A payment was refunded');
      return { status: 201, body: refund };
    }
    return problem(404, 'RESOURCE_NOT_FOUND', `No route ${method} ${p}`);
  };

  const approvalPage = (
    order: PayPalOrder,
  ) => `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>PayPal (local fake) — approve payment</title>
<style>body{font:16px system-ui,sans-serif;max-width:28rem;margin:3rem auto;padding:0 1rem;color:#111}
.fake{background:#fff3cd;border:1px solid #c9a227;padding:.5rem .75rem;border-radius:.25rem}
button{font:inherit;padding:.6rem 1.2rem;margin:.25rem .5rem .25rem 0;border-radius:.3rem;border:1px solid #0b3d91;cursor:pointer}
#approve{background:#0b3d91;color:#fff}</style></head><body>
<p class="fake" role="note">This is a local <strong>fake</strong> of PayPal's approval page. No money moves.</p>
<h1>Pay ${escapeHtml(order.purchase_units[0].amount.value)} ${escapeHtml(order.purchase_units[0].amount.currency_code)}</h1>
<p>Order <code>${escapeHtml(order.id)}</code> — status <strong id="status">${escapeHtml(order.status)}</strong></p>
<form method="post" action="/checkoutnow/approve?token=${encodeURIComponent(order.id)}"><button id="approve" type="submit">Approve payment</button></form>
<form method="post" action="/checkoutnow/cancel?token=${encodeURIComponent(order.id)}"><button id="cancel" type="submit">Cancel and return</button></form>
</body></html>`;

  const donePage = (title: string, text: string) =>
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head><body style="font:16px system-ui,sans-serif;max-width:28rem;margin:3rem auto"><h1>${escapeHtml(title)}</h1><p>${escapeHtml(text)}</p><script>setTimeout(() => { if (window.opener) window.close(); }, 800);</script></body></html>`;

  const server = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => {
      raw += c.toString('utf8');
      if (raw.length > 1_000_000) req.destroy();
    });
    req.on('end', () => {
      const method = req.method ?? 'GET';
      const url = new URL(req.url ?? '/', base);
      const p = url.pathname;
      const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
        res.writeHead(status, { 'content-type': 'application/json', 'paypal-debug-id': newId(13).toLowerCase(), ...headers });
        res.end(typeof body === 'string' ? body : JSON.stringify(body));
      };
      if (method === 'GET' && p === '/health') return send(200, { fake: 'paypal', orders: orders.size });
      if (method === 'GET' && p === `/v1/notifications/certs/${certId}`) return send(200, cert, { 'content-type': 'application/x-pem-file' });

      // Buyer approval flow (HTML, what the payer-action link opens).
      if (p.startsWith('/checkoutnow')) {
        const order = orders.get(url.searchParams.get('token') ?? '');
        if (!order) return send(404, donePage('Not found', 'No such PayPal order.'), { 'content-type': 'text/html; charset=utf-8' });
        if (method === 'GET' && p === '/checkoutnow') return send(200, approvalPage(order), { 'content-type': 'text/html; charset=utf-8' });
        if (method === 'POST' && p === '/checkoutnow/approve') {
          if (order.status === 'PAYER_ACTION_REQUIRED' || order.status === 'CREATED') {
            order.status = 'APPROVED';
            order.update_time = new Date().toISOString();
            emit('CHECKOUT.ORDER.APPROVED', 'checkout-order', orderView(order), 'An order has been approved by buyer');
          }
          if (order.returnUrl) {
            const to = new URL(order.returnUrl);
            to.searchParams.set('token', order.id);
            to.searchParams.set('PayerID', 'FAKEPAYER');
            return send(303, '', { location: to.toString() });
          }
          return send(200, donePage('Payment approved', 'You can return to the store.'), { 'content-type': 'text/html; charset=utf-8' });
        }
        if (method === 'POST' && p === '/checkoutnow/cancel') {
          if (order.cancelUrl) return send(303, '', { location: order.cancelUrl });
          return send(200, donePage('Payment cancelled', 'You can return to the store.'), { 'content-type': 'text/html; charset=utf-8' });
        }
      }

      if (method === 'POST' && p === '/v1/oauth2/token') {
        const basic = /^Basic (.+)$/.exec(req.headers.authorization ?? '')?.[1];
        const [id, secret] = basic ? Buffer.from(basic, 'base64').toString('utf8').split(':') : [];
        const ok = id && secret && (!opts.clientId || (id === opts.clientId && secret === opts.clientSecret));
        if (!ok || new URLSearchParams(raw).get('grant_type') !== 'client_credentials') {
          return send(401, { error: 'invalid_client', error_description: 'Client Authentication failed' });
        }
        const token = `A21AA${randomBytes(24).toString('base64url')}`;
        tokens.add(token);
        return send(200, {
          scope: 'https://uri.paypal.com/services/payments/payment',
          access_token: token,
          token_type: 'Bearer',
          app_id: 'APP-FAKE',
          expires_in: 32400,
          nonce: newId(20),
        });
      }
      const bearer = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '')?.[1];
      if (!bearer || !tokens.has(bearer))
        return send(401, {
          name: 'AUTHENTICATION_FAILURE',
          message: 'Authentication failed due to invalid authentication credentials or a missing Authorization header.',
        });
      let body: Record<string, unknown> = {};
      if (raw) {
        try {
          body = JSON.parse(raw) as Record<string, unknown>;
        } catch {
          return send(400, { name: 'INVALID_REQUEST', message: 'Request is not well-formed, syntactically incorrect, or violates schema.' });
        }
      }
      const requestId = req.headers['paypal-request-id'];
      const cacheKey = typeof requestId === 'string' && method === 'POST' ? `${p}|${requestId}` : undefined;
      const cached = cacheKey ? idempotent.get(cacheKey) : undefined;
      if (cached) return send(cached.status, cached.body);
      if (method === 'POST') calls.push({ method, path: p });
      const result = route(method, p, body);
      if (cacheKey && result.status < 500) idempotent.set(cacheKey, result);
      return send(result.status, result.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  // A new certificate id per start, as PayPal names each certificate: receivers cache certificates
  // by URL, and a restarted fake has a new key.
  certUrl = `${opts.certBaseUrl ?? base}/v1/notifications/certs/${certId}`;
  return {
    url: base,
    certUrl,
    orders,
    calls,
    deliveries: sender.deliveries,
    sign,
    close: () =>
      new Promise<void>((resolve) => {
        sender.close();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
