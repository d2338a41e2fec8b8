import { Duration } from 'aws-cdk-lib';
import { Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { Construct } from 'constructs';
import { ServiceFunction } from '../service-function';
import type { ServiceContext } from '../service-context';

/** Claims' scheduled purge: deletes Idempotency-Key claims past their expiry, every hour. */
export function claimsPurge(scope: Construct, ctx: ServiceContext, schedule: Schedule = Schedule.rate(Duration.hours(1))): ServiceFunction {
  const construct = new Construct(scope, 'ClaimsPurge');
  const fn = new ServiceFunction(construct, 'Fn', {
    service: 'claims',
    handler: 'purge',
    config: ctx.config,
    database: true,
    timeout: Duration.seconds(60),
  });
  new Rule(construct, 'Schedule', {
    description: 'Purge expired Idempotency-Key claims',
    schedule,
    targets: [new LambdaFunction(fn, { retryAttempts: 2 })],
  });
  return fn;
}
