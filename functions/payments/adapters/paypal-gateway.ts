import { ProviderRejected, type CreateSessionInput, type Operation, type PaymentGateway } from '../core/gateway';

/**
 * PayPal adapter over the Orders v2 REST API (fetch; PayPal's Node SDKs are deprecated or
 * server-SDK previews). intent CAPTURE: the buyer approves on PayPal (the payer-action link),
 * PayPal sends CHECKOUT.ORDER.APPROVED, and the saga captures the order. Every POST carries
 * PayPal-Request-Id so a retried call is replayed by PayPal, not repeated.
 *
 * `apiBase` is https://api-m.paypal.com (live), https://api-m.sandbox.paypal.com, or the local
 * fake (localstack/fakes/paypal-fake.ts).
 */
export interface PayPalCredentials {
  clientId: string;
  clientSecret: string;
}

interface PayPalError {
  name?: string;
  message?: string;
  details?: Array<{ issue?: string; description?: string }>;
}

interface PayPalOrder {
  id: string;
  status: string;
  links?: Array<{ href: string; rel: string }>;
  purchase_units?: Array<{ payments?: { captures?: Array<{ id: string; status: string }> } }>;
}

const TIMEOUT_MS = 5000;

/**
 * Where PayPal sends the buyer after the approval page: the store's order page, on approval and
 * on cancel (`paypal=cancelled` tells the page which). Without a store base, none: PayPal then
 * ends on its own page.
 */
export function returnUrls(storeBase: string | undefined, orderId: string): { return_url: string; cancel_url: string } | Record<string, never> {
  if (!storeBase) return {};
  const page = `${storeBase.replace(/\/+$/, '')}/`;
  return {
    return_url: `${page}?${new URLSearchParams({ order: orderId })}`,
    cancel_url: `${page}?${new URLSearchParams({ order: orderId, paypal: 'cancelled' })}`,
  };
}

export function paypalGateway(creds: PayPalCredentials, apiBase: string, storeBase?: string): PaymentGateway {
  const base = apiBase.replace(/\/+$/, '');
  let token: { value: string; until: number } | undefined;

  const accessToken = async (): Promise<string> => {
    if (token && Date.now() < token.until) return token.value;
    const res = await fetch(`${base}/v1/oauth2/token`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${creds.clientId}:${creds.clientSecret}`).toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: 'grant_type=client_credentials',
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
    if (!res.ok) throw new Error(`PayPal OAuth answered ${res.status}`);
    const body = (await res.json()) as { access_token: string; expires_in: number };
    // Renew a minute early so a request never goes out with a token about to expire.
    token = { value: body.access_token, until: Date.now() + Math.max(0, body.expires_in - 60) * 1000 };
    return token.value;
  };

  const call = async <T>(method: 'GET' | 'POST', path: string, body?: unknown, requestId?: string): Promise<T> => {
    const headers: Record<string, string> = { authorization: `Bearer ${await accessToken()}`, 'content-type': 'application/json', prefer: 'return=representation' };
    if (requestId) headers['paypal-request-id'] = requestId;
    const res = await fetch(`${base}${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
    const text = await res.text();
    if (res.status === 401) token = undefined;
    if (res.ok) return JSON.parse(text) as T;
    let err: PayPalError = {};
    try {
      err = JSON.parse(text) as PayPalError;
    } catch {
      /* not JSON */
    }
    const issue = err.details?.[0]?.issue;
    // 4xx other than auth: PayPal refused for the order's state or the request; 5xx/401: technical.
    if (res.status >= 400 && res.status < 500 && res.status !== 401 && res.status !== 429) {
      throw new ProviderRejected(`${err.name ?? res.status}${issue ? ` ${issue}` : ''}: ${err.message ?? text.slice(0, 200)}`, issue ?? err.name);
    }
    throw new Error(`PayPal ${method} ${path} answered ${res.status}`);
  };

  return {
    provider: 'paypal',
    async createSession(input: CreateSessionInput, idempotencyKey: string) {
      const order = await call<PayPalOrder>(
        'POST',
        '/v2/checkout/orders',
        {
          intent: 'CAPTURE',
          purchase_units: [
            {
              reference_id: input.orderId,
              custom_id: input.sessionId,
              amount: { currency_code: input.currency.toUpperCase(), value: (input.amountCents / 100).toFixed(2) },
            },
          ],
          payment_source: { paypal: { experience_context: { user_action: 'PAY_NOW', shipping_preference: 'NO_SHIPPING', ...returnUrls(storeBase, input.orderId) } } },
        },
        idempotencyKey,
      );
      const approve = order.links?.find((l) => l.rel === 'payer-action' || l.rel === 'approve')?.href;
      return { providerRef: order.id, approveUrl: approve, status: order.status };
    },
    async operate(op: Operation, providerRef: string, idempotencyKey: string) {
      if (op === 'capture') {
        const order = await call<PayPalOrder>('POST', `/v2/checkout/orders/${encodeURIComponent(providerRef)}/capture`, {}, idempotencyKey);
        return { providerStatus: order.status, providerId: order.purchase_units?.[0]?.payments?.captures?.[0]?.id };
      }
      const order = await call<PayPalOrder>('GET', `/v2/checkout/orders/${encodeURIComponent(providerRef)}`);
      const capture = order.purchase_units?.[0]?.payments?.captures?.[0];
      if (op === 'cancel') {
        // An uncaptured CAPTURE-intent order has nothing to void at PayPal: we abandon it (it
        // expires) and the session's `cancelled` status makes a late approval a no-op.
        if (order.status === 'COMPLETED' || capture) throw new ProviderRejected('Order is already captured; refund it instead', 'ORDER_ALREADY_CAPTURED');
        return { providerStatus: `ABANDONED (${order.status})`, providerId: order.id };
      }
      if (!capture) throw new ProviderRejected('Order has no capture to refund', 'NO_CAPTURE');
      const refund = await call<{ id: string; status: string }>('POST', `/v2/payments/captures/${encodeURIComponent(capture.id)}/refund`, {}, idempotencyKey);
      return { providerStatus: refund.status, providerId: refund.id };
    },
  };
}
