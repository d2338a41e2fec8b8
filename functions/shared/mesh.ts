import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { config } from './config';
import { serviceDb } from './db';
import type { Database } from './db';
import { dispatchOutbox, type Publish } from './events';
import { logger } from './logger';

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

/**
 * Kicks the dispatcher right after a commit (asynchronous invoke, fire and forget).
 * A lost kick only delays delivery until the scheduled sweep.
 */
export async function kickDispatcher(lambda: LambdaClient, functionName: string | undefined): Promise<void> {
  if (!functionName) return;
  try {
    await lambda.send(new InvokeCommand({ FunctionName: functionName, InvocationType: 'Event', Payload: Buffer.from('{"source":"after-commit"}') }));
  } catch (err) {
    logger.warn('dispatcher kick failed; the sweep will publish', { error: (err as Error).message });
  }
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

/**
 * A service's outbox dispatcher handler: invoked asynchronously right after a commit and every
 * minute by the EventBridge sweep. Concurrent invocations are safe (SKIP LOCKED).
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
    logger.info('outbox dispatched', { ...result, trigger: (event as { source?: string })?.source ?? 'unknown' });
    return result;
  };
}
