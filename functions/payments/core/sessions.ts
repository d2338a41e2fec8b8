import * as z from 'zod';
import { type Database, type Queryable, withTransaction } from '../../shared/db';
import { appendOutbox, newEvent } from '../../shared/events';
import { PaymentError } from './errors';
import { AGGREGATE, PAYMENTS_SOURCE, PaymentEventType } from './events';
import { ProviderRejected, type Operation, type PaymentGateway } from './gateway';
import { applyProviderEvent } from './webhooks';

/**
 * Payment sessions: one per order (idempotent create), and capture / cancel / refund, each
 * applied once and recorded in payment_operations; a repeat returns the recorded result.
 */
export const CreateSessionSchema = z.object({
  orderId: z.string().min(1).max(200),
  amountCents: z.number().int().positive().max(100_000_000),
  currency: z
    .string()
    .regex(/^[A-Za-z]{3}$/)
    .transform((c) => c.toLowerCase()),
  provider: z.enum(['stripe', 'paypal']).default('stripe'),
});
export type CreateSession = z.infer<typeof CreateSessionSchema>;

export interface SessionView {
  id: string;
  orderId: string;
  provider: string;
  providerRef: string | null;
  amountCents: number;
  currency: string;
  status: string;
  clientSecret: string | null;
  approveUrl: string | null;
}

interface Row {
  id: string;
  order_id: string;
  provider: string;
  provider_ref: string | null;
  amount_cents: string;
  currency: string;
  status: string;
  client_secret: string | null;
  approve_url: string | null;
}

const view = (r: Row): SessionView => ({
  id: r.id,
  orderId: r.order_id,
  provider: r.provider,
  providerRef: r.provider_ref,
  amountCents: Number(r.amount_cents),
  currency: r.currency,
  status: r.status,
  clientSecret: r.client_secret,
  approveUrl: r.approve_url,
});

const COLUMNS = 'id, order_id, provider, provider_ref, amount_cents, currency, status, client_secret, approve_url';

export type Gateways = (provider: 'stripe' | 'paypal') => PaymentGateway;

function providerFailure(err: unknown): never {
  if (err instanceof PaymentError) throw err;
  if (err instanceof ProviderRejected) throw new PaymentError('providerRefused', `Payment provider refused: ${err.message}`);
  throw new PaymentError('providerFailed', `Payment provider call failed: ${(err as Error).message}`);
}

export async function createSession(db: Database, gateways: Gateways, input: CreateSession): Promise<{ created: boolean; session: SessionView }> {
  const gateway = gateways(input.provider);
  // Claim the order id (or find the earlier session) and hold its row while we talk to the provider.
  return withTransaction(db, async (client) => {
    const ins = await client.query<Row>(
      `INSERT INTO payment_sessions (order_id, provider, amount_cents, currency) VALUES ($1, $2, $3, $4)
       ON CONFLICT (order_id) DO NOTHING RETURNING ${COLUMNS}`,
      [input.orderId, input.provider, input.amountCents, input.currency],
    );
    const created = ins.rowCount === 1;
    const { rows } = await client.query<Row>(`SELECT ${COLUMNS} FROM payment_sessions WHERE order_id = $1 FOR UPDATE`, [input.orderId]);
    const row = rows[0];
    if (Number(row.amount_cents) !== input.amountCents || row.currency !== input.currency || row.provider !== input.provider) {
      throw new PaymentError('termsMismatch', `Order ${input.orderId} already has a payment session with other terms`);
    }
    if (row.provider_ref) return { created: false, session: view(row) };
    // The provider call is keyed by the session id: a retry after a crash gets the same intent.
    const ps = await gateway
      .createSession({ sessionId: row.id, orderId: row.order_id, amountCents: input.amountCents, currency: input.currency }, `session-${row.id}`)
      .catch(providerFailure);
    const upd = await client.query<Row>(
      `UPDATE payment_sessions SET provider_ref = $2, client_secret = $3, approve_url = $4, updated_at = now() WHERE id = $1 RETURNING ${COLUMNS}`,
      [row.id, ps.providerRef, ps.clientSecret ?? null, ps.approveUrl ?? null],
    );
    return { created, session: view(upd.rows[0]) };
  });
}

export async function getSession(db: Queryable, id: string): Promise<SessionView> {
  const { rows } = await db.query<Row>(`SELECT ${COLUMNS} FROM payment_sessions WHERE id::text = $1`, [id]);
  if (!rows[0]) throw new PaymentError('sessionNotFound', `No payment session ${id}`);
  return view(rows[0]);
}

export async function getSessionByOrder(db: Queryable, orderId: string): Promise<SessionView> {
  const { rows } = await db.query<Row>(`SELECT ${COLUMNS} FROM payment_sessions WHERE order_id = $1`, [orderId]);
  if (!rows[0]) throw new PaymentError('sessionNotFound', `No payment session for order ${orderId}`);
  return view(rows[0]);
}

const ALLOWED: Record<Operation, string[]> = {
  capture: ['pending', 'authorized', 'succeeded'],
  cancel: ['pending', 'authorized', 'failed'],
  refund: ['captured'],
};
const RESULT_STATUS: Record<Operation, string> = { capture: 'captured', cancel: 'cancelled', refund: 'refunded' };
const EVENT: Record<Operation, string> = {
  capture: PaymentEventType.captured,
  cancel: PaymentEventType.cancelled,
  refund: PaymentEventType.refunded,
};

export interface OperationResult {
  replayed: boolean;
  session: SessionView;
  operation: { operation: Operation; providerStatus: string; providerId?: string; at: string };
}

export async function operate(db: Database, gateways: Gateways, sessionId: string, op: Operation, correlationId: string): Promise<OperationResult> {
  if (!/^[0-9a-f-]{36}$/i.test(sessionId)) throw new PaymentError('sessionNotFound', `No payment session ${sessionId}`);
  const outcome = await withTransaction(db, async (client): Promise<OperationResult | { refused: string }> => {
    // The row lock serialises concurrent calls for one session; the recorded result answers repeats.
    const { rows } = await client.query<Row & { operation_attempts: number }>(`SELECT ${COLUMNS}, operation_attempts FROM payment_sessions WHERE id = $1 FOR UPDATE`, [
      sessionId,
    ]);
    const row = rows[0];
    if (!row) throw new PaymentError('sessionNotFound', `No payment session ${sessionId}`);
    const prior = await client.query<{ result: OperationResult['operation'] }>('SELECT result FROM payment_operations WHERE session_id = $1 AND operation = $2', [
      sessionId,
      op,
    ]);
    if (prior.rows[0]) return { replayed: true, session: view(row), operation: prior.rows[0].result };
    if (!ALLOWED[op].includes(row.status)) {
      throw new PaymentError('operationNotAllowed', `Cannot ${op} a payment session in status ${row.status}`);
    }
    if (!row.provider_ref) throw new PaymentError('operationNotAllowed', `Payment session ${sessionId} has no provider payment yet`);
    // Same key on a retry after a crash (the provider replays its result); a new key after a refusal.
    const key = `${sessionId}-${op}-${row.operation_attempts}`;
    let res: { providerStatus: string; providerId?: string };
    try {
      res = await gateways(row.provider as 'stripe' | 'paypal').operate(op, row.provider_ref, key);
    } catch (err) {
      if (!(err instanceof ProviderRejected)) providerFailure(err);
      await client.query('UPDATE payment_sessions SET operation_attempts = operation_attempts + 1 WHERE id = $1', [sessionId]);
      return { refused: (err as Error).message };
    }
    const operation = { operation: op, providerStatus: res.providerStatus, providerId: res.providerId, at: new Date().toISOString() };
    const upd = await client.query<Row>(`UPDATE payment_sessions SET status = $2, updated_at = now() WHERE id = $1 RETURNING ${COLUMNS}`, [sessionId, RESULT_STATUS[op]]);
    await client.query('INSERT INTO payment_operations (session_id, operation, result) VALUES ($1, $2, $3)', [sessionId, op, JSON.stringify(operation)]);
    const event = newEvent(
      EVENT[op],
      PAYMENTS_SOURCE,
      { sessionId, orderId: row.order_id, provider: row.provider, amountCents: Number(row.amount_cents), currency: row.currency },
      { correlationId },
    );
    await appendOutbox(client, event, { aggregateType: AGGREGATE, aggregateId: sessionId });
    return { replayed: false, session: view(upd.rows[0]), operation };
  });
  if ('refused' in outcome) throw new PaymentError('providerRefused', `Payment provider refused to ${op}: ${outcome.refused}`);
  return outcome;
}

/**
 * The buyer cancelled on the provider's page (PayPal's cancel_url brought them back to the
 * store): a still-pending session fails at once, recorded like a provider's failure event (one
 * inbox row, one PaymentFailed in the outbox), so the saga compensates now instead of at its
 * payment timeout. A session past pending (approved, paid, cancelled) is left as it is; a repeat
 * finds it failed already.
 */
export async function abandonSession(db: Database, id: string, correlationId: string): Promise<{ status: string; outcome: string }> {
  return withTransaction(db, async (client) => {
    const { rows } = await client.query<{ provider: 'stripe' | 'paypal'; provider_ref: string | null; status: string }>(
      'SELECT provider, provider_ref, status FROM payment_sessions WHERE id = $1 FOR UPDATE',
      [id],
    );
    const session = rows[0];
    if (!session) throw new PaymentError('sessionNotFound', `Payment session ${id} does not exist`);
    if (session.status !== 'pending') return { status: session.status, outcome: 'no-transition' };
    const applied = await applyProviderEvent(
      client,
      {
        provider: session.provider,
        eventId: `buyer-cancelled-${id}`,
        eventType: 'buyer.cancelled',
        providerRef: session.provider_ref ?? undefined,
        outcome: 'failed',
        metadata: { sessionId: id },
        failureMessage: "The buyer cancelled on the provider's page",
      },
      correlationId,
    );
    return { status: applied.outcome === 'applied' ? 'failed' : session.status, outcome: applied.outcome };
  });
}
