import { TEST_DATA_CATEGORY } from '../../functions/catalog/core/model';
import { setTimeout as sleep } from 'node:timers/promises';
import crypto from 'node:crypto';
import { GetQueueAttributesCommand, ListQueuesCommand, SQSClient } from '@aws-sdk/client-sqs';
import Redis from 'ioredis';
import { Client } from 'pg';
import { HITS_KEY } from '../../functions/shared/chaos';
import { restartVault } from '../../scripts/lib/infra';
import { restartPostgres, restartRedis } from '../../scripts/lib/infra-faults';
import { killWorkers, ministackWorkers, type LambdaWorker } from '../../scripts/lib/lambda-workers';
import { ownedPid } from '../../scripts/lib/proc';
import { adminPgUrl, redisUrl, secrets, settings } from '../../scripts/lib/settings';
import { awsClientConfig, endpoints } from '../support/endpoints';
import { checkInvariants, outboxDrained, stockSnapshot, type InvariantReport } from '../support/invariants';
import { Shopper, TERMINAL_STATES } from '../support/shop';

/**
 * The chaos soak: K concurrent shoppers place, pay and follow orders through the public API
 * while a schedule of random faults plays (chaos rules on services and saga steps, Redis
 * connections killed, the outbox dispatcher killed, database leases revoked) and, every third
 * fault (from the second on), an infrastructure fault in turn (`infraFaults`; one the run
 * ended before is injected after the last order, before settling): our OpenBao restarted (stopped, or
 * killed as a crash, then started and unsealed again: same data, same tokens and leases), our
 * MiniStack's Lambda workers SIGKILLed mid-saga, and, only when asked because every stack on the
 * machine shares them, the machine's Postgres and Redis restarted. Clients retry with the same
 * Idempotency-Key. Then the system is left to settle and the invariants of docs/architecture.md §5
 * are checked over every order that touched the soak's own products (an order left non-terminal
 * is a violation). Bounded by an order count and a time limit; talks to 127.0.0.1 only.
 */
export const INFRA_FAULTS = ['pg', 'redis', 'bao', 'workers'] as const;
export type InfraFault = (typeof INFRA_FAULTS)[number];
/** What runs unless asked otherwise: the faults that touch only this checkout's own processes. */
export const DEFAULT_INFRA_FAULTS: readonly InfraFault[] = ['bao', 'workers'];

/** `--infra-faults` / CM_SOAK_INFRA_FAULTS: a comma list of pg, redis, bao, workers; `all`; `none`. */
export function parseInfraFaults(value: string | undefined, fallback: readonly InfraFault[] = DEFAULT_INFRA_FAULTS): InfraFault[] {
  if (value === undefined || value.trim() === '') return [...fallback];
  const v = value.trim().toLowerCase();
  if (v === 'none') return [];
  if (v === 'all') return [...INFRA_FAULTS];
  const out: InfraFault[] = [];
  for (const part of v
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean)) {
    if (!(INFRA_FAULTS as readonly string[]).includes(part)) throw new Error(`unknown infrastructure fault "${part}" (use ${INFRA_FAULTS.join(', ')}, all or none)`);
    if (!out.includes(part as InfraFault)) out.push(part as InfraFault);
  }
  return out;
}

/** The name each infrastructure fault is counted under in the report. */
export const INFRA_FAULT_KIND: Record<InfraFault, string> = { pg: 'pgRestart', redis: 'redisRestart', bao: 'baoRestart', workers: 'workerKill' };
export interface SoakOptions {
  shoppers: number;
  orders: number;
  timeLimitMs: number;
  /** Seconds between two injected faults (0 = no faults). */
  faultEverySec: number;
  /** Infrastructure faults to take turns with (the second fault and every third after it); none when left out. */
  infraFaults?: InfraFault[];
  log?: (line: string) => void;
}

export interface SoakReport {
  options: Omit<SoakOptions, 'log'>;
  durationMs: number;
  orders: { placed: number; clientGaveUp: number; paid: number; declined: number; byState: Record<string, number> };
  clientRetries: number;
  faults: Record<string, number>;
  /** The infrastructure faults: workers killed in all, and how long each restart took (ms). */
  infra: { workersKilled: Record<string, number>; restartMs: Record<string, number[]> };
  chaosHits: number;
  breakerOpenings: number;
  dlq: Record<string, number>;
  needsAttention: Array<{ id: string; reason: string | null }>;
  invariants: InvariantReport;
  ok: boolean;
}

const SERVICES = ['catalog', 'payments', 'orders', 'claims', 'identity'];
const FORWARD_STEPS = ['ReserveStock', 'CreatePaymentSession', 'WaitForPayment', 'CapturePayment', 'CompleteOrder'];
const COMPENSATIONS = ['CancelPaymentSession', 'RefundPayment', 'ReleaseStock', 'MarkOrderFailed'];
const LEASED_SERVICES = ['catalog', 'payments', 'orders', 'claims'];
/** The soak drives the chaos rules through this one: its workers are never killed. */
const SPARED_WORKERS = /ChaosApi/;

/** Infrastructure faults restart processes by this checkout's settings: they must be the stack's. */
function checkOwnStack(e: ReturnType<typeof endpoints>, infra: readonly InfraFault[]): void {
  const mismatch: string[] = [];
  if ((infra.includes('bao') || infra.includes('workers')) && (settings.vaultAddr !== e.vaultAddr || settings.awsEndpoint !== e.awsEndpoint)) {
    mismatch.push(`VAULT_ADDR ${settings.vaultAddr} / CM_AWS_ENDPOINT ${settings.awsEndpoint} vs ${e.vaultAddr} / ${e.awsEndpoint}`);
  }
  if (infra.includes('pg') && adminPgUrl() !== e.postgresUrl) mismatch.push(`Postgres ${adminPgUrl()} vs ${e.postgresUrl}`);
  if (infra.includes('redis') && redisUrl() !== e.redisUrl) mismatch.push(`Redis ${redisUrl()} vs ${e.redisUrl}`);
  if (mismatch.length) {
    throw new Error(`infrastructure faults need the environment \`npm run up\` ran with (.local/endpoints.json): ${mismatch.join('; ')}`);
  }
  if (infra.includes('bao') && !ownedPid('openbao')) throw new Error('baoRestart needs our own OpenBao (.local/pids/openbao.pid), started by `npm run up`');
  if (infra.includes('workers') && !ownedPid('ministack')) throw new Error('workerKill needs our own MiniStack (.local/pids/ministack.pid), started by `npm run up`');
}

/** Our MiniStack's live workers (never another stack's: they are its children). */
function ourWorkers(): LambdaWorker[] {
  const pid = ownedPid('ministack');
  return pid ? ministackWorkers(pid, settings.stackName) : [];
}

const pick = <T>(xs: readonly T[]): T => xs[Math.floor(Math.random() * xs.length)];

export async function runSoak(opts: SoakOptions): Promise<SoakReport> {
  const log = opts.log ?? (() => {});
  const started = Date.now();
  const e = endpoints();
  for (const url of [e.apiBaseUrl, e.postgresUrl, e.redisUrl, e.vaultAddr, e.awsEndpoint]) {
    const host = new URL(url).hostname;
    if (!['127.0.0.1', 'localhost'].includes(host)) throw new Error(`the soak targets loopback only, not ${host}`);
  }
  const infra = opts.infraFaults ?? [];
  checkOwnStack(e, infra);
  // A Postgres restart ends this session too: one for the set-up, a fresh one to check the end.
  let db = new Client({ connectionString: e.postgresUrl });
  db.on('error', () => undefined);
  await db.connect();
  const runId = crypto.randomUUID().slice(0, 8);
  const productIds = Array.from({ length: 5 }, () => crypto.randomUUID());
  for (const [i, id] of productIds.entries()) {
    await db.query(`INSERT INTO catalog.products (id, sku, name, category, price_cents, stock) VALUES ($1, $2, $3, '${TEST_DATA_CATEGORY}', $4, 100000)`, [
      id,
      `soak-${runId}-${i}`,
      `Soak item ${runId}-${i}`,
      500 + i * 250,
    ]);
  }
  const baseline = await stockSnapshot(db, productIds);
  const admin = await new Shopper({ email: 'admin@checkout-mesh.dev', password: 'admin-password-123' }).login();
  const faults: Record<string, number> = {};
  const count = (k: string) => (faults[k] = (faults[k] ?? 0) + 1);
  const report: SoakReport = {
    options: { shoppers: opts.shoppers, orders: opts.orders, timeLimitMs: opts.timeLimitMs, faultEverySec: opts.faultEverySec, infraFaults: infra },
    durationMs: 0,
    orders: { placed: 0, clientGaveUp: 0, paid: 0, declined: 0, byState: {} },
    clientRetries: 0,
    faults,
    infra: { workersKilled: {}, restartMs: {} },
    chaosHits: 0,
    breakerOpenings: 0,
    dlq: {},
    needsAttention: [],
    invariants: undefined as unknown as InvariantReport,
    ok: false,
  };

  const chaos = async (rule: Record<string, unknown>) => {
    const res = await fetch(`${admin.api}/api/chaos/rules`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: admin.authorization },
      body: JSON.stringify(rule),
    });
    await res.text();
    return res.status;
  };

  const timed = async (kind: string, fn: () => Promise<unknown>) => {
    const t = Date.now();
    await fn();
    (report.infra.restartMs[kind] ??= []).push(Date.now() - t);
  };
  const killed = (workers: LambdaWorker[]) => {
    const gone = killWorkers(workers);
    for (const w of gone) {
      const short = w.functionName
        .replace(/^[^-]+-/, '')
        .replace(/[0-9A-F]{8,}(-[0-9A-F]+)?$/, '')
        .replace(/-$/, '');
      report.infra.workersKilled[short] = (report.infra.workersKilled[short] ?? 0) + 1;
    }
    return gone;
  };
  let baoRestarts = 0;

  /** One random fault, or the next infrastructure fault in turn. Rules are short-lived; the others are one-off blows. */
  let faultNo = 0;
  let infraNo = 0;
  const injectFault = async (forced?: string) => {
    // The second fault and every third after it is the next infrastructure fault in turn.
    const infraTurn = infra.length > 0 && faultNo++ % 3 === 1;
    const kind =
      forced ??
      (infraTurn
        ? INFRA_FAULT_KIND[infra[infraNo++ % infra.length]]
        : pick(['latency', 'error', 'stepException', 'stepTimeout', 'compensationException', 'redisKill', 'dispatcherKill', 'leaseRevoke'] as const));
    try {
      switch (kind) {
        case 'latency':
          await chaos({
            target: { service: pick(SERVICES) },
            fault: { type: 'latency', latencyMs: 200 + Math.floor(Math.random() * 600) },
            probability: 0.3,
            ttlSeconds: 8,
            description: 'soak',
          });
          break;
        case 'error':
          await chaos({
            target: { service: pick(['catalog', 'payments', 'orders']) },
            fault: { type: 'error', status: 503 },
            probability: 0.2,
            ttlSeconds: 5,
            description: 'soak',
          });
          break;
        case 'stepException':
          await chaos({
            target: { service: 'orders', step: pick(FORWARD_STEPS) },
            fault: { type: 'exception', message: 'soak' },
            probability: 0.3,
            ttlSeconds: 8,
            description: 'soak',
          });
          break;
        case 'stepTimeout':
          await chaos({
            target: { service: 'orders', step: pick(FORWARD_STEPS) },
            fault: { type: 'timeout', hangMs: 30_000 },
            probability: 0.15,
            ttlSeconds: 5,
            description: 'soak',
          });
          break;
        case 'compensationException':
          await chaos({
            target: { service: 'orders', step: pick(COMPENSATIONS) },
            fault: { type: 'exception', message: 'soak' },
            probability: 0.3,
            ttlSeconds: 6,
            description: 'soak',
          });
          break;
        case 'redisKill': {
          // A Redis restart as the clients see it: every connection to our logical DB dropped.
          const r = new Redis(e.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
          await r.connect();
          const dbIndex = Number(new URL(e.redisUrl).pathname.slice(1) || 0);
          const list = (await r.client('LIST')) as string;
          const me = (await r.client('ID')) as number;
          for (const line of list.split('\n')) {
            const id = /\bid=(\d+)/.exec(line)?.[1];
            if (id && Number(id) !== me && new RegExp(`\\bdb=${dbIndex}\\b`).test(line)) await r.client('KILL', 'ID', id).catch(() => 0);
          }
          r.disconnect();
          break;
        }
        case 'dispatcherKill': {
          // Our emulator's dispatcher workers only (not by name machine-wide: other stacks run the same names).
          const which = `${settings.stackName}-${pick(['Payments', 'Orders'])}MeshDispatcher`;
          killWorkers(ourWorkers().filter((w) => w.functionName.startsWith(which)));
          break;
        }
        case 'workerKill': {
          // Mid-saga: a saga step worker when one runs, and up to two more of any function.
          const workers = ourWorkers().filter((w) => !SPARED_WORKERS.test(w.functionName));
          const saga = workers.filter((w) => /SagaStep/.test(w.functionName));
          const first = saga.length ? [pick(saga)] : [];
          const rest = workers
            .filter((w) => !first.includes(w))
            .sort(() => Math.random() - 0.5)
            .slice(0, (first.length ? 0 : 1) + Math.floor(Math.random() * 3));
          const gone = killed([...first, ...rest]);
          log(`  killed ${gone.length} Lambda workers: ${gone.map((w) => w.functionName).join(', ') || 'none running'}`);
          if (!gone.length) throw new Error('no Lambda worker of ours was running');
          break;
        }
        case 'baoRestart': {
          // Alternately a clean stop and a crash (SIGKILL); `ensureVault` starts and unseals it again.
          const how = baoRestarts++ % 2 === 0 ? 'crash' : 'stop';
          await timed(kind, () => restartVault(secrets(), how));
          log(`  OpenBao ${how === 'crash' ? 'killed' : 'stopped'} and back in ${report.infra.restartMs[kind].at(-1)} ms`);
          break;
        }
        case 'pgRestart':
          await timed(kind, () => restartPostgres());
          log(`  Postgres back in ${report.infra.restartMs[kind].at(-1)} ms`);
          break;
        case 'redisRestart':
          await timed(kind, () => restartRedis());
          log(`  Redis back in ${report.infra.restartMs[kind].at(-1)} ms`);
          break;
        case 'leaseRevoke': {
          const res = await fetch(`${e.vaultAddr}/v1/sys/leases/revoke-prefix/database/creds/${pick(LEASED_SERVICES)}`, {
            method: 'PUT',
            headers: { 'X-Vault-Token': e.vaultToken },
          });
          const text = await res.text();
          // Counted only when Vault revoked them all (a failed revocation is no fault injected).
          if (!res.ok) throw new Error(`revoke-prefix: ${res.status} ${text.slice(0, 200)}`);
          break;
        }
      }
      count(kind);
      log(`fault ${kind}`);
    } catch (err) {
      log(`fault ${kind} could not be injected: ${(err as Error).message}`);
    }
  };

  const hitsBefore = await chaosHitTotal(e.redisUrl);
  let next = 0;
  const deadline = started + opts.timeLimitMs;
  const shopper = async (n: number) => {
    // Shoppers arrive over a few seconds, not all in the same millisecond.
    await sleep(n * 250);
    const s = await new Shopper().login();
    while (next < opts.orders && Date.now() < deadline) {
      next++;
      const items = [...productIds]
        .sort(() => Math.random() - 0.5)
        .slice(0, 1 + Math.floor(Math.random() * 3))
        .map((productId) => ({ productId, quantity: 1 + Math.floor(Math.random() * 3) }));
      const placed = await s
        .placeOrderRetrying({ items, paymentProvider: Math.random() < 0.7 ? 'stripe' : 'paypal' }, { attempts: 8, onRetry: () => report.clientRetries++ })
        .catch(() => undefined);
      if (placed?.status !== 202) {
        report.orders.clientGaveUp++;
        log(`shopper ${n}: gave up placing (${placed?.status ?? 'network'}) ${JSON.stringify(placed?.body ?? {}).slice(0, 300)}`);
        continue;
      }
      report.orders.placed++;
      const id = String(placed.body.id);
      const payable = await s.awaitPayable(id, 90_000).catch(() => undefined);
      if (payable) {
        const decline = Math.random() < 0.1;
        for (let attempt = 0; attempt < 4; attempt++) {
          const status = await s.pay(payable, { decline }).catch(() => 0);
          if ([200, 303, 402].includes(status)) {
            if (decline) report.orders.declined++;
            else report.orders.paid++;
            break;
          }
          report.clientRetries++;
          await sleep(500 * 2 ** attempt);
        }
      }
      await s.settled(id, 120_000).catch(() => undefined);
    }
  };

  let faulting = opts.faultEverySec > 0;
  const faultLoop = (async () => {
    while (faulting && Date.now() < deadline) {
      await sleep(opts.faultEverySec * 1000 * (0.5 + Math.random()));
      if (faulting) await injectFault();
    }
  })();
  await Promise.all(Array.from({ length: opts.shoppers }, (_, i) => shopper(i)));
  faulting = false;
  await faultLoop;
  // A run that ended before every infrastructure fault asked for had its turn gets the missing
  // ones now, before the settling below (the system must still recover from them).
  if (opts.faultEverySec > 0) {
    for (const f of infra) if (!faults[INFRA_FAULT_KIND[f]]) await injectFault(INFRA_FAULT_KIND[f]);
  }

  // Kill switch, then let the system settle: every order of the soak's products must end.
  // (A Redis restart without persistence forgets the hit counters: never below zero.)
  report.chaosHits = Math.max(0, (await chaosHitTotal(e.redisUrl)) - hitsBefore);
  if (infra.includes('pg')) {
    await db.end().catch(() => undefined);
    db = new Client({ connectionString: e.postgresUrl });
    db.on('error', () => undefined);
    await db.connect();
  }
  await fetch(`${admin.api}/api/chaos/rules`, { method: 'DELETE', headers: { authorization: admin.authorization } }).then((r) => r.text());
  const soakOrders = async () =>
    (
      await db.query<{ id: string; state: string; failure_reason: string | null }>(
        `SELECT id::text, state, failure_reason FROM orders.orders WHERE EXISTS (
           SELECT 1 FROM jsonb_array_elements(items) i WHERE (i->>'productId') = ANY($1::text[]))`,
        [productIds],
      )
    ).rows;
  const settleDeadline = Date.now() + 240_000;
  let orders = await soakOrders();
  while (orders.some((o) => !TERMINAL_STATES.includes(o.state)) && Date.now() < settleDeadline) {
    await sleep(2000);
    orders = await soakOrders();
  }
  const ids = orders.map((o) => o.id);
  await outboxDrained(db, ids, 120_000);
  for (const o of orders) report.orders.byState[o.state] = (report.orders.byState[o.state] ?? 0) + 1;
  report.needsAttention = orders.filter((o) => o.state === 'NEEDS_ATTENTION').map((o) => ({ id: o.id, reason: o.failure_reason }));

  // Openings over every BFF instance that published its breakers (the merged board), not only the one answering.
  const breakers = (await (await fetch(`${admin.api}/api/ops/breakers`)).json().catch(() => ({}))) as { downstreams?: Array<{ instances: Array<{ openings: number }> }> };
  report.breakerOpenings = (breakers.downstreams ?? []).reduce((n, d) => n + d.instances.reduce((m, r) => m + r.openings, 0), 0);
  const sqs = new SQSClient(awsClientConfig());
  const queues = (await sqs.send(new ListQueuesCommand({ QueueNamePrefix: 'checkout-mesh-' }))).QueueUrls ?? [];
  for (const url of queues.filter((q) => q.endsWith('-dlq'))) {
    const attrs = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['ApproximateNumberOfMessages'] }));
    report.dlq[url.split('/').pop()!] = Number(attrs.Attributes?.ApproximateNumberOfMessages ?? 0);
  }

  report.invariants = await checkInvariants(db, ids, baseline);
  report.durationMs = Date.now() - started;
  report.ok = report.invariants.violations.length === 0 && report.orders.placed > 0;
  await db.end();
  return report;
}

/** Faults the handlers actually injected (every hit is counted in Redis by rule id). */
async function chaosHitTotal(redisUrl: string): Promise<number> {
  const r = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await r.connect();
    return Object.values(await r.hgetall(HITS_KEY)).reduce((n, v) => n + Number(v), 0);
  } catch {
    return 0;
  } finally {
    r.disconnect();
  }
}

export function formatReport(r: SoakReport): string {
  const lines = [
    `Chaos soak: ${r.options.shoppers} shoppers, ${r.options.orders} orders, a fault every ~${r.options.faultEverySec} s — ${(r.durationMs / 1000).toFixed(0)} s`,
    `orders      placed ${r.orders.placed}, client gave up ${r.orders.clientGaveUp}, paid ${r.orders.paid}, declined ${r.orders.declined}`,
    `end states  ${Object.entries(r.orders.byState)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}`,
    `retries     ${r.clientRetries} client retries (same Idempotency-Key)`,
    `faults      ${
      Object.entries(r.faults)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ') || 'none'
    }; faults hit by requests/steps ${r.chaosHits}`,
    `infra       ${r.options.infraFaults?.length ? r.options.infraFaults.join(', ') : 'none'}; ${
      Object.entries(r.infra.restartMs)
        .map(([k, ms]) => `${k} back in ${(Math.max(...ms) / 1000).toFixed(1)} s at most`)
        .join(', ') || 'no restarts'
    }; workers killed ${Object.values(r.infra.workersKilled).reduce((a, b) => a + b, 0)} (${
      Object.entries(r.infra.workersKilled)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ') || 'none'
    })`,
    `breakers    ${r.breakerOpenings} openings (BFF instance that answered)`,
    `DLQs        ${Object.entries(r.dlq)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}`,
    `money       captured ${r.invariants.money.capturedCents} c, refunded ${r.invariants.money.refundedCents} c, captured for failed orders ${r.invariants.money.capturedForFailed}`,
    ...r.needsAttention.map((n) => `parked      ${n.id}: ${n.reason}`),
    `invariants  ${r.invariants.violations.length === 0 ? 'all hold' : `${r.invariants.violations.length} VIOLATED`}`,
    ...r.invariants.violations.map((v) => `  ✗ ${v}`),
    r.ok ? 'SOAK PASSED' : 'SOAK FAILED',
  ];
  return lines.join('\n');
}
