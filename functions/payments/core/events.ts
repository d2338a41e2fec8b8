/** Event types payments publishes on the payments topic. */
export const PaymentEventType = {
  succeeded: 'PaymentSucceeded',
  failed: 'PaymentFailed',
  captured: 'PaymentCaptured',
  cancelled: 'PaymentCancelled',
  refunded: 'PaymentRefunded',
} as const;

export const PAYMENTS_SOURCE = 'payments';
export const AGGREGATE = 'PaymentSession';
