import { Construct } from 'constructs';
import { ServiceFunction, serviceHttpApi } from '../service-function';
import type { ServiceContext, ServiceParts } from '../service-context';

/** A service whose only Lambda (so far) is its HTTP API handler. */
export function apiService(
  scope: Construct,
  service: 'identity' | 'catalog' | 'claims' | 'payments' | 'orders',
  ctx: ServiceContext,
  extra: { environment?: Record<string, string> } = {},
): ServiceParts {
  const construct = new Construct(scope, cap(service));
  const fn = new ServiceFunction(construct, 'Api', {
    service,
    handler: 'api',
    config: ctx.config,
    database: true,
    environment: extra.environment,
    reservedConcurrency: ctx.config.concurrency[service],
  });
  const api = serviceHttpApi(construct, `${service}-api`, fn, ctx.config.throttling.service);
  return { fn, api };
}

export const cap = (s: string) => s[0].toUpperCase() + s.slice(1);
