import path from 'node:path';
import type { PublicRoute } from '../../functions/bff/access';
import { downstreamRegistry } from '../../functions/bff/downstream';
import { buildOpenApiDocument } from '../../functions/bff/openapi/document';
import { OPENAPI_ASSET } from '../../functions/bff/routes/openapi';
import { resetConfigCache } from '../../functions/shared/config';
import { closeRedis } from '../../functions/shared/redis';

/**
 * The public API's OpenAPI description, built at build time (`npm run build:web`,
 * scripts/lib/openapi-build.ts) rather than by the BFF at run time, so zod-openapi and the
 * description's tables stay out of the BFF bundle: the BFF's route table (`publicRoutes()`, what
 * the Lambda serves) and the zod schemas of functions/bff/openapi/ go through buildOpenApiDocument
 * into web/openapi.json (committed, copied next to the bundle with web/, answered at
 * GET /api/openapi.json). test/unit/openapi.test.ts fails when the file is not what this renders.
 */
export const openApiFile = (webRoot: string): string => path.join(webRoot, OPENAPI_ASSET);

/**
 * The BFF's route table as its Lambda builds it. The table needs a configuration to load; which
 * services and endpoints it names changes no route, so placeholders fill what the environment does
 * not set. Call `closeBffRouteTable` when done (the breakers it registers hold timers).
 */
export function bffRouteTable(webRoot: string): PublicRoute[] {
  process.env.SERVICE_NAME ??= 'bff';
  process.env.SERVICE_APIS ??= JSON.stringify(
    Object.fromEntries(['identity', 'catalog', 'claims', 'payments', 'orders', 'chaos'].map((s) => [s, { apiId: `${s}api`, stage: '$default' }])),
  );
  process.env.AWS_ENDPOINT_URL ??= 'http://emulator.test';
  process.env.WEB_ROOT ??= webRoot;
  resetConfigCache();
  // require, not import: the environment above must be in place before the routes' modules load.
  const { publicRoutes } = require('../../functions/bff/routes') as typeof import('../../functions/bff/routes');
  return publicRoutes();
}

export async function closeBffRouteTable(): Promise<void> {
  await closeRedis();
  for (const d of downstreamRegistry().values()) d.shutdown();
}

/** The file's content for a route table: the document as two-space JSON (readable diffs) and a final newline. */
export const renderOpenApi = (routes: PublicRoute[]): string => `${JSON.stringify(buildOpenApiDocument(routes), null, 2)}\n`;
