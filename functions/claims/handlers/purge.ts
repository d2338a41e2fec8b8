import { config } from '../../shared/config';
import { serviceDb } from '../../shared/db';
import { logger } from '../../shared/logger';
import { ClaimStore } from '../adapters/pg-store';
import { claimsSettings } from '../core/model';

/**
 * Scheduled (EventBridge): deletes claims past their expiry (24 h by default). Not an HTTP handler:
 * its configuration and leased pool only, without the service runtime's HTTP plumbing, chaos and Redis.
 */
const cfg = config();

export const handler = async (): Promise<{ deleted: number }> => {
  const db = serviceDb(cfg);
  await db.ensureFresh();
  const deleted = await new ClaimStore(db, claimsSettings(cfg)).purgeExpired();
  logger.info('expired claims purged', { deleted });
  return { deleted };
};
