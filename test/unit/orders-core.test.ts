import {
  ALLOWED_FROM,
  ORDER_STATES,
  buildTrace,
  canTransition,
  failurePlanRules,
  historyView,
  PlaceOrderSchema,
  type HistoryEvent,
} from '../../functions/orders/core/model';
import { priceCart } from '../../functions/orders/core/place';
import { describeError, runStep } from '../../functions/orders/core/saga';
import type { SagaPorts } from '../../functions/orders/core/ports';
import { HttpCatalog, HttpPayments } from '../../functions/orders/adapters/http';
import { PgOrderRepository } from '../../functions/orders/adapters/pg';
import type { Database } from '../../functions/shared/db';
import type { ServiceClient } from '../../functions/shared/service-client';

type InternalApi = Pick<ServiceClient, 'call'>;
import { NewRuleSchema } from '../../functions/shared/chaos';
import { OrderError } from '../../functions/orders/core/errors';
import { orderProblem } from '../../functions/orders/adapters/problems';

const P1 = '00000000-0000-4000-8000-000000000001';
const P2 = '00000000-0000-4000-8000-000000000002';
const ORDER = '00000000-0000-4000-8000-0000000000aa';

describe('order state machine', () => {
  it('moves forward along the happy path only', () => {
    expect(canTransition('PENDING', 'RESERVED')).toBe(true);
    expect(canTransition('RESERVED', 'AWAITING_PAYMENT')).toBe(true);
    expect(canTransition('AWAITING_PAYMENT', 'PAID')).toBe(true);
    expect(canTransition('PAID', 'COMPLETED')).toBe(true);
    expect(canTransition('RESERVED', 'PENDING')).toBe(false);
    expect(canTransition('COMPLETED', 'FAILED')).toBe(false);
    expect(canTransition('PENDING', 'COMPLETED')).toBe(false);
  });
  it('never leaves a terminal state except FAILED -> NEEDS_ATTENTION', () => {
    for (const to of ORDER_STATES) {
      expect(canTransition('COMPLETED', to)).toBe(false);
      expect(canTransition('NEEDS_ATTENTION', to)).toBe(false);
      if (to !== 'NEEDS_ATTENTION') expect(canTransition('FAILED', to)).toBe(false);
    }
  });
  it('no state may be re-entered from itself (a replayed step changes nothing)', () => {
    for (const s of ORDER_STATES) expect(ALLOWED_FROM[s]).not.toContain(s);
  });
});

describe('place order input', () => {
  it('accepts a cart with a failure plan and defaults the provider', () => {
    const parsed = PlaceOrderSchema.parse({ items: [{ productId: P1, quantity: 2 }], failurePlan: { failAt: 'CapturePayment', mode: 'timeout' } });
    expect(parsed.paymentProvider).toBe('stripe');
  });
  it('rejects duplicates, bad steps and unknown fields', () => {
    expect(() =>
      PlaceOrderSchema.parse({
        items: [
          { productId: P1, quantity: 1 },
          { productId: P1, quantity: 2 },
        ],
      }),
    ).toThrow();
    expect(() => PlaceOrderSchema.parse({ items: [{ productId: P1, quantity: 1 }], failurePlan: { failAt: 'Nope', mode: 'error' } })).toThrow();
    expect(() => PlaceOrderSchema.parse({ items: [], extra: 1 })).toThrow();
  });
  it('prices the cart from catalog prices and 422s unknown products', () => {
    const products = new Map([[P1, { id: P1, priceCents: 250, stock: 5 }]]);
    expect(priceCart([{ productId: P1, quantity: 3 }], products)).toEqual({
      items: [{ productId: P1, quantity: 3, unitPriceCents: 250 }],
      amountCents: 750,
    });
    let refused: unknown;
    try {
      priceCart([{ productId: P2, quantity: 1 }], new Map([[P2, undefined]]));
    } catch (err) {
      refused = err;
    }
    expect(refused).toBeInstanceOf(OrderError);
    // What the handler answers: 422 validation-error naming the missing products.
    const problem = orderProblem(refused)!;
    expect(problem).toMatchObject({ status: 422, type: 'https://checkout-mesh.dev/problems/validation-error' });
    expect(problem.toBody()).toMatchObject({ missing: [P2] });
  });
});

describe('failure plans', () => {
  it('become valid chaos rules aimed at the order and step', () => {
    for (const mode of ['error', 'timeout'] as const) {
      const [rule] = failurePlanRules(ORDER, { failAt: 'ReserveStock', mode });
      expect(() => NewRuleSchema.parse(rule)).not.toThrow();
      expect(rule.target).toEqual({ service: 'orders', step: 'ReserveStock', orderId: ORDER });
    }
  });
});

describe('trace', () => {
  const t = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s)).toISOString();
  it('folds history into steps with outcomes and compensation flags', () => {
    const events: HistoryEvent[] = [
      { type: 'ExecutionStarted', timestamp: t(0) },
      { type: 'TaskStateEntered', timestamp: t(1), name: 'ReserveStock' },
      { type: 'TaskScheduled', timestamp: t(1) },
      { type: 'TaskSucceeded', timestamp: t(2) },
      { type: 'TaskStateExited', timestamp: t(2), name: 'ReserveStock' },
      { type: 'ChoiceStateEntered', timestamp: t(2), name: 'StockReserved?' },
      { type: 'ChoiceStateExited', timestamp: t(2), name: 'StockReserved?' },
      { type: 'TaskStateEntered', timestamp: t(3), name: 'CreatePaymentSession' },
      { type: 'TaskFailed', timestamp: t(4), error: 'Runtime.HandlerError', cause: 'boom' },
      { type: 'TaskStateExited', timestamp: t(4), name: 'CreatePaymentSession' },
      { type: 'TaskStateEntered', timestamp: t(5), name: 'ReleaseStock' },
      { type: 'TaskSucceeded', timestamp: t(6) },
      { type: 'TaskStateExited', timestamp: t(6), name: 'ReleaseStock' },
      { type: 'TaskStateEntered', timestamp: t(7), name: 'MarkOrderFailed' },
    ];
    const trace = buildTrace(events);
    expect(trace.map((e) => [e.step, e.outcome, e.compensation])).toEqual([
      ['ReserveStock', 'succeeded', false],
      ['CreatePaymentSession', 'failed', false],
      ['ReleaseStock', 'succeeded', true],
      ['MarkOrderFailed', 'running', true],
    ]);
    expect(trace[1]).toMatchObject({ error: 'Runtime.HandlerError', cause: 'boom', started: t(3), ended: t(4) });
  });

  it("marks a forward step's business 'no' as its result (a declined payment is not a plain success)", () => {
    const events: HistoryEvent[] = [
      { type: 'TaskStateEntered', timestamp: t(1), name: 'ReserveStock' },
      { type: 'TaskSucceeded', timestamp: t(2), output: JSON.stringify({ Payload: { outcome: 'reserved', detail: {} } }) },
      { type: 'TaskStateExited', timestamp: t(2), name: 'ReserveStock' },
      { type: 'TaskStateEntered', timestamp: t(3), name: 'WaitForPayment' },
      // The task token's answer, sent by the orders consumer of PaymentFailed.
      { type: 'TaskSucceeded', timestamp: t(4), output: JSON.stringify({ outcome: 'failed', detail: { reason: 'card_declined' } }) },
      { type: 'TaskStateExited', timestamp: t(4), name: 'WaitForPayment' },
      { type: 'TaskStateEntered', timestamp: t(5), name: 'MarkOrderFailed' },
      { type: 'TaskSucceeded', timestamp: t(6), output: JSON.stringify({ Payload: { outcome: 'failed', detail: {} } }) },
      { type: 'TaskStateExited', timestamp: t(6), name: 'MarkOrderFailed' },
    ];
    const trace = buildTrace(events);
    expect(trace.map((e) => [e.step, e.outcome, e.result])).toEqual([
      ['ReserveStock', 'succeeded', undefined],
      ['WaitForPayment', 'succeeded', 'failed'],
      // A compensation's outcome is its own business, never a "no".
      ['MarkOrderFailed', 'succeeded', undefined],
    ]);
  });

  it('answers the history with payloads cut at 4 KiB', () => {
    const big = JSON.stringify({ x: 'y'.repeat(10_000) });
    const [e] = historyView([{ id: 1, type: 'TaskStateEntered', timestamp: t(0), name: 'ReserveStock', input: big }]);
    expect(e).toMatchObject({ id: 1, type: 'TaskStateEntered', name: 'ReserveStock' });
    expect(e.input!.length).toBeLessThanOrEqual(4097);
    expect(e.input!.endsWith('…')).toBe(true);
  });
});

describe('saga steps (fake db and services)', () => {
  const makeDb = (state = 'PENDING') => {
    const row: Record<string, unknown> = {
      id: ORDER,
      customer_id: 'c',
      items: [{ productId: P1, quantity: 2, unitPriceCents: 100 }],
      amount_cents: '200',
      currency: 'eur',
      payment_provider: 'stripe',
      state,
      execution_arn: null,
      payment_session_id: null,
      task_token: null,
      failure_reason: null,
      created_at: new Date(),
      updated_at: new Date(),
    };
    const queries: string[] = [];
    const query = async (text: string, params: unknown[] = []) => {
      queries.push(text);
      if (text.startsWith('SELECT')) return { rows: [row], rowCount: 1 };
      if (text.startsWith('UPDATE orders SET state')) {
        if (!(params[2] as string[]).includes(row.state as string)) return { rows: [], rowCount: 0 };
        row.state = params[1];
        return { rows: [], rowCount: 1 };
      }
      if (text.startsWith('UPDATE orders SET payment_session_id')) row.payment_session_id = params[1];
      if (text.startsWith('UPDATE orders SET task_token')) row.task_token = params[1];
      return { rows: [], rowCount: 1 };
    };
    // Enough of pg for the repository: results carry rows and rowCount only.
    const db = { query, withClient: async <T>(fn: (c: { query: typeof query }) => Promise<T>) => fn({ query }) } as unknown as Database;
    return { db, row, queries };
  };
  /** The saga's ports: the real adapters over the fake database and fake service APIs. */
  const ports = (db: Database, ds: { catalog: InternalApi; payments: InternalApi }): SagaPorts => ({
    orders: new PgOrderRepository(db),
    stock: new HttpCatalog(ds.catalog),
    payments: new HttpPayments(ds.payments),
    resume: jest.fn(async () => undefined),
  });
  const reply = (status: number, body: unknown = {}) => ({ status, headers: new Headers(), body: JSON.stringify(body) });

  it('ReserveStock: reserved moves PENDING -> RESERVED; a replay answers the same and stays', async () => {
    const { db, row } = makeDb();
    const ds = { catalog: { call: jest.fn(async () => reply(201)) }, payments: { call: jest.fn() } };
    expect((await runStep(ports(db, ds), { step: 'ReserveStock', orderId: ORDER }, 'c')).outcome).toBe('reserved');
    expect(row.state).toBe('RESERVED');
    expect((await runStep(ports(db, ds), { step: 'ReserveStock', orderId: ORDER }, 'c')).outcome).toBe('reserved');
    expect(row.state).toBe('RESERVED');
  });
  it('ReserveStock: out of stock is data, a 5xx throws', async () => {
    const { db } = makeDb();
    const out = { catalog: { call: async () => reply(409, { type: 'insufficient-stock' }) }, payments: { call: jest.fn() } };
    expect((await runStep(ports(db, out), { step: 'ReserveStock', orderId: ORDER }, 'c')).outcome).toBe('rejected');
    const down = { catalog: { call: async () => reply(503) }, payments: { call: jest.fn() } };
    await expect(runStep(ports(db, down), { step: 'ReserveStock', orderId: ORDER }, 'c')).rejects.toThrow(/503/);
  });
  it('compensations are idempotent and MarkOrderFailed does not move a COMPLETED order', async () => {
    const { db, row } = makeDb('COMPLETED');
    const ds = { catalog: { call: async () => reply(200) }, payments: { call: async () => reply(200) } };
    await runStep(ports(db, ds), { step: 'ReleaseStock', orderId: ORDER }, 'c');
    await runStep(ports(db, ds), { step: 'MarkOrderFailed', orderId: ORDER, input: { error: { Error: 'X', Cause: 'y' } } }, 'c');
    expect(row.state).toBe('COMPLETED');
  });
  it('failure path reaches FAILED with the reason', async () => {
    const { db, row } = makeDb('RESERVED');
    const ds = { catalog: { call: async () => reply(404) }, payments: { call: async () => reply(200) } };
    await runStep(ports(db, ds), { step: 'ReleaseStock', orderId: ORDER }, 'c');
    expect(row.state).toBe('COMPENSATING');
    await runStep(ports(db, ds), { step: 'MarkOrderFailed', orderId: ORDER, input: { error: { Error: 'Runtime.HandlerError', Cause: 'boom' } } }, 'c');
    expect(row.state).toBe('FAILED');
  });
  it('describeError reads a caught error or a business outcome', () => {
    expect(describeError({ error: { Error: 'E', Cause: 'c' } })).toBe('E: c');
    expect(describeError({ reservation: { outcome: 'rejected' } })).toBe('reservation: rejected');
  });
});
