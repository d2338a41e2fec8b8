// Failure reasons in plain language. The orders service records why a saga failed in technical
// terms ("payment: failed", "States.Timeout: …", "Runtime.HandlerError: {…}"); a shopper reads
// what happened and what it means for them, never an error code or a JSON blob.

/** The sentence shown on a failed order. */
export function plainFailure(order, { cancelled = false } = {}) {
  const reason = String(order.failureReason || '');
  const provider = order.paymentProvider;
  if (cancelled && order.state === 'FAILED') return 'You cancelled the PayPal payment, so the order was cancelled. You have not been charged.';
  if (order.state === 'NEEDS_ATTENTION') {
    return 'We could not finish undoing this order automatically. Our team has been alerted and will sort it out; you will not be charged twice.';
  }
  if (/^payment: (failed|declined)/.test(reason)) {
    return provider === 'paypal' ? 'The PayPal payment was cancelled or declined. You have not been charged.' : 'Your card was declined. You have not been charged.';
  }
  if (/^capture: /.test(reason)) return 'The payment could not be collected. You have not been charged.';
  if (/^reservation: /.test(reason)) return 'Some items in this order are no longer in stock. You have not been charged.';
  if (/^paymentSession: /.test(reason)) return 'The payment could not be started. You have not been charged.';
  if (/Timeout/i.test(reason)) return 'The checkout took too long and was stopped. Any payment was released and the items were put back; you have not been charged.';
  return 'Something went wrong on our side while processing this order. Any payment was released and the items were put back; you have not been charged.';
}

/** A saga step's error in a few words (the timeline). */
export function plainStepError(error, cause) {
  if (!error) return '';
  if (/Timeout|TimedOut/i.test(error)) return 'timed out';
  let message = '';
  try {
    const c = JSON.parse(cause || '');
    message = c.errorMessage || c.message || '';
  } catch {
    message = cause && cause.length < 120 ? cause : '';
  }
  return message ? `the step failed: ${message.length > 120 ? `${message.slice(0, 120)}…` : message}` : 'the step failed';
}
