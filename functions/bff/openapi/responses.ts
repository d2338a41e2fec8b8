import * as z from 'zod';
import type { Product, ProductPage } from '../../catalog/core/model';
import type { RaceResult } from '../../catalog/core/race';
import type { HistoryEvent, Order, TraceEntry } from '../../orders/core/model';
import { ORDER_STATES } from '../../orders/core/model';
import type { TokenPair } from '../../identity/core/auth-service';
import type { ChaosRule } from '../../shared/chaos';
import { FaultSchema } from '../../shared/chaos';
import { PROBLEM_BASE, ProblemType } from '../../shared/problem';
import type { BreakerSnapshot } from '../downstream';
import type { BreakersView } from '../breaker-board';

/**
 * The answers of the public API as zod schemas, for the OpenAPI description only (the request
 * schemas are the services' own, imported where they are validated). Each one that mirrors a
 * service's TypeScript type is pinned to it below (`Same<...>`): change the type without the
 * schema, or the schema without the type, and `tsc` fails.
 */

const Iso = z.iso.datetime().meta({ description: 'ISO 8601 timestamp (UTC)' });

export const Problem = z
  .object({
    type: z.string().meta({ description: `A stable problem type URI, one of ${PROBLEM_BASE}<name>`, examples: Object.values(ProblemType).map((t) => PROBLEM_BASE + t) }),
    title: z.string(),
    status: z.number().int().min(400).max(599),
    detail: z.string().optional(),
    instance: z.string().optional().meta({ description: 'The public path of the request' }),
    traceId: z.string().optional().meta({ description: 'The correlation id, also in the x-correlation-id header; quote it when reporting' }),
    errors: z
      .array(z.object({ path: z.string(), message: z.string() }))
      .optional()
      .meta({ description: 'Validation problems only: one entry per invalid field (body.items.0.quantity, query.limit, ...)' }),
  })
  .catchall(z.unknown())
  .meta({ id: 'Problem', description: 'RFC 9457 problem details (application/problem+json). Extensions (routeClass, service, ...) may follow.' });

export const ProductSchema = z
  .object({
    id: z.uuid(),
    sku: z.string(),
    name: z.string(),
    category: z.string(),
    priceCents: z.number().int(),
    stock: z.number().int(),
    reserved: z.number().int(),
    createdAt: Iso,
    updatedAt: Iso,
    version: z.string().meta({ description: 'The row version; the ETag is built from it' }),
  })
  .meta({ id: 'Product' });

export const ProductPageSchema = z
  .object({
    items: z.array(ProductSchema),
    total: z.number().int(),
    limit: z.number().int(),
    offset: z.number().int(),
    nextOffset: z.number().int().nullable(),
  })
  .meta({ id: 'ProductPage' });

export const RaceResultSchema = z
  .object({
    productId: z.uuid(),
    writers: z.number().int(),
    delta: z.number().int(),
    initialEtag: z.string(),
    initialStock: z.number().int(),
    finalEtag: z.string().nullable(),
    finalStock: z.number().int(),
    expectedFinalStock: z.number().int(),
    winners: z.number().int(),
    preconditionFailed: z.number().int(),
    otherStatuses: z.record(z.string(), z.number().int()),
    workersSeen: z.number().int(),
    consistent: z.boolean(),
    durationMs: z.number(),
    finalRead: z
      .object({ cache: z.string().nullable(), sqlQueries: z.number().int().nullable() })
      .meta({ description: 'How the read after the race was served (X-Cache, X-Sql-Queries): the winning write emptied the cache entry' }),
  })
  .meta({ id: 'RaceResult' });

export const TokenPairSchema = z
  .object({
    accessToken: z.string().meta({ description: 'ES256 JWT; send it as Authorization: Bearer <token>' }),
    refreshToken: z.string().meta({ description: 'Single use: POST /api/auth/refresh answers a new pair; a reused one revokes the session' }),
    tokenType: z.literal('Bearer'),
    expiresIn: z.number().int().meta({ description: 'Seconds until the access token expires' }),
  })
  .meta({ id: 'TokenPair' });

export const MeSchema = z.object({ id: z.uuid(), email: z.string(), roles: z.array(z.enum(['customer', 'admin'])), createdAt: Iso }).meta({ id: 'Me' });

export const JwksSchema = z
  .object({ keys: z.array(z.object({ kty: z.string(), kid: z.string(), alg: z.string().optional(), use: z.string().optional() }).catchall(z.unknown())) })
  .meta({ id: 'Jwks', description: 'The public keys access tokens are signed with (ES256)' });

export const Accepted = z.object({ status: z.literal('accepted'), detail: z.string() });

const OrderItemSchema = z.object({ productId: z.uuid(), quantity: z.number().int(), unitPriceCents: z.number().int() });

export const OrderSchema = z
  .object({
    id: z.uuid(),
    customerId: z.string(),
    items: z.array(OrderItemSchema),
    amountCents: z.number().int(),
    currency: z.string(),
    paymentProvider: z.enum(['stripe', 'paypal']),
    state: z.enum(ORDER_STATES),
    executionArn: z.string().nullable(),
    paymentSessionId: z.string().nullable(),
    failureReason: z.string().nullable(),
    createdAt: Iso,
    updatedAt: Iso,
  })
  .meta({ id: 'Order' });

export const OrderWithPaymentSchema = OrderSchema.extend({
  payment: z
    .object({
      sessionId: z.string(),
      provider: z.string(),
      status: z.string(),
      providerRef: z.string().nullable(),
      clientSecret: z.string().nullable().meta({ description: "Stripe: the PaymentIntent's client secret (what Stripe.js confirms)" }),
      approveUrl: z.string().nullable().meta({ description: "PayPal: the buyer's approval link" }),
    })
    .nullable()
    .meta({ description: 'What the customer needs to pay; null when there is no session yet or payments did not answer' }),
}).meta({ id: 'OrderWithPayment' });

export const OrderPageSchema = z.object({ items: z.array(OrderSchema), total: z.number().int(), nextOffset: z.number().int().nullable() }).meta({ id: 'OrderPage' });

const TraceEntrySchema = z.object({
  step: z.string(),
  started: Iso.nullable(),
  ended: Iso.nullable(),
  outcome: z.enum(['succeeded', 'failed', 'running']),
  compensation: z.boolean(),
  result: z.string().optional().meta({ description: "A forward step's business answer when it was a no (declined, failed, rejected)" }),
  error: z.string().optional(),
  cause: z.string().optional(),
});

const HistoryEventSchema = z.object({
  id: z.number().int().optional(),
  previousEventId: z.number().int().optional(),
  type: z.string(),
  timestamp: z.string(),
  name: z.string().optional(),
  error: z.string().optional(),
  cause: z.string().optional(),
  input: z.string().optional().meta({ description: "A state's input as JSON text (cut at 4 KiB)" }),
  output: z.string().optional().meta({ description: "A state's or task's output as JSON text (cut at 4 KiB)" }),
});

export const OrderTraceSchema = z
  .object({
    orderId: z.uuid(),
    state: z.enum(ORDER_STATES),
    executionArn: z.string().nullable(),
    steps: z.array(TraceEntrySchema),
    events: z.array(HistoryEventSchema).meta({ description: 'The execution history (GetExecutionHistory), for the saga graph' }),
  })
  .meta({ id: 'OrderTrace', description: 'The saga execution of the order, one entry per Task state visited' });

export const ChaosRuleSchema = z
  .object({
    id: z.uuid(),
    target: z.object({ service: z.string(), route: z.string().optional(), step: z.string().optional(), orderId: z.uuid().optional() }),
    fault: FaultSchema,
    probability: z.number(),
    description: z.string().optional(),
    createdAt: Iso,
    expiresAt: Iso,
  })
  .meta({ id: 'ChaosRule' });

export const ChaosRuleListSchema = z
  .object({ rules: z.array(ChaosRuleSchema.extend({ hits: z.number().int().meta({ description: 'Times the rule fired' }) })) })
  .meta({ id: 'ChaosRuleList' });

const LimiterStatsSchema = z.object({
  maxInFlight: z.number().int(),
  maxQueue: z.number().int(),
  inFlight: z.number().int(),
  queued: z.number().int(),
  refused: z.number().int(),
  expired: z.number().int(),
});

export const BreakerSnapshotSchema = z
  .object({
    name: z.string(),
    state: z.enum(['closed', 'open', 'halfOpen']),
    settings: z.object({
      errorThresholdPercentage: z.number(),
      volumeThreshold: z.number().int(),
      resetTimeoutMs: z.number().int(),
      rollingWindowMs: z.number().int(),
    }),
    stats: z.object({ fires: z.number().int(), successes: z.number().int(), failures: z.number().int(), rejects: z.number().int(), timeouts: z.number().int() }),
    concurrency: LimiterStatsSchema,
    openedAt: Iso.optional(),
    retryAfterSeconds: z.number().int().optional(),
    transitions: z.array(z.object({ to: z.string(), at: Iso })),
  })
  .meta({ id: 'BreakerSnapshot' });

const BreakerStateSchema = z.enum(['closed', 'open', 'halfOpen']);

const BoardRowSchema = z
  .object({
    instance: z.string().meta({ description: 'The BFF instance this breaker lives on' }),
    self: z.boolean().meta({ description: 'The instance that answered this request (its row is live, not a snapshot)' }),
    ageMs: z.number().int().meta({ description: "Age of the instance's snapshot this row comes from (0: live)" }),
    state: BreakerStateSchema,
    stats: BreakerSnapshotSchema.shape.stats,
    openedAt: Iso.optional(),
    retryAfterSeconds: z.number().int().optional().meta({ description: 'Open: seconds until that instance lets a probe through (0: due)' }),
    openings: z.number().int().meta({ description: 'How often this breaker opened on that instance (of its last 20 transitions)' }),
  })
  .meta({ id: 'BreakerBoardRow' });

export const BreakersSchema = z
  .object({
    instance: z.string().meta({ description: 'The BFF instance that answered (breakers live per instance)' }),
    breakers: z.array(BreakerSnapshotSchema).meta({ description: "The answering instance's own breakers, live" }),
    board: z.enum(['ok', 'unavailable']).meta({ description: "Whether the other instances' snapshots could be read from Redis (unavailable: this instance only)" }),
    ttlSeconds: z.number().int().meta({ description: 'How long an instance stays on the board without publishing again' }),
    instances: z
      .array(
        z.object({
          instance: z.string(),
          self: z.boolean(),
          startedAt: Iso,
          publishedAt: Iso,
          ageMs: z.number().int().meta({ description: 'Age of its snapshot (0: the answering instance, live)' }),
          breakers: z.number().int().meta({ description: 'How many breakers it has' }),
        }),
      )
      .meta({ description: 'Every BFF instance on the breaker board: the answering one first, then the freshest' }),
    downstreams: z
      .array(
        z.object({
          name: z.string(),
          state: BreakerStateSchema.meta({ description: 'The worst over the instances: open, then halfOpen, then closed' }),
          openOn: z.number().int().meta({ description: 'How many instances have it open' }),
          instances: z.array(BoardRowSchema),
        }),
      )
      .meta({ description: 'Each downstream (services in configuration order, then drills) with its breaker on every instance' }),
  })
  .meta({
    id: 'Breakers',
    description:
      "Every BFF instance's circuit breakers: each instance publishes a snapshot to Redis on every state change and at most every few seconds while serving (TTL ttlSeconds), merged here with the answering instance's live breakers",
  });

export const DrillResultSchema = z.object({
  instance: z.string(),
  upstreamStatus: z.number().int(),
  latencyMs: z.number(),
  breaker: BreakerSnapshotSchema,
});

export const EchoResultSchema = z.object({ counterId: z.string(), value: z.number().int(), echo: z.record(z.string(), z.unknown()) });
export const CounterSchema = z.object({ counterId: z.string(), value: z.number().int() });

export const HealthSchema = z
  .object({
    status: z.enum(['up', 'down']),
    node: z.string().meta({ description: "The BFF's Node major, e.g. v24" }),
    services: z.record(
      z.string(),
      z.object({
        status: z.enum(['up', 'down']),
        httpStatus: z.number().int().optional(),
        latencyMs: z.number(),
        report: z.unknown().optional().meta({ description: "The service's own /health report (its dependencies: postgres, redis, ...)" }),
        error: z.string().optional(),
      }),
    ),
  })
  .meta({ id: 'Health' });

export const ClientConfigSchema = z
  .object({
    payments: z.object({
      stripe: z.object({ publishableKey: z.string(), apiBase: z.string() }),
      paypal: z.object({}),
    }),
    services: z.array(z.string()).meta({ description: 'The services behind the BFF (the /chaos switches)' }),
    saga: z.object({ steps: z.array(z.string()), failureModes: z.array(z.enum(['error', 'timeout'])) }),
  })
  .meta({ id: 'ClientConfig', description: 'What a browser needs to talk to the payment providers; nothing secret' });

export const OutboxStatsSchema = z.object({
  pending: z.number().int().meta({ description: 'Unsent rows over every outbox that answered' }),
  oldestAgeSeconds: z.number().nullable(),
  outboxes: z.array(
    z.object({
      service: z.string(),
      pending: z.number().int().nullable(),
      oldestAgeSeconds: z.number().nullable(),
      error: z.string().optional().meta({ description: 'Why this service could not report (its counts are null)' }),
    }),
  ),
});
const OutboxRowEvidence = z.object({
  seq: z.number().int(),
  eventId: z.string(),
  eventType: z.string(),
  createdAt: z.string(),
  sentAt: z.string().nullable().meta({ description: 'When the dispatcher published the row to SNS; null while it waits' }),
});
export const WebhookReplaySchema = z
  .object({
    event: z.object({ provider: z.literal('stripe'), eventId: z.string(), eventType: z.string(), receivedAt: z.string() }),
    outboxBefore: z.array(OutboxRowEvidence),
    replay: z.object({ status: z.number().int(), duplicate: z.boolean(), outcome: z.string() }),
    outboxAfter: z.array(OutboxRowEvidence),
  })
  .meta({ id: 'WebhookReplay' });
export const DlqDepthsSchema = z.object({
  queues: z.array(z.object({ queue: z.string(), dlq: z.string(), depth: z.number().int().nullable(), service: z.string() })),
  unavailable: z.array(z.object({ service: z.string(), error: z.string() })).meta({ description: 'Queue owners that could not report' }),
});
export const RedriveResultSchema = z.object({ queue: z.string(), moved: z.number().int() });
export const ClearedSchema = z.object({ cleared: z.number().int() });

/* ---------- the schemas above are the services' types ---------- */

// Exact equality (optional fields included), not just mutual assignability.
type Same<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
const same = <T extends true>(): T | undefined => undefined;
same<Same<z.output<typeof ProductSchema>, Product>>();
same<Same<z.output<typeof ProductPageSchema>, ProductPage>>();
same<Same<z.output<typeof RaceResultSchema>, RaceResult>>();
same<Same<z.output<typeof TokenPairSchema>, TokenPair>>();
same<Same<z.output<typeof OrderSchema>, Order>>();
same<Same<z.output<typeof TraceEntrySchema>, TraceEntry>>();
same<Same<z.output<typeof HistoryEventSchema>, HistoryEvent>>();
same<Same<z.output<typeof ChaosRuleSchema>, ChaosRule>>();
same<Same<z.output<typeof BreakerSnapshotSchema>, BreakerSnapshot>>();
same<Same<z.output<typeof BreakersSchema>, BreakersView>>();

export const SagaDefinitionSchema = z
  .looseObject({ Comment: z.string().optional(), StartAt: z.string(), States: z.record(z.string(), z.looseObject({ Type: z.string() })) })
  .meta({ id: 'SagaDefinition', description: "The checkout saga's state machine (Amazon States Language), as deployed" });

export const PaymentCancelledSchema = z.object({
  orderId: z.uuid(),
  payment: z.object({ sessionId: z.uuid(), status: z.string(), outcome: z.string() }),
});
