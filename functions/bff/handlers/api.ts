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

/** The public door: every browser call lands here and is routed to a service. */
export const handler = httpApi([...staticRoutes(), ...healthRoutes(), ...authRoutes(), ...catalogRoutes(), ...gatewayRoutes(), ...chaosRoutes(), ...orderRoutes(), ...configRoutes(), ...opsRoutes()], {
  maxBodyBytes: 64 * 1024,
  middlewares: [rateLimit()],
});
