import { startPayPalFake } from './paypal-fake';
import { startStripeFake } from './stripe-fake';

/**
 * Runs the local payment provider FAKES (Stripe and PayPal stand-ins, not the real services)
 * as one process for `npm start`: the deployed payments Lambda calls them instead of
 * api.stripe.com / api-m.paypal.com, the browser confirms payments against them, and they
 * deliver signed webhooks to the public API like the real providers do.
 *
 * Configured by environment (set by scripts/lib/infra.ts):
 *   STRIPE_FAKE_PORT, STRIPE_FAKE_WEBHOOK_URL, STRIPE_FAKE_WEBHOOK_SECRET
 *   PAYPAL_FAKE_PORT, PAYPAL_FAKE_WEBHOOK_URL, PAYPAL_FAKE_WEBHOOK_ID, PAYPAL_FAKE_CLIENT_ID, PAYPAL_FAKE_CLIENT_SECRET
 *   FAKES_BIND_HOST (127.0.0.1; 0.0.0.0 when Lambdas in containers call them), PAYPAL_FAKE_CERT_BASE_URL
 */
const env = process.env;
const log = (who: string) => (line: string) => console.log(`${new Date().toISOString()} ${who} ${line}`);

function required(name: string): string {
  const v = env[name];
  if (!v) throw new Error(`${name} is not set`);
  return v;
}

async function main(): Promise<void> {
  const stripe = await startStripeFake({
    port: Number(required('STRIPE_FAKE_PORT')),
    host: env.FAKES_BIND_HOST ?? '127.0.0.1',
    webhook: { url: required('STRIPE_FAKE_WEBHOOK_URL'), secret: required('STRIPE_FAKE_WEBHOOK_SECRET') },
    log: log('stripe'),
  });
  const paypal = await startPayPalFake({
    port: Number(required('PAYPAL_FAKE_PORT')),
    host: env.FAKES_BIND_HOST ?? '127.0.0.1',
    certBaseUrl: env.PAYPAL_FAKE_CERT_BASE_URL || undefined,
    clientId: required('PAYPAL_FAKE_CLIENT_ID'),
    clientSecret: required('PAYPAL_FAKE_CLIENT_SECRET'),
    webhook: { url: required('PAYPAL_FAKE_WEBHOOK_URL'), webhookId: required('PAYPAL_FAKE_WEBHOOK_ID') },
    log: log('paypal'),
  });
  console.log(`stripe fake on ${stripe.url}, paypal fake on ${paypal.url}`);
  const stop = () => {
    void Promise.all([stripe.close(), paypal.close()]).then(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((err: Error) => {
  console.error(`payment fakes failed to start: ${err.message}`);
  process.exit(1);
});
