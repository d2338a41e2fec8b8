import type { Order, OrderItem, OrderState } from './model';

/** A payment outcome brought by the payment-events consumer (the saga's WaitForPayment output). */
export interface PaymentOutcome {
  outcome: 'succeeded' | 'failed';
  detail: { eventId: string; type: string };
}

export type StoredOrder = Order & { taskToken: string | null };

export interface TransitionExtra {
  paymentSessionId?: string;
  taskToken?: string | null;
  failureReason?: string;
}

/** The orders table as the saga sees it. */
export interface OrderRepository {
  find(id: string): Promise<StoredOrder | undefined>;
  /** Guarded transition (model.ts ALLOWED_FROM): whether this call changed the state (false on a replay). */
  transition(id: string, to: OrderState, extra?: TransitionExtra): Promise<boolean>;
  /** The same, plus an outbox event in the same transaction, appended only when the state changed. */
  transitionAndAnnounce(id: string, to: OrderState, extra: TransitionExtra, event: { type: string; data: Record<string, unknown> }): Promise<boolean>;
  setPaymentSession(id: string, sessionId: string): Promise<void>;
  /**
   * WaitForPayment's hand-over, under the order's row lock: the payment outcome that arrived
   * before the step (then nothing is stored), or null once the task token is stored for the consumer.
   */
  awaitPayment(id: string, taskToken: string): Promise<PaymentOutcome | null>;
}

/**
 * Catalog's stock, as the saga uses it. A business refusal comes back as data; a technical
 * failure (5xx, unreachable) throws, so Step Functions retries the step.
 */
export interface StockPort {
  reserve(
    orderId: string,
    items: Pick<OrderItem, 'productId' | 'quantity'>[],
    correlationId: string,
  ): Promise<{ reserved: true } | { reserved: false; detail: Record<string, unknown> }>;
  /** Releasing an order that holds nothing is done already. */
  release(orderId: string, correlationId: string): Promise<void>;
}

/** Payments' sessions, as the saga uses them (same rule: refusals are data, failures throw). */
export interface PaymentsPort {
  createSession(
    order: Pick<Order, 'id' | 'amountCents' | 'currency' | 'paymentProvider'>,
    correlationId: string,
  ): Promise<{ sessionId: string } | { refused: Record<string, unknown> }>;
  capture(sessionId: string, correlationId: string): Promise<{ captured: true } | { refused: Record<string, unknown> }>;
  /** The session's status, or undefined when it does not exist. */
  sessionStatus(sessionId: string, correlationId: string): Promise<string | undefined>;
  /** The session payments created for an order, or undefined. */
  sessionOfOrder(orderId: string, correlationId: string): Promise<string | undefined>;
  refund(sessionId: string, correlationId: string): Promise<void>;
  /** Voids an uncaptured payment; a session that does not exist is nothing to cancel. */
  cancel(sessionId: string, correlationId: string): Promise<void>;
}

/** Resumes a waiting task (SendTaskSuccess): WaitForPayment hands over an early payment with it. */
export type ResumeSaga = (taskToken: string, output: PaymentOutcome) => Promise<void>;

export interface SagaPorts {
  orders: OrderRepository;
  stock: StockPort;
  payments: PaymentsPort;
  resume: ResumeSaga;
}
