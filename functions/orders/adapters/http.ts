import { HttpProblem } from '../../shared/problem';
import type { ServiceClient, ServiceResponse } from '../../shared/service-client';
import type { CatalogProduct } from '../core/place';
import type { PaymentsPort, StockPort } from '../core/ports';

/**
 * Catalog's and payments' internal APIs behind orders' ports. The HTTP status rules live here:
 * a refusal (409, an unknown product's 404) is data for the saga, any other non-2xx throws a
 * TechnicalFailure so Step Functions retries the step and then compensates.
 */
type InternalApi = Pick<ServiceClient, 'call'>;

const ok = (res: ServiceResponse) => res.status >= 200 && res.status < 300;

const body = <T = Record<string, unknown>>(res: ServiceResponse): T => {
  try {
    return JSON.parse(res.body) as T;
  } catch {
    return {} as T;
  }
};

class TechnicalFailure extends Error {
  constructor(what: string, res: ServiceResponse) {
    super(`${what} answered ${res.status}: ${res.body.slice(0, 300)}`);
    this.name = 'TechnicalFailure';
  }
}

export class HttpCatalog implements StockPort {
  constructor(private readonly api: InternalApi) {}

  async reserve(orderId: string, items: { productId: string; quantity: number }[], correlationId: string) {
    const res = await this.api.call('POST', '/internal/reservations', { body: { orderId, items }, correlationId });
    if (res.status === 409 || res.status === 404) return { reserved: false as const, detail: body(res) };
    if (!ok(res)) throw new TechnicalFailure('catalog reservation', res);
    return { reserved: true as const };
  }

  async release(orderId: string, correlationId: string): Promise<void> {
    const res = await this.api.call('DELETE', `/internal/reservations/${orderId}`, { correlationId });
    if (!ok(res) && res.status !== 404) throw new TechnicalFailure('stock release', res);
  }

  /** Each product's catalog price and stock (undefined: no such product), for placing an order. */
  async products(ids: string[], correlationId: string): Promise<Map<string, CatalogProduct | undefined>> {
    const entries = await Promise.all(
      ids.map(async (id) => {
        const res = await this.api.call('GET', `/products/${id}`, { correlationId, timeoutMs: 10_000 });
        if (res.status === 404) return [id, undefined] as const;
        if (res.status === 429) {
          throw new HttpProblem(503, 'upstreamUnavailable', `catalog is busy (throttled) pricing product ${id}; retry`, { headers: { 'retry-after': '1' } });
        }
        if (res.status !== 200) throw new HttpProblem(502, 'upstreamUnavailable', `catalog answered ${res.status} for product ${id}`);
        return [id, JSON.parse(res.body) as CatalogProduct] as const;
      }),
    );
    return new Map(entries);
  }
}

/** What the customer needs to pay: the Stripe client secret or the PayPal approval link. */
export interface PaymentView {
  sessionId: string;
  provider: string;
  status: string;
  providerRef: string | null;
  clientSecret: string | null;
  approveUrl: string | null;
}

export class HttpPayments implements PaymentsPort {
  constructor(private readonly api: InternalApi) {}

  async createSession(order: { id: string; amountCents: number; currency: string; paymentProvider: string }, correlationId: string) {
    const res = await this.api.call('POST', '/internal/payment-sessions', {
      body: { orderId: order.id, amountCents: order.amountCents, currency: order.currency, provider: order.paymentProvider },
      correlationId,
    });
    if (res.status === 409) return { refused: body(res) };
    if (!ok(res)) throw new TechnicalFailure('payment session', res);
    return { sessionId: body<{ id: string }>(res).id };
  }

  async capture(sessionId: string, correlationId: string) {
    const res = await this.api.call('POST', `/internal/payment-sessions/${sessionId}/capture`, { correlationId });
    if (res.status === 409) return { refused: body(res) };
    if (!ok(res)) throw new TechnicalFailure('payment capture', res);
    return { captured: true as const };
  }

  async sessionStatus(sessionId: string, correlationId: string): Promise<string | undefined> {
    const res = await this.api.call('GET', `/internal/payment-sessions/${sessionId}`, { correlationId });
    if (res.status === 404) return undefined;
    if (!ok(res)) throw new TechnicalFailure('payment session lookup', res);
    return body<{ status: string }>(res).status;
  }

  async sessionOfOrder(orderId: string, correlationId: string): Promise<string | undefined> {
    const res = await this.api.call('GET', `/internal/payment-sessions?orderId=${encodeURIComponent(orderId)}`, { correlationId });
    if (res.status === 404) return undefined;
    if (!ok(res)) throw new TechnicalFailure('payment session lookup', res);
    return body<{ id: string }>(res).id;
  }

  async refund(sessionId: string, correlationId: string): Promise<void> {
    const res = await this.api.call('POST', `/internal/payment-sessions/${sessionId}/refund`, { correlationId });
    if (!ok(res)) throw new TechnicalFailure('payment refund', res);
  }

  async cancel(sessionId: string, correlationId: string): Promise<void> {
    const res = await this.api.call('POST', `/internal/payment-sessions/${sessionId}/cancel`, { correlationId });
    if (!ok(res) && res.status !== 404) throw new TechnicalFailure('payment cancel', res);
  }

  /** The session as the order page shows it, or null when payments is slow or down (the page polls again). */
  async paymentView(sessionId: string | null, correlationId: string): Promise<PaymentView | null> {
    if (!sessionId) return null;
    try {
      const res = await this.api.call('GET', `/internal/payment-sessions/${sessionId}`, { correlationId, timeoutMs: 5000 });
      if (res.status !== 200) return null;
      const s = JSON.parse(res.body) as PaymentView & { id: string };
      return { sessionId: s.id, provider: s.provider, status: s.status, providerRef: s.providerRef, clientSecret: s.clientSecret, approveUrl: s.approveUrl };
    } catch {
      return null;
    }
  }

  /**
   * The buyer abandoned the provider's page: payments fails the still-pending session as the
   * provider's failure event would (PaymentFailed resumes the saga, which compensates).
   */
  async abandon(sessionId: string, correlationId: string): Promise<unknown> {
    const res = await this.api.call('POST', `/internal/payment-sessions/${sessionId}/abandon`, { correlationId, timeoutMs: 5000 });
    if (!ok(res)) throw new TechnicalFailure('payment abandon', res);
    return body(res);
  }
}
