import fs from 'node:fs';
import path from 'node:path';
import { ROOT } from './paths';

/**
 * Browser code the pages use, copied from npm packages (pinned devDependencies) into web/vendor/
 * and committed, so the BFF serves it like any other web/ file: no CDN, and no bundling of it
 * into the Lambda code. `npm run build:web` copies; `vendorStale()` (the unit test and
 * `build:web --check`) lists the copies that differ from the installed package.
 *
 * Swagger UI renders /reference/api. Only the standalone bundle and its stylesheet are needed
 * (BaseLayout, no top bar); it runs under the pages' CSP (script-src/style-src 'self'): it
 * injects no <style> element and its one `new Function` is a guarded globalThis fallback.
 */
const SWAGGER_UI = path.dirname(require.resolve('swagger-ui-dist/package.json'));
export const VENDOR_DIR = path.join(ROOT, 'web', 'vendor');

export const VENDORED: ReadonlyArray<{ from: string; to: string }> = [
  'swagger-ui-bundle.js',
  'swagger-ui-bundle.js.LICENSE.txt',
  'swagger-ui.css',
  'LICENSE',
  'NOTICE',
].map((file) => ({ from: path.join(SWAGGER_UI, file), to: path.join(VENDOR_DIR, 'swagger-ui', file) }));

/** The version the copies come from (web/vendor/swagger-ui/VERSION records it). */
export const swaggerUiVersion = (): string => (JSON.parse(fs.readFileSync(path.join(SWAGGER_UI, 'package.json'), 'utf8')) as { version: string }).version;

const VERSION_FILE = path.join(VENDOR_DIR, 'swagger-ui', 'VERSION');

/** Vendored files (repo-relative) that are missing or differ from the installed packages. */
export function vendorStale(): string[] {
  const stale = VENDORED.filter(({ from, to }) => !fs.existsSync(to) || !fs.readFileSync(to).equals(fs.readFileSync(from))).map(({ to }) => to);
  const version = fs.existsSync(VERSION_FILE) ? fs.readFileSync(VERSION_FILE, 'utf8').trim() : '';
  if (version !== `swagger-ui-dist@${swaggerUiVersion()}`) stale.push(VERSION_FILE);
  return stale.map((f) => path.relative(ROOT, f));
}

/** Copies every vendored file; returns what changed. */
export function vendorWrite(): string[] {
  const stale = vendorStale();
  for (const { from, to } of VENDORED) {
    fs.mkdirSync(path.dirname(to), { recursive: true });
    fs.copyFileSync(from, to);
  }
  fs.writeFileSync(VERSION_FILE, `swagger-ui-dist@${swaggerUiVersion()}\n`);
  return stale;
}
