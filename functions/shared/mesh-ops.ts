import { SQSClient } from '@aws-sdk/client-sqs';
import { CONSUMER_QUEUES, type QueueOwner } from './consumer-queues';
import type { Queryable } from './db';
import { dlqDepths, redriveDlq } from './dlq';
import { outboxStats } from './events';
import { json, route, type Route } from './http';

const NO_STORE = { 'cache-control': 'no-store' };

/**
 * The ops routes every service with an outbox and consumer queues serves (admin, through the BFF,
 * which asks each owner and merges): its outbox backlog, and the depth and redrive of its own
 * consumers' DLQs (`CONSUMER_QUEUES[owner]`; another queue is 404, and its role may touch no other).
 */
export function meshOpsRoutes(owner: QueueOwner, db: () => Queryable): Route[] {
  const owned = CONSUMER_QUEUES[owner];
  let sqs: SQSClient | undefined;
  const client = () => (sqs ??= new SQSClient({}));
  return [
    route('GET', '/ops/outbox', async () => json(200, await outboxStats(db()), NO_STORE)),
    route('GET', '/ops/dlq', async () => json(200, await dlqDepths(client(), owned), NO_STORE)),
    route('POST', '/ops/dlq/{queue}/redrive', async (req) => json(200, await redriveDlq(client(), req.params.queue, owned))),
  ];
}
