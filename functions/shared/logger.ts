import { Logger } from '@aws-lambda-powertools/logger';

/** One structured JSON logger per process; the service name comes from SERVICE_NAME. */
export const logger = new Logger({
  serviceName: process.env.SERVICE_NAME ?? 'checkout-mesh',
  logLevel: (process.env.LOG_LEVEL as 'INFO' | 'DEBUG' | 'WARN' | 'ERROR' | undefined) ?? 'INFO',
});
