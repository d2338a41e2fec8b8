import type { Browser } from 'playwright-core';
import { loginAs } from '../support/accounts';
import { endpoints } from '../support/endpoints';
import { accessibilityViolations, BASE, fitsWidth, launch, screenshot, watchedPage, type WatchedPage } from './support';

/**
 * Every service card's demo on /reference, clicked as a visitor would, against the live stack:
 * each run must end "done" with no refuted line (✗), and its evidence must name what the pattern
 * promises (a replay header, a 412 winner count, a cache hit without SQL, a revoked family, a
 * duplicate webhook, the compensations). The Orders demo runs before Payments: its captured and
 * refunded order gives the payments demo an applied Stripe event to replay.
 */
jest.setTimeout(300_000);
let browser: Browser;
let w: WatchedPage;

beforeAll(async () => {
  browser = await launch();
  // The answers the demos provoke on purpose (the browser logs every non-2xx load).
  w = await watchedPage(browser, [
    { status: 429, url: /\/api\/demo\/rate-limited\?/ },
    { status: 422, url: /\/api\/demo\/idempotent-echo$/ },
    { status: 409, url: /\/api\/demo\/idempotent-echo$/ },
    { status: 401, url: /\/api\/auth\/refresh$/ },
    { status: 401, url: /\/api\/me$/ },
  ]);
  // Signed in as the seeded admin (the Orders demo needs an account, Payments the admin role).
  const admin = await loginAs(endpoints().apiBaseUrl, 'admin');
  await w.page.goto(`${BASE}reference`);
  await w.page.evaluate((s) => localStorage.setItem('cm.tokens', JSON.stringify(s)), {
    accessToken: admin.accessToken,
    refreshToken: admin.refreshToken,
    email: admin.email,
  });
});

afterAll(async () => {
  await browser?.close();
});

afterEach(() => {
  expect(w.takeErrors()).toEqual([]);
});

/** Clicks a card's demo button and waits for the run to end; answers its evidence lines. */
async function runDemo(id: string, timeout = 60_000): Promise<string[]> {
  const { page } = w;
  const demo = page.locator(`[data-demo="${id}"] .demo-status`);
  await page.locator(`#demo-${id}-run`).click();
  await page.waitForFunction((i) => ['done', 'failed'].includes(document.querySelector(`[data-demo="${i}"] .demo-run`)?.getAttribute('data-state') ?? ''), id, {
    timeout,
  });
  const lines = await page.locator(`#demo-${id}-evidence > li`).allTextContents();
  expect([id, await demo.textContent(), lines.filter((l) => l.startsWith('✗'))]).toEqual([id, expect.stringMatching(/^Done at /), []]);
  return lines;
}

it('BFF: a replayed POST, a rate-limit refusal with its headers, the breakers', async () => {
  await w.page.goto(`${BASE}reference#svc-bff`);
  const lines = await runDemo('bff');
  expect(lines.join('\n')).toMatch(/Idempotent-Replayed: true/);
  expect(lines.join('\n')).toMatch(/Same key, another body: 422/);
  expect(lines.join('\n')).toMatch(/Effects of the three requests: 1/);
  expect(lines.join('\n')).toMatch(/Retry-After: \d+; RateLimit: "demo";r=0/);
  expect(lines.join('\n')).toMatch(/Breakers over \d+ BFF instance\(s\), answered by \S+: .*catalog (closed|open|halfOpen)/);
});

it('Identity: issue, JWKS, rotation, reuse revoking the family, logout revoking the JTI', async () => {
  const lines = await runDemo('identity');
  const text = lines.join('\n');
  expect(text).toMatch(/access token ES256, kid \S+, valid 900 s/);
  expect(text).toMatch(/the token's kid is there \(EC P-256\)/);
  expect(text).toMatch(/The spent refresh token again: 401/);
  expect(text).toMatch(/The newest refresh token of that family: 401/);
  expect(text).toMatch(/GET \/api\/me with its access token: 200/);
  expect(text).toMatch(/access token \(jti …\S+\): 401/);
});

it('Catalog: the ETag race has one winner, and a read after it is a cache hit without SQL', async () => {
  const lines = await runDemo('catalog', 90_000);
  const text = lines.join('\n');
  expect(text).toMatch(/Race: 20 writers with ETag "\d+": 1 won, 19 × 412/);
  expect(text).toMatch(/The race's read after the winning write: cache miss, 1 SQL statement/);
  expect(text).toMatch(/Our read now: cache hit, 0 SQL statement/);
});

it('Claims: two requests with one key at once have one effect; the retry replays the first outcome', async () => {
  const lines = await runDemo('claims');
  expect(lines.join('\n')).toMatch(/Effects: 1 \(four requests, one key\)/);
});

it('Orders: a forced failure after capture runs every compensation, drawn on the saga graph', async () => {
  const { page } = w;
  const lines = await runDemo('orders', 180_000);
  expect(lines.join('\n')).toMatch(/Saga ended FAILED; compensations run: .*RefundPayment.*ReleaseStock/);
  // The graph lit the compensation path.
  const graph = page.locator('#demo-orders-graph');
  await graph.locator('.sg-node[data-state="OrderFailed"][data-status="failed"]').waitFor({ timeout: 30_000 });
  expect(await graph.locator('.sg-node[data-state="CompleteOrder"]').getAttribute('data-status')).toBe('caught');
  for (const state of ['RefundPayment', 'ReleaseStock', 'MarkOrderFailed']) {
    expect([state, await graph.locator(`.sg-node[data-state="${state}"]`).getAttribute('data-status')]).toEqual([state, 'compensation']);
  }
  await page.locator('#svc-orders').screenshot({ path: `${__dirname}/screenshots/reference-orders-demo.png` });
});

it('Payments: the applied Stripe event, replayed signed, is a duplicate with no second outbox row', async () => {
  const { page } = w;
  const lines = await runDemo('payments');
  const text = lines.join('\n');
  expect(text).toMatch(/Its outbox row\(s\): #\d+ Payment\w+ \(dispatched/);
  expect(text).toMatch(/Replay, signed and delivered again: 200, duplicate: true/);
  await screenshot(page, 'reference-demos');
  expect(await accessibilityViolations(page)).toEqual([]);
  expect(await fitsWidth(page)).toBe(true);
});

it('the outbox article shows an admin every outbox and DLQ, live', async () => {
  const { page } = w;
  await page.goto(`${BASE}docs/outbox`);
  const live = page.locator('#live-outboxes');
  await live.locator('li').first().waitFor();
  const text = await live.textContent();
  expect(text).toMatch(/payments outbox: \d+ unsent/);
  expect(text).toMatch(/orders outbox: \d+ unsent/);
  expect(text).toContain('checkout-mesh-orders-payment-events-dlq');
  expect(await accessibilityViolations(page)).toEqual([]);
});
