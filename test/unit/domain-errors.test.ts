import type { Context } from 'aws-lambda';
import { identityProblem } from '../../functions/identity/adapters/problems';
import { IdentityError } from '../../functions/identity/core/errors';
import { paymentProblem } from '../../functions/payments/adapters/problems';
import { PaymentError, type PaymentErrorCode } from '../../functions/payments/core/errors';
import { DomainError } from '../../functions/shared/domain-error';
import { httpApi, route } from '../../functions/shared/http';
import { PROBLEM_BASE } from '../../functions/shared/problem';

/**
 * Cores throw their own errors; each handler maps them to problem+json with the status and
 * `type` clients (and the saga) already branch on. These pin the wire contract of the mapping.
 */
describe('payments: PaymentError codes keep their status and type', () => {
  it.each<[PaymentErrorCode, number, string]>([
    ['sessionNotFound', 404, 'not-found'],
    ['termsMismatch', 422, 'idempotency-key-mismatch'],
    ['operationNotAllowed', 409, 'conflict'],
    ['providerRefused', 409, 'conflict'],
    ['providerFailed', 502, 'upstream-unavailable'],
    ['providerUnconfigured', 503, 'dependency-down'],
  ])('%s -> %i %s', (code, status, type) => {
    const problem = paymentProblem(new PaymentError(code, 'why'))!;
    expect(problem).toMatchObject({ status, type: PROBLEM_BASE + type, message: 'why' });
  });
  it('other errors are not its business', () => {
    expect(paymentProblem(new Error('x'))).toBeUndefined();
  });
});

describe('identity: IdentityError answers as every verifier does', () => {
  it('unauthorized: 401 with WWW-Authenticate and the same detail', () => {
    const p = identityProblem(new IdentityError('unauthorized', 'The email or password is incorrect'))!;
    expect(p).toMatchObject({ status: 401, type: `${PROBLEM_BASE}unauthorized`, message: 'The email or password is incorrect' });
    expect(p.headers['www-authenticate']).toBe('Bearer error="invalid_token"');
  });
  it('tooManyLogins: 429 with Retry-After and the RateLimit headers of the throttle that refused', () => {
    const p = identityProblem(
      new IdentityError('tooManyLogins', 'Too many login attempts; try again later', { policy: 'login-account', limit: 3, windowSec: 60, retryAfterSec: 42 }),
    )!;
    expect(p).toMatchObject({ status: 429, type: `${PROBLEM_BASE}rate-limited` });
    expect(p.headers).toEqual({ 'retry-after': '42', 'ratelimit-policy': '"login-account";q=3;w=60', ratelimit: '"login-account";r=0;t=42' });
  });
});

describe('httpApi toProblem', () => {
  class ShelfError extends DomainError<'empty'> {}
  const handler = httpApi(
    [
      route('GET', '/shelf', () => {
        throw new ShelfError('empty', 'Nothing on the shelf', { shelf: 3 });
      }),
      route('GET', '/boom', () => {
        throw new Error('secret internal detail');
      }),
    ],
    { toProblem: (err) => (err instanceof ShelfError ? paymentProblem(new PaymentError('sessionNotFound', err.message, err.facts)) : undefined) },
  );
  const get = async (path: string) => {
    const res = await handler(
      {
        httpMethod: 'GET',
        path,
        headers: {},
        body: null,
        isBase64Encoded: false,
        queryStringParameters: null,
        requestContext: { identity: { sourceIp: '127.0.0.1' } },
      } as never,
      {} as Context,
    );
    return { status: res.statusCode, body: JSON.parse(res.body) as Record<string, unknown> };
  };

  it('renders a mapped domain error as its problem, facts as extensions', async () => {
    expect(await get('/shelf')).toMatchObject({ status: 404, body: { type: `${PROBLEM_BASE}not-found`, detail: 'Nothing on the shelf', shelf: 3 } });
  });
  it('an unmapped error is still a 500 without internals', async () => {
    const res = await get('/boom');
    expect(res.status).toBe(500);
    expect(JSON.stringify(res.body)).not.toContain('secret');
  });
});
