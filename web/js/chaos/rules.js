// Fault rules: switches for a 503 on each service and an exception at each saga step, a form for
// any rule, the live list with hit counts, the kill switch. Services and steps come from /api/config.
import { api } from '../api.js';
import { h, render, announce, fmtTime, errorBox } from '../dom.js';
import { $, isAdmin, pageConfig } from './shared.js';

let SERVICES = [];
let STEPS = [];
let section;

export async function mount(el) {
  section = el;
  const cfg = await pageConfig();
  SERVICES = cfg.services;
  STEPS = cfg.saga.steps;
  await refresh();
}

/** Re-reads the rules (every 2 s, and after a sign-in); an error replaces the panel until the next success. */
export async function refresh() {
  try {
    await loadRules();
  } catch (err) {
    rulesBuiltFor = null;
    render(section, h('h2', { id: 'rules-title' }, 'Fault rules'), errorBox(err, { technical: true }));
  }
}

let rules = [];
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

/** A rule was added or removed: the panels that show its effects (the breakers) refresh now. */
const changed = () => window.dispatchEvent(new CustomEvent('cm:rules-changed'));

async function addRule(rule) {
  await api('api/chaos/rules', { method: 'POST', body: rule });
  changed();
  await loadRules();
}

async function deleteRule(id) {
  await api(`api/chaos/rules/${encodeURIComponent(id)}`, { method: 'DELETE', accept: [404] });
  changed();
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

const ruleError = (err) => render($('rules-status'), errorBox(err, { technical: true }));

/** The rules panel is built once per sign-in state; the 2 s refresh only updates its values. */
let rulesBuiltFor = null;
function buildRules() {
  const admin = isAdmin();
  rulesBuiltFor = admin;
  render(
    section,
    h('h2', { id: 'rules-title' }, 'Fault rules'),
    h('p', { class: 'muted' }, 'Every service reads these rules through one middleware (re-read at most once a second). Toggles last 10 minutes.'),
    h(
      'div',
      { class: 'toggles' },
      h(
        'fieldset',
        {},
        h('legend', {}, 'Service errors (HTTP 503)'),
        h(
          'ul',
          { class: 'plain' },
          SERVICES.map((s) => toggle(`service:${s}`, s, { service: s }, { type: 'error', status: 503 })),
        ),
      ),
      h(
        'fieldset',
        {},
        h('legend', {}, 'Saga step failures (every order)'),
        h(
          'ul',
          { class: 'plain' },
          STEPS.map((s) => toggle(`step:${s}`, s, { service: 'orders', step: s }, { type: 'exception', message: `chaos toggle: ${s}` })),
        ),
      ),
    ),
    admin ? customRuleForm() : null,
    h(
      'table',
      { id: 'rules-table' },
      h('caption', { id: 'rules-caption' }),
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          ['Target', 'Fault', 'Probability', 'Hits', 'Expires', ''].map((t) => h('th', { scope: 'col' }, t)),
        ),
      ),
      h('tbody', { id: 'rules-body' }),
    ),
    admin ? h('button', { type: 'button', id: 'kill-switch', class: 'danger', onclick: killSwitch }, 'Kill switch: remove every rule') : null,
    h('div', { id: 'rules-status', role: 'status', 'aria-live': 'polite' }),
  );
}

function renderRules() {
  const admin = isAdmin();
  if (rulesBuiltFor !== admin) buildRules();
  for (const box of section.querySelectorAll('input[data-toggle]')) {
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
        h(
          'td',
          {},
          admin
            ? h(
                'button',
                {
                  type: 'button',
                  class: 'link',
                  id: `remove-${r.id}`,
                  'aria-label': `Remove rule ${describeTarget(r.target)}`,
                  onclick: () => deleteRule(r.id).then(loadRules).catch(ruleError),
                },
                'Remove',
              )
            : null,
        ),
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
    changed();
    announce(`Kill switch: ${body.cleared} rule${body.cleared === 1 ? '' : 's'} removed`);
    await loadRules();
  } catch (err) {
    ruleError(err);
  }
}

const draft = { service: 'catalog', route: '', step: '', fault: 'latency', value: '800', probability: '100', ttl: '300' };
function customRuleForm() {
  const field = (key, label, input) => {
    input.id = `rule-${key}`;
    input.value = draft[key];
    input.addEventListener('change', () => (draft[key] = input.value));
    return h('div', { class: 'field' }, h('label', { for: input.id }, label), input);
  };
  const select = (options) =>
    h(
      'select',
      {},
      options.map(([v, t]) => h('option', { value: v }, t)),
    );
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
            draft.fault === 'latency'
              ? { type: 'latency', latencyMs: value || 500 }
              : draft.fault === 'error'
                ? { type: 'error', status: value || 503 }
                : draft.fault === 'timeout'
                  ? { type: 'timeout', hangMs: value || 60000 }
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
      field(
        'fault',
        'Fault',
        select([
          ['latency', 'latency (ms)'],
          ['error', 'error (HTTP status)'],
          ['exception', 'exception'],
          ['timeout', 'timeout (hang ms)'],
        ]),
      ),
      field('value', 'Value (ms or status)', h('input', { type: 'number', min: '1' })),
      field('probability', 'Probability (%)', h('input', { type: 'number', min: '0', max: '100' })),
      field('ttl', 'Expires after (s)', h('input', { type: 'number', min: '1', max: '86400' })),
      h('button', { type: 'submit' }, 'Add rule'),
    ),
  );
}
