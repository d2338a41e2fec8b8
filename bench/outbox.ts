import { randomUUID } from 'node:crypto';
import { CloudFormationClient, DescribeStackResourcesCommand } from '@aws-sdk/client-cloudformation';
import { SNSClient } from '@aws-sdk/client-sns';
import { Pool } from 'pg';
import { withTransaction } from '../functions/shared/db';
import { appendOutbox, newEvent, type EventEnvelope } from '../functions/shared/events';
import { dispatcherKick, snsPublisher } from '../functions/shared/mesh';
import { createSigner } from '../functions/shared/sigv4';
import type { BenchContext, Benchmark } from './lib/context';
import { scaled } from './lib/context';
import { awsConfig } from './lib/env';
import type { Row, Target } from './lib/report';
import { ratio, sleep, summarize } from './lib/stats';

/**
 * Outbox lag: commit → consumer effect. Our path is the product's: the event is appended to
 * payments.outbox in its own transaction, the dispatcher Lambda is kicked asynchronously
 * after the commit (as the payments API does), it publishes to SNS, SNS fans out to the
 * payments-audit SQS queue and the audit consumer Lambda records the event (inbox + effect).
 * The floor publishes the same envelope straight to SNS (the dispatcher's publish), so it
 * pays only the mesh: SNS → SQS → event source poll → consumer. Lag = the effect row's
 * received_at − the instant the commit (or publish) started; same clock, same host.
 * Events are emitted at a steady rate in blocks, ours and floor alternating; bench rows are
 * deleted afterwards. The events carry no orderId, so the orders consumer ignores them.
 */
const BLOCK = 50;
const INTERVAL_MS = 20;

export const outbox: Benchmark = {
  name: 'outbox',
  title: 'Outbox lag: commit → audit consumer effect (outbox + dispatcher + SNS + SQS) vs direct SNS publish',
  needsFloor: false,
  async run(ctx: BenchContext) {
    const e = ctx.e;
    const total = scaled(ctx, 500, BLOCK);
    const blocks = Math.ceil(total / BLOCK);
    const cfn = new CloudFormationClient(awsConfig(e));
    const resources = (await cfn.send(new DescribeStackResourcesCommand({ StackName: process.env.CM_STACK_NAME ?? 'CheckoutMesh' }))).StackResources ?? [];
    const dispatcher = resources.find((r) => r.ResourceType === 'AWS::Lambda::Function' && /^PaymentsMeshDispatcher/.test(r.LogicalResourceId ?? ''))?.PhysicalResourceId;
    const topicArn = e.stack.PaymentsTopicArn;
    if (!dispatcher || !topicArn) throw new Error('payments dispatcher or topic not found in the stack');
    const aws = awsConfig(e);
    const kickDispatcher = dispatcherKick(
      { AWS_REGION: aws.region, AWS_ENDPOINT_URL: aws.endpoint, DISPATCHER_FUNCTION_NAME: dispatcher },
      { signer: createSigner({ region: aws.region, service: 'lambda', credentials: aws.credentials }) },
    );
    const publish = snsPublisher(new SNSClient(awsConfig(e)), topicArn);
    const pool = new Pool({ connectionString: e.postgresUrl, max: 4, options: '-c search_path=payments' });
    const sent = new Map<string, { at: number; path: 'ours' | 'floor'; block: number }>();
    const runId = randomUUID().slice(0, 8);
    const ev = (n: number, path: string): EventEnvelope => newEvent('PaymentFailed', 'bench', { sessionId: `bench-${runId}-${path}-${n}`, bench: runId });

    const waitForEffects = async (ids: string[], timeoutMs = 120_000) => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const { rows } = await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM event_audit WHERE event_id = ANY($1)', [ids]);
        if (rows[0].n >= ids.length) return;
        if (Date.now() > deadline) throw new Error(`only ${rows[0].n}/${ids.length} events reached the audit consumer in ${timeoutMs / 1000} s`);
        await sleep(250);
      }
    };

    try {
      let n = 0;
      // Blocks 0 and 1 warm the pipeline and are reported apart: the first burst of kicks starts
      // one dispatcher worker per concurrent kick (cold starts), which says nothing about steady lag.
      for (let b = 0; b < blocks * 2 + 2; b++) {
        const path = b % 2 === 0 ? 'ours' : 'floor';
        const ids: string[] = [];
        const pending: Promise<unknown>[] = [];
        for (let i = 0; i < BLOCK; i++, n++) {
          const event = ev(n, path);
          ids.push(event.id);
          const at = Date.now();
          sent.set(event.id, { at, path, block: b });
          if (path === 'ours') {
            await withTransaction(pool, (tx) => appendOutbox(tx, event, { aggregateType: 'Bench', aggregateId: `bench-${runId}-${n}` }));
            pending.push(kickDispatcher());
          } else {
            pending.push(publish(event, { seq: '0', eventId: event.id, aggregateId: '', eventType: event.type, envelope: event }));
          }
          await sleep(INTERVAL_MS);
        }
        await Promise.all(pending);
        await waitForEffects(ids);
        ctx.log(`block ${b + 1}/${blocks * 2 + 2} (${path}) delivered`);
      }
      const { rows } = await pool.query<{ event_id: string; received: Date; deliveries: number }>(
        'SELECT event_id, received_at AS received, deliveries FROM event_audit WHERE event_id = ANY($1)',
        [[...sent.keys()]],
      );
      const lags = { ours: [] as number[], floor: [] as number[] };
      const perBlock: Record<number, number[]> = {};
      let duplicates = 0;
      for (const r of rows) {
        const s = sent.get(r.event_id)!;
        const lag = r.received.getTime() - s.at;
        if (s.block >= 2) lags[s.path].push(lag);
        (perBlock[s.block] ??= []).push(lag);
        if (r.deliveries > 1) duplicates++;
      }
      const blocksSummary = Object.entries(perBlock).map(([b, v]) => ({
        block: Number(b) + 1,
        path: Number(b) % 2 === 0 ? 'ours' : 'floor',
        ...summarize(v),
        over1s: v.filter((x) => x > 1000).length,
      }));
      ctx.log(`per block p50/max: ${blocksSummary.map((x) => `${x.block}${x.path[0]} ${x.p50}/${x.max}`).join(', ')}`);
      const so = summarize(lags.ours);
      const sf = summarize(lags.floor);
      const warmO = summarize(perBlock[0] ?? []);
      const warmF = summarize(perBlock[1] ?? []);
      const rows2: Row[] = [
        { case: `${lags.ours.length} events, ${1000 / INTERVAL_MS}/s`, metric: 'lag p50', unit: 'ms', ours: so.p50, floor: sf.p50, ratio: ratio(so.p50, sf.p50) },
        { case: `${lags.ours.length} events, ${1000 / INTERVAL_MS}/s`, metric: 'lag p99', unit: 'ms', ours: so.p99, floor: sf.p99, ratio: ratio(so.p99, sf.p99) },
        {
          case: `${lags.ours.length} events, ${1000 / INTERVAL_MS}/s`,
          metric: 'events over 1 s',
          unit: '',
          ours: lags.ours.filter((x) => x > 1000).length,
          floor: lags.floor.filter((x) => x > 1000).length,
        },
        {
          case: `first block (${BLOCK} events, cold pipeline)`,
          metric: 'lag p50 / max',
          unit: 'ms',
          ours: `${warmO.p50} / ${warmO.max}`,
          floor: `${warmF.p50} / ${warmF.max}`,
        },
        { case: 'consumer', metric: 'events applied more than once', unit: '', ours: duplicates },
      ];
      const targets: Target[] = [
        {
          name: 'outbox: every event applied exactly once',
          limit: '0 duplicates, none lost',
          value: `${rows.length}/${sent.size}, ${duplicates} dup`,
          met: duplicates === 0 && rows.length === sent.size,
        },
        { name: 'outbox: lag p99 / floor p99 (warm blocks)', limit: '≤ 3', value: ratio(so.p99, sf.p99), met: ratio(so.p99, sf.p99) <= 3 },
        // The first block meets cold dispatchers and consumers: it is the figure a quiet system shows.
        {
          name: 'outbox: first block max lag',
          limit: '≤ 3000 ms',
          value: blocksSummary[0]?.max ?? Number.NaN,
          met: (blocksSummary[0]?.max ?? Number.POSITIVE_INFINITY) <= 3000,
        },
      ];
      return {
        rows: rows2,
        targets,
        notes: ['The floor bypasses the outbox and the dispatcher; both pay the SQS event source poll (about 1 s on the emulator), which dominates.'],
        data: { ours: so, floor: sf, block: BLOCK, intervalMs: INTERVAL_MS, dispatcher, blocks: blocksSummary },
      };
    } finally {
      const ids = [...sent.keys()];
      await pool.query("DELETE FROM inbox WHERE consumer = 'payments-audit' AND event_id = ANY($1)", [ids]).catch(() => undefined);
      await pool.query('DELETE FROM event_audit WHERE event_id = ANY($1)', [ids]).catch(() => undefined);
      await pool.query("DELETE FROM outbox WHERE aggregate_type = 'Bench' AND event_id = ANY($1::uuid[])", [ids]).catch(() => undefined);
      await pool.end();
    }
  },
};
