import { LambdaIntegration, MethodLoggingLevel, ResponseType, RestApi } from 'aws-cdk-lib/aws-apigateway';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { Construct } from 'constructs';
import { PROBLEM_BASE, ProblemType } from '../../functions/shared/problem';
import type { StageThrottle } from './config';

/** The public REST API's stage (the storefront lives at its root). */
export const PUBLIC_STAGE = 'prod';

/** Seconds a refused client is told to wait: the bucket refills and workers free up within it. */
export const PLATFORM_RETRY_AFTER_SECONDS = 1;

/**
 * The public REST API: every path to the BFF, provider webhooks to payments. What the platform
 * itself answers is shaped like the BFF's own refusals, so a client never sees API Gateway's or
 * Lambda's raw bodies:
 *   - the stage's token bucket (rate, burst) refuses the surplus of a crowd before any Lambda
 *     starts (THROTTLED);
 *   - a Lambda that cannot run (throttled at its reserved or the account's concurrency) is an
 *     integration failure on AWS (INTEGRATION_FAILURE; the emulator is corrected to match,
 *     localstack/ministack_launch.py), and so is a timeout;
 * all three become 503 problem+json `service-overloaded` / `upstream-timeout` with Retry-After,
 * never a 504 or 429 without it. Other gateway errors keep their status with a problem+json body.
 */
export function publicRestApi(scope: Construct, id: string, props: { bff: IFunction; webhooks: IFunction; throttle: StageThrottle }): RestApi {
  const api = new RestApi(scope, id, {
    restApiName: 'checkout-mesh-public',
    cloudWatchRole: false,
    binaryMediaTypes: ['image/*', 'font/*'],
    deployOptions: {
      stageName: PUBLIC_STAGE,
      loggingLevel: MethodLoggingLevel.OFF,
      tracingEnabled: true,
      throttlingRateLimit: props.throttle.rateLimit,
      throttlingBurstLimit: props.throttle.burstLimit,
    },
  });
  const toBff = new LambdaIntegration(props.bff);
  api.root.addMethod('ANY', toBff);
  api.root.addProxy({ defaultIntegration: toBff, anyMethod: true });
  api.root.addResource('webhooks').addResource('{provider}').addMethod('POST', new LambdaIntegration(props.webhooks));

  const refusal = (type: string, detail: string) => ({
    statusCode: '503',
    responseHeaders: { 'Content-Type': "'application/problem+json'", 'Retry-After': `'${PLATFORM_RETRY_AFTER_SECONDS}'` },
    templates: { 'application/json': problemTemplate(type, 'Service Unavailable', detail, 503) },
  });
  api.addGatewayResponse('Throttled', {
    type: ResponseType.THROTTLED,
    ...refusal(ProblemType.overloaded, 'The shop is busy right now: retry in a second.'),
  });
  api.addGatewayResponse('IntegrationFailure', {
    type: ResponseType.INTEGRATION_FAILURE,
    ...refusal(ProblemType.overloaded, 'The shop is busy right now: retry in a second.'),
  });
  api.addGatewayResponse('IntegrationTimeout', {
    type: ResponseType.INTEGRATION_TIMEOUT,
    ...refusal(ProblemType.upstreamTimeout, 'The request took too long: retry in a second.'),
  });
  api.addGatewayResponse('Default5xx', {
    type: ResponseType.DEFAULT_5XX,
    responseHeaders: { 'Content-Type': "'application/problem+json'" },
    templates: { 'application/json': problemTemplate(ProblemType.internal, 'Gateway Error', undefined) },
  });
  api.addGatewayResponse('Default4xx', {
    type: ResponseType.DEFAULT_4XX,
    responseHeaders: { 'Content-Type': "'application/problem+json'" },
    templates: { 'application/json': problemTemplate(ProblemType.gatewayRefused, 'Request Refused', undefined) },
  });
  return api;
}

/**
 * A problem+json body as a gateway response template. `$context.error.messageString` is already a
 * quoted JSON string; the request id lets support find the request in API Gateway's logs.
 */
function problemTemplate(type: string, title: string, detail: string | undefined, status?: number): string {
  const fields = [
    `"type":"${PROBLEM_BASE}${type}"`,
    `"title":"${title}"`,
    ...(status ? [`"status":${status}`] : []),
    `"detail":${detail === undefined ? '$context.error.messageString' : JSON.stringify(detail)}`,
    '"traceId":"$context.requestId"',
  ];
  return `{${fields.join(',')}}`;
}
