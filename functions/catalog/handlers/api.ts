import { httpApi } from '../../shared/http';
import { notImplemented, serviceRuntime } from '../../shared/service';

const runtime = serviceRuntime('catalog', { postgres: true, redis: true });

export const handler = httpApi(
  [
    runtime.healthRoute,
    ...notImplemented(['GET /products', 'GET /products/{id}', 'PATCH /products/{id}', 'PATCH /products/{id}/stock', 'POST /race', 'POST /internal/reservations', 'DELETE /internal/reservations/{orderId}']),
  ],
  { beforeEach: runtime.beforeEach },
);
