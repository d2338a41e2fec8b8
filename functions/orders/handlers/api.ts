import { randomUUID } from 'node:crypto';
import { SFNClient, DescribeStateMachineCommand } from '@aws-sdk/client-sfn';
import { dispatcherKick } from '../../shared/mesh';
import * as z from 'zod';
import { json, parseJsonBody, route, validate, type HttpRequest } from '../../shared/http';
import { serviceDb } from '../../shared/db';
import { serviceRuntime } from '../../shared/service';
import { HttpProblem } from '../../shared/problem';
import { ServiceClient } from '../../shared/service-client';
import { addRule } from '../../shared/chaos';
import { OrdersPage, PlaceOrderSchema, buildTrace, failurePlanRules, historyView } from '../core/model';
import { priceCart } from '../core/place';
import { HttpCatalog, HttpPayments } from '../adapters/http';
import { orderProblem } from '../adapters/problems';
import { findOrder, insertOrder, listOrders } from '../adapters/pg';
import { executionArnFor, executionHistory, startSaga } from '../adapters/sfn';

const sfn = new SFNClient({});
const runtime = serviceRuntime('orders', {
  postgres: serviceDb,
  extraChecks: {
    stepFunctions: async () => {
      const sm = await sfn.send(new DescribeStateMachineCommand({ stateMachineArn: runtime.cfg.STATE_MACHINE_ARN }));
      return { stateMachine: sm.name, status: sm.status };
    },
  },
});
/** Wakes the orders outbox dispatcher after a commit (an asynchronous invoke; the sweep is the safety net). */
const kickDispatcher = dispatcherKick(runtime.cfg);

let catalogApi: HttpCatalog | undefined;
// Catalog runs at a small reserved concurrency: a throttled (429) price lookup did not run and is retried.
const catalog = () => (catalogApi ??= new HttpCatalog(ServiceClient.fromConfig('catalog', runtime.cfg, { throttleRetries: 6 })));
let paymentsApi: HttpPayments | undefined;
const payments = () => (paymentsApi ??= new HttpPayments(ServiceClient.fromConfig('payments', runtime.cfg)));

const stateMachineArn = () => {
  const arn = runtime.cfg.STATE_MACHINE_ARN;
  if (!arn) throw new HttpProblem(503, 'dependencyDown', 'STATE_MACHINE_ARN is not configured');
  return arn;
};

/**
 * The customer comes from the BFF, which verified the access token. The identity headers are
 * kept only when the signed caller is the BFF's role (shared/iam-caller.ts): from anyone else
 * they are gone by now, and the call is refused.
 */
function customerOf(req: HttpRequest): string {
  const id = req.headers['x-customer-id'];
  if (!id) throw new HttpProblem(401, 'unauthorized', 'x-customer-id is missing (orders is called through the BFF)');
  return id;
}

async function placeOrder(req: HttpRequest) {
  const customerId = customerOf(req);
  const input = parseJsonBody(req, PlaceOrderSchema);
  if (input.failurePlan && !runtime.cfg.FAILURE_PLANS_ENABLED) {
    throw new HttpProblem(422, 'validation', 'Failure plans are disabled in this deployment');
  }
  const { items, amountCents } = priceCart(
    input.items,
    await catalog().products(
      input.items.map((i) => i.productId),
      req.correlationId,
    ),
  );
  const orderId = randomUUID();
  const executionArn = executionArnFor(stateMachineArn(), orderId);
  // Failure plans are chaos rules aimed at this order's step: set before the saga can reach it.
  if (input.failurePlan) {
    for (const rule of failurePlanRules(orderId, input.failurePlan)) await addRule(runtime.redis(), rule);
  }
  const { order } = await insertOrder(
    runtime.db(),
    { id: orderId, customerId, items, amountCents, paymentProvider: input.paymentProvider, executionArn },
    req.correlationId,
  );
  await startSaga(stateMachineArn(), orderId, { orderId, correlationId: req.correlationId });
  await kickDispatcher();
  return json(202, order, { location: `/api/orders/${orderId}` });
}

async function getOrder(req: HttpRequest) {
  const id = validate(z.string().uuid(), req.params.id, 'path.id');
  const customer = customerOf(req);
  const order = await findOrder(runtime.db(), id);
  // Another customer's order is as good as absent (404, not 403: its existence is not told).
  if (!order || (order.customerId !== customer && req.headers['x-customer-role'] !== 'admin')) {
    throw new HttpProblem(404, 'notFound', `Order ${id} does not exist`);
  }
  const { taskToken: _token, ...view } = order;
  return { order: view, body: json(200, view, { 'cache-control': 'no-store' }) };
}

async function getOrderWithPayment(req: HttpRequest) {
  const { order } = await getOrder(req);
  // Payment details matter only while the customer can still pay (or to show what was paid).
  const payment = await payments().paymentView(order.paymentSessionId, req.correlationId);
  return json(200, { ...order, payment }, { 'cache-control': 'no-store' });
}

export const handler = runtime.api(
  [
    route('POST', '/orders', placeOrder),
    // "My orders": the calling customer's own, newest first, paged.
    route('GET', '/orders', async (req) => {
      const customer = customerOf(req);
      const page = validate(OrdersPage, req.query, 'query');
      const { items, total } = await listOrders(runtime.db(), customer, page);
      const nextOffset = page.offset + items.length < total ? page.offset + items.length : null;
      return json(200, { items, total, nextOffset }, { 'cache-control': 'no-store' });
    }),
    route('GET', '/orders/{id}', getOrderWithPayment),
    // The buyer cancelled on PayPal's page: fail the pending payment now (the saga then compensates).
    route('POST', '/orders/{id}/payment/cancel', async (req) => {
      const { order } = await getOrder(req);
      if (order.state !== 'AWAITING_PAYMENT' || !order.paymentSessionId) {
        throw new HttpProblem(409, 'conflict', `Order ${order.id} is not waiting for a payment`);
      }
      const payment = await payments()
        .abandon(order.paymentSessionId, req.correlationId)
        .catch(() => {
          throw new HttpProblem(502, 'upstreamUnavailable', 'Payments could not cancel the payment; retry shortly');
        });
      return json(202, { orderId: order.id, payment }, { 'cache-control': 'no-store' });
    }),
    route('GET', '/orders/{id}/trace', async (req) => {
      const { order } = await getOrder(req);
      const history = order.executionArn
        ? await executionHistory(order.executionArn).catch((err: Error) => {
            if (err.name === 'ExecutionDoesNotExist') return [];
            throw err;
          })
        : [];
      // steps: one entry per task visit (the timeline); events: the history itself (the saga graph's event list and state details).
      return json(
        200,
        { orderId: order.id, state: order.state, executionArn: order.executionArn, steps: buildTrace(history), events: historyView(history) },
        { 'cache-control': 'no-store' },
      );
    }),
  ],
  { toProblem: orderProblem },
);
