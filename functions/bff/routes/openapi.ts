import fs from 'node:fs';
import path from 'node:path';
import { json } from '../../shared/http';
import { publicRoute, type PublicRoute } from '../access';

/** The description's file in the web root (web/ in the repo, copied next to the bundle). */
export const OPENAPI_ASSET = 'openapi.json';

/**
 * GET /api/openapi.json: the OpenAPI 3.1 description of the whole public API (this route
 * included). It is built at build time, not here: `npm run build:web` (scripts/lib/openapi.ts)
 * renders it from this route table and the zod schemas (functions/bff/openapi/) into
 * web/openapi.json, committed and copied next to the bundle with web/; test/unit/openapi.test.ts
 * fails when that file is stale or misses a route. Read once per instance. The rendered
 * reference is the page /reference/api (web/reference-api.html).
 */
export function openApiRoutes(webRoot: string): PublicRoute[] {
  let body: string | undefined;
  return [
    publicRoute('GET', '/api/openapi.json', 'anyone', () => {
      body ??= JSON.stringify(JSON.parse(fs.readFileSync(path.join(webRoot, OPENAPI_ASSET), 'utf8')));
      return json(200, body, { 'content-type': 'application/json', 'cache-control': 'public, max-age=300' });
    }),
  ];
}
