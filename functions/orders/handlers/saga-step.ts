import { config } from '../../shared/config';
import { serviceDb } from '../../shared/db';
import { serviceRedis } from '../../shared/redis';
import { ServiceClient } from '../../shared/service-client';
import { ChaosRules, applyChaos } from '../../shared/chaos';
import { logger } from '../../shared/logger';
import { runStep, type StepEvent, type StepResult } from '../core/saga';

/**
 * The state machine's task Lambda: one entry point, dispatched by `step`. Chaos rules
 * targeting {service:'orders', step, orderId} (failure plans) apply before the step runs.
 */
const cfg = config();
const chaos = new ChaosRules(() => serviceRedis(cfg.REDIS_URL));
let downstream: { catalog: ServiceClient; payments: ServiceClient } | undefined;

export const handler = async (event: StepEvent): Promise<StepResult> => {
  const db = serviceDb(cfg);
  await db.ensureFresh();
  downstream ??= { catalog: ServiceClient.fromConfig('catalog', cfg), payments: ServiceClient.fromConfig('payments', cfg) };
  const correlationId = event.orderId;
  logger.info('saga step', { step: event.step, orderId: event.orderId });
  await applyChaos(chaos, { service: 'orders', step: event.step, orderId: event.orderId, correlationId });
  const result = await runStep(db, downstream, event, correlationId);
  logger.info('saga step done', { step: event.step, orderId: event.orderId, outcome: result.outcome });
  return result;
};
