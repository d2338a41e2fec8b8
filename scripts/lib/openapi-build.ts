import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildSync } from 'esbuild';
import { ROOT } from './paths';

/**
 * Writes web/openapi.json from the BFF's routes and schemas (scripts/lib/openapi.ts), or with
 * `check` only compares; returns the file, repo-relative, when it was stale.
 *
 * The routes' modules use middy, which ships ESM only (an `import`-only exports map): tsx's
 * CommonJS cannot load it, jest maps it (jest.config.js), the Lambdas bundle it. So does this:
 * esbuild bundles scripts/lib/openapi.ts into a temporary CommonJS file, which is then loaded.
 */
export async function buildOpenApiFile(check: boolean): Promise<string[]> {
  const webRoot = path.join(ROOT, 'web');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cm-openapi-'));
  const bundle = path.join(dir, 'openapi.cjs');
  try {
    buildSync({
      entryPoints: [path.join(__dirname, 'openapi.ts')],
      bundle: true,
      platform: 'node',
      format: 'cjs',
      mainFields: ['module', 'main'],
      external: ['pg-native'],
      outfile: bundle,
      logLevel: 'error',
    });
    const lib = require(bundle) as typeof import('./openapi');
    try {
      const file = lib.openApiFile(webRoot);
      const content = lib.renderOpenApi(lib.bffRouteTable(webRoot));
      if (fs.existsSync(file) && fs.readFileSync(file, 'utf8') === content) return [];
      if (!check) fs.writeFileSync(file, content);
      return [path.relative(ROOT, file)];
    } finally {
      await lib.closeBffRouteTable();
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
