import { sleep } from './retry';
import { randomUUID } from 'node:crypto';
import * as z from 'zod';
import type Redis from 'ioredis';
// Types only: http.ts wires this middleware in, so a runtime import back would be a cycle.
import type { HttpMiddleware, HttpRequest } from './http';
import { HttpProblem } from './problem';
import { logger } from './logger';
import { redisReady, serviceRedis } from './redis';
import type { Config } from './config';

/**
 * Chaos rules: faults injected into named targets, kept in Redis so every Lambda process
 * sees the same rules. A rule targets a service, optionally narrowed to a route pattern
 * ("PATCH /products/*"), a saga step, or one order. Each process re-reads the rules at most
 * once per second, so the hot path costs no Redis round trip when no rule exists.
 */
export const RULES_KEY = 'chaos:rules';
export const HITS_KEY = 'chaos:hits';

export const FaultSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('latency'), latencyMs: z.number().int().min(1).max(60_000) }).strict(),
  z.object({ type: z.literal('error'), status: z.number().int().min(400).max(599).default(503) }).strict(),
  /** Throws inside the handler: API Gateway answers 502, Step Functions sees a task failure. */
  z.object({ type: z.literal('exception'), message: z.string().max(200).default('chaos: injected exception') }).strict(),
  /** Hangs longer than the caller waits: a dropped request / task timeout. */
  z.object({ type: z.literal('timeout'), hangMs: z.number().int().min(1).max(900_000).default(60_000) }).strict(),
]);
export type Fault = z.infer<typeof FaultSchema>;

export const TargetSchema = z
  .object({
    service: z.string().regex(/^[a-z][a-z0-9-]{1,30}$/),
    route: z.string().max(200).optional(),
    step: z
      .string()
      .regex(/^[A-Za-z]{1,40}$/)
      .optional(),
    orderId: z.string().uuid().optional(),
  })
  .strict();

export const NewRuleSchema = z
  .object({
    target: TargetSchema,
    fault: FaultSchema,
    probability: z.number().min(0).max(1).default(1),
    ttlSeconds: z
      .number()
      .int()
      .min(1)
      .max(24 * 3600)
      .default(300),
    description: z.string().max(200).optional(),
  })
  .strict();

export interface ChaosRule {
  id: string;
  target: z.infer<typeof TargetSchema>;
  fault: Fault;
  probability: number;
  description?: string;
  createdAt: string;
  expiresAt: string;
}

/* ---------- store (used by the chaos service and by tests) ---------- */

export async function addRule(redis: Redis, input: unknown): Promise<ChaosRule> {
  const parsed = NewRuleSchema.parse(input);
  const now = Date.now();
  const rule: ChaosRule = {
    id: randomUUID(),
    target: parsed.target,
    fault: parsed.fault,
    probability: parsed.probability,
    description: parsed.description,
    createdAt: new Date(now).toISOString(),
    expiresAt: new Date(now + parsed.ttlSeconds * 1000).toISOString(),
  };
  await redis.hset(RULES_KEY, rule.id, JSON.stringify(rule));
  return rule;
}

/** Live rules; expired ones are dropped from Redis as they are found. */
export async function listRules(redis: Redis): Promise<ChaosRule[]> {
  const all = await redis.hgetall(RULES_KEY);
  const now = Date.now();
  const live: ChaosRule[] = [];
  const expired: string[] = [];
  for (const [id, raw] of Object.entries(all)) {
    try {
      const rule = JSON.parse(raw) as ChaosRule;
      if (Date.parse(rule.expiresAt) > now) live.push(rule);
      else expired.push(id);
    } catch {
      expired.push(id);
    }
  }
  if (expired.length) await redis.hdel(RULES_KEY, ...expired);
  return live.sort((a, b) => a.createdAt.localeCompare(b.createdAt));
}

export async function removeRule(redis: Redis, id: string): Promise<boolean> {
  return (await redis.hdel(RULES_KEY, id)) > 0;
}

/** The kill switch. */
export async function clearRules(redis: Redis): Promise<number> {
  const n = await redis.hlen(RULES_KEY);
  await redis.del(RULES_KEY);
  return n;
}

/** Counts a rule's hit (what /chaos shows beside each rule). */
export async function countHit(redis: Redis, ruleId: string): Promise<void> {
  await redis.hincrby(HITS_KEY, ruleId, 1);
}

/**
 * Removes the rules that target one order (its failure plan) once its saga has ended: a plan is
 * for one execution, and a finished order's rule would only clutter the /chaos list until its TTL.
 */
export async function removeOrderRules(redis: Redis, orderId: string): Promise<number> {
  const ids = (await listRules(redis)).filter((r) => r.target.orderId === orderId).map((r) => r.id);
  return ids.length ? redis.hdel(RULES_KEY, ...ids) : 0;
}

export async function hitCounts(redis: Redis): Promise<Record<string, number>> {
  const raw = await redis.hgetall(HITS_KEY);
  return Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, Number(v)]));
}

/* ---------- matching and injection (every handler) ---------- */

export interface ChaosContext {
  service: string;
  method?: string;
  path?: string;
  step?: string;
  orderId?: string;
}

const globCache = new Map<string, RegExp>();
function glob(pattern: string): RegExp {
  let re = globCache.get(pattern);
  if (!re) {
    re = new RegExp(
      `^${pattern
        .split('*')
        .map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
        .join('.*')}$`,
    );
    globCache.set(pattern, re);
  }
  return re;
}

export function matches(rule: ChaosRule, ctx: ChaosContext): boolean {
  const t = rule.target;
  if (t.service !== ctx.service) return false;
  if (t.step !== undefined && t.step !== ctx.step) return false;
  if (t.orderId !== undefined && t.orderId !== ctx.orderId) return false;
  if (t.route !== undefined) {
    if (!ctx.method || !ctx.path) return false;
    const pattern = t.route.includes(' ') ? t.route : `* ${t.route}`;
    if (!glob(pattern).test(`${ctx.method} ${ctx.path}`)) return false;
  }
  return Date.parse(rule.expiresAt) > Date.now();
}

/** Per-process cache of the rules, refreshed at most once per `ttlMs`. */
export class ChaosRules {
  private rules: ChaosRule[] = [];
  private loadedAt = 0;
  private loading?: Promise<void>;

  constructor(
    private readonly redis: () => Redis,
    private readonly ttlMs = 1000,
    private readonly random: () => number = Math.random,
  ) {}

  async current(): Promise<ChaosRule[]> {
    if (Date.now() - this.loadedAt >= this.ttlMs) {
      this.loading ??= this.load().finally(() => {
        this.loading = undefined;
      });
      await this.loading;
    }
    return this.rules;
  }

  private async load(): Promise<void> {
    try {
      const redis = this.redis();
      // On a cold start the shared client (no offline queue) may still be connecting: wait for it,
      // or the first second of a process would run without the rules that are set.
      await redisReady(redis, 1000);
      const raw = await redis.hgetall(RULES_KEY);
      this.rules = Object.values(raw).flatMap((r) => {
        try {
          return [JSON.parse(r) as ChaosRule];
        } catch {
          return [];
        }
      });
    } catch {
      // Redis down: no chaos (never make an outage worse by guessing rules).
      this.rules = [];
    }
    this.loadedAt = Date.now();
  }

  /** Whether any live rule targets this context, whatever its probability (callers that bypass a service ask this first). */
  async targets(ctx: ChaosContext): Promise<boolean> {
    return (await this.current()).some((r) => matches(r, ctx));
  }

  /** The first matching rule that fires under its probability, if any. */
  async pick(ctx: ChaosContext): Promise<ChaosRule | undefined> {
    const rules = await this.current();
    if (rules.length === 0) return undefined;
    return rules.find((r) => matches(r, ctx) && this.random() < r.probability);
  }

  count(rule: ChaosRule): void {
    countHit(this.redis(), rule.id).catch(() => undefined);
  }
}

/**
 * Applies a fault: waits for latency (then lets the call go on), or throws. HTTP handlers
 * turn an `error` fault into its status as problem+json; other callers see an HttpProblem.
 */
export async function inject(rule: ChaosRule, ctx: ChaosContext & { correlationId?: string }): Promise<void> {
  logger.warn('chaos fault injected', {
    ruleId: rule.id,
    fault: rule.fault.type,
    service: ctx.service,
    step: ctx.step,
    path: ctx.path,
    correlationId: ctx.correlationId,
  });
  switch (rule.fault.type) {
    case 'latency':
      await sleep(rule.fault.latencyMs);
      return;
    case 'timeout':
      await sleep(rule.fault.hangMs);
      return;
    case 'error':
      throw new HttpProblem(rule.fault.status, 'chaosInjected', `Chaos rule ${rule.id} injected a ${rule.fault.status}`, {
        extensions: { ruleId: rule.id },
        headers: rule.fault.status === 503 || rule.fault.status === 429 ? { 'retry-after': '1' } : {},
      });
    case 'exception':
      throw new Error(`${rule.fault.message} (rule ${rule.id})`);
  }
}

/** For non-HTTP handlers (saga steps, consumers): apply the matching fault, if any. */
export async function applyChaos(rules: ChaosRules, ctx: ChaosContext & { correlationId?: string }): Promise<void> {
  const rule = await rules.pick(ctx);
  if (!rule) return;
  rules.count(rule);
  await inject(rule, ctx);
}

/**
 * The chaos middleware a deployed HTTP handler runs first (before routing and access checks),
 * or none when CHAOS_ENABLED is off: the service runtime and the BFF pass it to httpApi.
 */
export function chaosMiddlewares(cfg: Pick<Config, 'CHAOS_ENABLED' | 'SERVICE_NAME' | 'REDIS_URL'>): HttpMiddleware[] {
  const rules = processChaosRules(cfg);
  return rules ? [chaosMiddleware(cfg.SERVICE_NAME, rules)] : [];
}

let processRules: ChaosRules | undefined;

/** This process's one copy of the rules (undefined when CHAOS_ENABLED is off): one Redis read a second, whoever asks. */
export function processChaosRules(cfg: Pick<Config, 'CHAOS_ENABLED' | 'REDIS_URL'>): ChaosRules | undefined {
  if (!cfg.CHAOS_ENABLED) return undefined;
  processRules ??= new ChaosRules(() => serviceRedis(cfg.REDIS_URL));
  return processRules;
}

/** middy middleware for the HTTP handlers: runs before routing, sees the normalized request. */
export function chaosMiddleware(service: string, rules: ChaosRules): HttpMiddleware {
  return {
    before: async (request) => {
      const req = request.context.request as HttpRequest;
      // /health stays truthful: chaos tests the callers, not the health report.
      if (req.path === '/health') return;
      const ctx = { service, method: req.method, path: req.path, correlationId: req.correlationId };
      const rule = await rules.pick(ctx);
      if (!rule) return;
      rules.count(rule);
      // An HttpProblem thrown here is rendered as problem+json by httpApi's error handler.
      await inject(rule, ctx);
    },
  };
}
