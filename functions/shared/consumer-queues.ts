/**
 * The event mesh's consumer queues (each with a DLQ, checkout-mesh-<name>-dlq), by the service that
 * owns the consumer. CDK creates them from this table; each service's ops routes report and redrive
 * only its own (shared/dlq.ts), and the BFF asks every owner for the /chaos page.
 */
export const CONSUMER_QUEUES = {
  payments: ['payments-audit'],
  orders: ['orders-payment-events'],
} as const satisfies Record<string, readonly string[]>;

export type QueueOwner = keyof typeof CONSUMER_QUEUES;
export const QUEUE_OWNERS = Object.keys(CONSUMER_QUEUES) as QueueOwner[];
