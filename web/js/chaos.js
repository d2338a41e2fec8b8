// The /chaos page: fault rules (admin), the ETag race, forced-failure sagas, and live views of
// circuit breakers, rate limits, the outbox and the DLQs.
import { api, ApiError, session, login, logout, uuid, sleep, rateLimitSnapshot } from './api.js';
import { h, render, announce, fmtTime } from './dom.js';
import { timeline, settled } from './timeline.js';
import { payWithStripe } from './pay.js';

const SERVICES = ['identity', 'catalog', 'claims', 'payments', 'orders'];
const STEPS = ['ReserveStock', 'CreatePaymentSession', 'WaitForPayment', 'CapturePayment', 'CompleteOrder'];
const $ = (id) => document.getElementById(id);
const errorBox = (err) => h('p', { class: 'error', role: 'alert' }, err instanceof ApiError ? `${err.message} (${err.status})` : String(err.message || err));
/** This page's own rate-limit bucket and drill breaker name, so runs never share state. */
const bucket = `page-${uuid().slice(0, 8)}`;
const isAdmin = () => Boolean(session() && session().isAdmin);

/* ---------- sign-in ---------- */

function renderWho() {
  const s = session();
  render(
    $('who'),
    s ? [`${s.email || 'signed in'}${s.isAdmin ? ' (admin)' : ''} `, h('button', { type: 'button', class: 'link', onclick: () => logout().then(refreshAll) }, 'Log out')] : null,
  );
  const box = $('signin');
  box.hidden = isAdmin();
  if (isAdmin()) return;
  const email = h('input', { type: 'email', id: 'admin-email', autocomplete: 'username', required: true });
  const password = h('input', { type: 'password', id: 'admin-password', autocomplete: 'current-password', required: true });
  const status = h('p', { role: 'status', 'aria-live': 'polite' });
  render(
    box,
    h('h2', { id: 'signin-title' }, 'Admin sign-in'),
    h('p', {}, s ? 'You are signed in without the admin role: ' : '', 'changing fault rules and reading the outbox and DLQs needs an admin. The race and the breakers work for everyone; sagas need any account.'),
    h(
      'form',
      {
        class: 'inline',
        onsubmit: async (e) => {
          e.preventDefault();
          try {
            await login(email.value.trim(), password.value);
            announce('Signed in');
            refreshAll();
          } catch (err) {
            status.replaceChildren(errorBox(err));
          }
        },
      },
      h('label', { for: 'admin-email' }, 'Email'), email,
      h('label', { for: 'admin-password' }, 'Password'), password,
      h('button', { type: 'submit' }, 'Sign in'),
    ),
    status,
  );
}

/* ---------- fault rules ---------- */

let rules = [];
const toggleKey = (t) => (t.step ? `step:${t.step}` : `service:${t.service}`);
const TOGGLE_PREFIX = 'toggle ';

function describeTarget(t) {
  return [t.service, t.route && `route ${t.route}`, t.step && `step ${t.step}`, t.orderId && `order …${t.orderId.slice(-6)}`].filter(Boolean).join(' · ');
}
function describeFault(f) {
  if (f.type === 'latency') return `latency ${f.latencyMs} ms`;
  if (f.type === 'error') return `error ${f.status}`;
  if (f.type === 'timeout') return `timeout (hang ${f.hangMs} ms)`;
  return `exception`;
}

async function loadRules() {
  const { body } = await api('api/chaos/rules', { auth: false });
  rules = body.rules;
  renderRules();
}

async function addRule(rule) {
  await api('api/chaos/rules', { method: 'POST', body: rule });
  await loadRules();
}

async function deleteRule(id) {
  await api(`api/chaos/rules/${encodeURIComponent(id)}`, { method: 'DELETE', accept: [404] });
}

async function setToggle(key, target, fault, on) {
  if (on) await addRule({ target, fault, probability: 1, ttlSeconds: 600, description: `${TOGGLE_PREFIX}${key}` });
  else {
    await Promise.all(rules.filter((r) => r.description === `${TOGGLE_PREFIX}${key}`).map((r) => deleteRule(r.id)));
    await loadRules();
  }
  announce(`${key} fault ${on ? 'on' : 'off'}`);
}

function toggle(key, label, target, fault) {
  const id = `toggle-${key.replace(/[^a-z0-9]/gi, '-')}`;
  return h(
    'li',
    {},
    h('input', {
      type: 'checkbox',
      role: 'switch',
      id,
      dataset: { toggle: key },
      onchange: (e) => {
        e.target.disabled = true;
        setToggle(key, target, fault, e.target.checked).catch((err) => (ruleError(err), loadRules()));
      },
    }),
    h('label', { for: id }, label),
  );
}

const ruleError = (err) => render($('rules-status'), errorBox(err));

/** The rules panel is built once per sign-in state; the 2 s refresh only updates its values. */
let rulesBuiltFor = null;
function buildRules() {
  const admin = isAdmin();
  rulesBuiltFor = admin;
  render(
    $('rules'),
    h('h2', { id: 'rules-title' }, 'Fault rules'),
    h('p', { class: 'muted' }, 'Every service reads these rules through one middleware (re-read at most once a second). Toggles last 10 minutes.'),
    h(
      'div',
      { class: 'toggles' },
      h('fieldset', {}, h('legend', {}, 'Service errors (HTTP 503)'), h('ul', { class: 'plain' }, SERVICES.map((s) => toggle(`service:${s}`, s, { service: s }, { type: 'error', status: 503 })))),
      h('fieldset', {}, h('legend', {}, 'Saga step failures (every order)'), h('ul', { class: 'plain' }, STEPS.map((s) => toggle(`step:${s}`, s, { service: 'orders', step: s }, { type: 'exception', message: `chaos toggle: ${s}` })))),
    ),
    admin ? customRuleForm() : null,
    h(
      'table',
      { id: 'rules-table' },
      h('caption', { id: 'rules-caption' }),
      h('thead', {}, h('tr', {}, ['Target', 'Fault', 'Probability', 'Hits', 'Expires', ''].map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', { id: 'rules-body' }),
    ),
    admin ? h('button', { type: 'button', id: 'kill-switch', class: 'danger', onclick: killSwitch }, 'Kill switch: remove every rule') : null,
    h('div', { id: 'rules-status', role: 'status', 'aria-live': 'polite' }),
  );
}

function renderRules() {
  const admin = isAdmin();
  if (rulesBuiltFor !== admin) buildRules();
  for (const box of $('rules').querySelectorAll('input[data-toggle]')) {
    box.checked = rules.some((r) => r.description === `${TOGGLE_PREFIX}${box.dataset.toggle}`);
    box.disabled = !admin;
  }
  $('rules-caption').textContent = `${rules.length} active rule${rules.length === 1 ? '' : 's'}`;
  const focused = document.activeElement && $('rules-body').contains(document.activeElement) ? document.activeElement.id : null;
  render(
    $('rules-body'),
    rules.map((r) =>
      h(
        'tr',
        { dataset: { ruleId: r.id } },
        h('td', {}, describeTarget(r.target), r.description ? h('div', { class: 'muted' }, r.description) : null),
        h('td', {}, describeFault(r.fault)),
        h('td', {}, `${Math.round(r.probability * 100)} %`),
        h('td', { class: 'num' }, String(r.hits ?? 0)),
        h('td', {}, fmtTime(r.expiresAt)),
        h('td', {}, admin ? h('button', { type: 'button', class: 'link', id: `remove-${r.id}`, 'aria-label': `Remove rule ${describeTarget(r.target)}`, onclick: () => deleteRule(r.id).then(loadRules).catch(ruleError) }, 'Remove') : null),
      ),
    ),
  );
  // Re-rendering (live hit counts) must not steal the keyboard focus.
  if (focused && $(focused)) $(focused).focus();
  if ($('kill-switch')) $('kill-switch').disabled = rules.length === 0;
}

async function killSwitch() {
  try {
    const { body } = await api('api/chaos/rules', { method: 'DELETE' });
    announce(`Kill switch: ${body.cleared} rule${body.cleared === 1 ? '' : 's'} removed`);
    await loadRules();
  } catch (err) {
    ruleError(err);
  }
}

let draft = { service: 'catalog', route: '', step: '', fault: 'latency', value: '800', probability: '100', ttl: '300' };
function customRuleForm() {
  const field = (key, label, input) => {
    input.id = `rule-${key}`;
    input.value = draft[key];
    input.addEventListener('change', () => (draft[key] = input.value));
    return h('div', { class: 'field' }, h('label', { for: input.id }, label), input);
  };
  const select = (options) => h('select', {}, options.map(([v, t]) => h('option', { value: v }, t)));
  return h(
    'details',
    { class: 'custom-rule' },
    h('summary', {}, 'Add a custom rule'),
    h(
      'form',
      {
        class: 'grid-form',
        onsubmit: (e) => {
          e.preventDefault();
          const value = Number(draft.value);
          const fault =
            draft.fault === 'latency' ? { type: 'latency', latencyMs: value || 500 }
            : draft.fault === 'error' ? { type: 'error', status: value || 503 }
            : draft.fault === 'timeout' ? { type: 'timeout', hangMs: value || 60000 }
            : { type: 'exception' };
          const target = { service: draft.service };
          if (draft.route.trim()) target.route = draft.route.trim();
          if (draft.step) target.step = draft.step;
          addRule({ target, fault, probability: Number(draft.probability) / 100, ttlSeconds: Number(draft.ttl) })
            .then(() => announce('Rule added'))
            .catch(ruleError);
        },
      },
      field('service', 'Service', select(SERVICES.map((s) => [s, s]))),
      field('route', 'Route pattern (optional, e.g. GET /products/*)', h('input', { type: 'text' })),
      field('step', 'Saga step (orders only)', select([['', 'any'], ...STEPS.map((s) => [s, s])])),
      field('fault', 'Fault', select([['latency', 'latency (ms)'], ['error', 'error (HTTP status)'], ['exception', 'exception'], ['timeout', 'timeout (hang ms)']])),
      field('value', 'Value (ms or status)', h('input', { type: 'number', min: '1' })),
      field('probability', 'Probability (%)', h('input', { type: 'number', min: '0', max: '100' })),
      field('ttl', 'Expires after (s)', h('input', { type: 'number', min: '1', max: '86400' })),
      h('button', { type: 'submit' }, 'Add rule'),
    ),
  );
}

/* ---------- the race ---------- */

let products = [];
async function loadProducts() {
  const { body } = await api('api/products?limit=100', { auth: false });
  products = body.items;
}

function productSelect(id) {
  return h('select', { id }, products.map((p) => h('option', { value: p.id }, `${p.name} (${p.stock} in stock)`)));
}

function renderRace() {
  const writers = h('input', { type: 'number', id: 'race-writers', min: '2', max: '50', value: '10' });
  const result = h('div', { id: 'race-result', 'aria-live': 'polite' });
  const button = h('button', { type: 'button', id: 'run-race', class: 'primary', onclick: () => runRace(button, Number(writers.value), result) }, 'Run race');
  render(
    $('race'),
    h('h2', { id: 'race-title' }, 'ETag race'),
    h('p', { class: 'muted' }, 'The gateway reads the demo product once, then sends N stock updates at the same time, all with that one ETag in If-Match. Optimistic concurrency lets exactly one win; the rest get 412 Precondition Failed. The race runs on its own demo product, so no real product changes.'),
    h('div', { class: 'grid-form' }, h('div', { class: 'field' }, h('label', { for: 'race-writers' }, 'Writers (2–50)'), writers), button),
    result,
  );
}

async function runRace(button, n, out) {
  n = Math.max(2, Math.min(50, Math.floor(n) || 10));
  button.disabled = true;
  render(out, h('p', {}, `Racing ${n} writers…`));
  try {
    const { body: r } = await api('api/catalog/race', { method: 'POST', body: { writers: n, delta: 1 }, auth: false });
    const other = Object.values(r.otherStatuses || {}).reduce((a, b) => a + b, 0);
    const statuses = [
      ...Array(r.winners).fill(200),
      ...Array(r.preconditionFailed).fill(412),
      ...Object.entries(r.otherStatuses || {}).flatMap(([status, count]) => Array(count).fill(Number(status))),
    ];
    render(
      out,
      h(
        'p',
        { id: 'race-summary', class: r.consistent ? 'ok' : 'bad', dataset: { winners: String(r.winners), preconditionFailed: String(r.preconditionFailed), other: String(other) } },
        h('strong', {}, `${r.winners} winner${r.winners === 1 ? '' : 's'}`),
        `, ${r.preconditionFailed} × 412 Precondition Failed`,
        other ? `, ${other} other` : '',
        ` in ${r.durationMs} ms.`,
      ),
      h('p', { class: 'muted' }, `ETag ${r.initialEtag} → ${r.finalEtag}; stock ${r.initialStock} → ${r.finalStock} (expected ${r.expectedFinalStock}); ${r.workersSeen} catalog worker${r.workersSeen === 1 ? '' : 's'} answered.`),
      h('ol', { class: 'chips', 'aria-label': 'Status of each writer' }, statuses.map((s) => h('li', { class: s === 412 ? 'chip lost' : s < 300 ? 'chip won' : 'chip other' }, String(s)))),
    );
  } catch (err) {
    render(out, errorBox(err));
  } finally {
    button.disabled = false;
  }
}

/* ---------- a saga with a forced failure ---------- */

let sagaRun = 0;
function renderSaga() {
  const step = h('select', { id: 'saga-step' }, STEPS.map((s) => h('option', { value: s, selected: s === 'CreatePaymentSession' }, s)));
  const mode = h('select', { id: 'saga-mode' }, h('option', { value: 'error' }, 'error (the step throws)'), h('option', { value: 'timeout' }, 'timeout (the step hangs)'));
  const product = productSelect('saga-product');
  const autopay = h('input', { type: 'checkbox', id: 'saga-autopay', checked: true });
  const out = h('div', { id: 'saga-result' });
  const button = h('button', { type: 'button', id: 'run-saga', class: 'primary', onclick: () => runSaga(button, { failAt: step.value, mode: mode.value }, product.value, autopay.checked, out) }, 'Run saga with a forced failure');
  render(
    $('saga'),
    h('h2', { id: 'saga-title' }, 'Saga with a forced failure'),
    h('p', { class: 'muted' }, 'Places a one-item order whose failure plan breaks the chosen step; the saga then runs the compensations for what it had done, in reverse.'),
    h(
      'div',
      { class: 'grid-form' },
      h('div', { class: 'field' }, h('label', { for: 'saga-step' }, 'Fail at step'), step),
      h('div', { class: 'field' }, h('label', { for: 'saga-mode' }, 'Mode'), mode),
      h('div', { class: 'field' }, h('label', { for: 'saga-product' }, 'Product'), product),
      h('div', { class: 'field check' }, autopay, h('label', { for: 'saga-autopay' }, 'Pay with the test card when asked')),
      button,
    ),
    out,
  );
}

async function runSaga(button, failurePlan, productId, autopay, out) {
  if (!session()) {
    render(out, h('p', { class: 'error', role: 'alert' }, 'Sign in first (any account).'));
    return;
  }
  const run = ++sagaRun;
  button.disabled = true;
  const state = h('p', { id: 'saga-state', role: 'status', 'aria-live': 'polite' }, 'Placing the order…');
  const steps = h('div', { id: 'saga-timeline' });
  render(out, state, steps);
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
    while (run === sagaRun) {
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
      if (autopay && !paid && order.state === 'AWAITING_PAYMENT' && order.payment && order.payment.providerRef) {
        paid = true;
        payWithStripe(order.payment).catch((err) => steps.append(errorBox(err)));
      }
      if (settled(trace)) {
        const comps = trace.steps.filter((s) => s.compensation).map((s) => s.step);
        announce(`Saga ended ${trace.state}; compensations: ${comps.join(', ') || 'none'}`);
        return;
      }
      await sleep(1000);
    }
  } catch (err) {
    out.append(errorBox(err));
  } finally {
    if (run === sagaRun) button.disabled = false;
  }
}

/* ---------- breakers, rate limits, outbox and DLQs (live) ---------- */

function buildBreakers() {
  const drill = h('button', { type: 'button', id: 'drill', onclick: () => runDrill(drill) }, 'Trip a drill breaker');
  render(
    $('breakers'),
    h('h2', { id: 'breakers-title' }, 'Circuit breakers'),
    h('div', { id: 'breakers-content' }),
    drill,
    h('p', { id: 'drill-status', class: 'muted', 'aria-live': 'polite' }),
  );
}

async function loadBreakers() {
  let content;
  try {
    const { body } = await api('api/ops/breakers', { auth: false });
    content = [
      h('p', { class: 'muted' }, `Per BFF instance; this answer came from instance ${body.instance}.`),
      h(
        'table',
        { id: 'breakers-table' },
        h('caption', { class: 'visually-hidden' }, 'Circuit breakers'),
        h('thead', {}, h('tr', {}, ['Downstream', 'State', 'Calls', 'Failures', 'Rejected', 'Timeouts'].map((t) => h('th', { scope: 'col' }, t)))),
        h(
          'tbody',
          {},
          body.breakers.length ? null : h('tr', {}, h('td', { colspan: '6', class: 'muted' }, 'No downstream called through a breaker on this instance yet.')),
          body.breakers.map((b) =>
            h(
              'tr',
              { dataset: { breaker: b.name, state: b.state } },
              h('td', {}, b.name),
              h('td', {}, h('span', { class: `badge breaker-${b.state}` }, b.state), b.retryAfterSeconds ? ` (probe in ${b.retryAfterSeconds} s)` : ''),
              h('td', { class: 'num' }, String(b.stats.fires)),
              h('td', { class: 'num' }, String(b.stats.failures)),
              h('td', { class: 'num' }, String(b.stats.rejects)),
              h('td', { class: 'num' }, String(b.stats.timeouts)),
            ),
          ),
        ),
      ),
    ];
  } catch (err) {
    content = errorBox(err);
  }
  render($('breakers-content'), content);
}

async function runDrill(button) {
  button.disabled = true;
  const seen = [];
  let last = null;
  // Failing calls through this page's drill breaker until it opens (it judges after 4 calls and
  // probes after 2 s). Breakers live per BFF instance, so a call may land on a fresh instance:
  // keep going (bounded) until one answers 503, the breaker failing fast.
  for (let i = 0; i < 16; i++) {
    const r = await api(`api/ops/breakers/drill/${bucket}?status=503&delayMs=100`, { auth: false, accept: [404, 502, 503] }).catch((e) => ({ status: e.status || 0, body: null }));
    seen.push(r.status);
    if (r.body && r.body.breaker) last = r.body;
    if (r.status === 404 || r.status === 503) break;
  }
  const status = $('drill-status');
  if (seen[0] === 404) status.textContent = 'The drill needs failure plans enabled.';
  else {
    render(
      status,
      `Drill answers: ${seen.join(', ')} (502 = failure seen, 503 = breaker open, failing fast). `,
      last ? h('span', { id: 'drill-breaker', dataset: { state: last.breaker.state } }, `Breaker ${last.breaker.name} on instance ${last.instance}: ${last.breaker.state}.`) : null,
    );
  }
  button.disabled = false;
  await loadBreakers();
}

function buildLimits() {
  const burst = h('button', { type: 'button', id: 'burst', onclick: () => runBurst(burst) }, 'Send 8 requests to the demo limit');
  render(
    $('limits'),
    h('h2', { id: 'limits-title' }, 'Rate limits'),
    h('p', { class: 'muted' }, 'Token buckets per client and route class, read from the RateLimit headers of this page’s own requests.'),
    h(
      'table',
      { id: 'limits-table' },
      h('caption', { class: 'visually-hidden' }, 'Rate-limit buckets'),
      h('thead', {}, h('tr', {}, ['Class', 'Tokens left', 'Capacity', 'Last status', 'At'].map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', { id: 'limits-body' }),
    ),
    burst,
    h('p', { id: 'burst-status', class: 'muted', 'aria-live': 'polite' }),
  );
}

function renderLimits() {
  render(
    $('limits-body'),
    rateLimitSnapshot().map((r) =>
      h('tr', { dataset: { routeClass: r.routeClass } }, h('td', {}, r.routeClass), h('td', { class: 'num' }, r.remaining ?? '–'), h('td', { class: 'num' }, r.capacity ?? '–'), h('td', { class: 'num' }, String(r.status)), h('td', {}, r.at.toLocaleTimeString())),
    ),
  );
}

async function runBurst(button) {
  button.disabled = true;
  const seen = [];
  for (let i = 0; i < 8; i++) {
    const r = await api(`api/demo/rate-limited?bucket=${bucket}`, { auth: false, accept: [429] }).catch((e) => ({ status: e.status || 0 }));
    seen.push(r.status);
  }
  $('burst-status').textContent = `Burst answers: ${seen.join(', ')} (the demo class holds 5 tokens, refilled at 1 per second).`;
  button.disabled = false;
}

async function loadMesh() {
  const section = $('mesh');
  const title = h('h2', { id: 'mesh-title' }, 'Outbox and dead-letter queues');
  if (!isAdmin()) {
    render(section, title, h('p', { class: 'muted' }, 'Admin only: sign in as an admin to see the outbox backlog and DLQ depths.'));
    return;
  }
  const [outbox, dlq] = await Promise.all([api('api/ops/outbox').catch((e) => e), api('api/ops/dlq').catch((e) => e)]);
  render(
    section,
    title,
    outbox instanceof Error
      ? errorBox(outbox)
      : h(
          'p',
          { id: 'outbox' },
          'Payments outbox: ',
          h('strong', { id: 'outbox-pending' }, String(outbox.body.pending)),
          ' unsent event',
          outbox.body.pending === 1 ? '' : 's',
          outbox.body.oldestAgeSeconds !== null ? ` (oldest ${outbox.body.oldestAgeSeconds} s)` : '',
          '.',
        ),
    dlq instanceof Error
      ? errorBox(dlq)
      : h(
          'table',
          { id: 'dlq-table' },
          h('caption', { class: 'visually-hidden' }, 'Dead-letter queues'),
          h('thead', {}, h('tr', {}, ['Consumer', 'DLQ', 'Messages'].map((t) => h('th', { scope: 'col' }, t)))),
          h('tbody', {}, dlq.body.queues.map((q) => h('tr', {}, h('td', {}, q.queue), h('td', {}, q.dlq), h('td', { class: 'num' }, q.depth === null ? 'missing' : String(q.depth))))),
        ),
  );
}

/* ---------- start ---------- */

async function refreshAll() {
  renderWho();
  await Promise.all([loadRules().catch(ruleErrorLater), loadBreakers(), loadMesh()]);
  renderLimits();
}
const ruleErrorLater = (err) => ((rulesBuiltFor = null), render($('rules'), h('h2', { id: 'rules-title' }, 'Fault rules'), errorBox(err)));

async function start() {
  document.querySelector('.skip').addEventListener('click', (e) => (e.preventDefault(), $('main').focus()));
  await loadProducts().catch(() => {});
  renderRace();
  renderSaga();
  buildBreakers();
  buildLimits();
  await refreshAll();
  window.addEventListener('cm:ratelimit', () => {
    if (!pendingLimits) pendingLimits = requestAnimationFrame(() => ((pendingLimits = 0), renderLimits()));
  });
  window.addEventListener('cm:session', renderWho);
  // Live panels: every 2 s while the tab is visible.
  setInterval(() => {
    if (document.hidden) return;
    loadRules().catch(() => {});
    loadBreakers();
    loadMesh().catch(() => {});
  }, 2000);
}
let pendingLimits = 0;

start();
