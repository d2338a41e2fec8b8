import { Logger } from '@aws-lambda-powertools/logger';
import { loggingConfig } from './config';

/** One structured JSON logger per process; a malformed LOG_LEVEL stops the cold start (config.ts). */
const { SERVICE_NAME, LOG_LEVEL } = loggingConfig();
export const logger = new Logger({ serviceName: SERVICE_NAME, logLevel: LOG_LEVEL });
