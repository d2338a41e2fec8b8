import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Client } from 'pg';
import { percentile } from '../../bench/lib/stats';
import { TEST_DATA_CATEGORY } from '../../functions/catalog/core/model';
import { ministackWorkers } from '../../scripts/lib/lambda-workers';
import { ownedPid } from '../../scripts/lib/proc';
import { settings } from '../../scripts/lib/settings';
import { registerAndLogin, type Session } from './accounts';
import { endpoints } from './endpoints';
import { checkInvariants, stockSnapshot, type InvariantReport } from './invariants';
import { Shopper, TERMINAL_STATES } from './shop';

/**
 * A flash crowd against the public API, shared by `npm run bench -- crowd` and the reduced load
 * test (test/load/crowd.test.ts): N readers fire at the same instant (anonymous from one client,
 * or each with a signed-in user's token), beside C checkouts from distinct users. Every answer is
 * classified; refusals are retried like a client honouring Retry-After (a bounded number of
 * times). Meanwhile MiniStack's Lambda workers are sampled from /proc (count and RSS). Afterwards
 * the checkouts' orders must all be terminal and the invariants hold, and a checkout refused on
 * every attempt must have left no order.
 */
export interface CrowdOptions {
  readers: number;
  /** one-client: anonymous, all from this machine; many-users: each reader a signed-in user. */
  readerMode: 'one-client' | 'many-users';
  checkouts: number;
  /** Signed-in users (at least `checkouts`; readers cycle through them in many-users mode). */
  users: Session[];
  /** A product of the run's own (crowdProduct), stocked for every checkout. */
  productId: string;
  /** Tries per reader, refusals retried after Retry-After (default 3). */
  readerAttempts?: number;
  log?: (line: string) => void;
}

export type AnswerClass = 'ok' | 'refused' | 'refused-noncompliant' | 'gateway-timeout' | 'server-error' | 'client-error' | 'network-error';

export interface Answer {
  status: number;
  ms: number;
  cls: AnswerClass;
  /** The problem type's last segment, when the body is problem+json. */
  type?: string;
}

export interface WorkerSample {
  maxWorkers: number;
  maxRssMiB: number;
  /**
   * Proportional set size at the same peak: shared pages (the Node binary, each worker maps it)
   * split between the processes that share them, i.e. what the workers cost the machine. RSS
   * counts those pages once per worker.
   */
  maxPssMiB: number;
}

export interface CrowdReport {
  readers: number;
  readerMode: CrowdOptions['readerMode'];
  checkouts: number;
  wallMs: number;
  /** Every answer the readers got, first tries and retries. */
  readerAnswers: Answer[];
  /** Status of each reader's first try (the crowd as it hit the door). */
  firstTry: Record<string, number>;
  /** Readers that got their page within their tries. */
  readersServed: number;
  checkoutAnswers: Answer[];
  orders: { accepted: number; refused: number; refusedWithOrder: number; terminal: number; nonTerminal: string[]; states: Record<string, number> };
  workers: WorkerSample;
  invariants: InvariantReport;
}

const PROBLEM = 'application/problem+json';

/** Classifies one answer: a refusal must be problem+json with Retry-After (seconds ≥ 1). */
export function classify(status: number, headers: Headers, body: string): Omit<Answer, 'ms'> {
  const type = headers.get('content-type')?.startsWith(PROBLEM) ? problemType(body) : undefined;
  if (status < 400) return { status, cls: 'ok' };
  if (status === 429 || status === 503) {
    const retryAfter = Number(headers.get('retry-after'));
    const compliant = type !== undefined && Number.isInteger(retryAfter) && retryAfter >= 1;
    return { status, cls: compliant ? 'refused' : 'refused-noncompliant', type };
  }
  if (status === 504) return { status, cls: 'gateway-timeout', type };
  if (status >= 500) return { status, cls: 'server-error', type };
  return { status, cls: 'client-error', type };
}

function problemType(body: string): string | undefined {
  try {
    const t = (JSON.parse(body) as { type?: unknown }).type;
    return typeof t === 'string' ? t.slice(t.lastIndexOf('/') + 1) : undefined;
  } catch {
    return undefined;
  }
}

async function timedFetch(url: string, init: RequestInit): Promise<Answer & { retryAfter: number; body: string }> {
  const started = performance.now();
  try {
    const res = await fetch(url, { ...init, signal: AbortSignal.timeout(35_000) });
    const body = await res.text();
    const ms = performance.now() - started;
    return { ...classify(res.status, res.headers, body), ms, retryAfter: Number(res.headers.get('retry-after')) || 1, body };
  } catch {
    return { status: 0, cls: 'network-error', ms: performance.now() - started, retryAfter: 1, body: '' };
  }
}

/** A product of the run's own, in the unlisted test-data category, with stock for every checkout. */
export async function crowdProduct(db: Client, stock: number): Promise<string> {
  const id = randomUUID();
  await db.query(`INSERT INTO catalog.products (id, sku, name, category, price_cents, stock) VALUES ($1, $2, 'Crowd test item', $3, 500, $4)`, [
    id,
    `CROWD-${id.slice(0, 8)}`,
    TEST_DATA_CATEGORY,
    stock,
  ]);
  return id;
}

/**
 * Removes a test product and what orders made of it: the orders' reservations and the orders, then
 * the product's reservation items and the product (the order of the foreign keys).
 */
export async function removeProduct(db: Pick<Client, 'query'>, productId: string, orderIds: readonly string[] = []): Promise<void> {
  if (orderIds.length) {
    await db.query('DELETE FROM catalog.reservations WHERE order_id = ANY($1::uuid[])', [orderIds]);
    await db.query('DELETE FROM orders.orders WHERE id = ANY($1::uuid[])', [orderIds]);
  }
  await db.query('DELETE FROM catalog.reservation_items WHERE product_id = $1', [productId]);
  await db.query('DELETE FROM catalog.products WHERE id = $1', [productId]);
}

/** Registers `n` users, a few at a time (password hashing is CPU-bound), retrying a busy identity. */
export async function crowdUsers(n: number, concurrency = 4): Promise<Session[]> {
  const api = endpoints().apiBaseUrl;
  const users: Session[] = [];
  let next = 0;
  const slot = async () => {
    while (next < n) {
      next++;
      for (let attempt = 0; ; attempt++) {
        try {
          users.push(await registerAndLogin(api, `crowd-${randomUUID()}@example.test`));
          break;
        } catch (err) {
          if (attempt >= 5) throw err;
          await sleep(500 * 2 ** attempt);
        }
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, slot));
  return users;
}

/** MiniStack's Lambda workers: every process below the MiniStack process, sampled from /proc. */
export class WorkerSampler {
  private timer?: NodeJS.Timeout;
  readonly sample: WorkerSample = { maxWorkers: 0, maxRssMiB: 0, maxPssMiB: 0 };

  constructor(private readonly emulatorPid = ownedPid('ministack')) {}

  start(everyMs = 250): this {
    if (this.emulatorPid === undefined) return this;
    const tick = () => {
      const { count, rssMiB, pssMiB } = workersMemory(this.emulatorPid!);
      this.sample.maxWorkers = Math.max(this.sample.maxWorkers, count);
      this.sample.maxRssMiB = Math.max(this.sample.maxRssMiB, Math.round(rssMiB));
      this.sample.maxPssMiB = Math.max(this.sample.maxPssMiB, Math.round(pssMiB));
    };
    tick();
    this.timer = setInterval(tick, everyMs);
    return this;
  }

  stop(): WorkerSample {
    clearInterval(this.timer);
    return this.sample;
  }
}

/** Our emulator's Lambda workers (scripts/lib/lambda-workers.ts) and their summed resident memory (RSS and PSS). */
function workersMemory(emulatorPid: number): { count: number; rssMiB: number; pssMiB: number } {
  let count = 0;
  let rssKiB = 0;
  let pssKiB = 0;
  for (const { pid } of ministackWorkers(emulatorPid, settings.stackName)) {
    try {
      const rss = /VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
      const pss = /^Pss:\s+(\d+)/m.exec(fs.readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
      count++;
      rssKiB += Number(rss?.[1] ?? 0);
      pssKiB += Number(pss?.[1] ?? 0);
    } catch {
      // Ended meanwhile.
    }
  }
  return { count, rssMiB: rssKiB / 1024, pssMiB: pssKiB / 1024 };
}

export async function runCrowd(db: Client, opts: CrowdOptions): Promise<CrowdReport> {
  const api = endpoints().apiBaseUrl;
  const log = opts.log ?? (() => undefined);
  if (opts.users.length < opts.checkouts) throw new Error(`runCrowd needs ${opts.checkouts} users, got ${opts.users.length}`);
  const attempts = opts.readerAttempts ?? 3;
  const baseline = await stockSnapshot(db, [opts.productId]);
  const shoppers = opts.users.slice(0, opts.checkouts).map((u) => new Shopper({ email: u.email, password: u.password }).withToken(u.accessToken));

  const readerAnswers: Answer[] = [];
  const firstTry: Record<string, number> = {};
  let readersServed = 0;
  const reader = async (i: number) => {
    const user = opts.readerMode === 'many-users' ? opts.users[i % opts.users.length] : undefined;
    const headers: Record<string, string> = user ? { authorization: `Bearer ${user.accessToken}` } : {};
    for (let attempt = 0; attempt < attempts; attempt++) {
      const a = await timedFetch(`${api}/api/products?limit=12`, { headers });
      readerAnswers.push({ status: a.status, ms: a.ms, cls: a.cls, type: a.type });
      if (attempt === 0) firstTry[a.status] = (firstTry[a.status] ?? 0) + 1;
      if (a.cls === 'ok') {
        readersServed++;
        return;
      }
      if (a.cls !== 'refused') return;
      await sleep(Math.min(a.retryAfter, 2) * 1000 * (0.5 + Math.random()));
    }
  };

  const checkoutAnswers: Answer[] = [];
  const accepted: Array<{ id: string; shopper: Shopper }> = [];
  const refusedSubs: string[] = [];
  /** What each checkout refused on every try saw, in order (to explain an order that exists anyway). */
  const refusedTrails: string[][] = [];
  const checkout = async (i: number) => {
    const shopper = shoppers[i];
    const key = randomUUID();
    const body = { items: [{ productId: opts.productId, quantity: 1 }], paymentProvider: 'stripe' };
    const trail: string[] = [];
    for (let attempt = 0; attempt < 8; attempt++) {
      const a = await timedFetch(`${api}/api/orders`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: shopper.authorization, 'idempotency-key': key },
        body: JSON.stringify(body),
      });
      checkoutAnswers.push({ status: a.status, ms: a.ms, cls: a.cls, type: a.type });
      trail.push(`${a.status} ${a.type ?? ''} ${Math.round(a.ms)}ms`);
      if (a.cls === 'ok') {
        accepted.push({ id: (JSON.parse(a.body) as { id: string }).id, shopper });
        return;
      }
      // A 409 in flight is the same key still running: wait as told, like a refusal.
      if (a.cls !== 'refused' && !(a.status === 409 && a.type === 'idempotency-key-in-flight')) return;
      await sleep(Math.min(a.retryAfter, 2) * 1000 * (0.5 + Math.random()));
    }
    refusedSubs.push(opts.users[i].sub);
    refusedTrails.push(trail);
  };

  const sampler = new WorkerSampler().start();
  const started = performance.now();
  log(`crowd: ${opts.readers} readers (${opts.readerMode}) + ${opts.checkouts} checkouts`);
  await Promise.all([...Array.from({ length: opts.readers }, (_, i) => reader(i)), ...Array.from({ length: opts.checkouts }, (_, i) => checkout(i))]);
  const wallMs = performance.now() - started;

  // Accepted orders are paid and must end; the sampler keeps watching the workers meanwhile.
  const ids = accepted.map((a) => a.id);
  await Promise.all(
    accepted.map(async ({ id, shopper }) => {
      // Like a shopper on the order page: look every second or two (50 of them at once must not
      // become a crowd of their own), keep looking through refusals, pay once it can be paid.
      for (const deadline = Date.now() + 120_000; Date.now() < deadline; await sleep(1000 + Math.random() * 1000)) {
        const order = await shopper.order(id).catch(() => undefined);
        if (!order) continue;
        if (TERMINAL_STATES.includes(order.state)) return log(`order ${id} ended ${order.state} before it was paid`);
        if (order.state === 'AWAITING_PAYMENT' && order.payment?.providerRef) {
          await shopper.pay(order).catch((err: Error) => log(`order ${id}: paying failed: ${err.message}`));
          return;
        }
      }
      log(`order ${id} was not payable within 120 s`);
    }),
  );
  const states: Record<string, number> = {};
  const nonTerminal: string[] = [];
  for (const deadline = Date.now() + 180_000; ; await sleep(1000)) {
    const { rows } = await db.query<{ id: string; state: string }>('SELECT id, state FROM orders.orders WHERE id = ANY($1::uuid[])', [ids]);
    nonTerminal.length = 0;
    for (const k of Object.keys(states)) delete states[k];
    for (const r of rows) {
      states[r.state] = (states[r.state] ?? 0) + 1;
      if (!TERMINAL_STATES.includes(r.state)) nonTerminal.push(r.id);
    }
    if (nonTerminal.length === 0 || Date.now() > deadline) break;
  }
  const workers = sampler.stop();
  const { rows: stray } = await db.query<{ n: string }>(`SELECT count(*)::text AS n FROM orders.orders WHERE customer_id = ANY($1::text[]) AND items @> $2::jsonb`, [
    refusedSubs,
    JSON.stringify([{ productId: opts.productId }]),
  ]);
  if (Number(stray[0].n) > 0) log(`checkouts refused on every try, yet ${stray[0].n} order(s) exist; their answers: ${JSON.stringify(refusedTrails)}`);
  const invariants = await checkInvariants(db, ids, baseline);
  return {
    readers: opts.readers,
    readerMode: opts.readerMode,
    checkouts: opts.checkouts,
    wallMs,
    readerAnswers,
    firstTry,
    readersServed,
    checkoutAnswers,
    orders: { accepted: ids.length, refused: refusedSubs.length, refusedWithOrder: Number(stray[0].n), terminal: ids.length - nonTerminal.length, nonTerminal, states },
    workers,
    invariants,
  };
}

export interface CrowdSummary {
  /** Reader answers (all tries) by class and status, e.g. { 'ok 200': 120, 'refused 503 service-overloaded': 80 }. */
  readerStatuses: Record<string, number>;
  checkoutStatuses: Record<string, number>;
  okMs: { p50: number; p99: number };
  refusalMs: { p50: number; p99: number };
  /** p99 of refusals by problem type: which refusals are slow. */
  refusalP99ByType: Record<string, number>;
  /** Answers a client must never see under load: 504, other 5xx, refusals without problem+json/Retry-After, network errors. */
  badAnswers: number;
}

export function summarizeCrowd(r: CrowdReport): CrowdSummary {
  const all = [...r.readerAnswers, ...r.checkoutAnswers];
  const key = (a: Answer) => [a.cls, a.status, a.type].filter((x) => x !== undefined).join(' ');
  const count = (answers: Answer[]) =>
    answers.reduce<Record<string, number>>((m, a) => {
      const k = key(a);
      m[k] = (m[k] ?? 0) + 1;
      return m;
    }, {});
  const ms = (cls: AnswerClass) =>
    all
      .filter((a) => a.cls === cls)
      .map((a) => a.ms)
      .sort((x, y) => x - y);
  const ok = ms('ok');
  const refused = [...ms('refused'), ...ms('refused-noncompliant')].sort((x, y) => x - y);
  const bad = new Set<AnswerClass>(['gateway-timeout', 'server-error', 'refused-noncompliant', 'network-error']);
  return {
    readerStatuses: count(r.readerAnswers),
    checkoutStatuses: count(r.checkoutAnswers),
    okMs: { p50: Math.round(percentile(ok, 50)), p99: Math.round(percentile(ok, 99)) },
    refusalMs: { p50: Math.round(percentile(refused, 50)), p99: Math.round(percentile(refused, 99)) },
    badAnswers: all.filter((a) => bad.has(a.cls)).length,
    refusalP99ByType: Object.fromEntries(
      [...new Set(all.filter((a) => a.cls === 'refused').map((a) => a.type ?? '?'))].map((t) => [
        t,
        Math.round(
          percentile(
            all
              .filter((a) => a.cls === 'refused' && (a.type ?? '?') === t)
              .map((a) => a.ms)
              .sort((x, y) => x - y),
            99,
          ),
        ),
      ]),
    ),
  };
}
