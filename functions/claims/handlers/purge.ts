import { logger } from '../../shared/logger';
import { serviceRuntime } from '../../shared/service';
import { ClaimStore } from '../adapters/pg-store';
import { claimsSettings } from '../core/model';

/** Scheduled (EventBridge): deletes claims past their expiry (24 h by default). */
const runtime = serviceRuntime('claims', { postgres: true });

export const handler = async (): Promise<{ deleted: number }> => {
  await runtime.beforeEach();
  const deleted = await new ClaimStore(runtime.db(), claimsSettings(runtime.cfg)).purgeExpired();
  logger.info('expired claims purged', { deleted });
  return { deleted };
};
