import { catalogProblem } from '../../catalog/adapters/problems';
import { chaosMiddlewares } from '../../shared/chaos';
import { config } from '../../shared/config';
import { httpApi } from '../../shared/http';
import { publishBreakers } from '../breaker-board';
import { rateLimit } from '../middleware/rate-limit';
import { publicRoutes } from '../routes';

/** The public door: every browser call lands here and is routed to a service. */
export const handler = httpApi(publicRoutes(), {
  maxBodyBytes: 64 * 1024,
  // The breaker board first: it only starts a background publish, so even a request the chaos
  // rules or the rate limit refuse keeps this instance on the board.
  middlewares: [publishBreakers(), ...chaosMiddlewares(config()), rateLimit()],
  // The ETag race (routes/catalog.ts) runs catalog's core here, at the door.
  toProblem: catalogProblem,
});
