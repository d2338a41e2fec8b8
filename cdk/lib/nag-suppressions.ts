import { ArnFormat, type CfnElement, type Stack, Token, Validations } from 'aws-cdk-lib';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { StateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { SAGA_STATE_MACHINE_NAME } from './platform';

/**
 * Every cdk-nag (AwsSolutions) finding this stack accepts, each with the reason, in one place.
 * cdk-nag 3 reads acknowledgements from CDK's own Validations metadata; the check itself runs in
 * test/unit/cdk-nag.test.ts (not at deploy, so a new finding fails a test, not a deploy).
 * Wildcard (IAM5) findings are acknowledged one by one, by their exact finding id.
 */

/** The saga's executions: `execution:<machine>:*` (execution ARNs are not known in advance). */
export function sagaExecutionsArn(stack: Stack): string {
  return stack.formatArn({ service: 'states', resource: 'execution', resourceName: `${SAGA_STATE_MACHINE_NAME}:*`, arnFormat: ArnFormat.COLON_RESOURCE_NAME });
}

const STACK_WIDE: Record<string, string> = {
  'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]':
    'AWSLambdaBasicExecutionRole only lets a function write its own CloudWatch Logs (CreateLogStream/PutLogEvents); a hand-written copy would be the same policy with more to maintain.',
  'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole]':
    'aws target only: a Lambda in a VPC needs the ec2 network-interface actions (Create/Describe/DeleteNetworkInterface, Assign/UnassignPrivateIpAddresses) that the Lambda service uses to manage its ENIs. AWS documents this managed policy for it and keeps its action list current; the Describe actions have no resource-level permissions, so a hand-written copy could not be much narrower.',
  'AwsSolutions-APIG4':
    'The public REST API is one proxy to the BFF, where authorization is in code: every route declares its access (anyone / signedIn / admin, functions/bff/access.ts) and the BFF verifies ES256 access tokens (JWKS, iss/aud/exp, denylist) before protected routes; webhooks are verified by provider signature; public reads are public by design. The per-service HTTP APIs use IAM authorization (HttpIamAuthorizer) with per-route execute-api grants.',
  'AwsSolutions-COG4':
    'The system issues its own ES256 access tokens (identity service) and verifies them in the BFF; a Cognito user pool would be a second identity provider. Webhook routes are authenticated by provider signatures.',
  'AwsSolutions-APIG2':
    'Requests are validated in the Lambdas (zod schemas per route, problem+json 400/415/413); the REST API is a single proxy to the BFF, where a gateway model could not express per-route schemas.',
  'AwsSolutions-APIG1':
    'Access logging needs an account-level CloudWatch role and log destinations the local emulator does not provide; the BFF and every service log each request with its correlation id to their own log groups.',
  'AwsSolutions-APIG6':
    'Execution logging for all methods needs the account-level API Gateway CloudWatch role (cloudWatchRole: false keeps the stack deployable on the emulator); the Lambdas log every request themselves.',
  'AwsSolutions-APIG3':
    'No WAF in the reference stack: rate limiting is done by the BFF (token bucket per client in Redis). A deployment facing the internet should attach a WAFv2 web ACL to the stage.',
};

/** Renders an ARN or Fn::GetAtt the way cdk-nag names it in a finding id. */
const nagArn = (stack: Stack, fn: IFunction) => `<${stack.getLogicalId(fn.node.defaultChild as CfnElement)}.Arn>:*`;
export const region = (stack: Stack) => (Token.isUnresolved(stack.region) ? '<AWS::Region>' : stack.region);
export const account = (stack: Stack) => (Token.isUnresolved(stack.account) ? '<AWS::AccountId>' : stack.account);

export function applyNagSuppressions(
  stack: Stack,
  target: 'local' | 'aws',
  parts: { saga: StateMachine; sagaStep: IFunction; payments: IFunction; dispatcher: IFunction; orders: IFunction; ordersDispatcher: IFunction },
): void {
  for (const [id, reason] of Object.entries(STACK_WIDE)) Validations.of(stack).acknowledge({ id, reason });
  if (target === 'local') {
    const reason =
      'Local target only: the emulator is reached over plain HTTP on 127.0.0.1 and, with AUTH=true, evaluates aws:SecureTransport as AWS does, so a TLS-only policy would refuse every call. The AWS template keeps enforceSSL on every topic and queue (cdk/lib/platform.ts).';
    Validations.of(stack).acknowledge({ id: 'AwsSolutions-SNS3', reason });
    Validations.of(stack).acknowledge({ id: 'AwsSolutions-SQS4', reason });
  }

  const sagaPolicy = parts.saga.role.node.tryFindChild('DefaultPolicy') ?? parts.saga.role;
  Validations.of(sagaPolicy).acknowledge({
    id: 'AwsSolutions-IAM5[Resource::*]',
    reason:
      'Step Functions log delivery (logs:CreateLogDelivery, logs:DescribeResourcePolicies, ...) and X-Ray tracing (xray:PutTraceSegments, ...) do not support resource-level permissions; AWS documents Resource "*" for both.',
  });
  Validations.of(sagaPolicy).acknowledge({
    id: `AwsSolutions-IAM5[Resource::${nagArn(stack, parts.sagaStep)}]`,
    reason: 'grantInvoke covers the saga step function and its versions/aliases (<arn>:*); it names one function, the saga step.',
  });

  const paymentsPolicy = parts.payments.role?.node.tryFindChild('DefaultPolicy');
  if (paymentsPolicy) {
    Validations.of(paymentsPolicy).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${nagArn(stack, parts.dispatcher)}]`,
      reason: 'The payments API kicks its own outbox dispatcher after each commit: grantInvoke covers that one function and its versions/aliases.',
    });
  }
  // Orders' API and saga step kick the orders outbox dispatcher after each commit.
  for (const fn of [parts.orders, parts.sagaStep]) {
    const policy = fn.role?.node.tryFindChild('DefaultPolicy');
    if (!policy) continue;
    Validations.of(policy).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${nagArn(stack, parts.ordersDispatcher)}]`,
      reason: 'grantInvoke of the orders outbox dispatcher (one function, with its versions/aliases) so the API and the saga step can kick it after each commit.',
    });
  }
  const ordersPolicy = parts.orders.role?.node.tryFindChild('DefaultPolicy');
  if (ordersPolicy) {
    Validations.of(ordersPolicy).acknowledge({
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:${region(stack)}:${account(stack)}:execution:${SAGA_STATE_MACHINE_NAME}:*]`,
      reason:
        'Orders reads the history of the saga executions it started (GET /api/orders/{id}/trace); execution ARNs are only known at run time, so the grant is every execution of the one checkout saga.',
    });
  }
}
