import type { Browser } from 'playwright-core';
import { BASE, launch, screenshot, testProduct, watchedPage, type WatchedPage } from './support';

/**
 * The storefront in a real browser against the running stack: browse and search, the product
 * page, log in, cart, checkout (a double click sends one order), pay with the test card and
 * watch the order reach COMPLETED with its saga timeline. No console errors on any page.
 */
jest.setTimeout(240_000);
let browser: Browser;
let w: WatchedPage;
let product: Awaited<ReturnType<typeof testProduct>>;

beforeAll(async () => {
  browser = await launch();
  product = await testProduct('Browser storefront lamp');
  w = await watchedPage(browser);
});

afterAll(async () => {
  await browser?.close();
  await product?.cleanup();
});

afterEach(() => {
  // Every page visited in a test must have run without a console error.
  expect(w.takeErrors()).toEqual([]);
});

it('lists products and finds one by search', async () => {
  const { page } = w;
  await page.goto(BASE);
  await page.getByRole('heading', { level: 1, name: 'Products' }).waitFor();
  await page.locator('.card').first().waitFor();
  await screenshot(page, 'storefront-products');

  await page.getByLabel('Search by name or SKU').fill(product.name);
  await page.getByRole('button', { name: 'Search' }).click();
  await page.getByRole('heading', { level: 1, name: `Products matching “${product.name}”` }).waitFor();
  expect(await page.locator('.card').count()).toBe(1);
  await page.getByRole('link', { name: product.name }).click();
  await page.getByRole('heading', { level: 1, name: product.name }).waitFor();
  expect(await page.locator('#stock').textContent()).toBe('100');
  await screenshot(page, 'storefront-product');
});

it('logs in, adds to the cart and checks out: one order for a double click, COMPLETED after paying', async () => {
  const { page } = w;
  await page.goto(`${BASE}#/login?next=product/${product.id}`);
  await page.getByLabel('Email').fill('demo@checkout-mesh.dev');
  await page.getByLabel('Password').fill('demo-password-123');
  await screenshot(page, 'storefront-login');
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByRole('heading', { level: 1, name: product.name }).waitFor();
  await page.locator('.who', { hasText: 'demo@checkout-mesh.dev' }).waitFor();

  await page.getByLabel('Quantity').fill('2');
  await page.getByRole('button', { name: `Add ${product.name} to cart` }).click();
  await page.getByRole('link', { name: 'Cart (2)' }).click();
  await page.getByRole('heading', { level: 1, name: 'Your cart' }).waitFor();
  expect(await page.locator('#cart-total').textContent()).toContain('39.98');
  await screenshot(page, 'storefront-cart');

  const posts: string[] = [];
  page.on('request', (r) => {
    if (r.method() === 'POST' && r.url().endsWith('/api/orders')) posts.push(r.headers()['idempotency-key']);
  });
  await page.getByRole('button', { name: 'Place order' }).dblclick();
  await page.waitForURL(/#\/orders\/[0-9a-f-]{36}$/, { timeout: 60_000 });
  expect(posts).toHaveLength(1);
  const orderId = page.url().split('/').pop()!;
  product.orderIds.push(orderId);

  // The saga reserves stock and opens a payment session; then the page offers to pay.
  await page.getByRole('button', { name: 'Pay with test card' }).waitFor({ timeout: 90_000 });
  await screenshot(page, 'storefront-order-awaiting-payment');
  await page.getByRole('button', { name: 'Pay with test card' }).click();
  await page.locator('#order-state[data-state="COMPLETED"]').waitFor({ timeout: 120_000 });
  await page.locator('.timeline .step[data-step="CompleteOrder"][data-outcome="succeeded"]').waitFor({ timeout: 30_000 });
  const steps = await page.locator('.timeline .step').evaluateAll((els) => els.map((e) => (e as HTMLElement).dataset.step));
  expect(steps).toEqual(['ReserveStock', 'CreatePaymentSession', 'WaitForPayment', 'CapturePayment', 'CompleteOrder']);
  expect(await page.locator('#order-state').textContent()).toContain('COMPLETED');
  await screenshot(page, 'storefront-order-completed');
  expect((await product.stock()).stock).toBe(98);
  // The cart was emptied by the accepted order.
  expect(await page.getByRole('link', { name: 'Cart (0)' }).count()).toBe(1);
});
