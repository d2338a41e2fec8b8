// Orders card: a checkout whose failure plan breaks the last step, so every compensation runs.
import { api, session } from '../api.js';
import { h } from '../dom.js';
import { runForcedSaga } from '../forced-saga.js';

export const ordersDemo = {
  id: 'orders',
  label: 'Forced-failure saga',
  about:
    'Needs any signed-in account. Places a one-item order whose failure plan makes CompleteOrder throw after the payment was captured, pays it with the test card, and follows the saga: refund, cancel, release the stock, mark the order failed.',
  async run(log) {
    if (!session()) {
      log('Sign in first (any account, e.g. on the store): the order is yours.', { ok: false });
      return;
    }
    const { body } = await api('api/products?limit=50', { auth: false });
    const product = body.items.find((p) => p.stock > 0);
    if (!product) {
      log('No product in stock to order.', { ok: false });
      return;
    }
    log(`Ordering one ${product.name}, failure plan: CompleteOrder throws`);
    const out = h('div', { class: 'demo-saga' });
    log('').replaceChildren(out);
    const trace = await runForcedSaga({ prefix: 'demo-orders', failurePlan: { failAt: 'CompleteOrder', mode: 'error' }, productId: product.id, autopay: true, out });
    const comps = trace.steps.filter((s) => s.compensation).map((s) => s.step);
    log(`Saga ended ${trace.state}; compensations run: ${comps.join(', ') || 'none'}`, { ok: trace.state === 'FAILED' && comps.length > 0 });
  },
};
