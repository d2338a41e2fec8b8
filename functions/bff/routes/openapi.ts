import { json } from '../../shared/http';
import { publicRoute, type PublicRoute } from '../access';
import { buildOpenApiDocument } from '../openapi/document';

/**
 * GET /api/openapi.json: the OpenAPI 3.1 description of the route table it is given (the whole
 * public API, this route included), built on the first request from the routes and the zod
 * schemas (functions/bff/openapi/) and kept for the life of the instance. The rendered
 * reference is the page /reference/api (web/reference-api.html).
 */
export function openApiRoutes(table: () => readonly PublicRoute[]): PublicRoute[] {
  let body: string | undefined;
  return [
    publicRoute('GET', '/api/openapi.json', 'anyone', () => {
      body ??= JSON.stringify(buildOpenApiDocument([...table()]));
      return json(200, body, { 'content-type': 'application/json', 'cache-control': 'public, max-age=300' });
    }),
  ];
}
