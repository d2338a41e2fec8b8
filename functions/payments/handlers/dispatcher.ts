import { SNSClient } from '@aws-sdk/client-sns';
import { config } from '../../shared/config';
import { serviceDb } from '../../shared/db';
import { dispatchOutbox } from '../../shared/events';
import { logger } from '../../shared/logger';
import { snsPublisher } from '../adapters/mesh';

/**
 * The outbox dispatcher: invoked asynchronously right after a commit and every minute by
 * the EventBridge sweep. Concurrent invocations are safe (SKIP LOCKED).
 */
const sns = new SNSClient({});

export const handler = async (event: unknown) => {
  const cfg = config();
  const db = serviceDb(cfg);
  await db.ensureFresh();
  const topicArn = process.env.PAYMENTS_TOPIC_ARN;
  if (!topicArn) throw new Error('PAYMENTS_TOPIC_ARN is not set');
  const result = await dispatchOutbox(db, snsPublisher(sns, topicArn));
  logger.info('outbox dispatched', { ...result, trigger: (event as { source?: string })?.source ?? 'unknown' });
  return result;
};
