import { type HttpProblem, problemFor, type ProblemSpec } from '../../shared/problem';
import { PaymentError, type PaymentErrorCode } from '../core/errors';

/** Payments' refusals over HTTP (docs/payments.md); the saga reads 409 as a business outcome, 5xx as a failure. */
const PAYMENT_PROBLEMS: Record<PaymentErrorCode, ProblemSpec> = {
  sessionNotFound: { status: 404, type: 'notFound' },
  termsMismatch: { status: 422, type: 'idempotencyKeyMismatch' },
  operationNotAllowed: { status: 409, type: 'conflict' },
  providerRefused: { status: 409, type: 'conflict' },
  providerFailed: { status: 502, type: 'upstreamUnavailable' },
  providerUnconfigured: { status: 503, type: 'dependencyDown' },
  nothingToReplay: { status: 404, type: 'notFound' },
};

export const paymentProblem = (err: unknown): HttpProblem | undefined => (err instanceof PaymentError ? problemFor(err, PAYMENT_PROBLEMS) : undefined);
