// The /reference page: the cards are static HTML; this fills in each card's live health from the
// public GET /api/health (every service's dependencies, the Postgres user leased from Vault and
// its expiry), and refreshes it every 15 s.
import { api } from './api.js';
import { h, render, announce, fmtTime } from './dom.js';
import { mountDemo } from './demos/kit.js';
import { bffDemo } from './demos/bff.js';
import { identityDemo, identityFields } from './demos/identity.js';
import { catalogDemo } from './demos/catalog.js';
import { claimsDemo } from './demos/claims.js';
import { paymentsDemo } from './demos/payments.js';
import { ordersDemo } from './demos/orders.js';

const REFRESH_MS = 15_000;
const summary = document.getElementById('health-summary');
const refreshButton = document.getElementById('health-refresh');

/** One dependency as a short line: "postgres: up · user v-… · schema catalog · lease until 12:00". */
function dependencyLine(name, dep) {
  const parts = [`${name}: ${dep.status}`];
  const d = dep.detail || {};
  if (d.user) parts.push(`user ${d.user}`);
  if (d.schema) parts.push(`schema ${d.schema}`);
  if (d.leaseExpiresAt && Date.parse(d.leaseExpiresAt) > 0) {
    const left = typeof d.leaseSecondsLeft === 'number' ? `, ${Math.round(d.leaseSecondsLeft / 60)} min left` : '';
    parts.push(`Vault lease until ${fmtTime(d.leaseExpiresAt)}${left}`);
  }
  if (typeof d.rotations === 'number') parts.push(`${d.rotations} rotation${d.rotations === 1 ? '' : 's'} on this worker`);
  if (Array.isArray(d.tables)) parts.push(`tables: ${d.tables.join(', ') || 'none'}`);
  if (d.status && d.stateMachine) parts.push(`${d.stateMachine} ${d.status}`);
  if (dep.status !== 'up' && dep.error) parts.push(dep.error);
  return parts.join(' · ');
}

const badge = (status) => h('span', { class: `state health-${status}` }, status === 'up' ? 'Up' : status === 'down' ? 'Down' : 'Unknown');

function renderService(el, svc) {
  if (!svc) return render(el, badge('unknown'), ' not reported by /api/health');
  const deps = Object.entries(svc.report?.dependencies || {});
  render(
    el,
    badge(svc.status),
    ` in ${svc.latencyMs} ms`,
    deps.length
      ? h(
          'ul',
          { class: 'deps' },
          deps.map(([n, d]) => h('li', {}, dependencyLine(n, d))),
        )
      : null,
    svc.error ? h('span', { class: 'error-text' }, svc.error) : null,
  );
}

async function refresh() {
  const cells = document.querySelectorAll('[data-health]');
  const started = performance.now();
  try {
    // 503 is an answer too: some service or dependency is down, and the body says which.
    const { body } = await api('api/health', { auth: false, accept: [503] });
    const ms = Math.round(performance.now() - started);
    for (const el of cells) {
      const name = el.dataset.health;
      // The BFF has no entry of its own: it is up if it answered this call.
      if (name === 'bff') render(el, badge('up'), ` answered /api/health in ${ms} ms`);
      else renderService(el, body.services?.[name]);
    }
    const down = Object.entries(body.services || {})
      .filter(([, s]) => s.status !== 'up')
      .map(([n]) => n);
    render(
      summary,
      down.length ? `Down: ${down.join(', ')}.` : 'All services are up.',
      h('span', { class: 'muted' }, ` Checked at ${fmtTime(new Date().toISOString())}.`),
    );
  } catch (err) {
    for (const el of cells) render(el, badge('unknown'), ` health check failed: ${err.message}`);
    render(summary, h('span', { class: 'error' }, `Health check failed: ${err.message}`));
  }
}

let timer;
function schedule() {
  clearTimeout(timer);
  timer = setTimeout(async () => {
    await refresh();
    schedule();
  }, REFRESH_MS);
}

refreshButton.addEventListener('click', async () => {
  refreshButton.disabled = true;
  await refresh();
  refreshButton.disabled = false;
  announce(summary.textContent);
  schedule();
});

/** Each service card's demo: a heading, then the kit's button and evidence list. */
function mountDemos() {
  const identity = identityFields();
  const demos = { bff: bffDemo, identity: identityDemo(identity), catalog: catalogDemo, claims: claimsDemo, payments: paymentsDemo, orders: ordersDemo };
  for (const el of document.querySelectorAll('[data-demo]')) {
    const demo = demos[el.dataset.demo];
    const body = h('div', { class: 'demo-run' });
    render(el, h('h4', {}, `Live demo: ${demo.label}`), demo.id === 'identity' ? identity.el : null, body);
    mountDemo(body, demo);
  }
}

mountDemos();
refresh().then(schedule);
