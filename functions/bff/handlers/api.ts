import { httpApi } from '../../shared/http';
import { healthRoutes } from '../routes/health';
import { staticRoutes } from '../routes/static';
import { catalogRoutes } from '../routes/catalog';
import { authRoutes } from '../routes/auth';

/** The public door: every browser call lands here and is routed to a service. */
export const handler = httpApi([...staticRoutes(), ...healthRoutes(), ...authRoutes(), ...catalogRoutes()], { maxBodyBytes: 64 * 1024 });
