import { CONSUMER_QUEUES } from '../../../functions/shared/consumer-queues';
import { Arn, ArnFormat, Duration, Stack } from 'aws-cdk-lib';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { Rule, RuleTargetInput, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { StateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { Construct } from 'constructs';
import { ServiceFunction } from '../service-function';
import { meshOpsFunction } from './mesh-ops';
import { SAGA_STATE_MACHINE_NAME } from '../platform';
import { serviceApisEnv, type ServiceContext, type ServiceParts } from '../service-context';

export const ORDERS_PAYMENT_EVENTS_QUEUE = CONSUMER_QUEUES.orders[0];

/**
 * Orders around the saga: the API reads catalog prices, and the payment-events consumer
 * resumes WaitForPayment (SendTaskSuccess) on PaymentSucceeded / PaymentFailed, and the
 * orders outbox dispatcher.
 */
export function ordersSaga(
  scope: Construct,
  ctx: ServiceContext,
  parts: {
    orders: ServiceParts;
    catalog: ServiceParts;
    payments: ServiceParts;
    saga: StateMachine;
    sagaStep: IFunction & { addEnvironment(k: string, v: string): unknown };
  },
) {
  const construct = new Construct(scope, 'OrdersMesh');
  // Catalog for prices; payments for the payment session shown with the order.
  parts.orders.fn.addEnvironment('SERVICE_APIS', serviceApisEnv({ catalog: parts.catalog.api, payments: parts.payments.api }));
  const { queue } = ctx.platform.queues[ORDERS_PAYMENT_EVENTS_QUEUE];
  // Ops (outbox backlog, DLQ depth and redrive of orders-payment-events): their own function on the orders API.
  const ops = meshOpsFunction(construct, ctx, 'orders', parts.orders.api);
  const consumer = new ServiceFunction(construct, 'PaymentEventsConsumer', {
    service: 'orders',
    handler: 'payment-events',
    config: ctx.config,
    database: true,
    timeout: Duration.seconds(20),
    reservedConcurrency: ctx.config.concurrency.consumer,
  });
  consumer.addEventSource(new SqsEventSource(queue, { batchSize: 10, reportBatchItemFailures: true }));
  parts.saga.grantTaskResponse(consumer);
  // WaitForPayment resumes itself when the payment outcome arrived before its token was stored.
  // The ARN is built from the machine's fixed name: referencing the machine would be a cycle
  // (the machine already refers to this function).
  parts.sagaStep.addToRolePolicy(
    new PolicyStatement({
      actions: ['states:SendTaskSuccess', 'states:SendTaskFailure'],
      resources: [
        Arn.format({ service: 'states', resource: 'stateMachine', resourceName: SAGA_STATE_MACHINE_NAME, arnFormat: ArnFormat.COLON_RESOURCE_NAME }, Stack.of(scope)),
      ],
    }),
  );

  // The orders outbox (OrderPlaced, OrderCompleted, OrderFailed, OrderNeedsAttention) -> orders topic:
  // kicked after each commit by the API and the saga steps, swept every minute.
  const topic = ctx.platform.topics.orders;
  const dispatcher = new ServiceFunction(construct, 'Dispatcher', {
    service: 'orders',
    handler: 'dispatcher',
    config: ctx.config,
    database: true,
    timeout: Duration.seconds(60),
    reservedConcurrency: ctx.config.concurrency.dispatcher,
    environment: { ORDERS_TOPIC_ARN: topic.topicArn },
  });
  topic.grantPublish(dispatcher);
  for (const fn of [parts.orders.fn, parts.sagaStep]) {
    dispatcher.grantInvoke(fn);
    fn.addEnvironment('DISPATCHER_FUNCTION_NAME', dispatcher.functionName);
  }
  new Rule(construct, 'OutboxSweep', {
    schedule: Schedule.rate(Duration.minutes(1)),
    targets: [new LambdaFunction(dispatcher, { event: RuleTargetInput.fromObject({ source: 'sweep' }) })],
  });
  return { consumer, dispatcher, ops };
}
