import type { SagaStepName } from './model';
import type { SagaPorts } from './ports';

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

/**
 * One function per saga step. Forward steps return business outcomes as data and throw on
 * technical failures; compensations are idempotent (a repeat finds the work done and succeeds).
 */
export async function runStep({ orders, stock, payments, resume }: SagaPorts, ev: StepEvent, correlationId: string): Promise<StepResult> {
  const order = await orders.find(ev.orderId);
  if (!order) throw new Error(`Order ${ev.orderId} does not exist`);

  switch (ev.step) {
    case 'ReserveStock': {
      const res = await stock.reserve(
        order.id,
        order.items.map((i) => ({ productId: i.productId, quantity: i.quantity })),
        correlationId,
      );
      if (!res.reserved) return { outcome: 'rejected', detail: res.detail };
      await orders.transition(order.id, 'RESERVED');
      return { outcome: 'reserved', detail: { orderId: order.id } };
    }
    case 'CreatePaymentSession': {
      const res = await payments.createSession(order, correlationId);
      if ('refused' in res) return { outcome: 'rejected', detail: res.refused };
      await orders.setPaymentSession(order.id, res.sessionId);
      await orders.transition(order.id, 'AWAITING_PAYMENT');
      return { outcome: 'created', detail: { sessionId: res.sessionId } };
    }
    case 'WaitForPayment': {
      const token = ev.taskToken;
      if (!token) throw new Error('WaitForPayment needs a task token');
      // Either the payment outcome is already here (the customer paid before this step ran) and
      // we resume at once, or the token is stored for the consumer.
      const early = await orders.awaitPayment(order.id, token);
      if (early) {
        await resume(token, early);
        return { outcome: 'waiting', detail: { early: true } };
      }
      return { outcome: 'waiting', detail: {} };
    }
    case 'CapturePayment': {
      if (!order.paymentSessionId) throw new Error(`Order ${order.id} has no payment session`);
      const res = await payments.capture(order.paymentSessionId, correlationId);
      if ('refused' in res) return { outcome: 'declined', detail: res.refused };
      await orders.transition(order.id, 'PAID', { taskToken: null });
      return { outcome: 'captured', detail: { sessionId: order.paymentSessionId } };
    }
    case 'CompleteOrder': {
      await orders.transitionAndAnnounce(order.id, 'COMPLETED', {}, { type: 'OrderCompleted', data: {} });
      return { outcome: 'completed', detail: {} };
    }
    case 'RefundPayment': {
      // Entered when CapturePayment or CompleteOrder failed: the money may or may not have been
      // taken. Refund what was captured; void what was only authorised; a repeat finds it done.
      await orders.transition(order.id, 'COMPENSATING');
      if (!order.paymentSessionId) return { outcome: 'nothingToRefund', detail: {} };
      const status = await payments.sessionStatus(order.paymentSessionId, correlationId);
      if (status === undefined) return { outcome: 'nothingToRefund', detail: {} };
      if (['cancelled', 'failed'].includes(status)) return { outcome: 'nothingToRefund', detail: { status } };
      if (['captured', 'refunded'].includes(status)) {
        await payments.refund(order.paymentSessionId, correlationId);
        return { outcome: 'refunded', detail: { was: status } };
      }
      await payments.cancel(order.paymentSessionId, correlationId);
      return { outcome: 'voided', detail: { was: status } };
    }
    case 'CancelPaymentSession': {
      await orders.transition(order.id, 'COMPENSATING');
      // CreatePaymentSession may have timed out after payments created the session but before the
      // order recorded it: look it up by order id then.
      const sessionId = order.paymentSessionId ?? (await payments.sessionOfOrder(order.id, correlationId));
      if (!sessionId) return { outcome: 'nothingToCancel', detail: {} };
      await payments.cancel(sessionId, correlationId);
      return { outcome: 'cancelled', detail: { sessionId } };
    }
    case 'ReleaseStock': {
      await orders.transition(order.id, 'COMPENSATING');
      await stock.release(order.id, correlationId);
      return { outcome: 'released', detail: {} };
    }
    case 'MarkOrderFailed': {
      const reason = describeError(ev.input);
      await orders.transitionAndAnnounce(order.id, 'FAILED', { taskToken: null, failureReason: reason }, { type: 'OrderFailed', data: { reason } });
      return { outcome: 'failed', detail: { reason } };
    }
    case 'ParkOrder': {
      const reason = `compensation failed: ${describeError({ error: (ev.input as { compensationError?: { Error?: string; Cause?: string } })?.compensationError })}`;
      await orders.transitionAndAnnounce(order.id, 'NEEDS_ATTENTION', { taskToken: null, failureReason: reason }, { type: 'OrderNeedsAttention', data: { reason } });
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
