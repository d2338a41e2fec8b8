// A saga with a forced failure, followed live: a one-item order whose failure plan breaks one step,
// drawn as the state machine graph (the compensations lit) and as the step timeline. Used by /chaos
// (any step and mode) and by the Orders card on /reference.
import { api, ApiError, uuid, sleep } from './api.js';
import { h, render, announce, errorBox } from './dom.js';
import { timeline, settled } from './timeline.js';
import { payWithStripe } from './pay.js';
import { sagaGraph } from './saga-graph.js';

/**
 * Places the order and follows it until the saga ends (or `isCurrent()` turns false: a newer run).
 * Element ids start with `prefix` (`<prefix>-state`, `<prefix>-timeline`, `<prefix>-order-state`); the graph's is `graphId`.
 * Resolves with the final trace, or undefined when superseded.
 */
export async function runForcedSaga({ prefix, graphId = `${prefix}-graph`, failurePlan, productId, autopay, out, isCurrent = () => true }) {
  const state = h('p', { id: `${prefix}-state`, role: 'status', 'aria-live': 'polite' }, 'Placing the order…');
  const steps = h('div', { id: `${prefix}-timeline` });
  const graph = sagaGraph({ id: graphId, title: 'Saga graph of the forced-failure order' });
  render(out, state, h('h3', {}, 'Steps'), steps, h('h3', {}, 'State machine'), graph.el);
  const key = uuid();
  const body = { items: [{ productId, quantity: 1 }], paymentProvider: 'stripe', failurePlan };
  let res;
  // One key for this run: a 409 (the first request still in flight) is asked again with it.
  for (let i = 0; ; i++) {
    res = await api('api/orders', { method: 'POST', body, headers: { 'idempotency-key': key }, accept: [409] });
    if (res.status !== 409 || i >= 20) break;
    await sleep(1000);
  }
  if (res.status === 409) throw new ApiError(409, res.body, res.headers);
  const id = res.body.id;
  let paid = false;
  while (isCurrent()) {
    const [{ body: order }, { body: trace }] = await Promise.all([api(`api/orders/${id}`), api(`api/orders/${id}/trace`)]);
    render(
      state,
      'Order ',
      h('a', { href: `./#/orders/${id}` }, `…${id.slice(-8)}`),
      ': ',
      h('strong', { class: `state state-${order.state.toLowerCase()}`, id: `${prefix}-order-state` }, order.state.replace(/_/g, ' ')),
      ` (failing ${failurePlan.failAt} with ${failurePlan.mode})`,
    );
    render(steps, timeline(trace));
    await graph.update(trace);
    if (autopay && !paid && order.state === 'AWAITING_PAYMENT' && order.payment?.providerRef) {
      paid = true;
      payWithStripe(order.payment).catch((err) => steps.append(errorBox(err, { technical: true })));
    }
    if (settled(trace)) {
      const comps = trace.steps.filter((s) => s.compensation).map((s) => s.step);
      announce(`Saga ended ${trace.state}; compensations: ${comps.join(', ') || 'none'}`);
      return trace;
    }
    await sleep(1000);
  }
  return undefined;
}
