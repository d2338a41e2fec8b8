import { setTimeout as sleep } from 'node:timers/promises';
import type { Pool } from 'pg';
import { withTransaction } from '../../functions/shared/db';
import { appendOutbox, dispatchOutbox, newEvent, type EventEnvelope } from '../../functions/shared/events';
import { applyOnce } from '../../functions/shared/inbox';
import { publishAfterCommit } from '../../functions/shared/mesh';
import { type ScratchSchema, scratchSchema } from '../support/scratch-schema';

// testTimeout in a jest project is not applied when several projects run together.
jest.setTimeout(120_000);

/**
 * The outbox dispatcher and the inbox on real Postgres, in a throw-away schema shaped like
 * payments' (so the deployed sweep never competes for these rows).
 */
let schema: string;
let pool: Pool;
let db: Pool;

let scratch: ScratchSchema;
beforeAll(async () => {
  // The code under test resolves outbox and inbox through the search_path, as in a service's own schema.
  scratch = await scratchSchema('outbox_test', {
    outbox: 'LIKE payments.outbox INCLUDING ALL',
    inbox: 'LIKE payments.inbox INCLUDING ALL',
    effects: 'event_id text PRIMARY KEY, applied integer NOT NULL DEFAULT 1',
  });
  schema = scratch.name;
  pool = scratch.admin;
  db = scratch.db;
});

afterAll(async () => {
  await scratch.drop();
});

beforeEach(async () => {
  await scratch.truncate();
});

async function seed(aggregates: number, perAggregate: number): Promise<EventEnvelope[]> {
  const events: EventEnvelope[] = [];
  // Interleave aggregates so that order per aggregate is not just the global order by accident.
  for (let i = 0; i < perAggregate; i++) {
    await withTransaction(db, async (client) => {
      for (let a = 0; a < aggregates; a++) {
        const ev = newEvent('PaymentSucceeded', 'test', { aggregate: `agg-${a}`, n: i });
        await appendOutbox(client, ev, { aggregateType: 'Test', aggregateId: `agg-${a}` });
        events.push(ev);
      }
    });
  }
  return events;
}

/** A consumer whose effect is counted: `applied` > 1 would mean an event was applied twice. */
const consume = (ev: EventEnvelope) =>
  applyOnce(db, 'test-consumer', ev.id, async (client) => {
    await client.query('INSERT INTO effects (event_id) VALUES ($1) ON CONFLICT (event_id) DO UPDATE SET applied = effects.applied + 1', [ev.id]);
  });

describe('outbox dispatcher', () => {
  it('appendOutbox commits with the transaction or not at all', async () => {
    const ev = newEvent('PaymentFailed', 'test', { x: 1 });
    await expect(
      withTransaction(db, async (client) => {
        await appendOutbox(client, ev, { aggregateType: 'Test', aggregateId: 'rolled-back' });
        throw new Error('business failure');
      }),
    ).rejects.toThrow('business failure');
    const { rows } = await pool.query(`SELECT count(*)::int AS n FROM ${schema}.outbox`);
    expect(rows[0].n).toBe(0);
  });

  it('two dispatchers in parallel publish every row exactly once, in order per aggregate', async () => {
    const events = await seed(10, 12);
    const published: Array<{ dispatcher: string; event: EventEnvelope }> = [];
    const publisher = (name: string) => async (event: EventEnvelope) => {
      await sleep(Math.random() * 3);
      published.push({ dispatcher: name, event });
    };
    const [a, b] = await Promise.all([
      dispatchOutbox(db, publisher('A'), { batchSize: 7, maxBatches: 1000 }),
      dispatchOutbox(db, publisher('B'), { batchSize: 7, maxBatches: 1000 }),
    ]);
    // A dispatcher returning early can leave rows its peer still holds: drain what is left.
    await dispatchOutbox(db, publisher('C'), { maxBatches: 1000 });

    const ids = published.map((p) => p.event.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.sort()).toEqual(events.map((e) => e.id).sort());
    expect(a.published + b.published).toBeGreaterThan(0);
    // Both took part (SKIP LOCKED lets them work side by side).
    expect(new Set(published.map((p) => p.dispatcher)).size).toBeGreaterThanOrEqual(2);
    for (let agg = 0; agg < 10; agg++) {
      const ns = published.filter((p) => p.event.data.aggregate === `agg-${agg}`).map((p) => p.event.data.n);
      expect(ns).toEqual([...Array(12).keys()]);
    }
    const { rows } = await pool.query(`SELECT count(*)::int AS n FROM ${schema}.outbox WHERE sent_at IS NULL`);
    expect(rows[0].n).toBe(0);
  });

  it('a dispatcher that dies between publish and mark-sent leaves the row to be published again; the consumer applies it once', async () => {
    const [ev] = await seed(1, 1);
    const bus: EventEnvelope[] = [];
    // First run: the message reaches the bus, then the dispatcher fails before marking it sent.
    const first = await dispatchOutbox(db, async (event) => {
      bus.push(event);
      throw new Error('killed after publish');
    });
    expect(first).toMatchObject({ published: 0, failed: 'killed after publish' });
    const unsent = await pool.query(`SELECT sent_at, attempts FROM ${schema}.outbox WHERE event_id = $1`, [ev.id]);
    expect(unsent.rows[0]).toMatchObject({ sent_at: null, attempts: 1 });

    // The next run (after-commit kick or sweep) publishes it again.
    const second = await dispatchOutbox(db, async (event) => {
      bus.push(event);
    });
    expect(second.published).toBe(1);
    expect(bus.map((e) => e.id)).toEqual([ev.id, ev.id]);

    // Both copies are delivered; the inbox lets exactly one apply.
    const applied = [];
    for (const copy of bus) applied.push(await consume(copy));
    expect(applied).toEqual([true, false]);
    const { rows } = await pool.query(`SELECT applied FROM ${schema}.effects WHERE event_id = $1`, [ev.id]);
    expect(rows).toEqual([{ applied: 1 }]);

    // And nothing is left to publish.
    const third = await dispatchOutbox(db, async (event) => {
      bus.push(event);
    });
    expect(third.published).toBe(0);
  });

  it('stops an aggregate at its first failed row so later rows never overtake it', async () => {
    await seed(1, 3);
    const seen: number[] = [];
    let fail = true;
    const publish = async (event: EventEnvelope) => {
      if (event.data.n === 1 && fail) {
        fail = false;
        throw new Error('SNS down');
      }
      seen.push(event.data.n as number);
    };
    await dispatchOutbox(db, publish);
    expect(seen).toEqual([0]);
    await dispatchOutbox(db, publish);
    expect(seen).toEqual([0, 1, 2]);
  });
});

describe('inbox', () => {
  it('concurrent deliveries of one event apply its effect once', async () => {
    const ev = newEvent('PaymentSucceeded', 'test', { x: 1 });
    const results = await Promise.all(Array.from({ length: 6 }, () => consume(ev)));
    expect(results.filter(Boolean)).toHaveLength(1);
    const { rows } = await pool.query(`SELECT applied FROM ${schema}.effects`);
    expect(rows).toEqual([{ applied: 1 }]);
  });

  it('a failed effect rolls the inbox row back, so a redelivery applies it', async () => {
    const ev = newEvent('PaymentSucceeded', 'test', { x: 2 });
    await expect(applyOnce(db, 'test-consumer', ev.id, async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(await consume(ev)).toBe(true);
    expect(await consume(ev)).toBe(false);
  });
});

describe('publishAfterCommit (the committing process publishes; the dispatcher is the fallback)', () => {
  it('publishes what the commit wrote without waking the dispatcher', async () => {
    const events = await seed(2, 1);
    const published: string[] = [];
    let kicks = 0;
    await publishAfterCommit({ db, publish: async (ev) => void published.push(ev.id), kick: async () => void kicks++ });
    expect(published.sort()).toEqual(events.map((e) => e.id).sort());
    expect(kicks).toBe(0);
    expect((await pool.query(`SELECT count(*)::int AS n FROM ${schema}.outbox WHERE sent_at IS NULL`)).rows[0].n).toBe(0);
  });

  it('kicks the dispatcher when publishing fails, leaving the rows for it (nothing lost, nothing marked sent)', async () => {
    const events = await seed(1, 2);
    let kicks = 0;
    await publishAfterCommit({
      db,
      publish: async () => {
        throw new Error('SNS is down');
      },
      kick: async () => void kicks++,
    });
    expect(kicks).toBe(1);
    const { rows } = await pool.query(`SELECT event_id FROM ${schema}.outbox WHERE sent_at IS NULL ORDER BY seq`);
    expect(rows.map((r: { event_id: string }) => r.event_id)).toEqual(events.map((e) => e.id));
    // The dispatcher's pass then publishes them, in order.
    const later: string[] = [];
    await dispatchOutbox(db, async (ev) => void later.push(ev.id));
    expect(later).toEqual(events.map((e) => e.id));
  });
});
