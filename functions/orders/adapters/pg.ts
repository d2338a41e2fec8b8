import { type Database, type Queryable, withTransaction } from '../../shared/db';
import { appendOutbox, newEvent } from '../../shared/events';
import { ALLOWED_FROM, type Order, type OrderItem, type OrderState } from '../core/model';
import type { OrderRepository, PaymentOutcome, StoredOrder, TransitionExtra } from '../core/ports';

interface Row {
  id: string;
  customer_id: string;
  items: OrderItem[];
  amount_cents: string;
  currency: string;
  payment_provider: 'stripe' | 'paypal';
  state: OrderState;
  execution_arn: string | null;
  payment_session_id: string | null;
  task_token: string | null;
  failure_reason: string | null;
  created_at: Date;
  updated_at: Date;
}

const toOrder = (r: Row): Order => ({
  id: r.id,
  customerId: r.customer_id,
  items: r.items,
  amountCents: Number(r.amount_cents),
  currency: r.currency,
  paymentProvider: r.payment_provider,
  state: r.state,
  executionArn: r.execution_arn,
  paymentSessionId: r.payment_session_id,
  failureReason: r.failure_reason,
  createdAt: new Date(r.created_at).toISOString(),
  updatedAt: new Date(r.updated_at).toISOString(),
});

export async function insertOrder(
  db: Database,
  o: { id: string; customerId: string; items: OrderItem[]; amountCents: number; paymentProvider: string; executionArn: string },
  correlationId: string,
): Promise<{ order: Order; created: boolean }> {
  return withTransaction(db, async (client) => {
    const ins = await client.query<Row>(
      `INSERT INTO orders (id, customer_id, items, amount_cents, payment_provider, execution_arn)
       VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (id) DO NOTHING RETURNING *`,
      [o.id, o.customerId, JSON.stringify(o.items), o.amountCents, o.paymentProvider, o.executionArn],
    );
    if (ins.rowCount === 1) {
      await appendOutbox(
        client,
        newEvent('OrderPlaced', 'orders', { orderId: o.id, customerId: o.customerId, items: o.items, amountCents: o.amountCents }, { correlationId }),
        { aggregateType: 'Order', aggregateId: o.id },
      );
      return { order: toOrder(ins.rows[0]), created: true };
    }
    const { rows } = await client.query<Row>('SELECT * FROM orders WHERE id = $1', [o.id]);
    return { order: toOrder(rows[0]), created: false };
  });
}

export async function findOrder(db: Queryable, id: string): Promise<StoredOrder | undefined> {
  const { rows } = await db.query<Row>('SELECT * FROM orders WHERE id = $1', [id]);
  return rows[0] ? { ...toOrder(rows[0]), taskToken: rows[0].task_token } : undefined;
}

/** One customer's orders, newest first, a page at a time (index orders_customer). */
export async function listOrders(db: Queryable, customerId: string, page: { limit: number; offset: number }): Promise<{ items: Order[]; total: number }> {
  const { rows } = await db.query<Row & { total: string }>(
    `SELECT *, count(*) OVER () AS total FROM orders WHERE customer_id = $1
      ORDER BY created_at DESC, id LIMIT $2 OFFSET $3`,
    [customerId, page.limit, page.offset],
  );
  let total = rows.length ? Number(rows[0].total) : 0;
  if (!rows.length && page.offset > 0) {
    total = Number((await db.query<{ n: string }>('SELECT count(*) AS n FROM orders WHERE customer_id = $1', [customerId])).rows[0].n);
  }
  return { items: rows.map(toOrder), total };
}

/**
 * Guarded transition: moves the order to `to` only from a state allowed to precede it.
 * Returns whether this call changed the state (false on a replay or a late step).
 */
async function transition(db: Queryable, id: string, to: OrderState, extra: TransitionExtra = {}): Promise<boolean> {
  const res = await db.query(
    `UPDATE orders SET state = $2, updated_at = now(),
        payment_session_id = COALESCE($4, payment_session_id),
        task_token = CASE WHEN $5::boolean THEN $6 ELSE task_token END,
        failure_reason = COALESCE($7, failure_reason)
      WHERE id = $1 AND state = ANY($3::text[])`,
    [id, to, ALLOWED_FROM[to], extra.paymentSessionId ?? null, extra.taskToken !== undefined, extra.taskToken ?? null, extra.failureReason ?? null],
  );
  return res.rowCount === 1;
}

async function setPaymentSession(db: Queryable, id: string, sessionId: string): Promise<void> {
  await db.query('UPDATE orders SET payment_session_id = $2, updated_at = now() WHERE id = $1', [id, sessionId]);
}

/** Stores the WaitForPayment task token (the AWAITING_PAYMENT transition carries it on first entry). */
export async function setTaskToken(db: Queryable, id: string, token: string | null): Promise<void> {
  await db.query('UPDATE orders SET task_token = $2, updated_at = now() WHERE id = $1', [id, token]);
}

/**
 * The hand-over between WaitForPayment (stores the task token) and the payment-events consumer
 * (brings the outcome), under the order's row lock so neither can miss the other: whoever comes
 * second finds what the first left and resumes the saga.
 */
export async function lockForPayment(
  client: Queryable,
  id: string,
): Promise<{ state: string; taskToken: string | null; earlyPayment: PaymentOutcome | null } | undefined> {
  const { rows } = await client.query<{ state: string; task_token: string | null; early_payment: PaymentOutcome | null }>(
    'SELECT state, task_token, early_payment FROM orders WHERE id = $1 FOR UPDATE',
    [id],
  );
  return rows[0] ? { state: rows[0].state, taskToken: rows[0].task_token, earlyPayment: rows[0].early_payment } : undefined;
}

export async function keepEarlyPayment(client: Queryable, id: string, outcome: PaymentOutcome): Promise<void> {
  // The first outcome wins; a later one (a duplicate under another id) changes nothing.
  await client.query('UPDATE orders SET early_payment = COALESCE(early_payment, $2::jsonb), updated_at = now() WHERE id = $1', [id, JSON.stringify(outcome)]);
}

async function appendOrderEvent(client: Queryable, orderId: string, type: string, data: Record<string, unknown>): Promise<void> {
  await appendOutbox(client, newEvent(type, 'orders', { orderId, ...data }, { correlationId: orderId }), { aggregateType: 'Order', aggregateId: orderId });
}

/** The saga's view of the orders table (core/ports.ts). */
export class PgOrderRepository implements OrderRepository {
  constructor(private readonly db: Database) {}

  find(id: string) {
    return findOrder(this.db, id);
  }

  transition(id: string, to: OrderState, extra?: TransitionExtra) {
    return transition(this.db, id, to, extra);
  }

  transitionAndAnnounce(id: string, to: OrderState, extra: TransitionExtra, event: { type: string; data: Record<string, unknown> }) {
    return withTransaction(this.db, async (tx) => {
      const moved = await transition(tx, id, to, extra);
      if (moved) await appendOrderEvent(tx, id, event.type, event.data);
      return moved;
    });
  }

  setPaymentSession(id: string, sessionId: string) {
    return setPaymentSession(this.db, id, sessionId);
  }

  awaitPayment(id: string, taskToken: string) {
    return withTransaction(this.db, async (tx) => {
      const locked = await lockForPayment(tx, id);
      if (locked?.earlyPayment) return locked.earlyPayment;
      await setTaskToken(tx, id, taskToken);
      return null;
    });
  }
}
