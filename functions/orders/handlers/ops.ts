import { meshOpsHandler } from '../../shared/mesh-ops';

/** GET /ops/outbox, GET /ops/dlq, POST /ops/dlq/{queue}/redrive of the orders API (shared/mesh-ops.ts). */
export const handler = meshOpsHandler('orders');
