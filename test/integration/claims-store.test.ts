import { randomUUID } from 'node:crypto';
import { Pool } from 'pg';
import { ClaimStore } from '../../functions/claims/adapters/pg-store';
import type { ClaimOutcome } from '../../functions/claims/core/model';
import { endpoints } from '../support/endpoints';

/** Claims against the real Postgres (claims schema), as claims_owner. */
const e = endpoints();
let pool: Pool;

beforeAll(() => {
  pool = new Pool({ connectionString: e.postgresUrl, max: 20, options: '-c search_path=claims -c role=claims_owner' });
});
afterAll(async () => {
  await pool.end();
});

const store = (lease = 30, ttl = 86400) => new ClaimStore(pool, { leaseSeconds: lease, ttlSeconds: ttl });
const principal = () => `test:${randomUUID()}`;

describe('claims store (Postgres)', () => {
  it('200 concurrent identical claims: exactly one acquired, the rest in flight', async () => {
    const s = store();
    const p = principal();
    const results = await Promise.all(Array.from({ length: 200 }, () => s.claim({ principal: p, key: 'k-concurrent-0001', fingerprint: 'fp1' })));
    const acquired = results.filter((r) => r.outcome === 'acquired');
    expect(acquired).toHaveLength(1);
    expect(results.filter((r) => r.outcome === 'in_flight')).toHaveLength(199);
    const ids = new Set(results.map((r) => r.claimId));
    expect(ids.size).toBe(1);
    for (const r of results) if (r.outcome === 'in_flight') expect(r.retryAfter).toBeGreaterThanOrEqual(1);
  });

  it('200 concurrent claims after completion are all replays of the stored response', async () => {
    const s = store();
    const p = principal();
    const first = await s.claim({ principal: p, key: 'k-replay-000001', fingerprint: 'fp' });
    expect(first.outcome).toBe('acquired');
    const stored = { status: 201, headers: { 'content-type': 'application/json', location: '/x/1' }, body: '{"a":1,"b":"é"}' };
    expect(await s.complete(first.claimId, stored)).toEqual({ result: 'stored', state: 'completed' });
    const results = await Promise.all(Array.from({ length: 200 }, () => s.claim({ principal: p, key: 'k-replay-000001', fingerprint: 'fp' })));
    for (const r of results) expect(r).toEqual({ outcome: 'replay', claimId: first.claimId, response: stored });
    // Completing twice is a no-op.
    expect(await s.complete(first.claimId, { status: 200, headers: {}, body: 'other' })).toEqual({ result: 'already', state: 'completed' });
  });

  it('same key with a different fingerprint is a mismatch, in flight or completed', async () => {
    const s = store();
    const p = principal();
    const first = await s.claim({ principal: p, key: 'k-mismatch-0001', fingerprint: 'fpA' });
    expect((await s.claim({ principal: p, key: 'k-mismatch-0001', fingerprint: 'fpB' })).outcome).toBe('mismatch');
    await s.complete(first.claimId, { status: 200, headers: {}, body: 'ok' });
    expect((await s.claim({ principal: p, key: 'k-mismatch-0001', fingerprint: 'fpB' })).outcome).toBe('mismatch');
    // Keys are scoped by principal: another client may use the same key.
    expect((await s.claim({ principal: principal(), key: 'k-mismatch-0001', fingerprint: 'fpB' })).outcome).toBe('acquired');
  });

  it('a 5xx outcome releases the claim: the next claim takes it over (retryable), 4xx is final', async () => {
    const s = store();
    const p = principal();
    const first = await s.claim({ principal: p, key: 'k-5xx-00000001', fingerprint: 'fp' });
    expect(await s.complete(first.claimId, { status: 503, headers: {}, body: 'down' })).toEqual({ result: 'stored', state: 'failed' });
    const again = await s.claim({ principal: p, key: 'k-5xx-00000001', fingerprint: 'fp' });
    expect(again).toMatchObject({ outcome: 'acquired', claimId: first.claimId, attempt: 2, takenOver: false });
    await s.complete(again.claimId, { status: 409, headers: {}, body: 'conflict' });
    expect(await s.claim({ principal: p, key: 'k-5xx-00000001', fingerprint: 'fp' })).toMatchObject({ outcome: 'replay', response: { status: 409 } });
  });

  it('owner crash: an in-flight claim is taken over once its lease runs out, and the dead owner cannot write', async () => {
    const s = store(1);
    const p = principal();
    const owner = (await s.claim({ principal: p, key: 'k-crash-0000001', fingerprint: 'fp', leaseSeconds: 1 })) as Extract<ClaimOutcome, { outcome: 'acquired' }>;
    expect(owner.outcome).toBe('acquired');
    // The owner "dies": it never reports an outcome. Meanwhile retries see it in flight.
    expect(await s.claim({ principal: p, key: 'k-crash-0000001', fingerprint: 'fp' })).toMatchObject({ outcome: 'in_flight', retryAfter: 1 });
    await new Promise((r) => setTimeout(r, 1300));
    const results = await Promise.all(Array.from({ length: 50 }, () => s.claim({ principal: p, key: 'k-crash-0000001', fingerprint: 'fp', leaseSeconds: 30 })));
    const taken = results.filter((r) => r.outcome === 'acquired');
    expect(taken).toHaveLength(1);
    expect(taken[0]).toMatchObject({ claimId: owner.claimId, takenOver: true, attempt: 2 });
    expect(results.filter((r) => r.outcome === 'in_flight')).toHaveLength(49);
    // The late original owner's outcome is refused; the new owner's is stored.
    expect(await s.complete(owner.claimId, { status: 200, headers: {}, body: 'late', leaseToken: owner.leaseToken })).toEqual({ result: 'lease_lost' });
    const t = taken[0] as Extract<ClaimOutcome, { outcome: 'acquired' }>;
    expect(await s.complete(t.claimId, { status: 200, headers: {}, body: 'new', leaseToken: t.leaseToken })).toEqual({ result: 'stored', state: 'completed' });
  });

  it('the same owner asking again (its first answer was lost) gets its own claim back, others see it in flight', async () => {
    const s = store();
    const p = principal();
    const first = await s.claim({ principal: p, key: 'k-owner-0000001', fingerprint: 'fp', owner: 'req-1' });
    expect(first.outcome).toBe('acquired');
    const again = await s.claim({ principal: p, key: 'k-owner-0000001', fingerprint: 'fp', owner: 'req-1' });
    expect(again).toEqual(first);
    expect((await s.claim({ principal: p, key: 'k-owner-0000001', fingerprint: 'fp', owner: 'req-2' })).outcome).toBe('in_flight');
    expect((await s.claim({ principal: p, key: 'k-owner-0000001', fingerprint: 'fp' })).outcome).toBe('in_flight');
  });

  it('expired claims are purged, and an expired key starts afresh', async () => {
    const s = store(30, 1);
    const p = principal();
    const first = await s.claim({ principal: p, key: 'k-expire-000001', fingerprint: 'fpA' });
    await s.complete(first.claimId, { status: 200, headers: {}, body: 'x' });
    await new Promise((r) => setTimeout(r, 1200));
    // Expired: a new request with the key (even another payload) is a new claim.
    expect(await s.claim({ principal: p, key: 'k-expire-000001', fingerprint: 'fpB' })).toMatchObject({ outcome: 'acquired', attempt: 1 });
    const other = await s.claim({ principal: p, key: 'k-expire-000002', fingerprint: 'fp' });
    await new Promise((r) => setTimeout(r, 1200));
    // (The scheduled purge Lambda may get there first when suites run side by side.)
    expect(await s.purgeExpired()).toBeGreaterThanOrEqual(0);
    expect(await s.get(other.claimId)).toBeUndefined();
  });
});
