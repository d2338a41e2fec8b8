import { Duration } from 'aws-cdk-lib';
import type { StateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { Construct } from 'constructs';
import { ServiceFunction } from '../service-function';
import { serviceApisEnv, type ServiceContext, type ServiceParts } from '../service-context';

export const ORDERS_PAYMENT_EVENTS_QUEUE = 'orders-payment-events';

/**
 * Orders around the saga: the API reads catalog prices, and the payment-events consumer
 * resumes WaitForPayment (SendTaskSuccess) on PaymentSucceeded / PaymentFailed.
 */
export function ordersSaga(scope: Construct, ctx: ServiceContext, parts: { orders: ServiceParts; catalog: ServiceParts; saga: StateMachine }) {
  const construct = new Construct(scope, 'OrdersMesh');
  parts.orders.fn.addEnvironment('SERVICE_APIS', serviceApisEnv({ catalog: parts.catalog.api }));
  const { queue } = ctx.platform.queues[ORDERS_PAYMENT_EVENTS_QUEUE];
  const consumer = new ServiceFunction(construct, 'PaymentEventsConsumer', {
    service: 'orders',
    handler: 'payment-events',
    config: ctx.config,
    database: true,
    timeout: Duration.seconds(20),
  });
  consumer.addEventSource(new SqsEventSource(queue, { batchSize: 10, reportBatchItemFailures: true }));
  parts.saga.grantTaskResponse(consumer);
  return { consumer };
}
