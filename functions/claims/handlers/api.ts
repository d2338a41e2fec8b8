import { httpApi } from '../../shared/http';
import { notImplemented, serviceRuntime } from '../../shared/service';

const runtime = serviceRuntime('claims', { postgres: true });

export const handler = httpApi(
  [runtime.healthRoute, ...notImplemented(['POST /claims', 'PUT /claims/{id}/outcome', 'DELETE /claims/{id}'])],
  { beforeEach: runtime.beforeEach },
);
