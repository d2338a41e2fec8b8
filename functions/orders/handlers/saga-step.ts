import { config } from '../../shared/config';
import { serviceDb } from '../../shared/db';
import { serviceRedis } from '../../shared/redis';
import { ServiceClient } from '../../shared/service-client';
import { countHit, inject, listRules, matches, removeOrderRules } from '../../shared/chaos';
import { logger } from '../../shared/logger';
import { redisReady } from '../../shared/redis';
import { dispatcherKick } from '../../shared/mesh';
import { HttpCatalog, HttpPayments } from '../adapters/http';
import { PgOrderRepository } from '../adapters/pg';
import { resumeWaitForPayment } from '../adapters/sfn';
import type { SagaPorts } from '../core/ports';
import { runStep, type StepEvent, type StepResult } from '../core/saga';
import { IDEMPOTENCY_PREFIX, idempotent, sagaStepKey } from '../../shared/idempotency';
import type { Context } from 'aws-lambda';

/**
 * The state machine's task Lambda: one entry point, dispatched by `step`. Chaos rules
 * targeting {service:'orders', step, orderId} (failure plans) apply before the step runs.
 */
const cfg = config();
/**
 * Chaos for saga steps reads the rules fresh on every step (no per-process cache): a failure
 * plan's rule is written just before its execution starts and must hold on every retry. If
 * Redis cannot be read, the step fails as a technical failure and is retried, rather than
 * silently skipping a planned fault.
 */
async function chaosRedis() {
  const redis = serviceRedis(cfg.REDIS_URL);
  // The shared client has no offline queue: wait for the connection before the first command.
  await redisReady(redis, 3000);
  return redis;
}

async function stepChaos(ctx: { service: string; step: string; orderId: string; correlationId: string }): Promise<void> {
  const redis = await chaosRedis();
  const rules = await listRules(redis);
  const rule = rules.find((r) => matches(r, ctx) && Math.random() < r.probability);
  if (!rule) return;
  await countHit(redis, rule.id).catch(() => undefined);
  await inject(rule, ctx);
}

/** The saga ended: its failure plan (rules targeting this order) is done. Best effort: a rule left behind expires. */
async function endFailurePlan(orderId: string): Promise<void> {
  try {
    const removed = await removeOrderRules(await chaosRedis(), orderId);
    if (removed) logger.info('failure plan ended with its saga', { orderId, rulesRemoved: removed });
  } catch (err) {
    logger.warn('failure plan not cleaned up (its rules expire on their own)', { orderId, error: (err as Error).message });
  }
}
/** Wakes the orders outbox dispatcher (an asynchronous invoke; the sweep is the safety net). */
const kickDispatcher = dispatcherKick(cfg);
/** Steps that append to the orders outbox; the dispatcher is woken right after their commit. */
const PUBLISHING_STEPS = new Set(['CompleteOrder', 'MarkOrderFailed', 'ParkOrder']);
let ports: SagaPorts | undefined;

/**
 * Step Functions retries a Lambda task when the invoke itself errs, even if the function ran: the
 * step runs once per execution + state (+ task token) and a repeat returns the recorded result.
 * A step that throws leaves no record, so its Retry runs it again.
 */
const once = idempotent(cfg, { prefix: IDEMPOTENCY_PREFIX.sagaStep, db: serviceDb(cfg) }, (event: StepEvent) => step(event));

export const handler = async (event: StepEvent, context?: Context): Promise<StepResult> => {
  once.withContext(context);
  return once.run(sagaStepKey(event), event);
};

async function step(event: StepEvent): Promise<StepResult> {
  const db = serviceDb(cfg);
  await db.ensureFresh();
  // Throttled calls (catalog's reserved concurrency) did not run: retry them here, inside the
  // step, rather than spend the step's own retries (which are for real failures).
  ports ??= {
    orders: new PgOrderRepository(db),
    stock: new HttpCatalog(ServiceClient.fromConfig('catalog', cfg, { throttleRetries: 6 })),
    payments: new HttpPayments(ServiceClient.fromConfig('payments', cfg, { throttleRetries: 6 })),
    resume: resumeWaitForPayment,
  };
  const correlationId = event.orderId;
  logger.info('saga step', { step: event.step, orderId: event.orderId });
  await stepChaos({ service: 'orders', step: event.step, orderId: event.orderId, correlationId });
  const result = await runStep(ports, event, correlationId);
  logger.info('saga step done', { step: event.step, orderId: event.orderId, outcome: result.outcome });
  if (PUBLISHING_STEPS.has(event.step)) {
    // These are the saga's last steps (completed, failed after compensation, parked).
    await endFailurePlan(event.orderId);
    await kickDispatcher();
  }
  return result;
}
