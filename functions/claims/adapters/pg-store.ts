import { randomUUID } from 'node:crypto';
import { type Database, withTransaction } from '../../shared/db';
import { type ClaimOutcome, type ClaimRequest, type ClaimRow, type ClaimsSettings, decide, type OutcomeRequest, type StoredResponse } from '../core/model';

export type OutcomeResult =
  | { result: 'stored'; state: 'completed' | 'failed' }
  | { result: 'already'; state: 'completed' | 'failed' }
  | { result: 'not_found' }
  | { result: 'lease_lost' };

/**
 * Claims in Postgres. `claim` is one transaction: INSERT ... ON CONFLICT DO NOTHING wins the
 * key for exactly one caller; every other caller locks the existing row (SELECT ... FOR UPDATE)
 * and decides from its state: replay, mismatch, in flight, or take over an abandoned lease.
 */
export class ClaimStore {
  constructor(
    private readonly db: Database,
    private readonly settings: ClaimsSettings,
  ) {}

  async claim(req: ClaimRequest): Promise<ClaimOutcome> {
    const lease = req.leaseSeconds ?? this.settings.leaseSeconds;
    // A purge can delete the row between our INSERT and SELECT: then try again.
    for (let attempt = 0; attempt < 3; attempt++) {
      const out = await withTransaction(this.db, async (c) => {
        const id = randomUUID();
        const leaseToken = randomUUID();
        const inserted = await c.query<{ id: string }>(
          `INSERT INTO claims (id, principal, key, fingerprint, state, lease_token, lease_expires_at, expires_at, owner)
           VALUES ($1, $2, $3, $4, 'in_flight', $5, now() + make_interval(secs => $6), now() + make_interval(secs => $7), $8)
           ON CONFLICT (principal, key) DO NOTHING
           RETURNING id`,
          [id, req.principal, req.key, req.fingerprint, leaseToken, lease, this.settings.ttlSeconds, req.owner ?? null],
        );
        if (inserted.rowCount === 1) {
          return { outcome: 'acquired', claimId: id, leaseToken, attempt: 1, takenOver: false } as ClaimOutcome;
        }
        const { rows } = await c.query<ClaimRow & { now: Date }>('SELECT *, now() AS now FROM claims WHERE principal = $1 AND key = $2 FOR UPDATE', [
          req.principal,
          req.key,
        ]);
        const row = rows[0];
        if (!row) return undefined;
        const d = decide(row, req, row.now);
        switch (d.kind) {
          case 'replay':
            return {
              outcome: 'replay',
              claimId: row.id,
              response: { status: row.response_status!, headers: row.response_headers ?? {}, body: row.response_body ?? '' },
            } as ClaimOutcome;
          case 'mismatch':
            return { outcome: 'mismatch', claimId: row.id } as ClaimOutcome;
          case 'in_flight':
            return { outcome: 'in_flight', claimId: row.id, retryAfter: d.retryAfter } as ClaimOutcome;
          case 'reissue':
            return { outcome: 'acquired', claimId: row.id, leaseToken: row.lease_token, attempt: row.attempts, takenOver: false } as ClaimOutcome;
          case 'take': {
            const token = randomUUID();
            const upd = await c.query<{ attempts: number }>(
              `UPDATE claims SET state = 'in_flight', lease_token = $2, lease_expires_at = now() + make_interval(secs => $3),
                 fingerprint = $4, owner = $7, attempts = CASE WHEN $5 THEN 1 ELSE attempts + 1 END,
                 response_status = NULL, response_headers = NULL, response_body = NULL, updated_at = now(),
                 expires_at = CASE WHEN $5 THEN now() + make_interval(secs => $6) ELSE expires_at END
               WHERE id = $1 RETURNING attempts`,
              [row.id, token, lease, req.fingerprint, d.fresh, this.settings.ttlSeconds, req.owner ?? null],
            );
            return { outcome: 'acquired', claimId: row.id, leaseToken: token, attempt: upd.rows[0].attempts, takenOver: d.takenOver } as ClaimOutcome;
          }
        }
      });
      if (out) return out;
    }
    throw new Error('claim could not be settled (row vanished repeatedly)');
  }

  /** Stores the final response (status < 500) or releases the claim for a retry (5xx). */
  async complete(id: string, outcome: OutcomeRequest): Promise<OutcomeResult> {
    const failed = outcome.status >= 500;
    return withTransaction(this.db, async (c) => {
      const { rows } = await c.query<ClaimRow>('SELECT * FROM claims WHERE id = $1 FOR UPDATE', [id]);
      const row = rows[0];
      if (!row) return { result: 'not_found' } as OutcomeResult;
      if (outcome.leaseToken && outcome.leaseToken !== row.lease_token) return { result: 'lease_lost' } as OutcomeResult;
      if (row.state !== 'in_flight') return { result: 'already', state: row.state } as OutcomeResult;
      if (failed) {
        await c.query(
          `UPDATE claims SET state = 'failed', response_status = NULL, response_headers = NULL, response_body = NULL,
             lease_expires_at = now(), updated_at = now() WHERE id = $1`,
          [id],
        );
        return { result: 'stored', state: 'failed' } as OutcomeResult;
      }
      await c.query(
        `UPDATE claims SET state = 'completed', response_status = $2, response_headers = $3, response_body = $4,
           updated_at = now() WHERE id = $1`,
        [id, outcome.status, JSON.stringify(outcome.headers), outcome.body],
      );
      return { result: 'stored', state: 'completed' } as OutcomeResult;
    });
  }

  /** Gives an in-flight claim up (the caller could not run the request): the next claim retries. */
  async release(id: string, leaseToken?: string): Promise<OutcomeResult> {
    return this.complete(id, { status: 503, headers: {}, body: '', leaseToken });
  }

  async get(id: string): Promise<(ClaimRow & { response?: StoredResponse }) | undefined> {
    const { rows } = await this.db.query<ClaimRow>('SELECT * FROM claims WHERE id = $1', [id]);
    return rows[0];
  }

  /** Deletes expired claims in batches; returns how many went. */
  async purgeExpired(batch = 1000, maxBatches = 100): Promise<number> {
    let total = 0;
    for (let i = 0; i < maxBatches; i++) {
      const res = await this.db.query(
        `DELETE FROM claims WHERE id IN (
           SELECT id FROM claims WHERE expires_at <= now() ORDER BY expires_at LIMIT $1 FOR UPDATE SKIP LOCKED)`,
        [batch],
      );
      total += res.rowCount ?? 0;
      if ((res.rowCount ?? 0) < batch) break;
    }
    return total;
  }
}
