import { httpApi } from '../../shared/http';
import { healthRoutes } from '../routes/health';

/** The public door: every browser call lands here and is routed to a service. */
export const handler = httpApi([...healthRoutes()], { maxBodyBytes: 64 * 1024 });
