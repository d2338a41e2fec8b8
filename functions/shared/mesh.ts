import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { type Config, config } from './config';
import { serviceDb } from './db';
import type { Database } from './db';
import { lambdaApiBase } from './endpoints';
import { dispatchOutbox, type Publish } from './events';
import { sweepExpiredIdempotencyRecords } from './idempotency-sweep';
import { logger } from './logger';
import { backoffDelay, sleep } from './retry';
import { createSigner, type RequestSigner } from './sigv4';

/**
 * The event mesh's edge: publishing outbox rows to SNS, the dispatcher Lambda every service with
 * an outbox deploys, and the after-commit kick that wakes it.
 */

/** SNS publish with the event type as a message attribute, so subscription filter policies match. */
export function snsPublisher(sns: SNSClient, topicArn: string): Publish {
  return async (event) => {
    await sns.send(
      new PublishCommand({
        TopicArn: topicArn,
        Message: JSON.stringify(event),
        MessageAttributes: {
          type: { DataType: 'String', StringValue: event.type },
          source: { DataType: 'String', StringValue: event.source },
        },
      }),
    );
  };
}

/** Attempts per kick (the SDK's default) and the wait for each: a kick holds up the request that committed. */
const KICK_ATTEMPTS = 3;
const KICK_TIMEOUT_MS = 3000;
const KICK_BACKOFF = { baseDelayMs: 50, maxDelayMs: 400 };

/**
 * The kick that wakes the dispatcher right after a commit: an asynchronous invoke (fire and
 * forget). A lost kick only delays delivery until the scheduled sweep, so it never throws.
 *
 * It is one signed HTTP request to Lambda's Invoke API (`InvocationType: Event`, SigV4 with the
 * caller's role, shared/sigv4.ts), not @aws-sdk/client-lambda: that client carries the models of
 * Lambda's ~80 operations, 74 KB of every bundle that kicks (payments API, orders API, saga step),
 * for this one call. Same request, same grant (lambda:InvokeFunction on the dispatcher); like the
 * SDK it tries up to three times on a network error, a throttle (429) or a 5xx, with jittered backoff.
 */
export function dispatcherKick(
  cfg: Pick<Config, 'AWS_REGION' | 'AWS_ENDPOINT_URL' | 'DISPATCHER_FUNCTION_NAME'>,
  opts: { signer?: RequestSigner; sleep?: (ms: number) => Promise<void> } = {},
): () => Promise<void> {
  const functionName = cfg.DISPATCHER_FUNCTION_NAME;
  if (!functionName) return async () => undefined;
  const url = `${lambdaApiBase({ region: cfg.AWS_REGION, emulatorEndpoint: cfg.AWS_ENDPOINT_URL })}/2015-03-31/functions/${encodeURIComponent(functionName)}/invocations`;
  const body = '{"source":"after-commit"}';
  const wait = opts.sleep ?? sleep;
  let sign = opts.signer;
  return async () => {
    sign ??= createSigner({ region: cfg.AWS_REGION, service: 'lambda' });
    let failure = '';
    for (let attempt = 0; attempt < KICK_ATTEMPTS; attempt++) {
      if (attempt > 0) await wait(backoffDelay(attempt, KICK_BACKOFF));
      try {
        const headers = await sign({ method: 'POST', url, headers: { 'content-type': 'application/json', 'x-amz-invocation-type': 'Event' }, body });
        const res = await fetch(url, { method: 'POST', headers, body, signal: AbortSignal.timeout(KICK_TIMEOUT_MS) });
        const text = await res.text();
        if (res.ok) return;
        failure = `Invoke answered ${res.status}: ${text.slice(0, 200)}`;
        // Refused (no grant, no such function, a bad request): trying again will not help.
        if (res.status !== 429 && res.status < 500) break;
      } catch (err) {
        failure = (err as Error).message;
      }
    }
    logger.warn('dispatcher kick failed; the sweep will publish', { error: failure });
  };
}

/**
 * Publishes what a commit just wrote to the outbox from the process that committed it (one
 * dispatch batch, the same SKIP LOCKED pass the dispatcher runs), instead of waking the
 * dispatcher Lambda: that saves an asynchronous invoke, often a cold start, on the event's way
 * out. When publishing fails (SNS down, the batch's lock lost), the dispatcher is kicked and the
 * sweep stays the safety net: nothing is lost, it only takes the slower path.
 */
export async function publishAfterCommit(opts: { db: Database; publish: Publish; kick: () => Promise<void> }): Promise<void> {
  try {
    const result = await dispatchOutbox(opts.db, opts.publish, { maxBatches: 1 });
    if (!result.failed) return;
  } catch (err) {
    logger.warn('publishing after commit failed; kicking the dispatcher', { error: (err as Error).message });
  }
  await opts.kick();
}

/** Expired idempotency records deleted per sweep (one statement; a backlog goes over the next minutes). */
const IDEMPOTENCY_SWEEP_LIMIT = 500;

/**
 * A service's outbox dispatcher handler: invoked asynchronously right after a commit and every
 * minute by the EventBridge sweep. Concurrent invocations are safe (SKIP LOCKED). The sweep also
 * deletes a bounded batch of the service's expired Lambda idempotency records
 * (idempotency-sweep.ts; both services with an outbox keep such records in their schema).
 */
export function outboxDispatcherHandler(topic: 'ORDERS_TOPIC_ARN' | 'PAYMENTS_TOPIC_ARN') {
  const sns = new SNSClient({});
  return async (event: unknown) => {
    const cfg = config();
    const db = serviceDb(cfg);
    await db.ensureFresh();
    const topicArn = cfg[topic];
    if (!topicArn) throw new Error(`${topic} is not set`);
    const result = await dispatchOutbox(db, snsPublisher(sns, topicArn));
    const trigger = (event as { source?: string })?.source ?? 'unknown';
    let expiredIdempotencyRecords: number | undefined;
    if (trigger === 'sweep') {
      // Housekeeping: a failure here must not fail the dispatch (the next sweep tries again).
      expiredIdempotencyRecords = await sweepExpiredIdempotencyRecords(db, { limit: IDEMPOTENCY_SWEEP_LIMIT }).catch((err: Error) => {
        logger.warn('expired idempotency records not swept', { error: err.message });
        return undefined;
      });
    }
    logger.info('outbox dispatched', { ...result, trigger, expiredIdempotencyRecords });
    return result;
  };
}
