import type { HttpRequest } from '../../shared/http';
import { HttpProblem } from '../../shared/problem';
import { publicRoute, type PublicRoute } from '../access';
import { proxyTo } from '../proxy';

/**
 * Admin-only ops of the event mesh (the /chaos page): the payments outbox backlog, the
 * consumers' DLQ depths, and DLQ redrive. Both live on the internal payments API; the BFF checks the admin role
 * and passes the answer through.
 */
export function opsRoutes(): PublicRoute[] {
  // Operator reads get the write budget (10 s): a payments cold start leases Vault credentials,
  // and the DLQ depths are several SQS calls. Nothing of the client's request is passed on.
  const forward = (path: string | ((req: HttpRequest) => string)) =>
    proxyTo('payments', { path, requestHeaders: [], forwardBody: false, budget: 'write', answerHeaders: { 'cache-control': 'no-store' } });
  return [
    publicRoute('GET', '/api/ops/outbox', 'admin', forward('/ops/outbox')),
    publicRoute('GET', '/api/ops/dlq', 'admin', forward('/ops/dlq')),
    // The payments card's demo: the latest applied Stripe event delivered again, acknowledged as a duplicate.
    publicRoute('POST', '/api/ops/webhooks/stripe/replay', 'admin', forward('/ops/webhooks/stripe/replay')),
    // Moves a consumer's DLQ messages back to its queue (payments answers 404 for a queue it does not own).
    publicRoute(
      'POST',
      '/api/ops/dlq/{queue}/redrive',
      'admin',
      forward((req) => {
        if (!/^[a-z][a-z0-9-]{1,60}$/.test(req.params.queue)) throw new HttpProblem(400, 'validation', 'queue: a consumer name like payments-audit');
        return `/ops/dlq/${req.params.queue}/redrive`;
      }),
    ),
  ];
}
