import type { HttpApi } from 'aws-cdk-lib/aws-apigatewayv2';
import type { DeployConfig } from './config';
import type { Platform } from './platform';
import type { ServiceFunction } from './service-function';

/** What each service construct receives from the stack. */
export interface ServiceContext {
  config: DeployConfig;
  platform: Platform;
}

/** What each service construct hands back: its API Lambda and HTTP API. */
export interface ServiceParts {
  fn: ServiceFunction;
  api: HttpApi;
}

/** SERVICE_APIS value for a function that calls these services: {name: {apiId, stage}}. */
export function serviceApisEnv(apis: Record<string, HttpApi>): string {
  // apiId is a token; CDK renders the whole string as an Fn::Join resolved at deploy time.
  const entries = Object.entries(apis).map(([name, api]) => `"${name}":{"apiId":"${api.apiId}","stage":"$default"}`);
  return `{${entries.join(',')}}`;
}
