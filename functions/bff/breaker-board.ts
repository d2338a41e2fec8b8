import type Redis from 'ioredis';
import { config } from '../shared/config';
import type { HttpMiddleware } from '../shared/http';
import { logger } from '../shared/logger';
import { redisReady, serviceRedis } from '../shared/redis';
import { type BreakerSnapshot, breakerRank, breakerReport, onBreakerChange } from './downstream';

/**
 * The breaker board: every BFF instance's circuit breakers in one view, for operators (/chaos).
 *
 * Breakers stay per instance (downstream.ts: no Redis on the call path). Each instance publishes a
 * snapshot of its breakers to Redis, one key per instance with a TTL, on every state change of one
 * of its breakers (and when one is created), and at most every few seconds as its requests end; an
 * instance that stops publishing (reaped, crashed, idle) drops out of the view when its key
 * expires. `GET /api/ops/breakers` merges the answering instance's live breakers with the others'
 * snapshots.
 *
 * Publishing never slows or fails a request: it runs in the background, one at a time per
 * instance (a change during a publish is sent right after it), bounded by a timeout, and its
 * failures are logged (at most one line per LOG_EVERY_MS). On Lambda, the commands of a publish
 * started as a request ends are written to the socket before the handler returns; their replies
 * may be read only when the instance is thawed for its next request (a long freeze can make that
 * publish count as timed out: one logged failure, the snapshot is in Redis all the same). A
 * breaker that half-opens on its timer while its instance is frozen shows as open, probe due,
 * until the instance runs again.
 *
 * Redis: `<prefix>:instance:<id>` holds the instance's snapshot (JSON, PX = TTL); the sorted set
 * `<prefix>:instances` indexes the ids by publish time, so reading is two commands whatever else
 * the database holds (no SCAN), and entries older than the TTL are pruned by every publish.
 */
export type BreakerState = BreakerSnapshot['state'];

/** An instance's published snapshot. */
export interface InstanceBoard {
  instance: string;
  startedAt: string;
  publishedAt: string;
  breakers: BreakerSnapshot[];
}

/** One breaker of one instance, as the merged view lists it. */
export interface BoardRow {
  instance: string;
  /** The instance that answered this request (its breakers are live, not a snapshot). */
  self: boolean;
  /** Age of the snapshot this row comes from (0: live). */
  ageMs: number;
  state: BreakerState;
  stats: BreakerSnapshot['stats'];
  openedAt?: string;
  /** Open: seconds until that instance lets a probe through (0: due). */
  retryAfterSeconds?: number;
  /** How often this breaker opened on that instance (of its last 20 transitions): the soak sums them. */
  openings: number;
}

export interface DownstreamView {
  name: string;
  /** The worst state over the instances: open, then halfOpen, then closed. */
  state: BreakerState;
  /** How many instances have this breaker open. */
  openOn: number;
  /** One row per instance that has this breaker: the answering instance first, then the freshest. */
  instances: BoardRow[];
}

export interface InstanceSummary {
  instance: string;
  self: boolean;
  startedAt: string;
  publishedAt: string;
  ageMs: number;
  breakers: number;
}

export interface BreakersView {
  /** The answering instance. */
  instance: string;
  /** The answering instance's own breakers, live (what the route answered before the board). */
  breakers: BreakerSnapshot[];
  /** Whether the other instances' snapshots could be read ('unavailable': this instance only). */
  board: 'ok' | 'unavailable';
  /** How long a snapshot lives without a new publish. */
  ttlSeconds: number;
  instances: InstanceSummary[];
  downstreams: DownstreamView[];
}

export interface BoardSettings {
  /** A snapshot's lifetime: an instance that stops publishing leaves the view after it. */
  ttlMs: number;
  /** While serving, an instance publishes when its last publish is at least this old. */
  intervalMs: number;
  /** Bound of one publish (connection wait included) and of one read. */
  timeoutMs: number;
  /** How long a read waits for a connection still being made (a cold start); Redis down answers at once. */
  readReadyMs: number;
  /** Key prefix (tests use their own). */
  prefix: string;
}

const DEFAULTS: BoardSettings = { ttlMs: 60_000, intervalMs: 5_000, timeoutMs: 1_500, readReadyMs: 300, prefix: 'bff:breakers' };
/** Publish failures are logged at most once per this interval (with the count since the last success). */
const LOG_EVERY_MS = 30_000;
const STATES: readonly BreakerState[] = ['closed', 'halfOpen', 'open'];
const SEVERITY: Record<BreakerState, number> = { closed: 0, halfOpen: 1, open: 2 };

/** This BFF instance's name (drill answers and the board name it), and when it started. */
export const INSTANCE = Math.random().toString(36).slice(2, 10);
const STARTED_AT = new Date().toISOString();

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/** A published snapshot as read back; anything malformed (another version, a stray key) is dropped. */
function parseBoard(raw: string | null): InstanceBoard | undefined {
  if (!raw) return undefined;
  try {
    const b = JSON.parse(raw) as Partial<InstanceBoard>;
    if (typeof b.instance !== 'string' || typeof b.publishedAt !== 'string' || Number.isNaN(Date.parse(b.publishedAt)) || !Array.isArray(b.breakers)) return undefined;
    const breakers = b.breakers.filter(
      (x): x is BreakerSnapshot => typeof x?.name === 'string' && STATES.includes(x.state) && typeof x.stats === 'object' && x.stats !== null,
    );
    return { instance: b.instance, startedAt: typeof b.startedAt === 'string' ? b.startedAt : b.publishedAt, publishedAt: b.publishedAt, breakers };
  } catch {
    return undefined;
  }
}

/** Seconds until an open breaker of a snapshot lets its probe through, as of `now` (0: due). */
function retryAfterAt(b: BreakerSnapshot, board: InstanceBoard, now: number): number {
  const opened = b.openedAt ? Date.parse(b.openedAt) : Number.NaN;
  if (!Number.isNaN(opened) && b.settings?.resetTimeoutMs) return Math.max(0, Math.ceil((opened + b.settings.resetTimeoutMs - now) / 1000));
  // No opening time: what it said when published, less the snapshot's age.
  return Math.max(0, (b.retryAfterSeconds ?? 0) - Math.floor((now - Date.parse(board.publishedAt)) / 1000));
}

/**
 * The merged view (pure): the answering instance's live board and the others' snapshots, per
 * instance and per downstream. `others` may include the answering instance's own older snapshot:
 * the live one wins.
 */
export function mergeBoards(self: InstanceBoard, others: InstanceBoard[], opts: { now: number; ttlMs: number; rank?: (name: string) => number }): BreakersView {
  const { now } = opts;
  const rank = opts.rank ?? breakerRank;
  // One board per instance: the answering one live, then the others, freshest first.
  const boards = [self];
  const sorted = others.filter((b) => b.instance !== self.instance).sort((a, b) => Date.parse(b.publishedAt) - Date.parse(a.publishedAt));
  for (const b of sorted) if (!boards.some((x) => x.instance === b.instance)) boards.push(b);
  const ageOf = (b: InstanceBoard) => (b === self ? 0 : Math.max(0, now - Date.parse(b.publishedAt)));

  const byName = new Map<string, BoardRow[]>();
  for (const board of boards) {
    const isSelf = board === self;
    for (const b of board.breakers) {
      const row: BoardRow = {
        instance: board.instance,
        self: isSelf,
        ageMs: ageOf(board),
        state: b.state,
        stats: b.stats,
        openings: (b.transitions ?? []).filter((t) => t.to === 'open').length,
        ...(b.openedAt ? { openedAt: b.openedAt } : {}),
        ...(b.state === 'open' ? { retryAfterSeconds: isSelf ? (b.retryAfterSeconds ?? retryAfterAt(b, board, now)) : retryAfterAt(b, board, now) } : {}),
      };
      let rows = byName.get(b.name);
      if (!rows) byName.set(b.name, (rows = []));
      rows.push(row);
    }
  }
  const names = [...byName.keys()];
  const downstreams = names
    .map((name, firstSeen) => ({ name, firstSeen }))
    .sort((a, b) => rank(a.name) - rank(b.name) || a.firstSeen - b.firstSeen)
    .map(({ name }) => {
      const rows = byName.get(name)!;
      const state = rows.reduce<BreakerState>((worst, r) => (SEVERITY[r.state] > SEVERITY[worst] ? r.state : worst), 'closed');
      return { name, state, openOn: rows.filter((r) => r.state === 'open').length, instances: rows };
    });
  return {
    instance: self.instance,
    breakers: self.breakers,
    board: 'ok',
    ttlSeconds: Math.round(opts.ttlMs / 1000),
    instances: boards.map((b) => ({
      instance: b.instance,
      self: b === self,
      startedAt: b.startedAt,
      publishedAt: b.publishedAt,
      ageMs: ageOf(b),
      breakers: b.breakers.length,
    })),
    downstreams,
  };
}

export class BreakerBoard {
  readonly settings: BoardSettings;
  private inFlight?: Promise<void>;
  private again = false;
  private lastTickAt = Number.NEGATIVE_INFINITY;
  private failures = 0;
  private lastLoggedAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly redis: () => Redis,
    readonly identity: { instance: string; startedAt: string } = { instance: INSTANCE, startedAt: STARTED_AT },
    private readonly report: () => BreakerSnapshot[] = breakerReport,
    settings: Partial<BoardSettings> = {},
    private readonly now: () => number = Date.now,
  ) {
    this.settings = { ...DEFAULTS, ...settings };
  }

  private get indexKey(): string {
    return `${this.settings.prefix}:instances`;
  }

  private keyOf(instance: string): string {
    return `${this.settings.prefix}:instance:${instance}`;
  }

  /** This instance's board now (live). */
  current(): InstanceBoard {
    return { ...this.identity, publishedAt: new Date(this.now()).toISOString(), breakers: this.report() };
  }

  /** Writes this instance's snapshot (key with TTL, index entry) and prunes expired index entries. Throws on failure. */
  async publish(): Promise<void> {
    const board = this.current();
    const at = Date.parse(board.publishedAt);
    const { ttlMs } = this.settings;
    const redis = this.redis();
    const write = async () => {
      await redisReady(redis, this.settings.timeoutMs);
      const results = await redis
        .multi()
        .set(this.keyOf(board.instance), JSON.stringify(board), 'PX', ttlMs)
        .zadd(this.indexKey, at, board.instance)
        .zremrangebyscore(this.indexKey, '-inf', at - ttlMs)
        .pexpire(this.indexKey, ttlMs)
        .exec();
      const failed = results?.find(([err]) => err)?.[0];
      if (!results || failed) throw failed ?? new Error('the publish transaction was discarded');
    };
    await withTimeout(write(), this.settings.timeoutMs, 'publishing the breaker board');
  }

  /**
   * Publishes in the background (never throws, never awaited by a request): one publish at a
   * time; a call while one runs asks for exactly one more after it, so the last change is sent.
   */
  publishSoon(): void {
    if (this.inFlight) {
      this.again = true;
      return;
    }
    this.inFlight = this.publish()
      .then(
        () => {
          if (this.failures > 0) logger.info('breaker board published again', { instance: this.identity.instance, failedBefore: this.failures });
          this.failures = 0;
        },
        (err: Error) => this.noteFailure(err),
      )
      .finally(() => {
        this.inFlight = undefined;
        if (this.again) {
          this.again = false;
          this.publishSoon();
        }
      });
  }

  /**
   * As every request ends: publishes when the last of these is older than the interval (a publish
   * on a state change does not count: the counts of the requests since then are sent too).
   */
  tick(): void {
    const now = this.now();
    if (now - this.lastTickAt < this.settings.intervalMs) return;
    this.lastTickAt = now;
    this.publishSoon();
  }

  /** Resolves when no publish is running (tests). */
  async settle(): Promise<void> {
    while (this.inFlight) await this.inFlight;
  }

  private noteFailure(err: Error): void {
    this.failures++;
    const now = this.now();
    if (now - this.lastLoggedAt < LOG_EVERY_MS) return;
    this.lastLoggedAt = now;
    logger.warn('breaker board not published; requests are unaffected, the view misses this instance until Redis answers', {
      instance: this.identity.instance,
      error: err.message,
      failures: this.failures,
    });
  }

  /** The published snapshots of live instances (this one's included, as last published). Throws when Redis cannot be read. */
  async read(): Promise<InstanceBoard[]> {
    const redis = this.redis();
    const now = this.now();
    const load = async () => {
      // The route answers without the board rather than wait: this instance alone is still an answer.
      await redisReady(redis, Math.min(this.settings.readReadyMs, this.settings.timeoutMs));
      const ids = await redis.zrangebyscore(this.indexKey, now - this.settings.ttlMs, '+inf');
      if (ids.length === 0) return [];
      const raws = await redis.mget(...ids.map((id) => this.keyOf(id)));
      return raws.flatMap((raw) => parseBoard(raw) ?? []);
    };
    return withTimeout(load(), this.settings.timeoutMs, 'reading the breaker board');
  }

  /** The merged view; when Redis cannot be read, this instance alone (board: 'unavailable'). */
  async view(): Promise<BreakersView> {
    const self = this.current();
    const opts = { now: this.now(), ttlMs: this.settings.ttlMs };
    try {
      return mergeBoards(self, await this.read(), opts);
    } catch (err) {
      logger.warn('breaker board unavailable; answering with this instance only', { error: (err as Error).message });
      return { ...mergeBoards(self, [], opts), board: 'unavailable' };
    }
  }
}

let board: BreakerBoard | undefined;

/** Replaces this instance's board (tests: another Redis, a Redis that is down); undefined: the default again. */
export function setBreakerBoard(replacement: BreakerBoard | undefined): void {
  board = replacement;
}

/** This instance's board, on the BFF's Redis (created on first use: building routes needs no config). */
export function breakerBoard(): BreakerBoard {
  if (!board) {
    const cfg = config();
    board = new BreakerBoard(() => serviceRedis(cfg.REDIS_URL), undefined, undefined, {
      ttlMs: cfg.BREAKER_BOARD_TTL_MS,
      intervalMs: cfg.BREAKER_BOARD_INTERVAL_MS,
    });
  }
  return board;
}

/**
 * The BFF's middleware that keeps this instance on the board: a publish on every breaker state
 * change and every breaker created (a drill), and one at most every interval as requests end (so
 * it carries what the request did to the counts). It adds nothing to a request's time (the
 * publish runs in the background) and cannot fail it.
 */
export function publishBreakers(getBoard: () => BreakerBoard = breakerBoard): HttpMiddleware {
  onBreakerChange(() => getBoard().publishSoon());
  const tick = () => {
    try {
      getBoard().tick();
    } catch (err) {
      logger.warn('breaker board not published', { error: (err as Error).message });
    }
  };
  return { after: tick, onError: tick };
}
