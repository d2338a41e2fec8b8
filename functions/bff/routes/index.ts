import path from 'node:path';
import { config } from '../../shared/config';
import type { PublicRoute } from '../access';
import { registerServices } from '../downstream';
import { authRoutes } from './auth';
import { catalogRoutes } from './catalog';
import { chaosRoutes } from './chaos';
import { configRoutes } from './config';
import { gatewayRoutes } from './gateway';
import { healthRoutes } from './health';
import { openApiRoutes } from './openapi';
import { opsRoutes } from './ops';
import { orderRoutes } from './orders';
import { staticRoutes } from './static';

/** Every route of the public API, each with the access it needs (see ../access.ts). */
export const publicRoutes = (): PublicRoute[] => {
  const cfg = config();
  // Every configured service's breaker exists from the start (the panel lists all of them).
  registerServices(Object.keys(cfg.SERVICE_APIS));
  const webRoot = cfg.WEB_ROOT ?? path.join(__dirname, 'web');
  return [
    ...staticRoutes(webRoot, cfg.STRIPE_PUBLIC_API_BASE),
    ...healthRoutes(),
    ...authRoutes(),
    ...catalogRoutes(),
    ...gatewayRoutes(),
    ...chaosRoutes(),
    ...orderRoutes(),
    ...configRoutes(),
    ...opsRoutes(),
    // The description of this very table (itself included), built from it at build time.
    ...openApiRoutes(webRoot),
  ];
};
