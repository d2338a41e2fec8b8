import { CONSUMER_QUEUES, QUEUE_OWNERS } from '../../shared/consumer-queues';
import { json, type HttpRequest } from '../../shared/http';
import { HttpProblem } from '../../shared/problem';
import { publicRoute, type GuardedHandler, type PublicRoute } from '../access';
import { proxyTo } from '../proxy';

/**
 * Admin-only ops of the event mesh (the /chaos page): every outbox's backlog, every consumer's DLQ
 * depth, and DLQ redrive. Each service reports only its own outbox and consumer queues (least
 * privilege, shared/consumer-queues.ts); the BFF asks every owner and merges the answers, naming
 * the service of each entry. An owner that cannot answer is listed as unavailable, the rest stand.
 */
const NO_STORE = { 'cache-control': 'no-store' };

// Operator reads get the write budget (10 s): a cold start leases Vault credentials, and the DLQ
// depths are several SQS calls. Nothing of the client's request is passed on.
const forward = (service: string, path: string | ((req: HttpRequest) => string)) =>
  proxyTo(service, { path, requestHeaders: [], forwardBody: false, budget: 'write', answerHeaders: NO_STORE });

type OwnerAnswer<T> = { service: string; body: T } | { service: string; error: string };

/** One GET to every queue owner, in parallel; a refusal or outage becomes that owner's `error`. */
async function askOwners<T>(path: string, req: HttpRequest, principal: Parameters<GuardedHandler>[1]): Promise<Array<OwnerAnswer<T>>> {
  return Promise.all(
    QUEUE_OWNERS.map(async (service): Promise<OwnerAnswer<T>> => {
      try {
        const res = await forward(service, path)(req, principal);
        if (res.status !== 200) return { service, error: `answered ${res.status}` };
        return { service, body: JSON.parse(String(res.body)) as T };
      } catch (err) {
        return { service, error: err instanceof HttpProblem ? err.message : 'unavailable' };
      }
    }),
  );
}

interface OutboxStats {
  pending: number;
  oldestAgeSeconds: number | null;
}
interface DlqDepth {
  queue: string;
  dlq: string;
  depth: number | null;
}

export function opsRoutes(): PublicRoute[] {
  return [
    publicRoute('GET', '/api/ops/outbox', 'admin', async (req, principal) => {
      const answers = await askOwners<OutboxStats>('/ops/outbox', req, principal);
      const outboxes = answers.map((a) =>
        'body' in a ? { service: a.service, ...a.body } : { service: a.service, pending: null, oldestAgeSeconds: null, error: a.error },
      );
      const known = outboxes.filter((o) => o.pending !== null);
      const ages = known.map((o) => o.oldestAgeSeconds).filter((a): a is number => a !== null);
      return json(200, { pending: known.reduce((n, o) => n + (o.pending ?? 0), 0), oldestAgeSeconds: ages.length ? Math.max(...ages) : null, outboxes }, NO_STORE);
    }),
    publicRoute('GET', '/api/ops/dlq', 'admin', async (req, principal) => {
      const answers = await askOwners<{ queues: DlqDepth[] }>('/ops/dlq', req, principal);
      const queues = answers.flatMap((a) => ('body' in a ? a.body.queues.map((q) => ({ ...q, service: a.service })) : []));
      const unavailable = answers.filter((a): a is { service: string; error: string } => 'error' in a);
      return json(200, { queues, unavailable }, NO_STORE);
    }),
    // The payments card's demo: the latest applied Stripe event delivered again, acknowledged as a duplicate.
    publicRoute('POST', '/api/ops/webhooks/stripe/replay', 'admin', forward('payments', '/ops/webhooks/stripe/replay')),
    // Moves a consumer's DLQ messages back to its queue, through the service that owns it.
    publicRoute('POST', '/api/ops/dlq/{queue}/redrive', 'admin', async (req, principal) => {
      const queue = req.params.queue;
      if (!/^[a-z][a-z0-9-]{1,60}$/.test(queue)) throw new HttpProblem(400, 'validation', 'queue: a consumer name like payments-audit');
      const owner = QUEUE_OWNERS.find((service) => (CONSUMER_QUEUES[service] as readonly string[]).includes(queue));
      if (!owner) throw new HttpProblem(404, 'notFound', `No consumer queue ${queue}`);
      return forward(owner, `/ops/dlq/${queue}/redrive`)(req, principal);
    }),
  ];
}
