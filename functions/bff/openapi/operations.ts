import * as z from 'zod';
import { ListQuery, ProductId, ProductPatch, RaceRequest, StockPatch } from '../../catalog/core/model';
import { Credentials, LoginBody, RefreshBody } from '../../identity/core/schemas';
import { OrdersPage, PlaceOrderSchema } from '../../orders/core/model';
import { NewRuleSchema } from '../../shared/chaos';
import { EchoBody } from '../routes/gateway';
import * as R from './responses';

/**
 * The description of every public operation, keyed "METHOD /path" exactly as the route table
 * (../routes, publicRoute(...)) declares it. Request schemas are the ones the handlers validate
 * with, imported from where they live (catalog, identity, orders, chaos, the BFF's own demo);
 * who may call each route is not written here: document.ts takes it from the route table.
 * test/unit/openapi.test.ts fails when a route has no entry here or an entry has no route.
 */
export type Tag = 'Pages' | 'Auth' | 'Catalog' | 'Orders' | 'Chaos' | 'Gateway' | 'Ops' | 'Meta' | 'Webhooks';

type Json = z.ZodType;
export interface Answer {
  description: string;
  /** application/json body (omitted: no body). */
  body?: Json;
  /** Another media type than JSON (the pages, the JWKS). */
  mediaType?: string;
  /** Response headers this answer carries besides the common ones (names of components.headers). */
  headers?: string[];
}

export interface OperationDoc {
  tag: Tag;
  summary: string;
  description?: string;
  path?: z.ZodObject;
  query?: z.ZodObject;
  /** The JSON request body (application/json), validated by the handler or the service. */
  body?: Json;
  /** An example body ("Try it out" starts from it); the unit test parses it with `body`. */
  example?: unknown;
  /** Conditional request headers: If-Match required (428 without), If-None-Match optional. */
  ifMatch?: boolean;
  ifNoneMatch?: boolean;
  /** An `anyone` route that reads a bearer token when one is sent (logout revokes it): the token is optional. */
  optionalBearer?: boolean;
  /** The route runs behind the Idempotency-Key contract (functions/bff/middleware/idempotency.ts). */
  idempotent?: boolean;
  /** Success and expected answers by status; the builder adds the common errors (auth, rate limit, validation...). */
  answers: Record<number, Answer>;
}

/** A UUID path parameter: catalog's ProductId for products; orders and chaos check theirs with z.string().uuid() too. */
const uuidParam = (name: string, schema: z.ZodString = z.string().uuid()) => z.object({ [name]: schema.meta({ description: 'A UUID' }) });
const productParam = uuidParam('id', ProductId);
const html = (description: string): Answer => ({ description, mediaType: 'text/html; charset=utf-8' });
const problem = (description: string, headers?: string[]): Answer => ({ description, body: R.Problem, headers });

export const OPERATIONS: Record<string, OperationDoc> = {
  /* ---------- pages (web/, served by the BFF) ---------- */
  'GET /': { tag: 'Pages', summary: 'The storefront', answers: { 200: html('The storefront page (products, cart, checkout, orders)') } },
  'GET /chaos': { tag: 'Pages', summary: 'The chaos page', answers: { 200: html('Fault rules, the ETag race, breakers, rate limits, outbox and DLQs') } },
  'GET /reference': { tag: 'Pages', summary: '"How it works"', answers: { 200: html('The architecture map with live health, and the articles') } },
  'GET /reference/api': { tag: 'Pages', summary: 'This API reference, rendered', answers: { 200: html('Swagger UI (vendored) rendering /api/openapi.json') } },
  'GET /docs/{article}': {
    tag: 'Pages',
    summary: 'An article',
    path: z.object({
      article: z
        .string()
        .regex(/^[a-z0-9-]{1,64}$/)
        .meta({ examples: ['saga-vs-2pc', 'outbox', 'credential-rotation'] }),
    }),
    answers: { 200: html('The article page'), 404: problem('No such article') },
  },
  'GET /web/{file+}': {
    tag: 'Pages',
    summary: 'A static asset of the pages',
    description: 'Scripts, styles and the vendored renderer under web/. `{file+}` is a greedy path: it may contain slashes (`js/api.js`).',
    path: z.object({ file: z.string().meta({ description: 'A path under web/', examples: ['js/api.js', 'style.css'] }) }),
    answers: { 200: { description: 'The file, typed by its extension', mediaType: '*/*' }, 404: problem('No such file') },
  },

  /* ---------- meta ---------- */
  'GET /api/openapi.json': {
    tag: 'Meta',
    summary: 'This description (OpenAPI 3.1)',
    description: 'Generated at run time from the zod schemas the handlers validate with and from the route table (access levels).',
    answers: { 200: { description: 'The OpenAPI document', body: z.record(z.string(), z.unknown()) } },
  },
  'GET /api/health': {
    tag: 'Meta',
    summary: 'Health of every service and its dependencies',
    answers: { 200: { description: 'Everything is up', body: R.HealthSchema }, 503: { description: 'A service or a dependency is down', body: R.HealthSchema } },
  },
  'GET /api/config': {
    tag: 'Meta',
    summary: "The storefront's public client configuration",
    answers: { 200: { description: 'Payment provider settings for the browser', body: R.ClientConfigSchema } },
  },

  'GET /api/saga/definition': {
    tag: 'Meta',
    summary: "The checkout saga's state machine (ASL), drawn as a graph by the order page",
    answers: { 200: { description: 'The deployed ASL', body: R.SagaDefinitionSchema } },
  },

  /* ---------- auth (identity) ---------- */
  'POST /api/auth/register': {
    tag: 'Auth',
    summary: 'Create a customer account',
    description: 'The answer is the same whether or not the email was taken (no account enumeration).',
    body: Credentials,
    example: { email: 'new-customer@example.test', password: 'a-long-password' },
    answers: { 202: { description: 'Accepted: log in to continue', body: R.Accepted } },
  },
  'POST /api/auth/login': {
    tag: 'Auth',
    summary: 'Log in: an access and a refresh token',
    description: 'Failed logins are throttled per email and per client IP (429 with Retry-After).',
    body: LoginBody,
    example: { email: 'demo@checkout-mesh.dev', password: 'demo-password-123' },
    answers: { 200: { description: 'A token pair', body: R.TokenPairSchema }, 401: problem('The email or password is incorrect') },
  },
  'POST /api/auth/refresh': {
    tag: 'Auth',
    summary: 'Trade a refresh token for a new pair (single use)',
    body: RefreshBody,
    example: { refreshToken: '<the refreshToken of the last pair>' },
    answers: { 200: { description: 'A new token pair', body: R.TokenPairSchema }, 401: problem('Invalid, expired or revoked; a reused token revokes the whole session') },
  },
  'POST /api/auth/logout': {
    tag: 'Auth',
    summary: 'End the session',
    description: 'Send the access token as Authorization: Bearer. It is denylisted until it expires and its refresh family is revoked.',
    optionalBearer: true,
    answers: { 204: { description: 'Logged out' }, 401: problem('No valid access token') },
  },
  'GET /api/me': { tag: 'Auth', summary: 'The signed-in user', answers: { 200: { description: 'The user', body: R.MeSchema } } },
  'GET /.well-known/jwks.json': {
    tag: 'Auth',
    summary: 'The public signing keys (JWKS)',
    answers: { 200: { description: 'The key set', body: R.JwksSchema, mediaType: 'application/jwk-set+json' } },
  },

  /* ---------- catalog ---------- */
  'GET /api/products': {
    tag: 'Catalog',
    summary: 'List products (paged, searchable)',
    query: ListQuery,
    answers: { 200: { description: 'A page of products', body: R.ProductPageSchema } },
  },
  'GET /api/products/{id}': {
    tag: 'Catalog',
    summary: 'One product, with its ETag',
    path: productParam,
    ifNoneMatch: true,
    answers: {
      200: { description: 'The product', body: R.ProductSchema, headers: ['ETag', 'X-Cache', 'X-Sql-Queries', 'X-Served-By'] },
      304: { description: 'Not modified (If-None-Match matched)', headers: ['ETag', 'X-Cache', 'X-Sql-Queries', 'X-Served-By'] },
      404: problem('No such product'),
    },
  },
  'PATCH /api/products/{id}': {
    tag: 'Catalog',
    summary: 'Change the name and/or price (admin, If-Match)',
    path: productParam,
    body: ProductPatch,
    example: { priceCents: 1450 },
    ifMatch: true,
    answers: {
      200: { description: 'The updated product', body: R.ProductSchema, headers: ['ETag'] },
      404: problem('No such product'),
      412: problem('The ETag in If-Match is not the current one (someone else changed the product)'),
      428: problem('If-Match is missing'),
    },
  },
  'PATCH /api/products/{id}/stock': {
    tag: 'Catalog',
    summary: 'Add to or take from the stock (admin, If-Match)',
    path: productParam,
    body: StockPatch,
    example: { delta: 10 },
    ifMatch: true,
    answers: {
      200: { description: 'The updated product', body: R.ProductSchema, headers: ['ETag'] },
      404: problem('No such product'),
      409: problem('The stock would go below 0'),
      412: problem('The ETag in If-Match is not the current one'),
      428: problem('If-Match is missing'),
    },
  },
  'POST /api/catalog/race': {
    tag: 'Catalog',
    summary: 'The ETag race demo: N writers, one ETag, one winner',
    description: 'Runs only on the seeded demo product; one race at a time.',
    body: RaceRequest,
    example: { writers: 10 },
    answers: {
      200: { description: 'What happened: winners, 412s, final stock', body: R.RaceResultSchema },
      409: problem('Another race is running', ['Retry-After']),
    },
  },

  /* ---------- orders ---------- */
  'POST /api/orders': {
    tag: 'Orders',
    summary: 'Place an order (starts the checkout saga)',
    description: 'Prices come from the catalog; the saga reserves stock, opens a payment session and waits for the payment.',
    body: PlaceOrderSchema,
    example: { items: [{ productId: '00000000-0000-4000-8000-000000000101', quantity: 1 }], paymentProvider: 'stripe' },
    idempotent: true,
    answers: {
      202: { description: 'The order, PENDING; poll GET /api/orders/{id}', body: R.OrderSchema, headers: ['Location', 'Idempotent-Replayed'] },
      422: problem('A product does not exist, failure plans are disabled, or the Idempotency-Key was used with another request'),
    },
  },
  'GET /api/orders': {
    tag: 'Orders',
    summary: 'My orders (newest first, paged)',
    query: OrdersPage,
    answers: { 200: { description: 'A page of the caller’s orders', body: R.OrderPageSchema } },
  },
  'GET /api/orders/{id}': {
    tag: 'Orders',
    summary: 'One of my orders, with what is needed to pay it',
    path: uuidParam('id'),
    answers: { 200: { description: 'The order', body: R.OrderWithPaymentSchema }, 404: problem('No such order (or not yours)') },
  },
  'POST /api/orders/{id}/payment/cancel': {
    tag: 'Orders',
    summary: "I cancelled on the provider's page: fail the pending payment now (the saga compensates)",
    path: uuidParam('id'),
    answers: {
      202: { description: 'The payment failed (or had already left pending); the order follows', body: R.PaymentCancelledSchema },
      404: problem('No such order (or not yours)'),
      409: problem('The order is not waiting for a payment'),
    },
  },
  'GET /api/orders/{id}/trace': {
    tag: 'Orders',
    summary: "The order's saga, step by step",
    path: uuidParam('id'),
    answers: { 200: { description: 'The trace', body: R.OrderTraceSchema }, 404: problem('No such order (or not yours)') },
  },

  /* ---------- chaos ---------- */
  'GET /api/chaos/rules': {
    tag: 'Chaos',
    summary: 'The live fault rules',
    answers: { 200: { description: 'Rules with their hit counts', body: R.ChaosRuleListSchema } },
  },
  'POST /api/chaos/rules': {
    tag: 'Chaos',
    summary: 'Add a fault rule',
    body: NewRuleSchema,
    example: { target: { service: 'catalog', route: 'GET /products/*' }, fault: { type: 'latency', latencyMs: 800 }, ttlSeconds: 120 },
    answers: { 201: { description: 'The rule', body: R.ChaosRuleSchema, headers: ['Location'] } },
  },
  'DELETE /api/chaos/rules': {
    tag: 'Chaos',
    summary: 'The kill switch: remove every rule',
    answers: { 200: { description: 'How many were removed', body: R.ClearedSchema } },
  },
  'DELETE /api/chaos/rules/{id}': {
    tag: 'Chaos',
    summary: 'Remove one rule',
    path: uuidParam('id'),
    answers: { 204: { description: 'Removed' }, 404: problem('No such rule') },
  },

  /* ---------- gateway contracts and their demos ---------- */
  'GET /api/ops/breakers': {
    tag: 'Gateway',
    summary: "Every BFF instance's circuit breakers, merged",
    description:
      "The answering instance's breakers live, and every other instance's from the snapshot it published to Redis (on each state change, and at most every few seconds while serving; an instance that stops publishing leaves after ttlSeconds). Per instance: its name and snapshot age; per downstream: the state on each instance, its counts and the seconds until a probe.",
    answers: { 200: { description: 'Per instance and per downstream; the answering instance marked self', body: R.BreakersSchema } },
  },
  'GET /api/ops/breakers/drill/{name}': {
    tag: 'Gateway',
    summary: 'One call through a drill breaker (failure plans only)',
    path: z.object({ name: z.string().regex(/^[A-Za-z0-9_-]{1,40}$/) }),
    query: z.object({
      status: z.coerce.number().int().min(200).max(599).default(200).meta({ description: 'The status the drill upstream answers' }),
      delayMs: z.coerce.number().int().min(0).max(5000).default(0),
    }),
    answers: {
      200: { description: 'The upstream answered below 500', body: R.DrillResultSchema },
      404: problem('Failure plans are disabled'),
      409: problem('Too many drill breakers on this instance'),
      502: { description: 'The upstream answered 5xx', body: R.DrillResultSchema },
    },
  },
  'POST /api/demo/idempotent-echo': {
    tag: 'Gateway',
    summary: 'The Idempotency-Key contract with a countable effect',
    description: 'Increments a counter once per key; a replay answers the stored 201 with Idempotent-Replayed: true.',
    body: EchoBody,
    example: { counterId: 'demo-1' },
    idempotent: true,
    answers: { 201: { description: 'The counter after the effect', body: R.EchoResultSchema, headers: ['Location', 'Idempotent-Replayed'] } },
  },
  'GET /api/demo/idempotent-echo/{counterId}': {
    tag: 'Gateway',
    summary: 'Read a demo counter',
    path: z.object({ counterId: z.string().min(1).max(100) }),
    answers: { 200: { description: 'The counter', body: R.CounterSchema } },
  },
  'GET /api/demo/rate-limited': {
    tag: 'Gateway',
    summary: 'The rate-limit contract on a small bucket ("demo": 5 tokens, 1/s)',
    query: z.object({ bucket: z.string().max(64).optional().meta({ description: 'A fresh bucket per value' }) }),
    answers: { 200: { description: 'Allowed', body: z.object({ ok: z.literal(true) }) } },
  },

  /* ---------- ops (admin) ---------- */
  'GET /api/ops/outbox': {
    tag: 'Ops',
    summary: "Every outbox's backlog (payments, orders)",
    answers: { 200: { description: 'Pending rows per service and in all', body: R.OutboxStatsSchema } },
  },
  'GET /api/ops/dlq': {
    tag: 'Ops',
    summary: "Every consumer's DLQ depth, from each queue's owner",
    answers: { 200: { description: 'One entry per consumer', body: R.DlqDepthsSchema } },
  },
  'POST /api/ops/webhooks/stripe/replay': {
    tag: 'Ops',
    summary: 'Deliver the latest applied Stripe event again, signed, through the webhook route (the payments card demo)',
    answers: {
      200: { description: 'The event, its outbox rows before and after, and the replay acknowledged as a duplicate', body: R.WebhookReplaySchema },
      404: problem('No Stripe webhook has been applied yet'),
    },
  },
  'POST /api/ops/dlq/{queue}/redrive': {
    tag: 'Ops',
    summary: "Move a consumer's DLQ messages back to its queue",
    path: z.object({
      queue: z
        .string()
        .regex(/^[a-z][a-z0-9-]{1,60}$/)
        .meta({ examples: ['payments-audit'] }),
    }),
    answers: { 200: { description: 'How many moved', body: R.RedriveResultSchema }, 404: problem('No such queue') },
  },
};

/**
 * Public routes that API Gateway sends elsewhere than the BFF (cdk/lib/checkout-mesh-stack.ts):
 * the provider webhooks go straight to payments, which verifies each by its signature.
 */
export const OUTSIDE_BFF: Record<string, OperationDoc> = {
  'POST /webhooks/{provider}': {
    tag: 'Webhooks',
    summary: 'Payment provider webhooks (Stripe, PayPal)',
    description:
      'Called by the providers, not by clients: API Gateway sends it to the payments service directly. Each delivery is verified by its ' +
      'signature (Stripe-Signature; PayPal transmission headers) and applied once; a replay is acknowledged without a second effect.',
    path: z.object({ provider: z.enum(['stripe', 'paypal']) }),
    answers: { 200: { description: 'Accepted (or already applied)' }, 400: problem('The signature or the event is invalid') },
  },
};
