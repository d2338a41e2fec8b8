import fs from 'node:fs';
import path from 'node:path';
import { publicRoute, type PublicRoute } from '../access';
import { HttpProblem } from '../../shared/problem';

/**
 * The web pages (web/ in the repo), copied next to the bundle at build time and served by
 * the BFF: `/` is the storefront (index.html), `/chaos` the chaos page, `/reference` the
 * architecture overview, `/reference/api` the API reference (Swagger UI, vendored from npm into
 * web/vendor/, rendering GET /api/openapi.json), `/docs/<article>` the articles (rendered from docs/articles/*.md into
 * web/articles/ by `npm run build:web`), `/web/<file>` the assets. No CDN, nothing fetched at
 * run time.
 */
const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
};

/** The Stripe API origin the browser confirms payments at (Stripe.js's job); the only non-self connection. */
function stripeOrigin(apiBase: string): string {
  try {
    return new URL(apiBase).origin;
  } catch {
    return 'https://api.stripe.com';
  }
}

/**
 * `webRoot`: the web/ folder copied next to the bundle (config WEB_ROOT in tests);
 * `stripePublicApiBase`: config STRIPE_PUBLIC_API_BASE, allowed in the CSP's connect-src.
 */
export function staticRoutes(webRoot: string, stripePublicApiBase = 'https://api.stripe.com'): PublicRoute[] {
  const root = path.resolve(webRoot);
  const csp = `default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self' ${stripeOrigin(stripePublicApiBase)}; form-action 'self'; base-uri 'none'; frame-ancestors 'none'`;
  const serve = (file: string) => {
    const full = path.resolve(root, file);
    // Never serve outside the web root (../ tricks).
    if (!full.startsWith(root + path.sep) || !fs.existsSync(full) || !fs.statSync(full).isFile()) {
      throw new HttpProblem(404, 'notFound', `No page ${file}`);
    }
    const ext = path.extname(full);
    const binary = !/^text|svg|json/.test(TYPES[ext] ?? '');
    const content = fs.readFileSync(full);
    return {
      status: 200,
      headers: {
        'content-type': TYPES[ext] ?? 'application/octet-stream',
        'cache-control': ext === '.html' ? 'no-cache' : 'public, max-age=300',
        'x-content-type-options': 'nosniff',
        'content-security-policy': csp,
      },
      body: binary ? content : content.toString('utf8'),
    };
  };
  return [
    publicRoute('GET', '/', 'anyone', () => serve('index.html')),
    publicRoute('GET', '/chaos', 'anyone', () => serve('chaos.html')),
    publicRoute('GET', '/reference', 'anyone', () => serve('reference.html')),
    // The API reference: Swagger UI (vendored under web/vendor/swagger-ui/) rendering /api/openapi.json.
    publicRoute('GET', '/reference/api', 'anyone', () => serve('reference-api.html')),
    publicRoute('GET', '/docs/{article}', 'anyone', (req) => {
      // A bare name only: the page file is derived from it, never a path the caller chose.
      if (!/^[a-z0-9-]{1,64}$/.test(req.params.article)) throw new HttpProblem(404, 'notFound', 'No such article');
      return serve(`articles/${req.params.article}.html`);
    }),
    publicRoute('GET', '/web/{file+}', 'anyone', (req) => serve(req.params.file)),
  ];
}
