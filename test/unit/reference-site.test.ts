import fs from 'node:fs';
import path from 'node:path';
import type { PublicRoute } from '../../functions/bff/access';
import { staticRoutes } from '../../functions/bff/routes/static';
import { articleNames, designDocNames, renderAll, renderArticle } from '../../scripts/lib/articles';
import { vendorStale } from '../../scripts/lib/vendor';

/**
 * The reference site's pages as the BFF serves them: /reference and /docs/{article} answer HTML
 * with the CSP and carry no inline script or style (the CSP would block them in the browser);
 * the committed web/articles/*.html is what `npm run build:web` renders from docs/articles/*.md.
 */
const WEB = path.resolve(__dirname, '..', '..', 'web');
const routes = staticRoutes(WEB);
const ARTICLES = ['saga-vs-2pc', 'outbox', 'credential-rotation'];

async function get(routePath: string, params: Record<string, string> = {}) {
  const route = routes.find((r) => r.method === 'GET' && r.path === routePath) as PublicRoute;
  expect(route).toBeDefined();
  const res = await route.handler({ method: 'GET', path: routePath, headers: {}, query: {}, params, rawBody: '', sourceIp: '127.0.0.1', correlationId: 'test' } as never);
  return res as { status: number; headers: Record<string, string>; body: string };
}

function expectSafePage(res: { status: number; headers: Record<string, string>; body: string }) {
  expect(res.status).toBe(200);
  expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
  expect(res.headers['content-security-policy']).toMatch(/script-src 'self'/);
  expect(res.headers['content-security-policy']).toMatch(/style-src 'self'/);
  const html = String(res.body);
  // Scripts only by src; no <style> blocks, style attributes or inline handlers.
  expect(html.match(/<script(?![^>]*\bsrc=)[^>]*>/gi) ?? []).toEqual([]);
  expect(html.match(/<style\b/gi) ?? []).toEqual([]);
  expect(html.match(/\sstyle\s*=/gi) ?? []).toEqual([]);
  expect(html.match(/\son[a-z]+\s*=/gi) ?? []).toEqual([]);
  expect(html).not.toMatch(/javascript:/i);
  // No CDN: every src and stylesheet is relative to the page.
  for (const m of html.matchAll(/\b(?:src|href)="([^"]+)"/g)) expect(m[1]).not.toMatch(/^(https?:)?\/\//);
  return html;
}

describe('static routes of the reference site', () => {
  it('declares /reference and /docs/{article} for anyone', () => {
    const access = Object.fromEntries(routes.map((r) => [`${r.method} ${r.path}`, r.access]));
    expect(access['GET /reference']).toBe('anyone');
    expect(access['GET /docs/{article}']).toBe('anyone');
  });

  it('serves /reference with a link to every article and a card for every box of the diagram', async () => {
    const html = expectSafePage(await get('/reference'));
    for (const a of ARTICLES) expect(html).toContain(`href="./docs/${a}"`);
    expect(html).toContain('docs/architecture.md');
    const ids = new Set([...html.matchAll(/\bid="([^"]+)"/g)].map((m) => m[1]));
    const svg = html.slice(html.indexOf('<svg'), html.indexOf('</svg>'));
    const boxes = [...svg.matchAll(/<a href="#([^"]+)"/g)].map((m) => m[1]);
    expect(boxes.length).toBeGreaterThanOrEqual(10);
    for (const id of boxes) expect([id, ids.has(id)]).toEqual([id, true]);
    for (const s of ['bff', 'identity', 'catalog', 'claims', 'payments', 'orders']) {
      expect(ids.has(`svc-${s}`)).toBe(true);
      expect(html).toContain(`data-health="${s}"`);
    }
  });

  it.each(ARTICLES)('serves /docs/%s as a page that links back to /reference', async (name) => {
    const html = expectSafePage(await get('/docs/{article}', { article: name }));
    expect(html).toContain('href="../reference"');
    expect(html).toContain('href="../web/style.css"');
    expect(html).toMatch(/<h1 id="[^"]+">/);
  });

  it('answers 404 for an unknown article and for anything but a bare name', async () => {
    for (const article of ['nope', '../index', 'outbox.html', 'OUTBOX', '']) {
      await expect(get('/docs/{article}', { article })).rejects.toMatchObject({ status: 404 });
    }
  });
});

describe('rendered articles', () => {
  it('are the three articles', () => {
    expect(articleNames()).toEqual([...ARTICLES].sort());
  });

  it('are up to date with docs/articles (run `npm run build:web` when this fails)', () => {
    const pages = renderAll();
    for (const [file, html] of pages) {
      const committed = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '(missing)';
      expect([path.basename(file), committed === html]).toEqual([path.basename(file), true]);
    }
    const onDisk = fs.readdirSync(path.join(WEB, 'articles')).filter((f) => f.endsWith('.html'));
    expect(onDisk.sort()).toEqual(pages.map(([f]) => path.basename(f)).sort());
  });

  it('include the design documents (architecture and every contract), each linked from /reference to a page that exists', async () => {
    expect(designDocNames()).toEqual(expect.arrayContaining(['architecture', 'gateway', 'identity', 'catalog', 'payments', 'orders', 'security']));
    const html = expectSafePage(await get('/reference'));
    const linked = [...html.matchAll(/href="\.\/docs\/([a-z0-9-]+)"/g)].map((m) => m[1]);
    expect(linked).toEqual(expect.arrayContaining(['architecture', 'catalog', 'payments']));
    const pages = new Set([...articleNames(), ...designDocNames()]);
    expect(linked.filter((n) => !pages.has(n))).toEqual([]);
    // Links between documents stay on the site; the architecture's link to an article is a page link.
    const architecture = renderAll().find(([f]) => f.endsWith('/architecture.html'))![1];
    expect(architecture).toContain('href="./outbox"');
    expect(architecture).toContain('Design documents</nav>');
    expect(architecture).not.toContain('<script');
  });

  it('escapes raw HTML and unsafe links instead of passing them through', () => {
    const html = renderArticle(
      'x',
      '# T\n\n<script>alert(1)</script>\n\n<style>p{}</style> <img src=x onerror=alert(1)>\n\n[bad](javascript:alert(1)) [ok](outbox.md#the-dispatcher) [repo](../../functions/shared/db.ts) ![img](http://evil/x.png)\n',
      new Set(['outbox']),
    );
    const body = html.slice(html.indexOf('<article>'), html.indexOf('</article>'));
    // The page's only script is the site's own live panel, outside the rendered Markdown.
    expect([...html.matchAll(/<script[^>]*>/g)].map((m) => m[0])).toEqual(['<script type="module" src="../web/js/article-live.js">']);
    // No real tag of those kinds and no handler attribute on any tag; escaped text is harmless.
    expect(body).not.toMatch(/<(script|style|img)\b/i);
    expect(body).not.toMatch(/<[^>]*\son[a-z]+=/i);
    expect(body).not.toMatch(/href="javascript/i);
    expect(body).toContain('&lt;script&gt;');
    expect(body).toContain('<a href="./outbox#the-dispatcher">ok</a>');
    expect(body).toContain('<code class="repo-path">functions/shared/db.ts</code>');
  });
});

describe('the API reference page (/reference/api)', () => {
  it('is linked from /reference, with the description it renders', async () => {
    const html = expectSafePage(await get('/reference'));
    expect(html).toContain('href="./reference/api"');
    expect(html).toContain('href="./api/openapi.json"');
  });

  it('loads the vendored Swagger UI and its own start script, relative to /reference/api, with no CDN', async () => {
    const html = expectSafePage(await get('/reference/api'));
    const scripts = [...html.matchAll(/<script[^>]*\bsrc="([^"]+)"/g)].map((m) => m[1]);
    expect(scripts).toEqual(['../web/vendor/swagger-ui/swagger-ui-bundle.js', '../web/js/api-reference.js']);
    expect(html).toContain('href="../web/vendor/swagger-ui/swagger-ui.css"');
    expect(html).toContain('href="../api/openapi.json"');
    expect(html).toContain('href="../reference"');
    // Everything the page loads is served by the /web/{file+} route.
    for (const file of ['vendor/swagger-ui/swagger-ui-bundle.js', 'vendor/swagger-ui/swagger-ui.css', 'js/api-reference.js', 'vendor/swagger-ui/LICENSE']) {
      const res = await get('/web/{file+}', { file });
      expect([file, res.status]).toEqual([file, 200]);
    }
    // The start script asks for nothing off this origin (no validator badge, relative spec URL).
    const start = fs.readFileSync(path.join(WEB, 'js', 'api-reference.js'), 'utf8');
    expect(start).toContain('validatorUrl: null');
    expect(start).not.toMatch(/https?:\/\//);
  });

  it('serves the pinned swagger-ui-dist byte for byte (run `npm run build:web` when this fails)', () => {
    expect(vendorStale()).toEqual([]);
    const pinned = (JSON.parse(fs.readFileSync(path.resolve(__dirname, '..', '..', 'package.json'), 'utf8')) as { devDependencies: Record<string, string> })
      .devDependencies['swagger-ui-dist'];
    expect(fs.readFileSync(path.join(WEB, 'vendor', 'swagger-ui', 'VERSION'), 'utf8').trim()).toBe(`swagger-ui-dist@${pinned}`);
  });
});
