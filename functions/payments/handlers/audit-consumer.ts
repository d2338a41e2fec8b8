import { config } from '../../shared/config';
import { serviceDb } from '../../shared/db';
import { IDEMPOTENCY_PREFIX } from '../../shared/idempotency';
import { applyOnce, sqsEventHandler } from '../../shared/inbox';
import { recordAudit } from '../core/audit';

/**
 * The payments-audit consumer: each payment event recorded once, proving the mesh end to end.
 * A redelivery is answered from its idempotency record (payments.idempotency_records, one read); the inbox, in the audit
 * row's transaction, is what still holds if that record was never written.
 */
const CONSUMER = 'payments-audit';
const cfg = config();

export const handler = sqsEventHandler(
  async (event) => {
    const db = serviceDb(cfg);
    await db.ensureFresh();
    return { applied: await applyOnce(db, CONSUMER, event.id, (client) => recordAudit(client, event)) };
  },
  { idempotency: { cfg, prefix: IDEMPOTENCY_PREFIX.paymentsAudit, db: serviceDb(cfg) } },
);
