import { httpApi } from '../../shared/http';
import { notImplemented, serviceRuntime } from '../../shared/service';

const runtime = serviceRuntime('chaos', { redis: true });

export const handler = httpApi([runtime.healthRoute, ...notImplemented(['GET /rules', 'POST /rules', 'DELETE /rules', 'DELETE /rules/{id}'])]);
