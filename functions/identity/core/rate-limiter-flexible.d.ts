/**
 * The two classes identity's login throttling uses, each from its own module: the package's index
 * requires every limiter it ships (Mongo, MySQL, DynamoDB, Prisma, etcd, ...), ~60 KB of the bundle
 * esbuild cannot drop from CommonJS. The types are the package's own.
 */
declare module 'rate-limiter-flexible/lib/RateLimiterRedis' {
  import { RateLimiterRedis } from 'rate-limiter-flexible';
  export default RateLimiterRedis;
}

declare module 'rate-limiter-flexible/lib/RateLimiterRes' {
  import { RateLimiterRes } from 'rate-limiter-flexible';
  export default RateLimiterRes;
}
