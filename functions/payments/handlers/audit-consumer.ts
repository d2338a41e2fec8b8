import { config } from '../../shared/config';
import { serviceDb } from '../../shared/db';
import { applyOnce, sqsEventHandler } from '../../shared/inbox';
import { recordAudit } from '../core/audit';

/** The payments-audit consumer: each payment event recorded once (inbox), proving the mesh end to end. */
export const CONSUMER = 'payments-audit';

export const handler = sqsEventHandler(async (event) => {
  const db = serviceDb(config());
  await db.ensureFresh();
  await applyOnce(db, CONSUMER, event.id, (client) => recordAudit(client, event));
});
