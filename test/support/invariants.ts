import type { Client } from 'pg';

/**
 * The system's invariants (docs/architecture.md §5), checked straight in Postgres after the system
 * is quiet: for the given orders and products, stock and money must add up. Used by the saga
 * e2e tests and the chaos soak. Each violation is a sentence naming the order or product.
 */
export interface StockSnapshot {
  [productId: string]: { stock: number; reserved: number };
}

export interface InvariantReport {
  violations: string[];
  orders: { total: number; completed: number; failed: number; needsAttention: number; inFlight: number };
  money: { capturedCents: number; refundedCents: number; capturedForFailed: number };
  outbox: { paymentsUnsent: number; ordersUnsent: number };
}

interface OrderRow {
  id: string;
  state: string;
  items: Array<{ productId: string; quantity: number }>;
  amount_cents: string;
  failure_reason: string | null;
}

export async function stockSnapshot(db: Client, productIds: string[]): Promise<StockSnapshot> {
  const { rows } = await db.query<{ id: string; stock: number; reserved: number }>('SELECT id, stock, reserved FROM catalog.products WHERE id = ANY($1::uuid[])', [
    productIds,
  ]);
  return Object.fromEntries(rows.map((r) => [r.id, { stock: r.stock, reserved: r.reserved }]));
}

/**
 * @param baseline stock of the products before the orders were placed; only these orders may
 *   have moved them (use products of your own).
 */
export async function checkInvariants(db: Client, orderIds: string[], baseline: StockSnapshot): Promise<InvariantReport> {
  const violations: string[] = [];
  const productIds = Object.keys(baseline);
  const after = await stockSnapshot(db, productIds);

  // 1. No negative stock, and `reserved` is exactly what open reservations hold.
  const { rows: held } = await db.query<{ product_id: string; held: string }>(
    `SELECT ri.product_id, sum(ri.quantity)::bigint AS held
       FROM catalog.reservation_items ri JOIN catalog.reservations r USING (order_id)
      WHERE r.status = 'reserved' AND ri.product_id = ANY($1::uuid[]) GROUP BY ri.product_id`,
    [productIds],
  );
  const heldBy = new Map(held.map((h) => [h.product_id, Number(h.held)]));
  for (const id of productIds) {
    const a = after[id];
    if (!a) {
      violations.push(`product ${id} disappeared`);
      continue;
    }
    if (a.stock < 0 || a.reserved < 0) violations.push(`product ${id} has negative stock ${a.stock} / reserved ${a.reserved}`);
    if (a.reserved !== (heldBy.get(id) ?? 0)) {
      violations.push(`product ${id}: reserved ${a.reserved} but open reservations hold ${heldBy.get(id) ?? 0}`);
    }
    // Stock conservation: units only move between available and reserved.
    if (a.stock + a.reserved !== baseline[id].stock + baseline[id].reserved) {
      violations.push(`product ${id}: stock+reserved ${a.stock + a.reserved} != ${baseline[id].stock + baseline[id].reserved} before`);
    }
  }

  const { rows: orders } = await db.query<OrderRow>('SELECT id, state, items, amount_cents, failure_reason FROM orders.orders WHERE id = ANY($1::uuid[])', [orderIds]);
  if (orders.length !== orderIds.length) violations.push(`${orderIds.length - orders.length} placed orders are missing`);
  const { rows: reservations } = await db.query<{ order_id: string; status: string }>(
    'SELECT order_id, status FROM catalog.reservations WHERE order_id = ANY($1::uuid[])',
    [orderIds],
  );
  const reservationOf = new Map(reservations.map((r) => [r.order_id, r.status]));
  const { rows: sessions } = await db.query<{ order_id: string; id: string; status: string; amount_cents: string }>(
    'SELECT order_id, id, status, amount_cents FROM payments.payment_sessions WHERE order_id = ANY($1::text[])',
    [orderIds],
  );
  const sessionOf = new Map(sessions.map((s) => [s.order_id, s]));
  const { rows: ops } = await db.query<{ session_id: string; operation: string }>(
    'SELECT session_id::text, operation FROM payments.payment_operations WHERE session_id = ANY($1::uuid[])',
    [sessions.map((s) => s.id)],
  );
  const opsOf = (sessionId: string) => new Set(ops.filter((o) => o.session_id === sessionId).map((o) => o.operation));

  const report: InvariantReport = {
    violations,
    orders: { total: orders.length, completed: 0, failed: 0, needsAttention: 0, inFlight: 0 },
    money: { capturedCents: 0, refundedCents: 0, capturedForFailed: 0 },
    outbox: { paymentsUnsent: 0, ordersUnsent: 0 },
  };
  const soldUnits = new Map<string, number>();
  for (const o of orders) {
    const session = sessionOf.get(o.id);
    const done = session ? opsOf(session.id) : new Set<string>();
    if (done.has('capture')) report.money.capturedCents += Number(session!.amount_cents);
    if (done.has('refund')) report.money.refundedCents += Number(session!.amount_cents);
    switch (o.state) {
      case 'COMPLETED':
        report.orders.completed++;
        if (reservationOf.get(o.id) !== 'reserved') violations.push(`COMPLETED order ${o.id} has no held reservation (${reservationOf.get(o.id) ?? 'none'})`);
        if (session?.status !== 'captured' || !done.has('capture') || done.has('refund')) {
          violations.push(`COMPLETED order ${o.id} is not paid exactly once (session ${session?.status ?? 'none'}, ops ${[...done].join(',')})`);
        }
        if (session && Number(session.amount_cents) !== Number(o.amount_cents)) violations.push(`order ${o.id} paid ${session.amount_cents} for ${o.amount_cents}`);
        for (const i of o.items) soldUnits.set(i.productId, (soldUnits.get(i.productId) ?? 0) + i.quantity);
        break;
      case 'FAILED':
        report.orders.failed++;
        if (reservationOf.get(o.id) === 'reserved') violations.push(`FAILED order ${o.id} still holds its stock`);
        if (session && (session.status === 'captured' || (done.has('capture') && !done.has('refund')))) {
          report.money.capturedForFailed++;
          violations.push(`FAILED order ${o.id} has a captured, unrefunded payment`);
        }
        if (session && ['pending', 'authorized', 'succeeded'].includes(session.status)) {
          violations.push(`FAILED order ${o.id} left its payment session open (${session.status})`);
        }
        break;
      case 'NEEDS_ATTENTION':
        // Parked by a compensation that kept failing: counted and explained, not silently half-done.
        report.orders.needsAttention++;
        if (!o.failure_reason) violations.push(`NEEDS_ATTENTION order ${o.id} carries no reason`);
        break;
      default:
        report.orders.inFlight++;
        violations.push(`order ${o.id} is stuck in ${o.state}`);
    }
  }
  // What left the shelf is exactly what completed orders bought (when only these orders touched it).
  for (const id of productIds) {
    const a = after[id];
    if (!a) continue;
    const sold = soldUnits.get(id) ?? 0;
    if (report.orders.needsAttention === 0 && a.reserved - baseline[id].reserved !== sold) {
      violations.push(`product ${id}: ${a.reserved - baseline[id].reserved} units held since the baseline, completed orders bought ${sold}`);
    }
  }

  const unsent = async (table: string, ids: string[]) =>
    Number((await db.query<{ n: string }>(`SELECT count(*) AS n FROM ${table} WHERE sent_at IS NULL AND (aggregate_id = ANY($1::text[]))`, [ids])).rows[0].n);
  report.outbox.ordersUnsent = await unsent('orders.outbox', orderIds);
  report.outbox.paymentsUnsent = await unsent(
    'payments.outbox',
    sessions.map((s) => s.id),
  );
  if (report.outbox.ordersUnsent) violations.push(`${report.outbox.ordersUnsent} orders outbox rows unsent`);
  if (report.outbox.paymentsUnsent) violations.push(`${report.outbox.paymentsUnsent} payments outbox rows unsent`);
  return report;
}

/** Waits until the outbox rows of these orders are published (the dispatcher runs after each commit). */
export async function outboxDrained(db: Client, orderIds: string[], timeoutMs = 90_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const { rows } = await db.query<{ n: string }>(
      `SELECT (SELECT count(*) FROM orders.outbox WHERE sent_at IS NULL AND aggregate_id = ANY($1::text[]))
            + (SELECT count(*) FROM payments.outbox o JOIN payments.payment_sessions s ON s.id::text = o.aggregate_id
                WHERE o.sent_at IS NULL AND s.order_id = ANY($1::text[])) AS n`,
      [orderIds],
    );
    if (Number(rows[0].n) === 0) return true;
    await new Promise((r) => setTimeout(r, 500));
  }
  return false;
}
