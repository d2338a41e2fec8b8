import { type HttpProblem, problemFor, type ProblemSpec } from '../../shared/problem';
import { OrderError, type OrderErrorCode } from '../core/errors';

/** Orders' refusals over HTTP (docs/orders.md). */
const ORDER_PROBLEMS: Record<OrderErrorCode, ProblemSpec> = {
  unknownProducts: { status: 422, type: 'validation' },
};

export const orderProblem = (err: unknown): HttpProblem | undefined => (err instanceof OrderError ? problemFor(err, ORDER_PROBLEMS) : undefined);
