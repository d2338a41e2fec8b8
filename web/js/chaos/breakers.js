// Circuit breakers of every BFF instance (GET /api/ops/breakers: the answering instance's live, the
// others' from the snapshots they publish to Redis), one row per downstream and instance, and a
// drill that trips this page's own drill breaker. The panel refreshes every 2 s (main.js), right
// after the drill, and right after a fault rule changes (rules.js sends `cm:rules-changed`).
import { api } from '../api.js';
import { h, render, errorBox, fmtTime } from '../dom.js';
import { $, bucket } from './shared.js';

const STATE_LABEL = { closed: 'closed', halfOpen: 'half-open', open: 'open' };
/** The drill's breaker and the instance it opened on (the label follows it on the board). */
let drilled = null;

export async function mount(section) {
  const drill = h('button', { type: 'button', id: 'drill', onclick: () => runDrill(drill) }, 'Trip a drill breaker');
  render(
    section,
    h('h2', { id: 'breakers-title' }, 'Circuit breakers'),
    h(
      'p',
      { class: 'muted' },
      'Every BFF instance keeps its own breakers. Each one publishes a snapshot to Redis when a breaker changes state and every few seconds while it serves; an instance that stops serving leaves this table a minute later.',
    ),
    h('p', { id: 'breakers-summary' }),
    h('div', { id: 'breakers-content' }),
    drill,
    h('p', { id: 'drill-status', class: 'muted', 'aria-live': 'polite' }),
  );
  // One refresh for a burst of changes (a switch turned off removes every rule it added).
  let soon = null;
  window.addEventListener('cm:rules-changed', () => {
    clearTimeout(soon);
    soon = setTimeout(() => refresh('after a fault rule change').catch(() => {}), 100);
  });
  await refresh();
}

const ago = (ms) => (ms < 1000 ? 'just now' : `${Math.round(ms / 1000)} s ago`);
const probe = (row) => (row.state !== 'open' ? '' : row.retryAfterSeconds > 0 ? `in ${row.retryAfterSeconds} s` : 'due');

function instanceCell(row) {
  return h('td', { class: 'instance' }, h('code', {}, row.instance), row.self ? [' ', h('span', { class: 'tag' }, 'answered this')] : null);
}

function breakerRows(view) {
  return view.downstreams.flatMap((d) =>
    d.instances.map((row, i) =>
      h(
        'tr',
        {
          class: `breaker-row breaker-row-${row.state}${i === 0 ? ' group-start' : ''}`,
          dataset: { breaker: d.name, instance: row.instance, state: row.state, self: String(row.self) },
        },
        h('th', { scope: 'row' }, d.name),
        instanceCell(row),
        h('td', {}, h('span', { class: `badge breaker-${row.state}` }, STATE_LABEL[row.state] || row.state)),
        h('td', { class: 'num' }, String(row.stats.successes)),
        h('td', { class: 'num' }, String(row.stats.failures)),
        h('td', { class: 'num' }, String(row.stats.rejects)),
        h('td', {}, probe(row)),
        h('td', {}, row.self ? 'live' : ago(row.ageMs)),
      ),
    ),
  );
}

function summary(view, why) {
  const open = view.downstreams.flatMap((d) => d.instances.filter((r) => r.state === 'open').map((r) => `${d.name} on ${r.instance}`));
  const n = view.instances.length;
  return [
    view.board === 'ok'
      ? `${n} BFF instance${n === 1 ? '' : 's'} on the board; this answer came from ${view.instance}. `
      : `The breaker board (Redis) cannot be read right now: only instance ${view.instance}, which answered, is shown. `,
    open.length ? h('strong', { class: 'bad', id: 'breakers-open' }, `Open: ${open.join(', ')}. `) : 'No breaker is open. ',
    h('span', { class: 'muted', id: 'breakers-updated' }, `Updated ${fmtTime(new Date().toISOString())}${why ? ` ${why}` : ''}.`),
  ];
}

/** Re-reads the board; `why` names what asked for it (shown beside the time). */
export async function refresh(why = '') {
  let content;
  try {
    const { body } = await api('api/ops/breakers', { auth: false });
    render($('breakers-summary'), summary(body, why));
    content = h(
      'table',
      { id: 'breakers-table' },
      h('caption', { id: 'breakers-caption' }, 'Circuit breakers per downstream and BFF instance; open breakers are highlighted'),
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          ['Downstream', 'Instance', 'State', 'Successes', 'Failures', 'Rejected', 'Probe', 'Snapshot'].map((t) => h('th', { scope: 'col' }, t)),
        ),
      ),
      h(
        'tbody',
        {},
        body.downstreams.length ? breakerRows(body) : h('tr', {}, h('td', { colspan: '8', class: 'muted' }, 'No downstream is called through a breaker yet.')),
      ),
    );
    followDrill(body);
  } catch (err) {
    content = errorBox(err, { technical: true });
  }
  render($('breakers-content'), content);
}

/** The drill's label follows its breaker on the board (open, then half-open, then closed again). */
function followDrill(view) {
  const label = $('drill-breaker');
  if (!drilled || !label) return;
  const row = view.downstreams.find((d) => d.name === drilled.name)?.instances.find((r) => r.instance === drilled.instance);
  if (!row) return;
  const text = `Breaker ${drilled.name} on instance ${drilled.instance}: ${STATE_LABEL[row.state] || row.state}${row.state === 'open' ? `, probe ${probe(row)}` : ''}.`;
  // Only a change is written: the label sits in a live region.
  if (label.textContent === text) return;
  label.dataset.state = row.state;
  label.textContent = text;
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
    drilled = last ? { name: last.breaker.name, instance: last.instance } : null;
    render(
      status,
      `Drill answers: ${seen.join(', ')} (502 = failure seen, 503 = breaker open, failing fast). `,
      last
        ? h(
            'span',
            { id: 'drill-breaker', dataset: { state: last.breaker.state } },
            `Breaker ${last.breaker.name} on instance ${last.instance}: ${STATE_LABEL[last.breaker.state] || last.breaker.state}.`,
          )
        : null,
    );
  }
  button.disabled = false;
  await refresh('after the drill');
}
