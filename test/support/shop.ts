import { setTimeout as sleep } from 'node:timers/promises';
import crypto from 'node:crypto';
import { endpoints } from './endpoints';
import type { PaymentView } from '../../functions/orders/adapters/http';

/**
 * A shopper through the public API, as the storefront does it: log in, place an order with an
 * Idempotency-Key, pay the way the provider's browser SDK would (Stripe: confirm the
 * PaymentIntent with the publishable key and client secret; PayPal: approve on the approval
 * page), and follow the order to its end. Used by the e2e tests, the soak and the benchmarks.
 */
export interface TraceStep {
  step: string;
  started: string;
  ended: string | null;
  outcome: string;
  compensation: boolean;
  error?: string;
  cause?: string;
}

export interface OrderView {
  id: string;
  state: string;
  executionArn: string | null;
  amountCents: number;
  paymentProvider: 'stripe' | 'paypal';
  paymentSessionId: string | null;
  failureReason: string | null;
  payment: null | PaymentView;
}

export const TERMINAL_STATES = ['COMPLETED', 'FAILED', 'NEEDS_ATTENTION'];

export class Shopper {
  readonly api = endpoints().apiBaseUrl;
  private token = '';
  private clientConfig?: { payments: { stripe: { publishableKey: string; apiBase: string } } };

  constructor(private readonly credentials = { email: 'demo@checkout-mesh.dev', password: 'demo-password-123' }) {}

  /** Logs in; a busy identity service (429 / 5xx, password hashing is CPU-bound) is retried. */
  async login(attempts = 6): Promise<this> {
    for (let i = 0; ; i++) {
      const res = await fetch(`${this.api}/api/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(this.credentials),
        signal: AbortSignal.timeout(30_000),
      }).catch((err: Error) => err);
      if (!(res instanceof Error) && res.status === 200) {
        this.token = ((await res.json()) as { accessToken: string }).accessToken;
        return this;
      }
      const why = res instanceof Error ? res.message : `${res.status}: ${await res.text()}`;
      const retryable = res instanceof Error || res.status === 429 || res.status >= 500;
      if (!retryable || i + 1 >= attempts) throw new Error(`login failed: ${why}`);
      await sleep(Math.min(8000, 500 * 2 ** i) * (0.5 + Math.random()));
    }
  }

  /** Uses a token the caller already holds (a crowd signs its users in before it starts). */
  withToken(accessToken: string): this {
    this.token = accessToken;
    return this;
  }

  get authorization(): string {
    return `Bearer ${this.token}`;
  }

  /** POST /api/orders; the same key on a retry makes it the same order. */
  placeOrder(body: unknown, idempotencyKey: string = crypto.randomUUID()): Promise<Response> {
    return fetch(`${this.api}/api/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: this.authorization, 'idempotency-key': idempotencyKey },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(60_000),
    });
  }

  /**
   * POST /api/orders as a real client does under load: a 429 / 5xx or a network error is retried
   * with the SAME Idempotency-Key (so it stays one order), with backoff, a bounded number of times.
   */
  async placeOrderRetrying(
    body: unknown,
    opts: { attempts?: number; onRetry?: (status: number | string) => void } = {},
  ): Promise<{ status: number; body: Record<string, unknown>; retries: number }> {
    const key = crypto.randomUUID();
    const attempts = opts.attempts ?? 6;
    for (let i = 0; ; i++) {
      let status: number | string;
      try {
        const res = await this.placeOrder(body, key);
        const text = await res.text();
        status = res.status;
        const retryable = res.status === 429 || res.status >= 500 || (res.status === 409 && text.includes('idempotencyInFlight'));
        if (!retryable || i + 1 >= attempts) return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {}, retries: i };
      } catch (err) {
        status = (err as Error).name;
        if (i + 1 >= attempts) throw err;
      }
      opts.onRetry?.(status);
      await sleep(Math.min(8000, 400 * 2 ** i) * (0.5 + Math.random()));
    }
  }

  /** A GET that a busy system may answer with 429 / 5xx: retried a few times, as the storefront does. */
  private async getJson<T>(path: string, attempts = 5): Promise<T> {
    for (let i = 0; ; i++) {
      const res = await fetch(`${this.api}${path}`, { headers: { authorization: this.authorization }, signal: AbortSignal.timeout(30_000) }).catch((err: Error) => err);
      if (!(res instanceof Error) && res.status === 200) return (await res.json()) as T;
      const why = res instanceof Error ? res.message : `${res.status}: ${await res.text()}`;
      if ((!(res instanceof Error) && res.status !== 429 && res.status < 500) || i + 1 >= attempts) throw new Error(`GET ${path} failed: ${why}`);
      await sleep(500 * 2 ** i);
    }
  }

  order(id: string): Promise<OrderView> {
    return this.getJson<OrderView>(`/api/orders/${id}`);
  }

  trace(id: string): Promise<{ state: string; steps: TraceStep[] }> {
    return this.getJson(`/api/orders/${id}/trace`);
  }

  /** Polls until the order can be paid (its payment session exists), or gives up. */
  async awaitPayable(id: string, timeoutMs = 60_000): Promise<OrderView> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const o = await this.order(id);
      if (o.payment?.providerRef && o.state === 'AWAITING_PAYMENT') return o;
      if (TERMINAL_STATES.includes(o.state) || Date.now() > deadline) throw new Error(`order ${id} not payable: state ${o.state}`);
      await sleep(250);
    }
  }

  async config() {
    // Through the busy-tolerant GET: a refusal must not be cached as the configuration.
    this.clientConfig ??= await this.getJson<NonNullable<Shopper['clientConfig']>>('/api/config');
    return this.clientConfig;
  }

  /**
   * Pays like the provider's browser SDK: Stripe confirm with a test payment method
   * (`pm_card_visa` authorises, `pm_card_chargeDeclined` declines), or PayPal approval.
   * Returns the provider's HTTP status.
   */
  async pay(order: OrderView, opts: { decline?: boolean } = {}): Promise<number> {
    const p = order.payment;
    if (!p?.providerRef) throw new Error(`order ${order.id} has no payment yet`);
    if (p.provider === 'paypal') {
      if (!p.approveUrl) throw new Error('PayPal session without an approval link');
      const url = new URL(p.approveUrl);
      const res = await fetch(`${url.origin}/checkoutnow/${opts.decline ? 'cancel' : 'approve'}${url.search}`, { method: 'POST', redirect: 'manual' });
      await res.text();
      return res.status;
    }
    const { stripe } = (await this.config()).payments;
    const res = await fetch(`${stripe.apiBase}/v1/payment_intents/${p.providerRef}/confirm`, {
      method: 'POST',
      headers: { authorization: `Bearer ${stripe.publishableKey}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ client_secret: p.clientSecret ?? '', payment_method: opts.decline ? 'pm_card_chargeDeclined' : 'pm_card_visa' }),
    });
    await res.text();
    return res.status;
  }

  /** Waits until the order is terminal and its execution's last step has exited. */
  async settled(id: string, timeoutMs = 120_000): Promise<{ state: string; steps: TraceStep[] }> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const t = await this.trace(id);
      if ((TERMINAL_STATES.includes(t.state) && t.steps.every((s) => s.outcome !== 'running')) || Date.now() > deadline) return t;
      await sleep(500);
    }
  }
}
