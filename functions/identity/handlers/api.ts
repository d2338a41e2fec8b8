import { httpApi } from '../../shared/http';
import { notImplemented, serviceRuntime } from '../../shared/service';

const runtime = serviceRuntime('identity', { postgres: true, redis: true });

export const handler = httpApi(
  [
    runtime.healthRoute,
    ...notImplemented(['POST /auth/register', 'POST /auth/login', 'POST /auth/refresh', 'POST /auth/logout', 'GET /me', 'GET /.well-known/jwks.json']),
  ],
  { beforeEach: runtime.beforeEach },
);
