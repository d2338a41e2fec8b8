import type { Principal } from '../../shared/auth';
import type { HttpRequest } from '../../shared/http';
import { publicRoute, signedIn, type PublicRoute } from '../access';
import { proxyTo } from '../proxy';
import { idempotent } from '../middleware/idempotency';

/**
 * /api/orders: authenticated; POST needs an Idempotency-Key (a replay answers the stored 202,
 * so one key starts one saga). The BFF passes the verified customer to the internal orders API.
 */
const customer = (_req: HttpRequest, principal: Principal | undefined): Record<string, string> => {
  const p = signedIn(principal);
  return { 'x-customer-id': p.sub, 'x-customer-role': p.roles.includes('admin') ? 'admin' : 'customer' };
};
const RESPONSE_HEADERS = ['content-type', 'location', 'retry-after'];
const NO_STORE = { 'cache-control': 'no-store' };

export function orderRoutes(): PublicRoute[] {
  // Checkout budget (12 s): a cold orders Lambda leases Vault credentials, looks up catalog
  // prices (itself retrying the catalog's throttles) and starts the saga.
  const place = proxyTo('orders', { path: '/orders', extraHeaders: customer, responseHeaders: RESPONSE_HEADERS, answerHeaders: NO_STORE, budget: 'checkout' });
  // Reads get the write budget (10 s), not the 2 s read one: an order read asks payments too (orders
  // allows that call 5 s) and the trace reads the Step Functions history, so two cold paths may sit
  // behind one read; the storefront polls these right after checkout, where a late answer beats a refusal.
  const read = (path: (req: HttpRequest) => string) =>
    proxyTo('orders', { path, extraHeaders: customer, responseHeaders: RESPONSE_HEADERS, answerHeaders: NO_STORE, budget: 'write' });
  const id = (req: HttpRequest) => encodeURIComponent(req.params.id);
  return [
    // Signed in first, then the Idempotency-Key claim: a refused call claims nothing.
    publicRoute('POST', '/api/orders', 'signedIn', (req, p) => idempotent((r) => place(r, p))(req)),
    // "My orders": the signed-in customer's own, paged (?limit=&offset=).
    publicRoute(
      'GET',
      '/api/orders',
      'signedIn',
      read((req) => {
        const qs = new URLSearchParams(req.query).toString();
        return `/orders${qs ? `?${qs}` : ''}`;
      }),
    ),
    publicRoute(
      'GET',
      '/api/orders/{id}',
      'signedIn',
      read((req) => `/orders/${id(req)}`),
    ),
    publicRoute(
      'GET',
      '/api/orders/{id}/trace',
      'signedIn',
      read((req) => `/orders/${id(req)}/trace`),
    ),
    // The buyer cancelled on PayPal's page (its cancel_url): fail the pending payment at once. Safe to
    // repeat (a failed payment stays failed), so no Idempotency-Key.
    publicRoute(
      'POST',
      '/api/orders/{id}/payment/cancel',
      'signedIn',
      read((req) => `/orders/${id(req)}/payment/cancel`),
    ),
  ];
}
