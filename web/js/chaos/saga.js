// A saga with a forced failure at the chosen step and mode (../forced-saga.js follows it).
import { session } from '../api.js';
import { h, render, errorBox } from '../dom.js';
import { runForcedSaga } from '../forced-saga.js';
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
  try {
    const following = runForcedSaga({ prefix: 'saga', graphId: 'chaos-saga', failurePlan, productId, autopay, out, isCurrent: () => mine === run });
    // Another run may start while this one is followed.
    button.disabled = false;
    await following;
  } catch (err) {
    out.append(errorBox(err, { technical: true }));
  } finally {
    if (mine === run) button.disabled = false;
  }
}
