import { httpApi } from '../../shared/http';
import { healthRoutes } from '../routes/health';
import { staticRoutes } from '../routes/static';
import { catalogRoutes } from '../routes/catalog';
import { authRoutes } from '../routes/auth';
import { gatewayRoutes } from '../routes/gateway';
import { chaosRoutes } from '../routes/chaos';
import { orderRoutes } from '../routes/orders';
import { configRoutes } from '../routes/config';
import { opsRoutes } from '../routes/ops';
import { rateLimit } from '../middleware/rate-limit';
import type { PublicRoute } from '../access';

/** Every route of the public API, each with the access it needs (see ../access.ts). */
export const publicRoutes = (): PublicRoute[] => [
  ...staticRoutes(),
  ...healthRoutes(),
  ...authRoutes(),
  ...catalogRoutes(),
  ...gatewayRoutes(),
  ...chaosRoutes(),
  ...orderRoutes(),
  ...configRoutes(),
  ...opsRoutes(),
];

/** The public door: every browser call lands here and is routed to a service. */
export const handler = httpApi(publicRoutes(), {
  maxBodyBytes: 64 * 1024,
  middlewares: [rateLimit()],
});
