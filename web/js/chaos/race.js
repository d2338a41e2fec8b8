// The ETag race: N stock updates at once with one ETag in If-Match; exactly one wins, the rest 412.
import { api } from '../api.js';
import { h, render, errorBox } from '../dom.js';

export function mount(section) {
  const writers = h('input', { type: 'number', id: 'race-writers', min: '2', max: '50', value: '10' });
  const result = h('div', { id: 'race-result', 'aria-live': 'polite' });
  const button = h('button', { type: 'button', id: 'run-race', class: 'primary', onclick: () => runRace(button, Number(writers.value), result) }, 'Run race');
  render(
    section,
    h('h2', { id: 'race-title' }, 'ETag race'),
    h(
      'p',
      { class: 'muted' },
      'The gateway reads the demo product once, then sends N stock updates at the same time, all with that one ETag in If-Match. Optimistic concurrency lets exactly one win; the rest get 412 Precondition Failed. The race runs on its own demo product, so no real product changes.',
    ),
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
        {
          id: 'race-summary',
          class: r.consistent ? 'ok' : 'bad',
          dataset: { winners: String(r.winners), preconditionFailed: String(r.preconditionFailed), other: String(other) },
        },
        h('strong', {}, `${r.winners} winner${r.winners === 1 ? '' : 's'}`),
        `, ${r.preconditionFailed} × 412 Precondition Failed`,
        other ? `, ${other} other` : '',
        ` in ${r.durationMs} ms.`,
      ),
      h(
        'p',
        { class: 'muted' },
        `ETag ${r.initialEtag} → ${r.finalEtag}; stock ${r.initialStock} → ${r.finalStock} (expected ${r.expectedFinalStock}); ${r.workersSeen} catalog worker${r.workersSeen === 1 ? '' : 's'} answered.`,
      ),
      h(
        'ol',
        { class: 'chips', 'aria-label': 'Status of each writer' },
        statuses.map((s) => h('li', { class: s === 412 ? 'chip lost' : s < 300 ? 'chip won' : 'chip other' }, String(s))),
      ),
    );
  } catch (err) {
    render(out, errorBox(err, { technical: true }));
  } finally {
    button.disabled = false;
  }
}

export function refresh() {}
