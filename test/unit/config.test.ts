import { breakerSettings, retrySettings } from '../../functions/bff/downstream';
import { claimsSettings } from '../../functions/claims/core/model';
import { config, loggingConfig, tokenConfig } from '../../functions/shared/config';

/**
 * Every environment variable goes through shared/config.ts's schema: defaults when unset, and a
 * malformed value stops the cold start with a message naming the variable, never a silent NaN.
 */
const base = { SERVICE_NAME: 'orders' };

describe('config: defaults of the variables shared modules read', () => {
  it('logging, tokens, claims, breakers and retries', () => {
    expect(loggingConfig({})).toEqual({ SERVICE_NAME: 'checkout-mesh', LOG_LEVEL: 'INFO' });
    expect(loggingConfig({ SERVICE_NAME: 'bff', LOG_LEVEL: 'debug' })).toEqual({ SERVICE_NAME: 'bff', LOG_LEVEL: 'DEBUG' });
    expect(tokenConfig({})).toEqual({
      JWT_ISSUER: 'https://identity.checkout-mesh.dev',
      JWT_AUDIENCE: 'checkout-mesh-api',
      ACCESS_TOKEN_MAX_LIFETIME_SEC: 900,
      JWKS_URL: undefined,
    });
    expect(tokenConfig({ JWKS_URL: '' }).JWKS_URL).toBeUndefined();
    expect(claimsSettings(config({ ...base }))).toEqual({ ttlSeconds: 86_400, leaseSeconds: 30 });
    expect(claimsSettings(config({ ...base, CLAIMS_LEASE_SECONDS: '45' }))).toEqual({ ttlSeconds: 86_400, leaseSeconds: 45 });
    expect(breakerSettings({})).toEqual({ errorThresholdPercentage: 50, volumeThreshold: 5, resetTimeoutMs: 5000, rollingWindowMs: 10_000 });
    expect(config({ ...base })).toMatchObject({ BREAKER_BOARD_TTL_MS: 60_000, BREAKER_BOARD_INTERVAL_MS: 5000 });
    expect(retrySettings({ RETRY_MAX: '0' })).toEqual({ retries: 0, baseDelayMs: 50, maxDelayMs: 500, throttleRetries: 25, budgetMs: 20_000, shedAfterMs: 800 });
    expect(config({ ...base, ORDERS_TOPIC_ARN: 'arn:aws:sns:us-east-1:000000000000:orders' }).ORDERS_TOPIC_ARN).toMatch(/:orders$/);
  });
});

describe('config: a malformed value stops the cold start with a message naming it', () => {
  it.each([
    ['LOG_LEVEL', 'LOUD'],
    ['JWT_ISSUER', 'not a url'],
    ['JWT_AUDIENCE', ''],
    ['ACCESS_TOKEN_MAX_LIFETIME_SEC', 'fifteen minutes'],
    ['ACCESS_TOKEN_MAX_LIFETIME_SEC', '0'],
    ['JWKS_URL', 'identity/jwks'],
    ['CLAIMS_TTL_SECONDS', '1.5'],
    ['CLAIMS_LEASE_SECONDS', '-30'],
    ['BREAKER_ERROR_PERCENT', '150'],
    ['BREAKER_BOARD_TTL_MS', '60 s'],
    ['BREAKER_VOLUME_THRESHOLD', 'five'],
    ['BREAKER_RESET_MS', ''],
    ['RETRY_MAX', '-1'],
    ['RETRY_THROTTLED_MAX', 'NaN'],
    ['DOWNSTREAM_BUDGET_MS', '20s'],
    ['RATE_LIMITS', '{"write":{"capacity":0}}'],
    ['BFF_MAX_QUEUE', ''],
    ['BFF_READ_BUDGET_MS', '4e3'],
    ['HTTP_TIMEOUT_MS', '3 s'],
    ['PGPORT', 'postgres'],
  ])('%s=%j', (name, value) => {
    expect(() => config({ ...base, [name]: value })).toThrow(new RegExp(`Invalid configuration: ${name}: `));
  });

  it('the sections read on their own (logger, tokens, BFF) refuse the same values', () => {
    expect(() => loggingConfig({ LOG_LEVEL: 'verbose' })).toThrow(/Invalid configuration: LOG_LEVEL: /);
    expect(() => tokenConfig({ ACCESS_TOKEN_MAX_LIFETIME_SEC: '15m' })).toThrow(/ACCESS_TOKEN_MAX_LIFETIME_SEC must be a positive integer, got "15m"/);
    expect(() => breakerSettings({ BREAKER_WINDOW_MS: '10 s' })).toThrow(/Invalid configuration: BREAKER_WINDOW_MS: /);
    expect(() => retrySettings({ RETRY_BASE_MS: '0' })).toThrow(/Invalid configuration: RETRY_BASE_MS: /);
  });
});
