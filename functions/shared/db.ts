import { Pool, type PoolClient, type QueryResult, type QueryResultRow } from 'pg';
import { type DbLease, type VaultClient, vaultClient, type VaultSettings } from './vault';
import { logger } from './logger';

/** What a statement runs on: a pool, the LeasedPool, or the one client of a transaction. */
export interface Queryable {
  query<R extends QueryResultRow = QueryResultRow>(text: string, params?: unknown[]): Promise<QueryResult<R>>;
}

/** One connection borrowed from a pool (pg's PoolClient); `release(err)` destroys a broken one. */
interface BorrowedConnection extends Queryable {
  release(err?: Error | boolean): void;
}

/**
 * Where a transaction gets its one connection: the LeasedPool (which keeps its lease in use until
 * the work is done) or any pool with pg's `connect()` (scripts and tests).
 */
type ConnectionSource = { withClient<T>(fn: (client: Queryable) => Promise<T>): Promise<T> } | { connect(): Promise<BorrowedConnection> };

/** One connected client that a script holds (with its session's advisory lock) as a transaction source. */
export const singleConnection = (client: Queryable): ConnectionSource => ({ withClient: (fn) => fn(client) });

/** What a repository needs: single statements, and transactions on one connection. */
export type Database = Queryable & ConnectionSource;

/** Runs `fn` on one connection inside BEGIN/COMMIT; any error rolls back and is rethrown. */
export async function withTransaction<T>(db: ConnectionSource, fn: (tx: Queryable) => Promise<T>): Promise<T> {
  // Set when even ROLLBACK failed: the connection is broken and must not go back to the pool.
  let unusable: Error | undefined;
  const inTransaction = async (client: Queryable): Promise<T> => {
    await client.query('BEGIN');
    try {
      const result = await fn(client);
      await client.query('COMMIT');
      return result;
    } catch (err) {
      await client.query('ROLLBACK').catch((rollbackFailure: Error) => {
        unusable = rollbackFailure;
      });
      throw err;
    }
  };
  if ('withClient' in db) return db.withClient(inTransaction);
  const client = await db.connect();
  try {
    return await inTransaction(client);
  } finally {
    client.release(unusable);
  }
}

/**
 * A pg pool whose credentials are leased from Vault's database secrets engine and
 * rotated without failing in-flight queries.
 *
 * Life of a lease: lease at cold start -> renew while Vault grants the full increment ->
 * when Vault caps the renewal (max_ttl reached) or the lease is close to its end, lease new
 * credentials, build and check a new pool, swap it in, let the old pool drain (every query
 * already running on it finishes), end it, then revoke the old lease. At most two leases
 * are alive at any moment: a new rotation waits for the previous drain to finish.
 *
 * Module scope keeps the instance across warm Lambda invocations; `ensureFresh()` is called
 * at the start of each invocation (Lambda freezes timers between invocations) and a timer
 * does the same in long-lived processes.
 */
export interface LeasedPoolOptions {
  vault: VaultClient;
  role: string;
  host: string;
  port: number;
  database: string;
  /** Max connections per pool (per Lambda worker). */
  max?: number;
  /** Renew/rotate when less than this fraction of the lease remains. Default 0.5. */
  refreshAtFraction?: number;
  /** Background check interval in ms (unref'd). 0 disables. Default 1000. */
  checkIntervalMs?: number;
  connectionTimeoutMs?: number;
  /** Called after each rotation; tests and metrics use it. */
  onRotate?: (event: { oldUser: string; newUser: string; at: number }) => void;
}

interface Generation {
  pool: Pool;
  lease: DbLease;
  /** Epoch ms when the lease ends, updated on renewal. */
  expiresAt: number;
  inFlight: number;
  retired: boolean;
}

const POOL_ENDED = /Cannot use a pool after calling end/;
/** invalid_password, invalid_authorization_specification: a login with a user that is gone. */
const LOGIN_REJECTED = new Set(['28P01', '28000']);
/** What statements on a session of a dropped user fail with (its grants and settings are gone). */
const USER_GONE_SYMPTOMS = new Set(['42P01', '42501']);

export class LeasedPool {
  private current?: Generation;
  private starting?: Promise<Generation>;
  private refreshing?: Promise<void>;
  private draining: Promise<void> = Promise.resolve();
  private timer?: NodeJS.Timeout;
  private closed = false;
  rotations = 0;
  /** Statements run through query() by this process (the catalog reports it per read: x-sql-queries). */
  queries = 0;

  constructor(private readonly opts: LeasedPoolOptions) {}

  /** Username of the lease in use (for health reports and tests). */
  get currentUser(): string | undefined {
    return this.current?.lease.username;
  }

  get leaseExpiresAt(): number | undefined {
    return this.current?.expiresAt;
  }

  async query<R extends QueryResultRow = QueryResultRow>(text: string, params?: unknown[]): Promise<QueryResult<R>> {
    this.queries++;
    return this.withGeneration((gen) => gen.pool.query<R>(text, params as unknown[]));
  }

  async withClient<T>(fn: (client: PoolClient) => Promise<T>): Promise<T> {
    return this.withGeneration(async (gen) => {
      const client = await gen.pool.connect();
      let broken: Error | undefined;
      try {
        return await fn(client);
      } catch (err) {
        broken = err instanceof Error && /terminat|Connection/.test(err.message) ? err : undefined;
        throw err;
      } finally {
        client.release(broken);
      }
    });
  }

  /** Renews or rotates the lease if it is past its refresh point. Cheap when nothing is due. */
  async ensureFresh(): Promise<void> {
    const gen = await this.generation();
    if (!this.isDue(gen)) return;
    this.refreshing ??= this.refresh(gen).finally(() => {
      this.refreshing = undefined;
    });
    await this.refreshing;
  }

  /** Forces a rotation now (tests, ops). Resolves once the new pool serves queries. */
  async rotate(): Promise<void> {
    const gen = await this.generation();
    await (this.refreshing ?? Promise.resolve());
    this.refreshing = this.replace(gen).finally(() => {
      this.refreshing = undefined;
    });
    await this.refreshing;
  }

  /** Waits until retired pools have drained and their leases are revoked. */
  async settled(): Promise<void> {
    await (this.refreshing ?? Promise.resolve());
    await this.draining;
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    await this.settled();
    const gen = this.current;
    this.current = undefined;
    if (gen) await this.retire(gen);
  }

  private async withGeneration<T>(fn: (gen: Generation) => Promise<T>): Promise<T> {
    // One retry: a call that raced a swap and hit an ended pool runs again on the new one.
    for (let attempt = 0; ; attempt++) {
      const gen = await this.generation();
      gen.inFlight++;
      try {
        return await fn(gen);
      } catch (err) {
        if (attempt === 0 && err instanceof Error && POOL_ENDED.test(err.message)) continue;
        if (attempt === 0 && (await this.leaseRevoked(gen, err))) {
          // Our lease was revoked behind our back (an operator, Vault's expiry): its user is gone,
          // the call failed (a transaction rolled back), so lease new credentials and run it again.
          logger.warn('database user of our lease is gone; leasing new credentials', { role: this.opts.role, user: gen.lease.username });
          if (gen === this.current) {
            this.refreshing ??= this.replace(gen).finally(() => {
              this.refreshing = undefined;
            });
          }
          await this.refreshing;
          continue;
        }
        throw err;
      } finally {
        gen.inFlight--;
      }
    }
  }

  /** Whether `err` means this generation's database user no longer exists. */
  private async leaseRevoked(gen: Generation, err: unknown): Promise<boolean> {
    const code = (err as { code?: string })?.code ?? '';
    if (LOGIN_REJECTED.has(code)) return true;
    if (!USER_GONE_SYMPTOMS.has(code)) return false;
    try {
      const { rows } = await gen.pool.query<{ gone: boolean }>('SELECT NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1) AS gone', [gen.lease.username]);
      return rows[0]?.gone === true;
    } catch (probe) {
      return LOGIN_REJECTED.has((probe as { code?: string })?.code ?? '');
    }
  }

  private async generation(): Promise<Generation> {
    if (this.closed) throw new Error('LeasedPool is closed');
    if (this.current) return this.current;
    this.starting ??= this.open().then(
      (gen) => {
        this.current = gen;
        this.starting = undefined;
        this.startTimer();
        return gen;
      },
      (err) => {
        this.starting = undefined;
        throw err;
      },
    );
    return this.starting;
  }

  private isDue(gen: Generation): boolean {
    const fraction = this.opts.refreshAtFraction ?? 0.5;
    const remainingMs = gen.expiresAt - Date.now();
    return remainingMs < gen.lease.leaseDuration * 1000 * fraction;
  }

  private async refresh(gen: Generation): Promise<void> {
    if (gen !== this.current || !this.isDue(gen)) return;
    if (gen.lease.renewable) {
      try {
        const asked = gen.lease.leaseDuration;
        const renewed = await this.opts.vault.renewLease(gen.lease.leaseId, asked);
        // Vault grants less than asked once max_ttl is near: then it is time for new credentials.
        if (renewed.leaseDuration >= asked) {
          gen.expiresAt = Date.now() + renewed.leaseDuration * 1000;
          return;
        }
      } catch (err) {
        logger.warn('lease renewal failed; rotating', { role: this.opts.role, error: (err as Error).message });
      }
    }
    await this.replace(gen);
  }

  private async replace(old: Generation): Promise<void> {
    // Keep at most two leases alive: finish the previous drain before leasing a third.
    await this.draining;
    const next = await this.open();
    this.current = next;
    this.rotations++;
    this.opts.onRotate?.({ oldUser: old.lease.username, newUser: next.lease.username, at: Date.now() });
    logger.info('database credentials rotated', { role: this.opts.role, rotations: this.rotations });
    this.draining = this.retire(old);
  }

  /** Leases credentials and returns a checked pool. */
  private async open(): Promise<Generation> {
    const lease = await this.opts.vault.leaseDbCredentials(this.opts.role);
    const pool = new Pool({
      host: this.opts.host,
      port: this.opts.port,
      database: this.opts.database,
      user: lease.username,
      password: lease.password,
      max: this.opts.max ?? 5,
      connectionTimeoutMillis: this.opts.connectionTimeoutMs ?? 5000,
      idleTimeoutMillis: 10_000,
      allowExitOnIdle: true,
    });
    // An idle client's connection error must not crash the process; the pool drops that client.
    pool.on('error', (err) => logger.warn('idle pg client error', { role: this.opts.role, error: err.message }));
    try {
      await pool.query('SELECT 1');
    } catch (err) {
      await pool.end().catch(() => undefined);
      await this.opts.vault.revokeLease(lease.leaseId).catch(() => undefined);
      throw err;
    }
    return { pool, lease, expiresAt: lease.issuedAt + lease.leaseDuration * 1000, inFlight: 0, retired: false };
  }

  /** Waits for every caller on the old pool to finish, ends it, then revokes its lease. */
  private async retire(gen: Generation): Promise<void> {
    if (gen.retired) return;
    gen.retired = true;
    // pg-pool strands callers queued on a pool that is ending, so wait for our own
    // in-flight count (which covers queued callers) to reach zero before end().
    while (gen.inFlight > 0) await new Promise((r) => setTimeout(r, 20));
    await gen.pool.end().catch((err: Error) => logger.warn('pool end failed', { error: err.message }));
    await this.opts.vault.revokeLease(gen.lease.leaseId).catch((err: Error) => logger.warn('lease revoke failed', { role: this.opts.role, error: err.message }));
  }

  private startTimer(): void {
    const every = this.opts.checkIntervalMs ?? 1000;
    if (!every || this.timer) return;
    this.timer = setInterval(() => {
      this.ensureFresh().catch((err: Error) => logger.warn('background lease check failed', { role: this.opts.role, error: err.message }));
    }, every);
    this.timer.unref();
  }
}

let shared: LeasedPool | undefined;

/** The process-wide pool for this service, built from configuration on first use. */
export function serviceDb(
  cfg: VaultSettings & {
    DB_ROLE?: string;
    PGHOST: string;
    PGPORT: number;
    PGDATABASE: string;
  },
): LeasedPool {
  if (shared) return shared;
  // With aws-iam the token comes from a login; only token mode needs VAULT_TOKEN.
  if ((cfg.VAULT_AUTH === 'token' && !cfg.VAULT_TOKEN) || !cfg.DB_ROLE) {
    throw new Error(cfg.VAULT_AUTH === 'token' ? 'VAULT_TOKEN and DB_ROLE are required for database access' : 'DB_ROLE is required for database access');
  }
  shared = new LeasedPool({
    vault: vaultClient(cfg),
    role: cfg.DB_ROLE,
    host: cfg.PGHOST,
    port: cfg.PGPORT,
    database: cfg.PGDATABASE,
  });
  return shared;
}
