import * as z from 'zod';

/**
 * The order aggregate and its state machine. Saga steps move an order forward only along
 * ALLOWED; a replayed step finds the order already there (or further on) and changes nothing,
 * so a retry can never move an order backwards.
 */
export const ORDER_STATES = ['PENDING', 'RESERVED', 'AWAITING_PAYMENT', 'PAID', 'COMPLETED', 'COMPENSATING', 'FAILED', 'NEEDS_ATTENTION'] as const;
export type OrderState = (typeof ORDER_STATES)[number];

/** to -> the states it may be entered from. */
export const ALLOWED_FROM: Record<OrderState, OrderState[]> = {
  PENDING: [],
  RESERVED: ['PENDING'],
  AWAITING_PAYMENT: ['RESERVED'],
  PAID: ['AWAITING_PAYMENT'],
  COMPLETED: ['PAID'],
  COMPENSATING: ['PENDING', 'RESERVED', 'AWAITING_PAYMENT', 'PAID'],
  FAILED: ['PENDING', 'RESERVED', 'AWAITING_PAYMENT', 'PAID', 'COMPENSATING'],
  NEEDS_ATTENTION: ['PENDING', 'RESERVED', 'AWAITING_PAYMENT', 'PAID', 'COMPENSATING', 'FAILED'],
};

export const canTransition = (from: OrderState, to: OrderState): boolean => ALLOWED_FROM[to].includes(from);

export const FORWARD_STEPS = ['ReserveStock', 'CreatePaymentSession', 'WaitForPayment', 'CapturePayment', 'CompleteOrder'] as const;
export const COMPENSATION_STEPS = ['RefundPayment', 'CancelPaymentSession', 'ReleaseStock', 'MarkOrderFailed', 'ParkOrder'] as const;
export type ForwardStep = (typeof FORWARD_STEPS)[number];
export type SagaStepName = ForwardStep | (typeof COMPENSATION_STEPS)[number];

export const FailurePlanSchema = z.object({ failAt: z.enum(FORWARD_STEPS), mode: z.enum(['error', 'timeout']) }).strict();
export type FailurePlan = z.infer<typeof FailurePlanSchema>;

export const PlaceOrderSchema = z
  .object({
    items: z
      .array(z.object({ productId: z.string().uuid(), quantity: z.number().int().min(1).max(10_000) }).strict())
      .min(1)
      .max(100)
      .refine((items) => new Set(items.map((i) => i.productId)).size === items.length, 'each productId at most once'),
    paymentProvider: z.enum(['stripe', 'paypal']).default('stripe'),
    failurePlan: FailurePlanSchema.optional(),
  })
  .strict();
export type PlaceOrder = z.infer<typeof PlaceOrderSchema>;

/** GET /orders: the query of "my orders" (one page). */
export const OrdersPage = z
  .object({
    limit: z.coerce.number().int().min(1).max(50).default(20),
    offset: z.coerce.number().int().min(0).max(100_000).default(0),
  })
  .strict();

export interface OrderItem {
  productId: string;
  quantity: number;
  unitPriceCents: number;
}

export interface Order {
  id: string;
  customerId: string;
  items: OrderItem[];
  amountCents: number;
  currency: string;
  paymentProvider: 'stripe' | 'paypal';
  state: OrderState;
  executionArn: string | null;
  paymentSessionId: string | null;
  failureReason: string | null;
  createdAt: string;
  updatedAt: string;
}

/**
 * Chaos rules that realise a failure plan: the saga step Lambda applies chaos for
 * {service:'orders', step, orderId}, so an `error` makes the step throw (a task failure after
 * its retry) and a `timeout` makes it hang past the Task timeout. WaitForPayment fails through
 * its own step (the Lambda that registers the task token).
 */
export function failurePlanRules(orderId: string, plan: FailurePlan) {
  return [
    {
      target: { service: 'orders', step: plan.failAt, orderId },
      fault: plan.mode === 'error' ? { type: 'exception' as const, message: `failure plan: ${plan.failAt}` } : { type: 'timeout' as const, hangMs: 60_000 },
      probability: 1,
      ttlSeconds: 900,
      description: `failure plan of order ${orderId}`,
    },
  ];
}

export interface TraceEntry {
  step: string;
  started: string | null;
  ended: string | null;
  outcome: 'succeeded' | 'failed' | 'running';
  compensation: boolean;
  /**
   * A forward step's business answer when it was a "no" (the task ran, the answer was
   * `declined`, `failed`, `rejected`): the Choice after it sends the saga into compensation.
   */
  result?: string;
  error?: string;
  cause?: string;
}

export interface HistoryEvent {
  id?: number;
  previousEventId?: number;
  type: string;
  timestamp: string;
  name?: string;
  error?: string;
  cause?: string;
  /** A state's input (entered), a state's or task's output (exited, succeeded), as JSON text. */
  input?: string;
  output?: string;
}

const TASK_STEPS = new Set<string>([...FORWARD_STEPS, ...COMPENSATION_STEPS]);
/** The outcomes with which a forward step lets the saga go on (see core/saga.ts). */
const FORWARD_OK = new Set(['reserved', 'created', 'waiting', 'succeeded', 'captured', 'completed']);

/** The business outcome in a task's output: `{Payload: {outcome}}` (lambda:invoke) or `{outcome}` (a task token's answer). */
function businessOutcome(output: string | undefined): string | undefined {
  if (!output) return undefined;
  try {
    const o = JSON.parse(output) as { outcome?: unknown; Payload?: { outcome?: unknown } };
    const outcome = o?.Payload?.outcome ?? o?.outcome;
    return typeof outcome === 'string' ? outcome : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Folds a Step Functions history (state entered/exited, TaskFailed) into one entry per Task
 * state visit. Uses only what both AWS and the emulator report.
 */
export function buildTrace(events: HistoryEvent[]): TraceEntry[] {
  const trace: TraceEntry[] = [];
  let open: TraceEntry | undefined;
  for (const e of events) {
    if (e.type === 'TaskStateEntered' && e.name && TASK_STEPS.has(e.name)) {
      open = {
        step: e.name,
        started: e.timestamp,
        ended: null,
        outcome: 'running',
        compensation: (COMPENSATION_STEPS as readonly string[]).includes(e.name),
      };
      trace.push(open);
    } else if (open && (e.type === 'TaskFailed' || e.type === 'TaskTimedOut' || e.type === 'LambdaFunctionFailed')) {
      open.outcome = 'failed';
      open.error = e.error;
      open.cause = e.cause;
    } else if (open && e.type === 'TaskSucceeded') {
      open.outcome = 'succeeded';
      const outcome = businessOutcome(e.output);
      if (!open.compensation && outcome && !FORWARD_OK.has(outcome)) open.result = outcome;
    } else if (open && e.type === 'TaskStateExited' && e.name === open.step) {
      open.ended = e.timestamp;
      if (open.outcome === 'running') open.outcome = 'succeeded';
      open = undefined;
    }
  }
  return trace;
}

const MAX_PAYLOAD = 4096;
const clip = (s: string | undefined) => (s && s.length > MAX_PAYLOAD ? `${s.slice(0, MAX_PAYLOAD)}…` : s);

/**
 * The execution history as the page shows it (the Step Functions console's event list): each
 * event with its state name, input, output and error, payloads cut at 4 KiB. Task tokens never
 * appear: they are parameters of TaskScheduled, which carries no input or output here.
 */
export const historyView = (events: HistoryEvent[]): HistoryEvent[] => events.map((e) => ({ ...e, input: clip(e.input), output: clip(e.output), cause: clip(e.cause) }));
