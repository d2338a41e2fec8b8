// Paying for an order from the browser, the way the providers' own scripts do it: Stripe
// confirms the PaymentIntent with the publishable key (Stripe.js), PayPal sends the buyer to its
// approval page. The provider then tells the payments service by signed webhook; the page only
// watches the order.
import { api } from './api.js';

let config;
export async function paymentConfig() {
  config ??= api('api/config', { auth: false }).then((r) => r.body.payments);
  return config.catch((err) => {
    config = undefined;
    throw err;
  });
}

/** Confirms the order's Stripe PaymentIntent; `pm_card_chargeDeclined` simulates a decline. */
export async function payWithStripe(payment, paymentMethod = 'pm_card_visa') {
  const { stripe } = await paymentConfig();
  const res = await fetch(`${stripe.apiBase.replace(/\/$/, '')}/v1/payment_intents/${encodeURIComponent(payment.providerRef)}/confirm`, {
    method: 'POST',
    headers: { authorization: `Bearer ${stripe.publishableKey}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ client_secret: payment.clientSecret, payment_method: paymentMethod }),
  });
  const body = await res.json().catch(() => ({}));
  // A decline is a 402 with the intent in error.payment_intent: the webhook still reports it.
  if (!res.ok && res.status !== 402) throw new Error(body.error?.message || `Stripe answered ${res.status}`);
  return body;
}

/** Sends the browser to PayPal's approval page; PayPal sends it back to the order page (the return and cancel URLs payments set). */
export function payWithPayPal(payment) {
  window.location.assign(payment.approveUrl);
}
