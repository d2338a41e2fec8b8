import { randomUUID } from 'node:crypto';
import { InvokeCommand, LambdaClient, ListFunctionsCommand } from '@aws-sdk/client-lambda';
import { Client } from 'pg';
import { awsClientConfig, endpoints } from '../support/endpoints';
import { gatewayClient, type Res } from '../support/gateway-client';
import type { BreakersView } from '../../functions/bff/breaker-board';

/**
 * The gateway contracts through the public API: Idempotency-Key (via claims), the Redis
 * token-bucket rate limit with RateLimit headers, and the per-service circuit breaker.
 */
jest.setTimeout(180_000);
const e = endpoints();

const client = gatewayClient();
afterAll(() => client.close());
const { request, echo, counter } = client;

describe('Idempotency-Key contract', () => {
  it('400 without a key and with a malformed key (nothing runs)', async () => {
    const counterId = `c-${randomUUID()}`;
    const missing = await echo({ counterId });
    expect(missing.status).toBe(400);
    expect(missing.headers['content-type']).toBe('application/problem+json');
    expect(missing.json()).toMatchObject({ status: 400, type: expect.stringMatching(/idempotency-key-missing$/) });
    const malformed = await echo({ counterId }, 'short');
    expect(malformed.status).toBe(400);
    expect(await counter(counterId)).toBe(0);
  });

  it('same key with another payload → 422, and no second effect', async () => {
    const key = randomUUID();
    const counterId = `c-${randomUUID()}`;
    expect((await echo({ counterId }, key)).status).toBe(201);
    const other = await echo({ counterId, extra: true }, key);
    expect(other.status).toBe(422);
    expect(other.json()).toMatchObject({ status: 422, type: expect.stringMatching(/idempotency-key-mismatch$/) });
    expect(await counter(counterId)).toBe(1);
  });
});

describe('rate limit', () => {
  it('a burst above the bucket gets 429 with Retry-After and RateLimit headers; tokens refill at the configured rate', async () => {
    // Warm the BFF first so the burst below is not stretched by a cold start.
    await request('GET', `/api/demo/rate-limited?bucket=warm-${randomUUID()}`);
    const bucket = randomUUID();
    const get = () => request('GET', `/api/demo/rate-limited?bucket=${bucket}`);
    const burst: Res[] = [];
    for (let i = 0; i < 12; i++) burst.push(await get());

    for (const r of burst) {
      expect(r.headers['ratelimit-policy']).toBe('"demo";q=5;w=5');
      expect(r.headers.ratelimit).toMatch(/^"demo";r=\d+;t=\d+$/);
    }
    expect(burst.slice(0, 5).map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
    expect(burst[0].headers.ratelimit).toMatch(/^"demo";r=4;t=1$/);
    const limited = burst.filter((r) => r.status === 429);
    expect(limited.length).toBeGreaterThanOrEqual(1);
    const last = limited[limited.length - 1];
    expect(last.headers['content-type']).toBe('application/problem+json');
    expect(last.json()).toMatchObject({ status: 429, type: expect.stringMatching(/rate-limited$/) });
    // 1 token per second: the next token is at most 1 s away, the bucket full again within 5 s.
    expect(last.headers['retry-after']).toBe('1');
    expect(last.headers.ratelimit).toMatch(/^"demo";r=0;t=[1-5]$/);

    await new Promise((r) => setTimeout(r, Number(last.headers['retry-after']) * 1000 + 100));
    const after = await get();
    expect(after.status).toBe(200);
    expect(after.headers.ratelimit).toMatch(/^"demo";r=\d;t=\d+$/);
  });

  it('every response carries the rate-limit headers, errors included', async () => {
    const res = await request('GET', '/api/no-such-route');
    expect(res.status).toBe(404);
    expect(res.headers['ratelimit-policy']).toMatch(/^"read";q=\d+;w=\d+$/);
    expect(res.headers.ratelimit).toMatch(/^"read";r=\d+;t=\d+$/);
  });
});

describe('circuit breaker', () => {
  it('opens on failures, fails fast with 503 + Retry-After, half-opens and closes after recovery', async () => {
    const name = `e2e-${Date.now().toString(36)}-${Math.floor(Math.random() * 1e6)}`;
    const drill = (status: number, delayMs = 0) => request('GET', `/api/ops/breakers/drill/${name}?status=${status}&delayMs=${delayMs}`);

    const healthy = await drill(200);
    expect(healthy.status).toBe(200);
    expect(healthy.json().breaker.state).toBe('closed');

    // Closed: a failing call waits for the slow downstream (400 ms) and gets its 5xx.
    const failing: Res[] = [];
    let open: Res | undefined;
    for (let i = 0; i < 40 && !open; i++) {
      const r = await drill(503, 400);
      if (r.status === 503) open = r;
      else failing.push(r);
    }
    expect(failing.length).toBeGreaterThanOrEqual(3);
    for (const r of failing) {
      expect({ status: r.status, body: r.body }).toEqual({ status: 502, body: expect.any(String) });
      expect(r.json().latencyMs).toBeGreaterThanOrEqual(400);
    }
    expect(open).toBeDefined();
    const openBody = open!.json();
    expect(open!.headers['content-type']).toBe('application/problem+json');
    expect(openBody.type).toMatch(/circuit-open$/);
    expect(Number(open!.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    // Open: fails fast, far below the 400 ms the closed failing calls took.
    const closedLatency = Math.min(...failing.map((r) => r.json().latencyMs as number));
    expect(openBody.latencyMs).toBeLessThan(closedLatency / 4);
    expect(openBody.breaker.state).toBe('open');
    const instance = openBody.instance as string;
    for (let i = 0; i < 3; i++) {
      const r = await drill(503, 400);
      if (r.json().instance !== instance) continue;
      expect(r.status).toBe(503);
      expect(r.json().latencyMs).toBeLessThan(closedLatency / 4);
    }

    // /api/ops/breakers merges every BFF instance's breakers (the breaker board): whichever instance
    // answers, the drill breaker is listed on the instance that opened it, named, with its counts.
    // Calls at the same moment land on different instances: ask three at once (again, if they all
    // came from one instance) so that another instance than the one that opened it answers too.
    const views: BreakersView[] = [];
    for (let round = 0; round < 3 && new Set(views.map((v) => v.instance)).size < 2; round++) {
      const answers = await Promise.all([0, 1, 2].map(() => request('GET', '/api/ops/breakers')));
      for (const a of answers) expect(a.status).toBe(200);
      views.push(...answers.map((a) => a.json() as BreakersView));
    }
    expect(new Set(views.map((v) => v.instance)).size).toBeGreaterThanOrEqual(2);
    const rows = views.map((view) => {
      expect(view.board).toBe('ok');
      // The answering instance is marked, live; the one that opened the breaker is on the board.
      expect(view.instances.filter((i) => i.self)).toEqual([expect.objectContaining({ instance: view.instance, ageMs: 0 })]);
      const on = view.instances.find((i) => i.instance === instance);
      expect(on).toMatchObject({ instance, self: view.instance === instance });
      expect(on!.ageMs).toBeLessThan(view.ttlSeconds * 1000);
      const row = view.downstreams.find((d) => d.name === `drill:${name}`)?.instances.find((r) => r.instance === instance);
      expect(row).toMatchObject({ instance, self: view.instance === instance, openedAt: expect.any(String) });
      expect(row!.stats.failures).toBeGreaterThanOrEqual(3);
      return { row: row! };
    });
    // While it was open (its 2 s cool-down) the merged view said so, with the seconds until its probe.
    expect(rows.filter((r) => r.row.state === 'open').map((r) => r.row.retryAfterSeconds)).toEqual(expect.arrayContaining([expect.any(Number)]));

    // After the cool-down the downstream has recovered: one probe (half-open) closes it.
    await new Promise((r) => setTimeout(r, Number(process.env.BREAKER_DRILL_RESET_MS ?? 2000) + 300));
    // biome-ignore lint/suspicious/noExplicitAny: the JSON answer of the recovered drill, checked by toMatchObject below
    let recovered: any;
    for (let i = 0; i < 40 && !recovered; i++) {
      const r = await drill(200);
      const body = r.json();
      // Another instance may have opened its own breaker later and still be cooling down.
      if (r.status === 503 && /circuit-open$/.test(body.type)) {
        await new Promise((res) => setTimeout(res, 250));
        continue;
      }
      expect({ status: r.status, body: r.body }).toEqual({ status: 200, body: expect.any(String) });
      if (body.breaker.transitions.some((t: { to: string }) => t.to === 'open')) recovered = body;
    }
    expect(recovered).toBeDefined();
    expect(recovered.breaker.state).toBe('closed');
    expect(recovered.breaker.transitions.map((t: { to: string }) => t.to).slice(-3)).toEqual(['open', 'halfOpen', 'closed']);
  });
});

describe('claims purge (scheduled Lambda)', () => {
  it('deletes expired claims and keeps live ones', async () => {
    const db = new Client({ connectionString: e.postgresUrl });
    await db.connect();
    try {
      const expired = randomUUID();
      const live = randomUUID();
      const insert = `INSERT INTO claims.claims (id, principal, key, fingerprint, state, lease_token, lease_expires_at, expires_at)
                      VALUES ($1, 'e2e:purge', $2, 'fp', 'failed', $1, now(), now() + $3::interval)`;
      await db.query(insert, [expired, `purge-${expired}`, '-1 minute']);
      await db.query(insert, [live, `purge-${live}`, '1 hour']);
      const lambda = new LambdaClient(awsClientConfig());
      const fns = (await lambda.send(new ListFunctionsCommand({ MaxItems: 200 }))).Functions ?? [];
      const purge = fns.find((f) => /ClaimsPurge/.test(f.FunctionName ?? ''));
      expect(purge).toBeDefined();
      const out = await lambda.send(new InvokeCommand({ FunctionName: purge!.FunctionName, Payload: Buffer.from('{}') }));
      expect(out.FunctionError).toBeUndefined();
      expect(JSON.parse(Buffer.from(out.Payload!).toString()).deleted).toBeGreaterThanOrEqual(1);
      const { rows } = await db.query('SELECT id FROM claims.claims WHERE id = ANY($1::uuid[])', [[expired, live]]);
      expect(rows.map((r) => r.id)).toEqual([live]);
      await db.query('DELETE FROM claims.claims WHERE id = $1', [live]);
    } finally {
      await db.end();
    }
  });
});
