import { catalogProblem } from '../../catalog/adapters/problems';
import { chaosMiddlewares } from '../../shared/chaos';
import { config } from '../../shared/config';
import { httpApi } from '../../shared/http';
import { rateLimit } from '../middleware/rate-limit';
import { publicRoutes } from '../routes';

/** The public door: every browser call lands here and is routed to a service. */
export const handler = httpApi(publicRoutes(), {
  maxBodyBytes: 64 * 1024,
  middlewares: [...chaosMiddlewares(config()), rateLimit()],
  // The ETag race (routes/catalog.ts) runs catalog's core here, at the door.
  toProblem: catalogProblem,
});
