import { lambdaLimits } from '../../scripts/lib/settings';

/** The embedded runtime's bounds (scripts/lib/settings.ts): sized from the machine, overridable, checked. */
describe('lambdaLimits', () => {
  const machine = (cores: number, memoryGiB: number) => ({ cores, memoryMiB: memoryGiB * 1024 });

  it('sizes the account-wide cap from cores and memory, within 16..128', () => {
    expect(lambdaLimits({}, machine(2, 24))).toEqual({ accountConcurrency: 32, warmTtlSeconds: 20 });
    // Memory-bound: 4 GiB × 15 % / 100 MiB = 6 → the floor of 16.
    expect(lambdaLimits({}, machine(8, 4)).accountConcurrency).toBe(16);
    expect(lambdaLimits({}, machine(64, 512)).accountConcurrency).toBe(128);
    // 16 GiB × 15 % / 100 MiB = 24 < 4 cores × 16.
    expect(lambdaLimits({}, machine(4, 16)).accountConcurrency).toBe(24);
  });

  it('takes overrides, and refuses malformed ones instead of running unbounded', () => {
    expect(lambdaLimits({ CM_LAMBDA_CONCURRENCY: '8', CM_LAMBDA_WARM_TTL_SECONDS: '30' }, machine(2, 24))).toEqual({ accountConcurrency: 8, warmTtlSeconds: 30 });
    expect(() => lambdaLimits({ CM_LAMBDA_CONCURRENCY: 'lots' }, machine(2, 24))).toThrow(/CM_LAMBDA_CONCURRENCY must be a positive integer/);
    expect(() => lambdaLimits({ CM_LAMBDA_CONCURRENCY: '0' }, machine(2, 24))).toThrow(/positive integer/);
    expect(() => lambdaLimits({ CM_LAMBDA_WARM_TTL_SECONDS: '1.5' }, machine(2, 24))).toThrow(/CM_LAMBDA_WARM_TTL_SECONDS/);
  });
});
