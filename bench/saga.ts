import { randomUUID } from 'node:crypto';
import { DescribeExecutionCommand, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { Client } from 'pg';
import { registerAndLogin } from '../test/support/accounts';
import { crowdProduct, removeProduct } from '../test/support/crowd';
import { Shopper, TERMINAL_STATES, type OrderView } from '../test/support/shop';
import type { BenchContext, Benchmark } from './lib/context';
import { scaled } from './lib/context';
import { awsConfig } from './lib/env';
import type { Row, Target } from './lib/report';
import { nowMs, ratio, sleep, summarize } from './lib/stats';

/**
 * Checkout saga: order accepted (202) → COMPLETED, one order at a time, paid the moment its
 * Stripe session exists (the shopper confirms the PaymentIntent at the Stripe fake, which
 * sends the signed webhook). Floor: the same number of runs of a bench-only Standard state
 * machine of N sequential trivial Lambda tasks (N = the step Lambda invocations of the saga's
 * happy path), on the same emulator. The two alternate, order by order. State is polled in
 * Postgres (orders.orders) and with DescribeExecution every 15 ms, so polling adds no Lambda
 * invocations to either side. Each order's trace (GET /api/orders/{id}/trace) splits the time
 * by step.
 */
const POLL_MS = 15;

export const saga: Benchmark = {
  name: 'saga',
  title: 'Checkout saga: accepted → COMPLETED (Stripe fake pays at once) vs N trivial Lambda tasks in Step Functions',
  needsFloor: true,
  async run(ctx: BenchContext) {
    const floor = await ctx.floor();
    const n = scaled(ctx, 50, 3);
    const pg = new Client({ connectionString: ctx.e.postgresUrl });
    await pg.connect();
    // The bench's own product (test-data: the shop never lists it) and its own account (its orders
    // never show in the demo account's "My orders"); both are removed at the end.
    const PRODUCT = await crowdProduct(pg, n + 10);
    const account = await registerAndLogin(ctx.e.apiBaseUrl, `bench-${randomUUID()}@example.test`);
    const shopper = await new Shopper({ email: account.email, password: account.password }).login();
    const sfn = new SFNClient(awsConfig(ctx.e));
    const stateOf = async (id: string) => (await pg.query<{ state: string }>('SELECT state FROM orders.orders WHERE id = $1', [id])).rows[0]?.state;

    const ours: number[] = [];
    const toPayable: number[] = [];
    const payToDone: number[] = [];
    const accept: number[] = [];
    const floorMs: number[] = [];
    const outcomes: Record<string, number> = {};
    const ids: string[] = [];
    /** Wall-clock instants per completed order, to line up with database timestamps. */
    const wall = new Map<string, { payable: number; confirmed: number; done: number }>();
    try {
      for (let i = 0; i < n; i++) {
        // Ours.
        const posted = nowMs();
        const res = await shopper.placeOrder({ items: [{ productId: PRODUCT, quantity: 1 }], paymentProvider: 'stripe' });
        const body = (await res.json()) as { id?: string };
        if (res.status !== 202 || !body.id) throw new Error(`POST /api/orders answered ${res.status}: ${JSON.stringify(body)}`);
        const t0 = nowMs();
        accept.push(t0 - posted);
        ids.push(body.id);
        let paid = false;
        let tPay = t0;
        let payableWall = 0;
        let confirmedWall = 0;
        let state = '';
        for (const deadline = Date.now() + 90_000; Date.now() < deadline; await sleep(POLL_MS)) {
          state = (await stateOf(body.id)) ?? '';
          if (TERMINAL_STATES.includes(state)) break;
          if (!paid && state === 'AWAITING_PAYMENT') {
            const view: OrderView = await shopper.order(body.id);
            if (!view.payment?.providerRef) continue;
            toPayable.push(nowMs() - t0);
            payableWall = Date.now();
            const status = await shopper.pay(view);
            if (status >= 300) throw new Error(`Stripe confirm answered ${status}`);
            paid = true;
            tPay = nowMs();
            confirmedWall = Date.now();
          }
        }
        const t1 = nowMs();
        outcomes[state] = (outcomes[state] ?? 0) + 1;
        if (state === 'COMPLETED') {
          ours.push(t1 - t0);
          payToDone.push(t1 - tPay);
          wall.set(body.id, { payable: payableWall, confirmed: confirmedWall, done: Date.now() });
        }

        // Floor.
        const f0 = nowMs();
        const started = await sfn.send(
          new StartExecutionCommand({ stateMachineArn: floor.stateMachineArn, name: `bench-${randomUUID()}`, input: JSON.stringify({ orderId: body.id }) }),
        );
        for (const deadline = Date.now() + 60_000; Date.now() < deadline; await sleep(POLL_MS)) {
          const d = await sfn.send(new DescribeExecutionCommand({ executionArn: started.executionArn }));
          if (d.status !== 'RUNNING') {
            if (d.status === 'SUCCEEDED') floorMs.push(nowMs() - f0);
            break;
          }
        }
        if ((i + 1) % 10 === 0) ctx.log(`${i + 1}/${n}: ours p50 ${summarize(ours).p50} ms, floor p50 ${summarize(floorMs).p50} ms, ${JSON.stringify(outcomes)}`);
      }

      // Where the time goes: each completed order's trace, step by step.
      const steps: Record<string, number[]> = {};
      const waitEnded = new Map<string, number>();
      for (const id of ids) {
        const t = await shopper.trace(id).catch(() => undefined);
        for (const s of t?.steps ?? []) {
          if (!s.ended) continue;
          (steps[s.step] ??= []).push(Date.parse(s.ended) - Date.parse(s.started));
          if (s.step === 'WaitForPayment') waitEnded.set(id, Date.parse(s.ended));
        }
      }
      // The payment leg, hop by hop: confirm → PaymentSucceeded committed by the webhook →
      // published by the dispatcher → applied by the orders consumer → WaitForPayment resumed.
      const hops: Record<string, number[]> = {};
      const hop = (name: string, ms: number) => Number.isFinite(ms) && (hops[name] ??= []).push(ms);
      const { rows: legs } = await pg.query<{ order_id: string; created: Date; sent: Date | null; processed: Date | null }>(
        `SELECT s.order_id, o.created_at AS created, o.sent_at AS sent, i.processed_at AS processed
           FROM payments.payment_sessions s
           JOIN payments.outbox o ON o.aggregate_id = s.id::text AND o.event_type = 'PaymentSucceeded'
           LEFT JOIN orders.inbox i ON i.consumer = 'orders-payment-events' AND i.event_id = o.event_id::text
          WHERE s.order_id = ANY($1)`,
        [[...wall.keys()]],
      );
      for (const l of legs) {
        const w = wall.get(l.order_id)!;
        const ended = waitEnded.get(l.order_id) ?? Number.NaN;
        hop('confirm returned → PaymentSucceeded committed', l.created.getTime() - w.confirmed);
        if (l.sent) hop('committed → published (dispatcher)', l.sent.getTime() - l.created.getTime());
        if (l.sent && l.processed) hop('published → applied by orders consumer (SNS, SQS)', l.processed.getTime() - l.sent.getTime());
        if (l.processed) hop('applied → WaitForPayment ended (SendTaskSuccess)', ended - l.processed.getTime());
        hop('WaitForPayment ended → COMPLETED seen (capture, complete)', w.done - ended);
      }
      const hopP50 = Object.fromEntries(Object.entries(hops).map(([k, v]) => [k, summarize(v).p50]));
      ctx.log(`payment leg p50s: ${JSON.stringify(hopP50)}`);
      const stepP50 = Object.fromEntries(Object.entries(steps).map(([k, v]) => [k, summarize(v).p50]));
      ctx.log(`step p50s: ${JSON.stringify(stepP50)}`);

      const so = summarize(ours);
      const sf = summarize(floorMs);
      const rows: Row[] = [
        { case: `${n} orders, sequential`, metric: 'accepted → COMPLETED p50', unit: 'ms', ours: so.p50, floor: sf.p50, ratio: ratio(so.p50, sf.p50) },
        { case: `${n} orders, sequential`, metric: 'accepted → COMPLETED p99', unit: 'ms', ours: so.p99, floor: sf.p99, ratio: ratio(so.p99, sf.p99) },
        { case: 'ours', metric: 'POST /api/orders → 202 p50', unit: 'ms', ours: summarize(accept).p50 },
        { case: 'ours', metric: 'accepted → payable p50', unit: 'ms', ours: summarize(toPayable).p50 },
        { case: 'ours', metric: 'Stripe confirm → COMPLETED p50', unit: 'ms', ours: summarize(payToDone).p50 },
        {
          case: 'ours',
          metric: 'outcomes',
          unit: '',
          ours: Object.entries(outcomes)
            .map(([s, c]) => `${c}×${s}`)
            .join(' '),
        },
        ...Object.entries(stepP50).map(([step, p50]) => ({ case: 'ours, trace', metric: `${step} p50`, unit: 'ms', ours: p50 })),
        ...Object.entries(hopP50).map(([h, p50]) => ({ case: 'ours, payment leg', metric: `${h} p50`, unit: 'ms', ours: p50 })),
      ];
      const targets: Target[] = [
        { name: `saga p50 / floor p50 (${floor.sagaSteps} trivial tasks)`, limit: '≤ 1.3', value: ratio(so.p50, sf.p50), met: ratio(so.p50, sf.p50) <= 1.3 },
        { name: 'saga: every order COMPLETED', limit: `${n}/${n}`, value: `${outcomes.COMPLETED ?? 0}/${n}`, met: (outcomes.COMPLETED ?? 0) === n },
      ];
      return {
        rows,
        targets,
        notes: [`Floor: ${floor.sagaSteps} sequential trivial lambda:invoke tasks (the saga's happy path invokes its step Lambda ${floor.sagaSteps} times).`],
        data: {
          ours: so,
          floor: sf,
          accept: summarize(accept),
          toPayable: summarize(toPayable),
          payToDone: summarize(payToDone),
          steps: Object.fromEntries(Object.entries(steps).map(([k, v]) => [k, summarize(v)])),
          paymentLeg: Object.fromEntries(Object.entries(hops).map(([k, v]) => [k, summarize(v)])),
          outcomes,
        },
      };
    } finally {
      // What the bench made: its orders and its product.
      await removeProduct(pg, PRODUCT, ids);
      await pg.end();
    }
  },
};
