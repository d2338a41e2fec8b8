import { decide, type ClaimRow } from '../../functions/claims/core/model';

/** claims' decision for a key it already holds (functions/claims/core/model.ts decide). */
const now = new Date('2026-12-04T22:00:00.000Z');
const row = (over: Partial<ClaimRow> = {}): ClaimRow => ({
  id: 'c1',
  principal: 'p',
  key: 'k',
  fingerprint: 'fp',
  state: 'in_flight',
  lease_token: 't',
  lease_expires_at: new Date(now.getTime() + 29_000),
  owner: 'first',
  attempts: 1,
  response_status: null,
  response_headers: null,
  response_body: null,
  expires_at: new Date(now.getTime() + 86_400_000),
  ...over,
});

it('tells a duplicate of a request in flight to come back in a second, not when the lease ends', () => {
  expect(decide(row(), { fingerprint: 'fp', owner: 'second' }, now)).toEqual({ kind: 'in_flight', retryAfter: 1 });
  expect(decide(row({ lease_expires_at: new Date(now.getTime() + 300) }), { fingerprint: 'fp', owner: 'second' }, now)).toEqual({ kind: 'in_flight', retryAfter: 1 });
});

it('replays a completed claim, refuses another body, reissues to its owner, takes over an expired lease', () => {
  expect(decide(row({ state: 'completed' }), { fingerprint: 'fp' }, now)).toEqual({ kind: 'replay' });
  expect(decide(row(), { fingerprint: 'other' }, now)).toEqual({ kind: 'mismatch' });
  expect(decide(row(), { fingerprint: 'fp', owner: 'first' }, now)).toEqual({ kind: 'reissue' });
  expect(decide(row({ lease_expires_at: new Date(now.getTime() - 1) }), { fingerprint: 'fp', owner: 'second' }, now)).toEqual({
    kind: 'take',
    fresh: false,
    takenOver: true,
  });
});
