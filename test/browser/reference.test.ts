import type { Browser } from 'playwright-core';
import { accessibilityViolations, BASE, fitsWidth, launch, screenshot, watchedPage, type WatchedPage } from './support';

/**
 * The reference site in a real browser: /reference (the diagram's boxes link to cards that exist,
 * every service card shows a live health status from /api/health) and the three articles under
 * /docs/. Each page at desktop and phone width: axe-core at 0 violations, no sideways scroll.
 * Read-only: nothing here changes state.
 */
const ARTICLES = [
  ['saga-vs-2pc', 'Sagas instead of distributed transactions'],
  ['outbox', 'Publishing events reliably: the transactional outbox'],
  ['credential-rotation', 'Rotating database credentials without dropping a query'],
] as const;
const SERVICES = ['bff', 'identity', 'catalog', 'claims', 'payments', 'orders'];
jest.setTimeout(120_000);
let browser: Browser;
let w: WatchedPage;

beforeAll(async () => {
  browser = await launch();
  // /api/health answers 503 while a dependency is down; the page shows that, it is not an error.
  w = await watchedPage(browser, [{ status: 503, url: /\/api\/health$/ }]);
});

afterAll(async () => {
  await browser?.close();
});

afterEach(() => {
  expect(w.takeErrors()).toEqual([]);
});

it('/reference: every diagram box links to a card that exists', async () => {
  const { page } = w;
  await page.goto(`${BASE}reference`);
  await page.getByRole('heading', { level: 1, name: 'How it works' }).waitFor();
  const targets = await page.locator('figure.diagram svg a').evaluateAll((links) => links.map((a) => a.getAttribute('href') ?? ''));
  expect(targets.length).toBeGreaterThanOrEqual(10);
  const missing = await page.evaluate((hrefs) => hrefs.filter((h) => !h.startsWith('#') || !document.getElementById(h.slice(1))), targets);
  expect(missing).toEqual([]);
  // Every service card is a target of some box.
  for (const s of SERVICES) expect(targets).toContain(`#svc-${s}`);

  // Following a box lands on its card.
  await page.locator('figure.diagram svg a[href="#svc-orders"]').click();
  await page.waitForURL(/#svc-orders$/);
  expect(await page.locator('#svc-orders').isVisible()).toBe(true);
});

it('/reference: each service card shows its live health, with the leased Postgres user', async () => {
  const { page } = w;
  await page.goto(`${BASE}reference`);
  for (const s of SERVICES) {
    const cell = page.locator(`[data-health="${s}"]`);
    await cell.locator('.state').waitFor();
    expect(await cell.locator('.state').textContent()).toMatch(/^(Up|Down)$/);
  }
  // The system under test is up: every card says so, and Postgres-backed ones name their Vault user.
  for (const s of SERVICES) expect(await page.locator(`[data-health="${s}"] .state`).textContent()).toBe('Up');
  for (const s of ['identity', 'catalog', 'claims', 'payments', 'orders']) {
    expect(await page.locator(`[data-health="${s}"]`).textContent()).toMatch(
      new RegExp(`postgres: up · user v-\\S+ · schema ${s} · Vault lease until [^·]+, \\d+ min left · \\d+ rotations? on this worker · tables: \\w+`),
    );
  }
  // Each schema's own tables, read live (information_schema) by the service's leased user.
  expect(await page.locator('[data-health="payments"]').textContent()).toMatch(/tables: .*outbox.*webhook_inbox/);
  expect(await page.locator('[data-health="orders"]').textContent()).toMatch(/tables: .*orders.*outbox/);
  // Every card has its demo button.
  for (const s of SERVICES) expect(await page.locator(`#demo-${s}-run`).count()).toBe(1);
  await page.locator('#health-summary', { hasText: 'All services are up.' }).waitFor();
  await screenshot(page, 'reference');
  expect(await accessibilityViolations(page)).toEqual([]);
  expect(await fitsWidth(page)).toBe(true);
});

it('/reference links to each article and the storefront and /chaos headers link to /reference', async () => {
  const { page } = w;
  await page.goto(`${BASE}reference`);
  for (const [slug, title] of ARTICLES) {
    expect(await page.getByRole('link', { name: title }).getAttribute('href')).toBe(`./docs/${slug}`);
  }
  for (const path of ['', 'chaos']) {
    await page.goto(`${BASE}${path}`);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'How it works' }).first().click();
    await page.getByRole('heading', { level: 1, name: 'How it works' }).waitFor();
  }
});

it.each(ARTICLES)('/docs/%s renders, is accessible and links back to /reference', async (slug, title) => {
  const { page } = w;
  const res = await page.goto(`${BASE}docs/${slug}`);
  expect(res?.status()).toBe(200);
  await page.getByRole('heading', { level: 1, name: title }).waitFor();
  // The stylesheet loaded (relative to /docs/): the page is styled, not raw HTML.
  expect(await page.evaluate(() => getComputedStyle(document.querySelector('header.site')!).display)).toBe('flex');
  expect(await page.locator('article h2').count()).toBeGreaterThan(3);
  // Under the text, the live system: the deployed state machine, the leases, or (for admins) the outboxes.
  const live = page.locator('#live');
  if (slug === 'saga-vs-2pc') await live.locator('.sg-node[data-state="CompleteOrder"]').waitFor();
  if (slug === 'credential-rotation') {
    await live.locator('#live-leases tbody tr').first().waitFor();
    expect(await live.locator('#live-leases tbody tr').count()).toBe(5);
    expect(await live.locator('#live-leases').textContent()).toMatch(/v-\S+/);
  }
  if (slug === 'outbox') await live.getByText('sign in as an admin').waitFor();
  await screenshot(page, `article-${slug}`);
  expect(await accessibilityViolations(page)).toEqual([]);
  expect(await fitsWidth(page)).toBe(true);
  await page.getByRole('link', { name: 'Back to How it works' }).click();
  await page.getByRole('heading', { level: 1, name: 'How it works' }).waitFor();
});

it('the design document and a service contract are pages too, reached from the cards', async () => {
  const { page } = w;
  await page.goto(`${BASE}reference`);
  await page.locator('#svc-catalog').getByRole('link', { name: 'docs/catalog.md' }).click();
  await page.getByRole('heading', { level: 1 }).first().waitFor();
  expect(page.url()).toMatch(/\/docs\/catalog$/);
  expect(await accessibilityViolations(page)).toEqual([]);
  expect(await fitsWidth(page)).toBe(true);
  await page.goto(`${BASE}docs/architecture`);
  expect(await page.locator('article h2').count()).toBeGreaterThan(3);
  expect(await accessibilityViolations(page)).toEqual([]);
  await screenshot(page, 'design-architecture');
});

it('every page fits a 390 px phone and stays accessible there', async () => {
  const { page } = w;
  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto(`${BASE}reference`);
  await page.locator('[data-health="orders"] .state').waitFor();
  expect(await fitsWidth(page)).toBe(true);
  expect(await accessibilityViolations(page)).toEqual([]);
  await screenshot(page, 'reference-phone');
  for (const [slug, title] of ARTICLES) {
    await page.goto(`${BASE}docs/${slug}`);
    await page.getByRole('heading', { level: 1, name: title }).waitFor();
    expect([slug, await fitsWidth(page)]).toEqual([slug, true]);
    expect(await accessibilityViolations(page)).toEqual([]);
  }
  await screenshot(page, 'article-phone');
  await page.setViewportSize({ width: 1280, height: 900 });
});
