// A saga with a forced failure: a one-item order whose failure plan breaks the chosen step, drawn
// live as the state machine graph (the compensations lit) and as the step timeline.
import { api, ApiError, session, uuid, sleep } from '../api.js';
import { h, render, announce, errorBox } from '../dom.js';
import { timeline, settled } from '../timeline.js';
import { payWithStripe } from '../pay.js';
import { sagaGraph } from '../saga-graph.js';
import { pageConfig, productList } from './shared.js';

let run = 0;
let section;

export async function mount(el) {
  section = el;
  const { saga } = await pageConfig();
  const step = h(
    'select',
    { id: 'saga-step' },
    saga.steps.map((s) => h('option', { value: s, selected: s === 'CreatePaymentSession' }, s)),
  );
  const MODES = { error: 'error (the step throws)', timeout: 'timeout (the step hangs)' };
  const mode = h(
    'select',
    { id: 'saga-mode' },
    saga.failureModes.map((m) => h('option', { value: m }, MODES[m] || m)),
  );
  const product = h(
    'select',
    { id: 'saga-product' },
    productList().map((p) => h('option', { value: p.id }, `${p.name} (${p.stock} in stock)`)),
  );
  const autopay = h('input', { type: 'checkbox', id: 'saga-autopay', checked: true });
  const out = h('div', { id: 'saga-result' });
  const button = h(
    'button',
    {
      type: 'button',
      id: 'run-saga',
      class: 'primary',
      // Paying only makes sense when the failure comes after the payment: a saga failing at or
      // before WaitForPayment cancels the payment session (a card confirmed then would be refused).
      onclick: () =>
        runSaga(
          button,
          { failAt: step.value, mode: mode.value },
          product.value,
          autopay.checked && saga.steps.indexOf(step.value) > saga.steps.indexOf('WaitForPayment'),
          out,
        ),
    },
    'Run saga with a forced failure',
  );
  render(
    section,
    h('h2', { id: 'saga-title' }, 'Saga with a forced failure'),
    h(
      'p',
      { class: 'muted' },
      'Places a one-item order whose failure plan breaks the chosen step; the saga then runs the compensations for what it had done, in reverse.',
    ),
    h(
      'div',
      { class: 'grid-form' },
      h('div', { class: 'field' }, h('label', { for: 'saga-step' }, 'Fail at step'), step),
      h('div', { class: 'field' }, h('label', { for: 'saga-mode' }, 'Mode'), mode),
      h('div', { class: 'field' }, h('label', { for: 'saga-product' }, 'Product'), product),
      h('div', { class: 'field check' }, autopay, h('label', { for: 'saga-autopay' }, 'Pay with the test card when asked (failures after WaitForPayment)')),
      button,
    ),
    out,
  );
}

export function refresh() {}

async function runSaga(button, failurePlan, productId, autopay, out) {
  if (!session()) {
    render(out, h('p', { class: 'error', role: 'alert' }, 'Sign in first (any account).'));
    return;
  }
  const mine = ++run;
  button.disabled = true;
  const state = h('p', { id: 'saga-state', role: 'status', 'aria-live': 'polite' }, 'Placing the order…');
  const steps = h('div', { id: 'saga-timeline' });
  const graph = sagaGraph({ id: 'chaos-saga', title: 'Saga graph of the forced-failure order' });
  render(out, state, h('h3', {}, 'Steps'), steps, h('h3', {}, 'State machine'), graph.el);
  try {
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
    button.disabled = false;
    while (mine === run) {
      const [{ body: order }, { body: trace }] = await Promise.all([api(`api/orders/${id}`), api(`api/orders/${id}/trace`)]);
      render(
        state,
        'Order ',
        h('a', { href: `./#/orders/${id}` }, `…${id.slice(-8)}`),
        ': ',
        h('strong', { class: `state state-${order.state.toLowerCase()}`, id: 'saga-order-state' }, order.state.replace(/_/g, ' ')),
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
        return;
      }
      await sleep(1000);
    }
  } catch (err) {
    out.append(errorBox(err, { technical: true }));
  } finally {
    if (mine === run) button.disabled = false;
  }
}
