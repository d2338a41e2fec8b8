import { RACE_DEMO_PRODUCT_ID, TEST_DATA_CATEGORY } from '../../functions/catalog/core/model';
import crypto from 'node:crypto';
import type { Browser } from 'playwright-core';
import { endpoints } from '../support/endpoints';
import { accessibilityViolations, BASE, fitsWidth, launch, screenshot, testProduct, watchedPage, type WatchedPage } from './support';
import type { BreakersView } from '../../functions/bff/breaker-board';

/**
 * The /chaos page in a real browser: admin sign-in, a fault rule added and removed through the
 * form, the ETag race (1 winner, N-1 × 412), sagas failed on purpose (at CreatePaymentSession; by
 * error at WaitForPayment) with their compensations on the timeline, the live breaker panel (every
 * BFF instance, merged), rate-limit, outbox and DLQ panels, and an Idempotency-Key replay. The kill switch is not
 * pressed here: it would clear the failure plans of suites running at the same time.
 */
const WRITERS = 10;
jest.setTimeout(240_000);
let browser: Browser;
let w: WatchedPage;
let product: Awaited<ReturnType<typeof testProduct>>;

beforeAll(async () => {
  browser = await launch();
  product = await testProduct('Browser chaos kettle', 50);
  // The browser logs every non-2xx load; these are the answers the demos provoke on purpose.
  w = await watchedPage(browser, [
    { status: 412, url: /\/api\/products\/[0-9a-f-]+\/stock$/ },
    { status: 429, url: /\/api\/demo\/rate-limited\?/ },
    { status: 422, url: /\/api\/demo\/idempotent-echo$/ },
    { status: 502, url: /\/api\/ops\/breakers\/drill\// },
    { status: 503, url: /\/api\/ops\/breakers\/drill\// },
  ]);
});

afterAll(async () => {
  await browser?.close();
  await product?.cleanup();
});

afterEach(() => {
  expect(w.takeErrors()).toEqual([]);
});

it('signs in as admin and manages a fault rule', async () => {
  const { page } = w;
  // The saga form offers the test-data category's products (this suite's own product is there).
  await page.goto(`${BASE}chaos?category=${TEST_DATA_CATEGORY}`);
  await page.getByRole('heading', { level: 1, name: 'Chaos and operations' }).waitFor();
  // The switches come from /api/config (services and saga steps), not from the page's code.
  const config = (await (await fetch(`${endpoints().apiBaseUrl}/api/config`)).json()) as { services: string[]; saga: { steps: string[] } };
  expect(config.services).toEqual(expect.arrayContaining(['identity', 'catalog', 'claims', 'payments', 'orders']));
  expect(config.saga.steps).toEqual(['ReserveStock', 'CreatePaymentSession', 'WaitForPayment', 'CapturePayment', 'CompleteOrder']);
  await page.locator('input[data-toggle="step:CompleteOrder"]').waitFor({ state: 'attached' });
  for (const svc of config.services) expect(await page.locator(`input[data-toggle="service:${svc}"]`).count()).toBe(1);
  await page.getByLabel('Email').fill('admin@checkout-mesh.dev');
  await page.getByLabel('Password').fill('admin-password-123');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByText('admin@checkout-mesh.dev (admin)').waitFor();
  await page.getByRole('button', { name: /Kill switch/ }).waitFor();

  // A latency rule on a route nobody else calls (an unknown product id), added through the form.
  const route = `GET /products/${crypto.randomUUID()}`;
  await page.getByText('Add a custom rule').click();
  await page.getByLabel('Service').selectOption('catalog');
  await page.getByLabel(/Route pattern/).fill(route);
  await page.getByLabel('Fault', { exact: true }).selectOption('latency');
  await page.getByLabel(/Value/).fill('300');
  // A rule change refreshes the breaker panel at once (not only on its 2 s timer): its label says why.
  const breakersRefreshed = () =>
    page.waitForFunction(() => document.getElementById('breakers-updated')?.textContent?.includes('after a fault rule change'), null, {
      polling: 'raf',
      timeout: 10_000,
    });
  let refreshed = breakersRefreshed();
  await page.getByRole('button', { name: 'Add rule' }).click();
  const row = page.locator('#rules-table tbody tr', { hasText: route });
  await row.waitFor();
  await refreshed;
  expect(await row.textContent()).toContain('latency 300 ms');
  const listed = (await (await fetch(`${endpoints().apiBaseUrl}/api/chaos/rules`)).json()) as { rules: Array<{ id: string; target: { route?: string } }> };
  const rule = listed.rules.find((r) => r.target.route === route);
  expect(rule).toBeDefined();
  await screenshot(page, 'chaos-rules');
  expect(await accessibilityViolations(page)).toEqual([]);

  await page.waitForFunction(() => !document.getElementById('breakers-updated')?.textContent?.includes('after a fault rule change'), null, { timeout: 10_000 });
  refreshed = breakersRefreshed();
  await row.getByRole('button', { name: /Remove rule/ }).click();
  await row.waitFor({ state: 'detached' });
  await refreshed;
  const after = (await (await fetch(`${endpoints().apiBaseUrl}/api/chaos/rules`)).json()) as { rules: Array<{ id: string }> };
  expect(after.rules.map((r) => r.id)).not.toContain(rule!.id);
});

it(`runs the ETag race on the demo product: 1 winner and ${WRITERS - 1} × 412`, async () => {
  const { page } = w;
  const demoStock = async () => ((await (await fetch(`${endpoints().apiBaseUrl}/api/products/${RACE_DEMO_PRODUCT_ID}`)).json()) as { stock: number }).stock;
  const before = await demoStock();
  const shopBefore = await product.stock();
  await page.getByLabel('Writers (2–50)').fill(String(WRITERS));
  await page.getByRole('button', { name: 'Run race' }).click();
  const summary = page.locator('#race-summary');
  await summary.waitFor({ timeout: 60_000 });
  expect(await summary.getAttribute('data-winners')).toBe('1');
  expect(await summary.getAttribute('data-precondition-failed')).toBe(String(WRITERS - 1));
  expect(await summary.textContent()).toContain(`1 winner, ${WRITERS - 1} × 412 Precondition Failed`);
  expect(await page.locator('#race-result .chip.won').count()).toBe(1);
  expect(await page.locator('#race-result .chip.lost').count()).toBe(WRITERS - 1);
  // Only the demo product moved (races from other tests may run between the reads: at least +1).
  expect(await demoStock()).toBeGreaterThanOrEqual(before + 1);
  expect((await product.stock()).stock).toBe(shopBefore.stock);
  await screenshot(page, 'chaos-race');
});

/** Runs the /chaos form's forced-failure saga on this suite's product (error mode) and waits for its last compensation. */
async function runForcedFailure(failAt: string) {
  const { page } = w;
  await page.locator('#saga-product').selectOption(product.id);
  await page.getByLabel('Fail at step').selectOption(failAt);
  await page.getByLabel('Mode').selectOption('error');
  await page.getByRole('button', { name: 'Run saga with a forced failure' }).click();
  await page.locator('#saga-order-state', { hasText: 'FAILED' }).waitFor({ timeout: 150_000 });
  const timeline = page.locator('#saga-timeline');
  await timeline.locator('.step[data-step="MarkOrderFailed"][data-outcome="succeeded"]').waitFor({ timeout: 30_000 });
  return timeline;
}

it('runs a saga failed at CreatePaymentSession and shows its compensations on the timeline', async () => {
  const { page } = w;
  const timeline = await runForcedFailure('CreatePaymentSession');
  const steps = await timeline
    .locator('.step')
    .evaluateAll((els) =>
      els.map((e) => ({ step: (e as HTMLElement).dataset.step, outcome: (e as HTMLElement).dataset.outcome, compensation: (e as HTMLElement).dataset.compensation })),
    );
  // Forward steps up to the failure, then the compensations in reverse: the failed step's own undo
  // too (a failed or timed-out step may have done its work).
  expect(steps.filter((s) => s.compensation === 'false').map((s) => [s.step, s.outcome])).toEqual([
    ['ReserveStock', 'succeeded'],
    ['CreatePaymentSession', 'failed'],
  ]);
  expect(steps.filter((s) => s.compensation === 'true').map((s) => [s.step, s.outcome])).toEqual([
    ['CancelPaymentSession', 'succeeded'],
    ['ReleaseStock', 'succeeded'],
    ['MarkOrderFailed', 'succeeded'],
  ]);
  expect(await timeline.locator('.step.compensation .tag').count()).toBe(3);
  // The graph: the failed step caught, its Catch edge taken into the compensations, the rest not run.
  const graph = page.locator('#chaos-saga');
  await graph.locator('.sg-node[data-state="OrderFailed"][data-status="failed"]').waitFor({ timeout: 30_000 });
  expect(await graph.locator('.sg-node[data-state="ReserveStock"]').getAttribute('data-status')).toBe('succeeded');
  expect(await graph.locator('.sg-node[data-state="CreatePaymentSession"]').getAttribute('data-status')).toBe('caught');
  for (const state of ['CancelPaymentSession', 'ReleaseStock', 'MarkOrderFailed']) {
    expect([state, await graph.locator(`.sg-node[data-state="${state}"]`).getAttribute('data-status')]).toEqual([state, 'compensation']);
  }
  for (const state of ['WaitForPayment', 'CapturePayment', 'RefundPayment', 'ParkOrder', 'Completed']) {
    expect([state, await graph.locator(`.sg-node[data-state="${state}"]`).getAttribute('data-status')]).toEqual([state, 'none']);
  }
  expect(await graph.locator('.sg-edge.catch.taken[data-from="CreatePaymentSession"][data-to="CancelPaymentSession"]').count()).toBe(1);
  // The caught state's error, from the execution history.
  await graph.locator('.sg-node[data-state="CreatePaymentSession"]').click();
  await page.locator('#chaos-saga-details').getByText('failure plan: CreatePaymentSession').first().waitFor();
  expect(await product.stock()).toMatchObject({ reserved: 0 });
  await screenshot(page, 'chaos-saga-compensated');
  expect(await accessibilityViolations(page)).toEqual([]);
});

it("fails a saga by error at WaitForPayment: at once, with the step's own error (not the Task timeout), then compensates", async () => {
  const { page } = w;
  const timeline = await runForcedFailure('WaitForPayment');
  const steps = await timeline
    .locator('.step')
    .evaluateAll((els) => els.map((e) => [(e as HTMLElement).dataset.step, (e as HTMLElement).dataset.outcome, (e as HTMLElement).dataset.compensation]));
  expect(steps).toEqual([
    ['ReserveStock', 'succeeded', 'false'],
    ['CreatePaymentSession', 'succeeded', 'false'],
    ['WaitForPayment', 'failed', 'false'],
    ['CancelPaymentSession', 'succeeded', 'true'],
    ['ReleaseStock', 'succeeded', 'true'],
    ['MarkOrderFailed', 'succeeded', 'true'],
  ]);
  const graph = page.locator('#chaos-saga');
  await graph.locator('.sg-node[data-state="OrderFailed"][data-status="failed"]').waitFor({ timeout: 30_000 });
  expect(await graph.locator('.sg-node[data-state="WaitForPayment"]').getAttribute('data-status')).toBe('caught');
  expect(await graph.locator('.sg-edge.catch.taken[data-from="WaitForPayment"][data-to="CancelPaymentSession"]').count()).toBe(1);
  // The step's own error: the failure plan's exception thrown by the step Lambda, which fails the
  // task at once. An error left unseen would have kept the task waiting for its payment callback
  // until the Task timed out (States.Timeout, "Task timed out waiting for callback").
  await graph.locator('.sg-node[data-state="WaitForPayment"]').click();
  const details = page.locator('#chaos-saga-details');
  await details.getByText('failure plan: WaitForPayment').first().waitFor();
  expect(await details.textContent()).not.toMatch(/States\.Timeout|timed out/i);
  // Nothing was paid: the page does not pay for a saga failing at or before WaitForPayment.
  expect(await product.stock()).toMatchObject({ reserved: 0 });
});

it('shows breakers, rate-limit counters, the outbox and the DLQs, updating live', async () => {
  const { page } = w;
  // Failing calls through a drill breaker open it; the next calls fail fast with 503.
  await page.getByRole('button', { name: 'Trip a drill breaker' }).click();
  await page.locator('#drill-status', { hasText: 'Drill answers' }).waitFor({ timeout: 60_000 });
  const answers = (await page.locator('#drill-status').textContent())!
    .match(/Drill answers: ([\d, ]+)/)![1]
    .split(', ')
    .map(Number);
  // At least 4 failures seen (more when calls spread over several BFF instances), then fail-fast.
  expect(answers.at(-1)).toBe(503);
  expect(answers.slice(0, -1).every((s) => s === 502)).toBe(true);
  expect(answers.length).toBeGreaterThanOrEqual(5);
  expect(await page.locator('#drill-breaker').getAttribute('data-state')).toBe('open');
  const [, drillName, drillInstance] = /Breaker (drill:[\w-]+) on instance (\w+)/.exec((await page.locator('#drill-breaker').textContent())!)!;
  // The panel refreshed after the drill: the merged table (every BFF instance) lists the drill
  // breaker on the instance that opened it, whichever instance answered the page.
  await page.locator('#breakers-updated', { hasText: 'after the drill' }).waitFor({ timeout: 10_000 });
  const drillRow = page.locator(`#breakers-table tbody tr[data-breaker="${drillName}"][data-instance="${drillInstance}"]`);
  await drillRow.waitFor({ timeout: 10_000 });
  expect(await drillRow.locator('td').first().textContent()).toContain(drillInstance);
  // Every row names its instance; every configured service has a row.
  const named = await page.locator('#breakers-table tbody tr[data-breaker]').evaluateAll((trs) => trs.map((tr) => (tr as HTMLElement).dataset.instance));
  expect(named.length).toBeGreaterThanOrEqual(6);
  expect(named.every((i) => i && /^\w+$/.test(i))).toBe(true);
  // The drill's label follows its breaker on the board: after its 2 s cool-down the breaker half-opens
  // (then closes on a good probe), and the label says so on the next refresh.
  await page.waitForFunction(() => ['halfOpen', 'closed'].includes(document.getElementById('drill-breaker')?.dataset.state ?? ''), null, { timeout: 15_000 });
  expect(await page.locator('#drill-breaker').textContent()).toMatch(new RegExp(`^Breaker ${drillName} on instance ${drillInstance}: (half-open|closed)\\.$`));

  // Open breakers stand out, whichever instance they are on. Two instances, one with catalog open,
  // shown as the board would answer (a real open service breaker would fail other suites' calls).
  const self = (await (await fetch(`${endpoints().apiBaseUrl}/api/ops/breakers`)).json()) as BreakersView;
  const now = Date.now();
  const openRow = {
    instance: 'other042',
    self: false,
    ageMs: 4000,
    state: 'open' as const,
    openings: 1,
    stats: { fires: 9, successes: 1, failures: 5, rejects: 3, timeouts: 0 },
  };
  const board: BreakersView = {
    ...self,
    instances: [
      ...self.instances.filter((i) => i.self),
      { instance: 'other042', self: false, startedAt: new Date(now - 60_000).toISOString(), publishedAt: new Date(now - 4000).toISOString(), ageMs: 4000, breakers: 6 },
    ],
    downstreams: self.downstreams
      .filter((d) => !d.name.startsWith('drill:'))
      .map((d) => {
        const mine = d.instances.filter((r) => r.self);
        if (d.name !== 'catalog') return { ...d, instances: [...mine, { ...openRow, state: 'closed' as const, stats: { ...openRow.stats, failures: 0, rejects: 0 } }] };
        return { ...d, state: 'open' as const, openOn: 1, instances: [...mine, { ...openRow, openedAt: new Date(now - 2000).toISOString(), retryAfterSeconds: 3 }] };
      }),
  };
  await page.route(/\/api\/ops\/breakers$/, (route) => route.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify(board) }));
  try {
    const open = page.locator('#breakers-table tbody tr[data-breaker="catalog"][data-instance="other042"]');
    await open.waitFor({ timeout: 10_000 });
    expect(await open.getAttribute('data-state')).toBe('open');
    expect(await open.getAttribute('class')).toContain('breaker-row-open');
    const cells = await open.locator('th, td').allTextContents();
    expect(cells).toEqual(['catalog', 'other042', 'open', '1', '5', '3', 'in 3 s', '4 s ago']);
    const closed = page.locator('#breakers-table tbody tr[data-breaker="identity"][data-instance="other042"]');
    const background = (l: typeof open) =>
      l
        .locator('td')
        .first()
        .evaluate((td) => getComputedStyle(td).backgroundColor);
    expect(await background(open)).not.toBe(await background(closed));
    expect(await page.locator('#breakers-open').textContent()).toBe('Open: catalog on other042. ');
    expect(await page.locator('#breakers-summary').textContent()).toContain('2 BFF instances on the board');
    // The answering instance's rows are marked as such.
    expect(await page.locator('#breakers-table tbody tr[data-self="true"]').first().textContent()).toContain('answered this');
    await screenshot(page, 'chaos-breakers-merged');
    expect(await accessibilityViolations(page)).toEqual([]);
  } finally {
    await page.unroute(/\/api\/ops\/breakers$/);
  }

  await page.getByRole('button', { name: 'Send 8 requests to the demo limit' }).click();
  await page.locator('#burst-status', { hasText: '429' }).waitFor({ timeout: 30_000 });
  const demo = page.locator('#limits-table tr[data-route-class="demo"]');
  await demo.waitFor();
  expect(await demo.locator('td').nth(2).textContent()).toBe('5');
  expect(await page.locator('#limits-table tr[data-route-class="ops"]').count()).toBe(1);

  await page.locator('#outbox-pending').waitFor();
  expect(Number(await page.locator('#outbox-pending').textContent())).toBeGreaterThanOrEqual(0);
  const dlqRows = page.locator('#dlq-table tbody tr');
  await dlqRows.first().waitFor();
  // Every consumer's DLQ, each owner asked (payments and orders), and both outboxes.
  expect(await dlqRows.allTextContents()).toEqual(
    expect.arrayContaining([expect.stringContaining('checkout-mesh-payments-audit-dlq'), expect.stringContaining('checkout-mesh-orders-payment-events-dlq')]),
  );
  expect(await page.locator('#outbox-list li').evaluateAll((lis) => lis.map((li) => (li as HTMLElement).dataset.service).sort())).toEqual(['orders', 'payments']);
  await screenshot(page, 'chaos-ops');
});

it('replays an Idempotency-Key: the retry is the first answer (Idempotent-Replayed), another body 422, one effect', async () => {
  const { page } = w;
  await page.getByRole('button', { name: 'Send one POST three times with one Idempotency-Key' }).click();
  await page.locator('#replay-status', { hasText: 'Effects:' }).waitFor({ timeout: 60_000 });
  expect(await page.locator('#replay-status').textContent()).toContain('Effects: 1 ');
  const rows = await page.locator('#replay-body tr').evaluateAll((trs) => trs.map((tr) => Array.from(tr.querySelectorAll('td'), (td) => td.textContent)));
  expect(rows).toEqual([
    ['first', '201', '–', 'counter 1'],
    ['retry, same body', '201', 'true', 'counter 1'],
    ['same key, other body', '422', '–', 'idempotency-key-mismatch'],
  ]);
});

it('fits a phone screen', async () => {
  const { page } = w;
  await page.setViewportSize({ width: 390, height: 844 });
  await page.reload();
  await page.locator('#rules-table').waitFor();
  await page.locator('#breakers-content table, #breakers-content .error').first().waitFor();
  expect(await fitsWidth(page)).toBe(true);
  expect(await accessibilityViolations(page)).toEqual([]);
  await screenshot(page, 'chaos-phone');
});
