import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { Client } from 'pg';
import { chromium, type Browser, type BrowserContext, type ConsoleMessage, type Page } from 'playwright-core';
import { removeProduct } from '../support/crowd';
import { endpoints } from '../support/endpoints';
import { TEST_DATA_CATEGORY } from '../../functions/catalog/core/model';

/**
 * Browser tests drive Debian's chromium (CHROMIUM_PATH, default /usr/bin/chromium) through
 * playwright-core against the running stack. Each suite inserts its own product so races and
 * orders never move stock another suite is counting, and removes it afterwards.
 */
export const BASE = `${endpoints().apiBaseUrl}/`;
export const SCREENSHOTS = path.resolve(__dirname, 'screenshots');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export async function launch(): Promise<Browser> {
  if (!fs.existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install chromium (or set CHROMIUM_PATH)`);
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  return chromium.launch({ executablePath: CHROMIUM });
}

/**
 * A page that records console errors and uncaught exceptions. The browser itself logs
 * "Failed to load resource" for every non-2xx answer; a page may expect some answers (a race
 * provokes 412s), and only those (status and URL) are left out.
 */
export interface WatchedPage {
  page: Page;
  context: BrowserContext;
  /** Console errors and page errors seen since the last call, minus expected HTTP statuses. */
  takeErrors(): string[];
}

export interface ExpectedFailure {
  status: number;
  url: RegExp;
}

export async function watchedPage(browser: Browser, expected: ExpectedFailure[] = []): Promise<WatchedPage> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  let errors: string[] = [];
  page.on('console', (msg: ConsoleMessage) => {
    // Only our pages count: a provider's page (the PayPal approval page) is not ours to judge.
    if (msg.type() !== 'error' || !page.url().startsWith(BASE)) return;
    const status = /^Failed to load resource: the server responded with a status of (\d{3})/.exec(msg.text());
    const url = msg.location().url;
    if (status && expected.some((e) => e.status === Number(status[1]) && e.url.test(url))) return;
    errors.push(`${msg.text()} (${msg.location().url})`);
  });
  page.on('pageerror', (err) => {
    if (page.url().startsWith(BASE)) errors.push(`uncaught: ${err.message}`);
  });
  return {
    page,
    context,
    takeErrors: () => {
      const out = errors;
      errors = [];
      return out;
    },
  };
}

export async function screenshot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

/** Where the pages find a test product: its category, which the shop's listing leaves out. */
export const TEST_LISTING = `#/?category=${TEST_DATA_CATEGORY}`;

/**
 * A product of this suite's own, with a unique name (so search finds exactly it), in the test-data
 * category: the demo shop never lists it (the pages find it through TEST_LISTING).
 */
export async function testProduct(label: string, stock = 100) {
  const db = new Client({ connectionString: endpoints().postgresUrl });
  await db.connect();
  const id = crypto.randomUUID();
  const name = `${label} ${id.slice(0, 8)}`;
  await db.query(`INSERT INTO catalog.products (id, sku, name, category, price_cents, stock) VALUES ($1, $2, $3, $4, 1999, $5)`, [
    id,
    `browser-${id}`,
    name,
    TEST_DATA_CATEGORY,
    stock,
  ]);
  const orderIds: string[] = [];
  return {
    id,
    name,
    orderIds,
    stock: async () => (await db.query('SELECT stock, reserved FROM catalog.products WHERE id = $1', [id])).rows[0] as { stock: number; reserved: number },
    async cleanup() {
      // Every order placed from the pages for this product, also those a failed test did not record.
      const { rows } = await db.query('SELECT id FROM orders.orders WHERE items @> $1::jsonb', [JSON.stringify([{ productId: id }])]);
      const all = [...new Set([...orderIds, ...rows.map((r: { id: string }) => r.id)])];
      await removeProduct(db, id, all);
      await db.end();
    },
  };
}

const AXE = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

/**
 * Runs axe-core (WCAG 2.x A and AA rules: labels, names, contrast, landmarks...) on the page as
 * it is now and answers the violations, one line each. Evaluated through the DevTools protocol,
 * so the page's CSP (script-src 'self') stays in force for everything else.
 */
export async function accessibilityViolations(page: Page): Promise<string[]> {
  await page.evaluate(AXE);
  const violations = await page.evaluate(async () => {
    const axe = (
      window as unknown as {
        axe: { run: (ctx: Document, opts: object) => Promise<{ violations: Array<{ id: string; impact: string; nodes: Array<{ target: string[] }> }> }> };
      }
    ).axe;
    const result = await axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } });
    return result.violations.map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
  });
  return violations;
}

/** True when the page does not scroll sideways (the layout fits the viewport). */
export const fitsWidth = (page: Page) => page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);

/** Removes an account a test registered. */
export async function deleteUser(email: string): Promise<void> {
  const db = new Client({ connectionString: endpoints().postgresUrl });
  await db.connect();
  try {
    await db.query('DELETE FROM identity.users WHERE email = $1', [email]);
  } finally {
    await db.end();
  }
}
