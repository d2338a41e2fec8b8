import { SQSClient } from '@aws-sdk/client-sqs';
import { CONSUMER_QUEUES, type QueueOwner } from './consumer-queues';
import { serviceDb, type Queryable } from './db';
import { dlqDepths, redriveDlq } from './dlq';
import { outboxStats } from './events';
import { json, route, type Route } from './http';
import { serviceRuntime } from './service';

const NO_STORE = { 'cache-control': 'no-store' };

/**
 * The ops routes every service with an outbox and consumer queues serves (admin, through the BFF,
 * which asks each owner and merges): its outbox backlog, and the depth and redrive of its own
 * consumers' DLQs (`CONSUMER_QUEUES[owner]`; another queue is 404, and its role may touch no other).
 */
function meshOpsRoutes(owner: QueueOwner, db: () => Queryable): Route[] {
  const owned = CONSUMER_QUEUES[owner];
  let sqs: SQSClient | undefined;
  const client = () => (sqs ??= new SQSClient({}));
  return [
    route('GET', '/ops/outbox', async () => json(200, await outboxStats(db()), NO_STORE)),
    route('GET', '/ops/dlq', async () => json(200, await dlqDepths(client(), owned), NO_STORE)),
    route('POST', '/ops/dlq/{queue}/redrive', async (req) => json(200, await redriveDlq(client(), req.params.queue, owned))),
  ];
}

/**
 * The Lambda behind those routes (functions/<owner>/handlers/ops.ts): its own function on the
 * owner's HTTP API (route integrations, cdk/lib/services/mesh-ops.ts), so the owner's API Lambda
 * carries no SQS client (49 KB of the payments bundle) and only this role holds the SQS grants.
 * Same runtime as the owner's API: its Vault-leased pool, chaos, the IAM caller check.
 */
export function meshOpsHandler(owner: QueueOwner) {
  const runtime = serviceRuntime(owner, { postgres: serviceDb });
  return runtime.api(meshOpsRoutes(owner, runtime.db));
}
