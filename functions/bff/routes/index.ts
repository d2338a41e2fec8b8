import { config } from '../../shared/config';
import type { PublicRoute } from '../access';
import { registerServices } from '../downstream';
import { authRoutes } from './auth';
import { catalogRoutes } from './catalog';
import { chaosRoutes } from './chaos';
import { configRoutes } from './config';
import { gatewayRoutes } from './gateway';
import { healthRoutes } from './health';
import { opsRoutes } from './ops';
import { orderRoutes } from './orders';
import { staticRoutes } from './static';

/** Every route of the public API, each with the access it needs (see ../access.ts). */
export const publicRoutes = (): PublicRoute[] => {
  // Every configured service's breaker exists from the start (the panel lists all of them).
  registerServices(Object.keys(config().SERVICE_APIS));
  return [
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
};
