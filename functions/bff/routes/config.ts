import { config } from '../../shared/config';
import { json } from '../../shared/http';
import { publicRoute, type PublicRoute } from '../access';
// The saga's ASL, the file the CDK app deploys (its ${placeholders} filled in there), bundled in.
import sagaDefinition from '../../../stepfunctions/checkout-saga.asl.json';

/** The saga's forward steps, in order: the Task states the ASL comments as "forward step". */
const forwardSteps = (): string[] =>
  Object.entries(sagaDefinition.States as Record<string, { Type: string; Comment?: string }>)
    .filter(([, s]) => s.Type === 'Task' && /forward step/.test(s.Comment ?? ''))
    .map(([name]) => name);

/**
 * GET /api/config: the public client configuration of the pages — what a browser needs to talk
 * to the payment providers (Stripe.js's publishable key and API host), the services behind the
 * BFF and the saga's steps (the /chaos page's switches and forms). Nothing secret.
 * GET /api/saga/definition: the state machine's ASL, drawn as a graph by the order page and /chaos.
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
          services: Object.keys(config().SERVICE_APIS).filter((s) => s !== 'chaos'),
          saga: { steps: forwardSteps(), failureModes: ['error', 'timeout'] },
        },
        { 'cache-control': 'public, max-age=60' },
      ),
    ),
    publicRoute('GET', '/api/saga/definition', 'anyone', async () => json(200, sagaDefinition, { 'cache-control': 'public, max-age=300' })),
  ];
}
