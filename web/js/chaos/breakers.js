// Circuit breakers per downstream (GET /api/ops/breakers) and a drill that trips this page's own breaker.
import { api } from '../api.js';
import { h, render, errorBox } from '../dom.js';
import { $, bucket } from './shared.js';

export async function mount(section) {
  const drill = h('button', { type: 'button', id: 'drill', onclick: () => runDrill(drill) }, 'Trip a drill breaker');
  render(
    section,
    h('h2', { id: 'breakers-title' }, 'Circuit breakers'),
    h('div', { id: 'breakers-content' }),
    drill,
    h('p', { id: 'drill-status', class: 'muted', 'aria-live': 'polite' }),
  );
  await refresh();
}

export async function refresh() {
  let content;
  try {
    const { body } = await api('api/ops/breakers', { auth: false });
    content = [
      h('p', { class: 'muted' }, `Per BFF instance; this answer came from instance ${body.instance}.`),
      h(
        'table',
        { id: 'breakers-table' },
        h('caption', { class: 'visually-hidden' }, 'Circuit breakers'),
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            ['Downstream', 'State', 'Calls', 'Failures', 'Rejected', 'Timeouts'].map((t) => h('th', { scope: 'col' }, t)),
          ),
        ),
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
    content = errorBox(err, { technical: true });
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
    const r = await api(`api/ops/breakers/drill/${bucket}?status=503&delayMs=100`, { auth: false, accept: [404, 502, 503] }).catch((e) => ({
      status: e.status || 0,
      body: null,
    }));
    seen.push(r.status);
    if (r.body?.breaker) last = r.body;
    if (r.status === 404 || r.status === 503) break;
  }
  const status = $('drill-status');
  if (seen[0] === 404) status.textContent = 'The drill needs failure plans enabled.';
  else {
    render(
      status,
      `Drill answers: ${seen.join(', ')} (502 = failure seen, 503 = breaker open, failing fast). `,
      last
        ? h('span', { id: 'drill-breaker', dataset: { state: last.breaker.state } }, `Breaker ${last.breaker.name} on instance ${last.instance}: ${last.breaker.state}.`)
        : null,
    );
  }
  button.disabled = false;
  await refresh();
}
