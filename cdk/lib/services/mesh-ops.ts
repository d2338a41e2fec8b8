import type { HttpApi } from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpMethod } from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';
import { CONSUMER_QUEUES, type QueueOwner } from '../../../functions/shared/consumer-queues';
import { ServiceFunction } from '../service-function';
import type { ServiceContext } from '../service-context';

/** The ops routes (shared/mesh-ops.ts), as the owner's HTTP API serves them and the BFF calls them. */
const MESH_OPS_ROUTES = [
  [HttpMethod.GET, '/ops/outbox'],
  [HttpMethod.GET, '/ops/dlq'],
  [HttpMethod.POST, '/ops/dlq/{queue}/redrive'],
] as const;

/**
 * A queue owner's ops Lambda (functions/<owner>/handlers/ops.ts): its outbox backlog, its consumers'
 * DLQ depths and redrive, on the owner's own HTTP API as route integrations (same URL, same IAM
 * authorizer, same execute-api grants for the BFF; every other path stays on the `$default` route,
 * the owner's API Lambda). Only this function's role may touch the owner's consumer queues, and the
 * API Lambda carries no SQS client (docs/bench.md#bundles). Admin-only: one worker locally (the
 * emulator's memory budget, config.ts lambdaConcurrency), the account pool on AWS.
 */
export function meshOpsFunction(scope: Construct, ctx: ServiceContext, owner: QueueOwner, api: HttpApi): ServiceFunction {
  const fn = new ServiceFunction(scope, 'Ops', {
    service: owner,
    handler: 'ops',
    config: ctx.config,
    database: true,
    reservedConcurrency: ctx.config.concurrency.ops,
  });
  const integration = new HttpLambdaIntegration('OpsIntegration', fn);
  for (const [method, path] of MESH_OPS_ROUTES) api.addRoutes({ path, methods: [method], integration });
  // Reports and redrives only the owner's own consumer queues (not every checkout-mesh-* queue).
  const queues = CONSUMER_QUEUES[owner].map((name) => ctx.platform.queues[name]);
  fn.addToRolePolicy(
    new PolicyStatement({
      actions: ['sqs:GetQueueUrl', 'sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:SendMessage', 'sqs:GetQueueAttributes'],
      resources: queues.flatMap((q) => [q.queue.queueArn, q.dlq.queueArn]),
    }),
  );
  return fn;
}
