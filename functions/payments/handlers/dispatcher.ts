import { outboxDispatcherHandler } from '../../shared/mesh';

/** Publishes the payments outbox to the payments topic (after-commit kick + 1-minute sweep). */
export const handler = outboxDispatcherHandler('PAYMENTS_TOPIC_ARN');
