import { outboxDispatcherHandler } from '../../shared/mesh';

/** Publishes the orders outbox (OrderPlaced, OrderCompleted, OrderFailed, OrderNeedsAttention) to the orders topic. */
export const handler = outboxDispatcherHandler('ORDERS_TOPIC_ARN');
