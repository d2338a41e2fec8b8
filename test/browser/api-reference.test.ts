import type { Browser } from 'playwright-core';
import { accessibilityViolations, BASE, fitsWidth, launch, screenshot, watchedPage, type WatchedPage } from './support';

/**
 * /reference/api in a real browser: the vendored Swagger UI loads under the pages' CSP (no
 * console error, so no CSP violation), renders every operation of GET /api/openapi.json, and
 * "Try it out" reaches the deployed API through the spec's relative server (the stage prefix
 * included). axe-core at 0 violations with an operation open, at desktop and phone width.
 * Read-only: the one call made is GET /api/config.
 */
jest.setTimeout(120_000);
let browser: Browser;
let w: WatchedPage;

beforeAll(async () => {
  browser = await launch();
  // /reference (the way in) reads /api/health, which answers 503 while a dependency is down: not this page's error.
  w = await watchedPage(browser, [{ status: 503, url: /\/api\/health$/ }]);
});

afterAll(async () => {
  await browser?.close();
});

afterEach(() => {
  expect(w.takeErrors()).toEqual([]);
});

async function openReference() {
  const { page } = w;
  const res = await page.goto(`${BASE}reference/api`);
  expect(res?.status()).toBe(200);
  await page.getByRole('heading', { level: 1, name: 'API reference' }).waitFor();
  await page.locator('html[data-api-reference="ready"]').waitFor({ timeout: 30_000 });
  await page.locator('.swagger-ui .opblock').first().waitFor();
  return page;
}

it('/reference links to /reference/api, which renders every operation of /api/openapi.json', async () => {
  const { page } = w;
  await page.goto(`${BASE}reference`);
  await page.getByRole('link', { name: 'API reference' }).click();
  await page.getByRole('heading', { level: 1, name: 'API reference' }).waitFor();

  await openReference();
  const spec = (await (await page.request.get(`${BASE}api/openapi.json`)).json()) as { openapi: string; paths: Record<string, Record<string, unknown>> };
  expect(spec.openapi).toBe('3.1.0');
  const operations = Object.values(spec.paths).reduce((n, item) => n + Object.keys(item).length, 0);
  expect(await page.locator('.swagger-ui .opblock').count()).toBe(operations);
  // Protected routes show the lock; the admin ones are among them.
  expect(await page.locator('#operations-Catalog-patchApiProductsId .authorization__btn').count()).toBe(1);
  await screenshot(page, 'api-reference');
});

it('"Try it out" calls the deployed API through the relative server (GET /api/config)', async () => {
  const page = await openReference();
  const op = page.locator('#operations-Meta-getApiConfig');
  await op.locator('button.opblock-summary-control').click();
  await op.locator('.try-out__btn').click();
  await op.locator('button.execute').click();
  await op.locator('.live-responses-table .response .response-col_status').first().waitFor();
  expect((await op.locator('.live-responses-table .response .response-col_status').first().textContent())?.trim()).toMatch(/^200/);
  expect(await op.locator('.request-url').textContent()).toContain(`${BASE}api/config`);
  await screenshot(page, 'api-reference-try-it');
  expect(await accessibilityViolations(page)).toEqual([]);
});

it('fits a 390 px phone and stays accessible there', async () => {
  const { page } = w;
  await page.setViewportSize({ width: 390, height: 844 });
  await openReference();
  await page.locator('#operations-Orders-postApiOrders button.opblock-summary-control').click();
  await page.locator('#operations-Orders-postApiOrders .parameters-container').waitFor();
  expect(await fitsWidth(page)).toBe(true);
  expect(await accessibilityViolations(page)).toEqual([]);
  await screenshot(page, 'api-reference-phone');
  await page.setViewportSize({ width: 1280, height: 900 });
});
