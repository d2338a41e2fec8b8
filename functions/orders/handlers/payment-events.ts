import { config } from '../../shared/config';
import { serviceDb } from '../../shared/db';
import { IDEMPOTENCY_PREFIX } from '../../shared/idempotency';
import { applyOnce, sqsEventHandler } from '../../shared/inbox';
import { logger } from '../../shared/logger';
import { keepEarlyPayment, lockForPayment, setTaskToken } from '../adapters/pg';
import { resumeWaitForPayment } from '../adapters/sfn';

/**
 * Consumer of PaymentSucceeded / PaymentFailed: resumes the order's WaitForPayment with the
 * task token stored on the order. A repeated event id does nothing: answered from its idempotency
 * record (orders.idempotency_records), or, if that was never written, stopped by the inbox in the resume's transaction. An event
 * that arrives before the token is stored is kept on the order; WaitForPayment picks it up.
 */
const cfg = config();
const CONSUMER = 'orders-payment-events';

export const handler = sqsEventHandler(
  async (event) => {
    const db = serviceDb(cfg);
    await db.ensureFresh();
    const orderId = String(event.data.orderId ?? '');
    if (!/^[0-9a-f-]{36}$/i.test(orderId)) {
      logger.info('payment event for a non-order, ignored', { eventId: event.id, orderId });
      return { applied: false };
    }
    const outcome = event.type === 'PaymentSucceeded' ? 'succeeded' : 'failed';
    const applied = await applyOnce(db, CONSUMER, event.id, async (client) => {
      // The order's row lock orders this against WaitForPayment storing its token (see lockForPayment).
      const order = await lockForPayment(client, orderId);
      if (!order) {
        logger.info('payment event for an unknown order, ignored', { eventId: event.id, orderId });
        return;
      }
      const output = { outcome, detail: { eventId: event.id, type: event.type } } as const;
      if (order.state === 'AWAITING_PAYMENT' && order.taskToken) {
        // Inside the inbox transaction: if SendTaskSuccess fails, the event id is not recorded and the message retries.
        try {
          await resumeWaitForPayment(order.taskToken, output);
        } catch (err) {
          const name = (err as Error).name;
          // A token already used (duplicate event under another id) or a timed-out task: nothing to resume.
          if (name === 'TaskTimedOut' || name === 'InvalidToken' || name === 'TaskDoesNotExist') {
            logger.info('task token no longer valid', { orderId, name });
            return;
          }
          throw err;
        }
        await setTaskToken(client, orderId, null);
        return;
      }
      if (['PENDING', 'RESERVED', 'AWAITING_PAYMENT'].includes(order.state)) {
        // Paid before WaitForPayment stored its token: leave the outcome on the order for that step.
        await keepEarlyPayment(client, orderId, output);
        logger.info('payment outcome kept for WaitForPayment', { eventId: event.id, orderId, state: order.state });
        return;
      }
      logger.info('payment event after the wait, ignored', { eventId: event.id, orderId, state: order.state });
    });
    return { applied };
  },
  { idempotency: { cfg, prefix: IDEMPOTENCY_PREFIX.ordersPaymentEvents, db: serviceDb(cfg) } },
);
