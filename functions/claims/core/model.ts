import * as z from 'zod';

/**
 * The claims contract. A claim reserves (principal, key) for one execution of a
 * side-effecting request; the fingerprint (a hash of method + path + canonical body)
 * tells a retry of the same request from a different request reusing the key.
 */
export const ClaimRequest = z.object({
  principal: z.string().min(1).max(512),
  key: z.string().min(1).max(255),
  fingerprint: z.string().min(1).max(128),
  /** How long the caller may hold the claim before another caller can take it over. */
  leaseSeconds: z.number().int().min(1).max(900).optional(),
  /** The caller's id for this attempt: the same owner asking again gets its in-flight claim back. */
  owner: z.string().min(1).max(128).optional(),
});
export type ClaimRequest = z.infer<typeof ClaimRequest>;

export const StoredResponse = z.object({
  status: z.number().int().min(100).max(599),
  headers: z.record(z.string(), z.string()).default({}),
  body: z.string().default(''),
});
export type StoredResponse = z.infer<typeof StoredResponse>;

export const OutcomeRequest = StoredResponse.extend({
  /** The lease token handed out with `acquired`: a caller whose claim was taken over cannot write. */
  leaseToken: z.string().uuid().optional(),
});
export type OutcomeRequest = z.infer<typeof OutcomeRequest>;

export type ClaimState = 'in_flight' | 'completed' | 'failed';

export interface ClaimRow {
  id: string;
  principal: string;
  key: string;
  fingerprint: string;
  state: ClaimState;
  lease_token: string;
  lease_expires_at: Date;
  owner?: string | null;
  attempts: number;
  response_status: number | null;
  response_headers: Record<string, string> | null;
  response_body: string | null;
  expires_at: Date;
}

export type ClaimOutcome =
  | { outcome: 'acquired'; claimId: string; leaseToken: string; attempt: number; takenOver: boolean }
  | { outcome: 'replay'; claimId: string; response: StoredResponse }
  | { outcome: 'mismatch'; claimId: string }
  | { outcome: 'in_flight'; claimId: string; retryAfter: number };

/** What to do with an existing row for a new claim attempt (the row is locked by the caller). */
export type Decision =
  | { kind: 'replay' }
  | { kind: 'mismatch' }
  | { kind: 'in_flight'; retryAfter: number }
  /** The same owner asks again for its live claim (its first answer was lost). */
  | { kind: 'reissue' }
  /** The row is free to take: expired (start afresh), failed (retry), or an abandoned lease. */
  | { kind: 'take'; fresh: boolean; takenOver: boolean };

/** What a duplicate of a request still in flight is told to wait (see decide). */
const IN_FLIGHT_RETRY_AFTER_SECONDS = 1;

export function decide(row: ClaimRow, req: Pick<ClaimRequest, 'fingerprint' | 'owner'>, now: Date): Decision {
  // An expired claim is gone as far as the contract goes: the key starts a new life.
  if (row.expires_at.getTime() <= now.getTime()) return { kind: 'take', fresh: true, takenOver: false };
  if (row.fingerprint !== req.fingerprint) return { kind: 'mismatch' };
  if (row.state === 'completed') return { kind: 'replay' };
  if (row.state === 'failed') return { kind: 'take', fresh: false, takenOver: false };
  const leftMs = row.lease_expires_at.getTime() - now.getTime();
  if (leftMs > 0 && req.owner && row.owner === req.owner) return { kind: 'reissue' };
  // Retry-After: a second, not the lease's remainder. The lease (30 s) only bounds how long a dead
  // owner keeps the key; a live one finishes in well under a second, and a duplicate told to wait out
  // the lease waited ~29 s for an answer that was stored long before (the idempotency benchmark).
  // Asking again early is harmless: still in flight is another 409.
  if (leftMs > 0) return { kind: 'in_flight', retryAfter: IN_FLIGHT_RETRY_AFTER_SECONDS };
  // The owner held the lease past its end: it died or hung. Take the claim over.
  return { kind: 'take', fresh: false, takenOver: true };
}

export interface ClaimsSettings {
  /** Lifetime of a claim (and so of an Idempotency-Key), seconds. */
  ttlSeconds: number;
  /** Default in-flight lease, seconds. */
  leaseSeconds: number;
}

/** From the configuration (config.ts checks both are positive integers). */
export const claimsSettings = (cfg: { CLAIMS_TTL_SECONDS: number; CLAIMS_LEASE_SECONDS: number }): ClaimsSettings => ({
  ttlSeconds: cfg.CLAIMS_TTL_SECONDS,
  leaseSeconds: cfg.CLAIMS_LEASE_SECONDS,
});
