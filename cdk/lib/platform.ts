import fs from 'node:fs';
import path from 'node:path';
import { CfnOutput, Duration, RemovalPolicy } from 'aws-cdk-lib';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { Topic, SubscriptionFilter } from 'aws-cdk-lib/aws-sns';
import { SqsSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { DefinitionBody, LogLevel, StateMachine, StateMachineType } from 'aws-cdk-lib/aws-stepfunctions';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

export const DOMAINS = ['payments', 'orders', 'catalog'] as const;
export type Domain = (typeof DOMAINS)[number];

export const SAGA_STATE_MACHINE_NAME = 'checkout-mesh-checkout-saga';
export const SAGA_ASL_PATH = path.resolve(__dirname, '..', '..', 'stepfunctions', 'checkout-saga.asl.json');

/**
 * The event mesh and shared AWS resources: one SNS topic per domain, one SQS queue
 * (+ DLQ) per consumer. (Lambda-level idempotency records live in each service's own Postgres
 * schema, functions/shared/idempotency-store.ts: no AWS resource.)
 */
export class Platform extends Construct {
  readonly topics: Record<Domain, Topic>;
  readonly queues: Record<string, { queue: Queue; dlq: Queue }> = {};

  private readonly enforceSsl: boolean;

  /**
   * `enforceSsl`: topic and queue policies refuse callers that do not use TLS (cdk-nag SNS3/SQS4).
   * On for AWS. Off on the emulator, which is reached over plain HTTP on loopback and, under
   * AUTH=true, evaluates `aws:SecureTransport` like AWS: the policy would refuse every call.
   */
  constructor(scope: Construct, id: string, opts: { enforceSsl: boolean }) {
    super(scope, id);
    this.enforceSsl = opts.enforceSsl;
    this.topics = Object.fromEntries(
      DOMAINS.map((d) => [d, new Topic(this, `${cap(d)}Topic`, { topicName: `checkout-mesh-${d}`, enforceSSL: opts.enforceSsl })]),
    ) as Record<Domain, Topic>;
  }

  /**
   * A consumer's queue subscribed to a domain topic for some event types, with a DLQ
   * after `maxReceiveCount` failed receives. Raw delivery: the body is our event envelope.
   */
  consumerQueue(name: string, domain: Domain, eventTypes: string[], opts: { maxReceiveCount?: number; visibilityTimeout?: Duration } = {}) {
    const dlq = new Queue(this, `${name}Dlq`, {
      queueName: `checkout-mesh-${name}-dlq`,
      retentionPeriod: Duration.days(14),
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: this.enforceSsl,
    });
    const queue = new Queue(this, `${name}Queue`, {
      queueName: `checkout-mesh-${name}`,
      visibilityTimeout: opts.visibilityTimeout ?? Duration.seconds(30),
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: this.enforceSsl,
      deadLetterQueue: { queue: dlq, maxReceiveCount: opts.maxReceiveCount ?? 3 },
    });
    this.topics[domain].addSubscription(
      new SqsSubscription(queue, {
        rawMessageDelivery: true,
        filterPolicy: { type: SubscriptionFilter.stringFilter({ allowlist: eventTypes }) },
      }),
    );
    this.queues[name] = { queue, dlq };
    // Stable output keys (no construct-path hash) so scripts and tests can find them.
    new CfnOutput(this, `${name}QueueUrl`, { value: queue.queueUrl }).overrideLogicalId(`${pascal(name)}QueueUrl`);
    new CfnOutput(this, `${name}DlqUrl`, { value: dlq.queueUrl }).overrideLogicalId(`${pascal(name)}DlqUrl`);
    return { queue, dlq };
  }

  /** The checkout saga, loaded from stepfunctions/ with the step Lambda's ARN filled in. */
  checkoutSaga(stepFunction: IFunction, opts: { paymentTimeoutSeconds: number }): StateMachine {
    const asl = JSON.parse(fs.readFileSync(SAGA_ASL_PATH, 'utf8')) as { States: Record<string, { TimeoutSeconds?: number }> };
    // The only value that differs between targets: how long to wait for the payment event.
    asl.States.WaitForPayment.TimeoutSeconds = opts.paymentTimeoutSeconds;
    const sm = new StateMachine(this, 'CheckoutSaga', {
      stateMachineName: SAGA_STATE_MACHINE_NAME,
      stateMachineType: StateMachineType.STANDARD,
      definitionBody: DefinitionBody.fromString(JSON.stringify(asl)),
      definitionSubstitutions: { SagaStepFunctionArn: stepFunction.functionArn },
      tracingEnabled: true,
      logs: {
        destination: new LogGroup(this, 'CheckoutSagaLogs', { retention: RetentionDays.ONE_WEEK, removalPolicy: RemovalPolicy.DESTROY }),
        // Every state transition, without execution data (inputs/outputs stay out of the logs).
        level: LogLevel.ALL,
        includeExecutionData: false,
      },
    });
    stepFunction.grantInvoke(sm);
    return sm;
  }
}

const cap = (s: string) => s[0].toUpperCase() + s.slice(1);
const pascal = (s: string) =>
  s
    .split(/[^a-zA-Z0-9]/)
    .map(cap)
    .join('');
