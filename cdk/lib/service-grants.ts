import { type CfnElement, Stack, Validations } from 'aws-cdk-lib';
import type { HttpApi } from 'aws-cdk-lib/aws-apigatewayv2';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { account, region } from './nag-suppressions';

/**
 * Who may call which route of which service API: the one table the execute-api grants are
 * built from. Each service HTTP API is IAM-authorized (cdk/lib/service-function.ts), so a
 * caller's role reaches only the routes listed here, as
 * `arn:aws:execute-api:<region>:<account>:<api>/$default/<METHOD>/<path>` statements.
 * `*` in a path stands for one id (IAM's `*` also matches `/`, so `/products/*` covers
 * `/products/{id}/stock`; the table lists such routes anyway, to say what is called).
 * The BFF never gets `/internal/*`: reservations and payment sessions are the saga's.
 */
export type ServiceName = 'identity' | 'catalog' | 'claims' | 'payments' | 'orders' | 'chaos';
export type RouteGrant = readonly [method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', path: string];
export type CallerRoutes = Partial<Record<ServiceName, readonly RouteGrant[]>>;

const HEALTH: RouteGrant = ['GET', '/health'];

export const CALLER_ROUTES = {
  /** The public door: what functions/bff/routes/* forward to, plus each service's /health. */
  bff: {
    identity: [
      HEALTH,
      ['POST', '/auth/register'],
      ['POST', '/auth/login'],
      ['POST', '/auth/refresh'],
      ['POST', '/auth/logout'],
      ['GET', '/me'],
      ['GET', '/.well-known/jwks.json'],
    ],
    catalog: [HEALTH, ['GET', '/products'], ['GET', '/products/*'], ['PATCH', '/products/*'], ['PATCH', '/products/*/stock']],
    claims: [HEALTH, ['POST', '/claims'], ['PUT', '/claims/*/outcome'], ['DELETE', '/claims/*'], ['GET', '/faults/*']],
    payments: [HEALTH, ['GET', '/ops/outbox'], ['GET', '/ops/dlq'], ['POST', '/ops/dlq/*/redrive'], ['POST', '/ops/webhooks/stripe/replay']],
    orders: [
      HEALTH,
      ['POST', '/orders'],
      ['GET', '/orders'],
      ['GET', '/orders/*'],
      ['GET', '/orders/*/trace'],
      ['POST', '/orders/*/payment/cancel'],
      ['GET', '/ops/outbox'],
      ['GET', '/ops/dlq'],
      ['POST', '/ops/dlq/*/redrive'],
    ],
    chaos: [HEALTH, ['GET', '/rules'], ['POST', '/rules'], ['DELETE', '/rules'], ['DELETE', '/rules/*']],
  },
  /** Orders' API prices a cart, shows the payment session of an order, and fails it when the buyer cancelled at the provider. */
  ordersApi: {
    catalog: [['GET', '/products/*']],
    payments: [
      ['GET', '/internal/payment-sessions/*'],
      ['POST', '/internal/payment-sessions/*/abandon'],
    ],
  },
  /** The saga steps: reserve/release stock, create/capture/cancel/refund payment sessions. */
  sagaStep: {
    catalog: [
      ['POST', '/internal/reservations'],
      ['DELETE', '/internal/reservations/*'],
    ],
    payments: [
      ['POST', '/internal/payment-sessions'],
      ['GET', '/internal/payment-sessions'],
      ['GET', '/internal/payment-sessions/*'],
      ['POST', '/internal/payment-sessions/*/capture'],
      ['POST', '/internal/payment-sessions/*/cancel'],
      ['POST', '/internal/payment-sessions/*/refund'],
    ],
  },
} as const satisfies Record<string, CallerRoutes>;

/**
 * Adds one execute-api:Invoke statement per called service to the function's role, and
 * acknowledges cdk-nag's wildcard finding (IAM5) for each route whose path has an id in it.
 */
export function grantRoutes(fn: IFunction, apis: Partial<Record<ServiceName, HttpApi>>, routes: CallerRoutes): void {
  const stack = Stack.of(fn);
  for (const [service, grants] of Object.entries(routes) as [ServiceName, readonly RouteGrant[]][]) {
    const api = apis[service];
    if (!api) throw new Error(`grantRoutes: no API for service "${service}"`);
    fn.addToRolePolicy(
      new PolicyStatement({
        actions: ['execute-api:Invoke'],
        resources: grants.map(([method, path]) => api.arnForExecuteApi(method, path, '$default')),
      }),
    );
    const policy = fn.role?.node.tryFindChild('DefaultPolicy');
    if (!policy) continue;
    const apiRef = `<${stack.getLogicalId(api.node.defaultChild as CfnElement)}>`;
    for (const [method, path] of grants.filter(([, p]) => p.includes('*'))) {
      Validations.of(policy).acknowledge({
        id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:execute-api:${region(stack)}:${account(stack)}:${apiRef}/$default/${method}${path}]`,
        reason: `${method} ${path} on the ${service} API: the * is the id in the route's path ({id}); the grant names one method and one route of one API (cdk/lib/service-grants.ts).`,
      });
    }
  }
}
