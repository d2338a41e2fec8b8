import { createHash } from 'node:crypto';
import { IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import type { BasePersistenceLayer } from '@aws-lambda-powertools/idempotency/persistence';
import type { Context } from 'aws-lambda';
import type { Config } from './config';
import { PostgresPersistenceLayer, type RecordDb } from './idempotency-store';

/**
 * Lambda-level idempotency (Powertools for AWS Lambda, with a persistence layer on the service's
 * own Postgres schema, idempotency-store.ts) for saga step tasks and event consumers: the first call with a key runs and its result is recorded; a repeat
 * (a Step Functions retry after a lost response, an SQS redelivery) gets the recorded result and
 * runs nothing. A call that throws leaves no record, so a retry runs again. This is the outer
 * guard; effects that must commit together with their dedupe keep the Postgres inbox as well.
 *
 * Keys are our own typed objects (see sagaStepKey, eventKey): Powertools hashes the argument we
 * give it, with a fixed prefix per use, so the record id does not depend on the function's name.
 */

/** Record id prefixes, one per idempotent operation (also how tests and operators find a record). */
export const IDEMPOTENCY_PREFIX = {
  sagaStep: 'orders.saga-step',
  ordersPaymentEvents: 'orders.payment-events',
  paymentsAudit: 'payments.audit-consumer',
} as const;

export class IdempotencyKeyMissing extends Error {
  override readonly name = 'IdempotencyKeyMissing';
}

export class IdempotencyNotConfigured extends Error {
  override readonly name = 'IdempotencyNotConfigured';
}

export type KeyObject = Record<string, string>;

/** The saga step record key: one Task state of one execution (and one wait, for task-token states). */
export interface SagaStepKey extends KeyObject {
  executionId: string;
  stateName: string;
}

/**
 * Execution id + state name, from `$$.Execution.Id` / `$$.State.Name` in the ASL Parameters. A
 * waitForTaskToken state's retry is a new wait with a new token that must be stored, so its token
 * is part of the key; a duplicate invocation of the same attempt carries the same token.
 */
export function sagaStepKey(ev: { executionId?: unknown; stateName?: unknown; taskToken?: unknown }): SagaStepKey {
  const executionId = typeof ev.executionId === 'string' ? ev.executionId.trim() : '';
  const stateName = typeof ev.stateName === 'string' ? ev.stateName.trim() : '';
  // Without these every call would share one key: refuse rather than replay another step's result.
  if (!executionId || !stateName) throw new IdempotencyKeyMissing('saga step event needs executionId and stateName ($$.Execution.Id, $$.State.Name)');
  const key: SagaStepKey = { executionId, stateName };
  if (typeof ev.taskToken === 'string' && ev.taskToken) key.taskToken = ev.taskToken;
  return key;
}

/** The consumer record key: the event envelope's id (the same event re-sent as another SQS message is still one event). */
export function eventKey(event: { id?: unknown }): KeyObject {
  if (typeof event.id !== 'string' || !event.id) throw new IdempotencyKeyMissing('event envelope without an id');
  return { eventId: event.id };
}

/**
 * The record id Powertools writes for a key (`idempotency_records.id`): `<prefix>#<base64 md5 of the key's JSON, keys
 * sorted>`. Used by tests and operators to find a record; a unit test holds it to Powertools' own.
 */
export function idempotencyRecordId(prefix: string, key: KeyObject): string {
  const sorted = Object.fromEntries(Object.entries(key).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  return `${prefix}#${createHash('md5').update(JSON.stringify(sorted)).digest('base64')}`;
}

export interface IdempotentOptions {
  /** Record id prefix, one per use: `<service>.<handler>`. */
  prefix: string;
  /**
   * The service's database (its LeasedPool, `serviceDb(cfg)`): the records go to its schema's
   * `idempotency_records` table through PostgresPersistenceLayer.
   */
  db?: RecordDb;
  /** Another store instead (unit tests pass a stand-in). */
  store?: BasePersistenceLayer;
}

/** An idempotent operation: `run(key, ...args)` runs `fn(...args)` once per key. Call `withContext` once per invocation. */
export interface Idempotent<A extends unknown[], R> {
  run(key: KeyObject, ...args: A): Promise<R>;
  /** Ties the in-progress expiry to this invocation's remaining time (a crashed call's lock lapses with the Lambda timeout). */
  withContext(context: Context | undefined): void;
}

export function idempotent<A extends unknown[], R>(
  cfg: Pick<Config, 'IDEMPOTENCY_TTL_SECONDS'>,
  opts: IdempotentOptions,
  fn: (...args: A) => Promise<R>,
): Idempotent<A, R> {
  const config = new IdempotencyConfig({
    expiresAfterSeconds: cfg.IDEMPOTENCY_TTL_SECONDS,
    // Belt and braces: our key objects are never empty (sagaStepKey/eventKey throw first).
    throwOnNoIdempotencyKey: true,
  });
  // Checked here, at module load: a function wired without its store fails its cold start with
  // this message instead of running unguarded. (`serviceDb(cfg)` itself refuses a function
  // deployed without DB_ROLE or its Vault credentials, also at module load.)
  if (!opts.store && !opts.db) {
    throw new IdempotencyNotConfigured(`no idempotency store for ${opts.prefix}: pass the service's database (db: serviceDb(cfg))`);
  }
  // One layer per operation: Powertools configures a layer once, with the first config it sees.
  const store = opts.store ?? new PostgresPersistenceLayer(opts.db!);
  // The arguments travel as one array: makeIdempotent inspects its second argument and would take
  // an object with a `step` property (a saga step event) for a durable-execution context.
  const wrapped = makeIdempotent(async (_key: KeyObject, args: unknown[]) => fn(...(args as A)), {
    persistenceStore: store,
    config,
    keyPrefix: opts.prefix,
    // Hash only the key argument, not the payload around it.
    dataIndexArgument: 0,
  });
  return {
    run: (key, ...args) => wrapped(key, args),
    withContext: (context) => {
      if (context) config.registerLambdaContext(context);
    },
  };
}
