import { config } from '../../shared/config';
import { json } from '../../shared/http';
import { publicRoute, type PublicRoute } from '../access';

/**
 * GET /api/config: the public client configuration of the storefront — what a browser needs
 * to talk to the payment providers (Stripe.js's publishable key and API host). Nothing secret.
 */
export function configRoutes(): PublicRoute[] {
  return [
    publicRoute('GET', '/api/config', 'anyone', async () =>
      json(
        200,
        {
          payments: {
            stripe: {
              publishableKey: config().STRIPE_PUBLISHABLE_KEY,
              apiBase: config().STRIPE_PUBLIC_API_BASE,
            },
            paypal: {},
          },
        },
        { 'cache-control': 'public, max-age=60' },
      ),
    ),
  ];
}
