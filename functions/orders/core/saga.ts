import { type Downstream, body, TechnicalFailure } from '../adapters/http';
import { appendOrderEvent, findOrder, lockForPayment, transition, setPaymentSession, setTaskToken, type OrdersDb } from '../adapters/pg';
import type { SagaStepName } from './model';

export interface StepEvent {
  step: SagaStepName;
  orderId: string;
  /** `$$.Execution.Id` and `$$.State.Name`: the Lambda-level idempotency key (functions/shared/idempotency.ts). */
  executionId?: string;
  stateName?: string;
  input?: Record<string, unknown> & { error?: { Error?: string; Cause?: string } };
  taskToken?: string;
}

export interface StepResult {
  outcome: string;
  detail: Record<string, unknown>;
}

const ok = (status: number) => status >= 200 && status < 300;

/**
 * One function per saga step. Forward steps return business outcomes as data and throw on
 * technical failures; compensations are idempotent (a repeat finds the work done and succeeds).
 */
export async function runStep(db: OrdersDb, ds: Downstream, ev: StepEvent, correlationId: string): Promise<StepResult> {
  const order = await findOrder(db, ev.orderId);
  if (!order) throw new Error(`Order ${ev.orderId} does not exist`);
  const sessionPath = (op: string) => `/internal/payment-sessions/${order.paymentSessionId}/${op}`;

  switch (ev.step) {
    case 'ReserveStock': {
      const res = await ds.catalog.call('POST', '/internal/reservations', {
        body: { orderId: order.id, items: order.items.map((i) => ({ productId: i.productId, quantity: i.quantity })) },
        correlationId,
      });
      if (res.status === 409 || res.status === 404) return { outcome: 'rejected', detail: body(res) };
      if (!ok(res.status)) throw new TechnicalFailure('catalog reservation', res);
      await transition(db, order.id, 'RESERVED');
      return { outcome: 'reserved', detail: { orderId: order.id } };
    }
    case 'CreatePaymentSession': {
      const res = await ds.payments.call('POST', '/internal/payment-sessions', {
        body: { orderId: order.id, amountCents: order.amountCents, currency: order.currency, provider: order.paymentProvider },
        correlationId,
      });
      if (res.status === 409) return { outcome: 'rejected', detail: body(res) };
      if (!ok(res.status)) throw new TechnicalFailure('payment session', res);
      const session = body<{ id: string; clientSecret?: string }>(res);
      await setPaymentSession(db, order.id, session.id);
      await transition(db, order.id, 'AWAITING_PAYMENT');
      return { outcome: 'created', detail: { sessionId: session.id } };
    }
    case 'WaitForPayment': {
      const token = ev.taskToken;
      if (!token) throw new Error('WaitForPayment needs a task token');
      // Under the order's row lock: either the payment outcome is already here (the customer paid
      // before this step ran) and we resume at once, or the token is stored for the consumer.
      const early = await db.transaction(async (client) => {
        const locked = await lockForPayment(client as never, order.id);
        if (locked?.earlyPayment) return locked.earlyPayment;
        await setTaskToken(client as never, order.id, token);
        return null;
      });
      if (early) {
        if (!ds.resume) throw new Error('WaitForPayment found an early payment but cannot resume the saga');
        await ds.resume(token, early);
        return { outcome: 'waiting', detail: { early: true } };
      }
      return { outcome: 'waiting', detail: {} };
    }
    case 'CapturePayment': {
      if (!order.paymentSessionId) throw new Error(`Order ${order.id} has no payment session`);
      const res = await ds.payments.call('POST', sessionPath('capture'), { correlationId });
      if (res.status === 409) return { outcome: 'declined', detail: body(res) };
      if (!ok(res.status)) throw new TechnicalFailure('payment capture', res);
      await transition(db, order.id, 'PAID', { taskToken: null });
      return { outcome: 'captured', detail: { sessionId: order.paymentSessionId } };
    }
    case 'CompleteOrder': {
      await db.transaction(async (client) => {
        if (await transition(client, order.id, 'COMPLETED')) await appendOrderEvent(client as never, order.id, 'OrderCompleted', {});
      });
      return { outcome: 'completed', detail: {} };
    }
    case 'RefundPayment': {
      // Entered when CapturePayment or CompleteOrder failed: the money may or may not have been
      // taken. Refund what was captured; void what was only authorised; a repeat finds it done.
      await transition(db, order.id, 'COMPENSATING');
      if (!order.paymentSessionId) return { outcome: 'nothingToRefund', detail: {} };
      const current = await ds.payments.call('GET', `/internal/payment-sessions/${order.paymentSessionId}`, { correlationId });
      if (current.status === 404) return { outcome: 'nothingToRefund', detail: {} };
      if (!ok(current.status)) throw new TechnicalFailure('payment session lookup', current);
      const status = body<{ status: string }>(current).status;
      if (['cancelled', 'failed'].includes(status)) return { outcome: 'nothingToRefund', detail: { status } };
      const op = ['captured', 'refunded'].includes(status) ? 'refund' : 'cancel';
      const res = await ds.payments.call('POST', sessionPath(op), { correlationId });
      if (!ok(res.status)) throw new TechnicalFailure(`payment ${op}`, res);
      return { outcome: op === 'refund' ? 'refunded' : 'voided', detail: { was: status } };
    }
    case 'CancelPaymentSession': {
      await transition(db, order.id, 'COMPENSATING');
      // CreatePaymentSession may have timed out after payments created the session but before the
      // order recorded it: look it up by order id then.
      let sessionId = order.paymentSessionId;
      if (!sessionId) {
        const found = await ds.payments.call('GET', `/internal/payment-sessions?orderId=${encodeURIComponent(order.id)}`, { correlationId });
        if (found.status === 404) return { outcome: 'nothingToCancel', detail: {} };
        if (!ok(found.status)) throw new TechnicalFailure('payment session lookup', found);
        sessionId = body<{ id: string }>(found).id;
      }
      const res = await ds.payments.call('POST', `/internal/payment-sessions/${sessionId}/cancel`, { correlationId });
      if (!ok(res.status) && res.status !== 404) throw new TechnicalFailure('payment cancel', res);
      return { outcome: 'cancelled', detail: { sessionId } };
    }
    case 'ReleaseStock': {
      await transition(db, order.id, 'COMPENSATING');
      const res = await ds.catalog.call('DELETE', `/internal/reservations/${order.id}`, { correlationId });
      if (!ok(res.status) && res.status !== 404) throw new TechnicalFailure('stock release', res);
      return { outcome: 'released', detail: {} };
    }
    case 'MarkOrderFailed': {
      const reason = describeError(ev.input);
      await db.transaction(async (client) => {
        if (await transition(client, order.id, 'FAILED', { taskToken: null, failureReason: reason })) {
          await appendOrderEvent(client as never, order.id, 'OrderFailed', { reason });
        }
      });
      return { outcome: 'failed', detail: { reason } };
    }
    case 'ParkOrder': {
      const reason = `compensation failed: ${describeError({ error: (ev.input as { compensationError?: { Error?: string; Cause?: string } })?.compensationError })}`;
      await db.transaction(async (client) => {
        if (await transition(client, order.id, 'NEEDS_ATTENTION', { taskToken: null, failureReason: reason })) {
          await appendOrderEvent(client as never, order.id, 'OrderNeedsAttention', { reason });
        }
      });
      return { outcome: 'parked', detail: { reason } };
    }
    default:
      throw new Error(`Unknown saga step ${String((ev as { step: unknown }).step)}`);
  }
}

/** The failure that sent the saga into compensation: a caught error, or a business outcome. */
export function describeError(input: StepEvent['input']): string {
  if (!input) return 'unknown';
  if (input.error) return `${input.error.Error ?? 'Error'}: ${String(input.error.Cause ?? '').slice(0, 500)}`;
  for (const key of ['reservation', 'paymentSession', 'payment', 'capture'] as const) {
    const r = input[key] as { outcome?: string } | undefined;
    if (r?.outcome && !['reserved', 'created', 'succeeded', 'captured'].includes(r.outcome)) return `${key}: ${r.outcome}`;
  }
  return 'unknown';
}
