import { CONSUMER_QUEUES } from '../../../functions/shared/consumer-queues';
import { Duration } from 'aws-cdk-lib';
import { Rule, RuleTargetInput, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { Construct } from 'constructs';
import { ServiceFunction } from '../service-function';
import { meshOpsFunction } from './mesh-ops';
import type { ServiceContext, ServiceParts } from '../service-context';

export const PAYMENTS_AUDIT_QUEUE = CONSUMER_QUEUES.payments[0];

/**
 * The payments side of the event mesh: the outbox dispatcher (kicked by the API Lambda
 * after each commit, swept every minute by EventBridge) publishing to the payments topic,
 * and the payments-audit consumer proving delivery through SNS -> SQS -> Lambda.
 */
export function paymentsMesh(scope: Construct, ctx: ServiceContext, payments: ServiceParts) {
  const construct = new Construct(scope, 'PaymentsMesh');
  const topic = ctx.platform.topics.payments;

  const dispatcher = new ServiceFunction(construct, 'Dispatcher', {
    service: 'payments',
    handler: 'dispatcher',
    config: ctx.config,
    database: true,
    timeout: Duration.seconds(60),
    reservedConcurrency: ctx.config.concurrency.dispatcher,
    environment: { PAYMENTS_TOPIC_ARN: topic.topicArn },
  });
  topic.grantPublish(dispatcher);
  // The API publishes a webhook's payment event right after its commit (shared/mesh.ts publishAfterCommit).
  topic.grantPublish(payments.fn);
  dispatcher.grantInvoke(payments.fn);
  payments.fn.addEnvironment('DISPATCHER_FUNCTION_NAME', dispatcher.functionName);
  new Rule(construct, 'OutboxSweep', {
    schedule: Schedule.rate(Duration.minutes(1)),
    targets: [new LambdaFunction(dispatcher, { event: RuleTargetInput.fromObject({ source: 'sweep' }) })],
  });

  const { queue } = ctx.platform.consumerQueue(PAYMENTS_AUDIT_QUEUE, 'payments', ['PaymentSucceeded', 'PaymentFailed']);
  const audit = new ServiceFunction(construct, 'AuditConsumer', {
    service: 'payments',
    handler: 'audit-consumer',
    config: ctx.config,
    database: true,
    timeout: Duration.seconds(20),
    reservedConcurrency: ctx.config.concurrency.consumer,
  });
  audit.addEventSource(new SqsEventSource(queue, { batchSize: 10, reportBatchItemFailures: true }));
  // Ops (outbox backlog, DLQ depth and redrive of payments-audit): their own function on the payments API.
  const ops = meshOpsFunction(construct, ctx, 'payments', payments.api);
  return { dispatcher, audit, queue, ops };
}
