// Idempotency-Key replay: one key, the same POST sent again (a client retrying after a lost
// answer), then with another body; the demo route's effect is a counter, read back at the end.
import { api } from '../api.js';
import { h, render } from '../dom.js';
import { $ } from './shared.js';

export function mount(section) {
  const run = h('button', { type: 'button', id: 'replay-run', onclick: () => runReplay(run) }, 'Send one POST three times with one Idempotency-Key');
  render(
    section,
    h('h2', { id: 'replay-title' }, 'Idempotency-Key replay'),
    h(
      'p',
      { class: 'muted' },
      'The same key and body replay the first answer byte for byte (Idempotent-Replayed: true) without running the effect again; the same key with another body is refused (422). The effect is a counter: it ends at 1.',
    ),
    run,
    h(
      'table',
      { id: 'replay-table' },
      h('caption', { class: 'visually-hidden' }, 'Answers to one Idempotency-Key'),
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          ['Attempt', 'Status', 'Idempotent-Replayed', 'Answer'].map((t) => h('th', { scope: 'col' }, t)),
        ),
      ),
      h('tbody', { id: 'replay-body' }),
    ),
    h('p', { id: 'replay-status', class: 'muted', 'aria-live': 'polite' }),
  );
}

export function refresh() {}

const send = (key, body) => api('api/demo/idempotent-echo', { method: 'POST', body, auth: false, headers: { 'idempotency-key': key }, accept: [409, 422] });

async function runReplay(button) {
  button.disabled = true;
  const key = crypto.randomUUID();
  const counterId = `chaos-page-${crypto.randomUUID()}`;
  const body = { counterId, note: 'sent from /chaos' };
  const rows = [];
  const show = (label, r) => {
    const answer =
      r.body && typeof r.body === 'object' ? (r.body.type ? r.body.type.split('/').pop() : `counter ${r.body.counterId === counterId ? r.body.value : '?'}`) : '';
    rows.push(
      h('tr', {}, h('td', {}, label), h('td', { class: 'num' }, String(r.status)), h('td', {}, r.headers.get('idempotent-replayed') ?? '–'), h('td', {}, answer)),
    );
    render($('replay-body'), rows);
  };
  try {
    show('first', await send(key, body));
    show('retry, same body', await send(key, body));
    show('same key, other body', await send(key, { ...body, note: 'changed' }));
    const counter = await api(`api/demo/idempotent-echo/${encodeURIComponent(counterId)}`, { auth: false });
    $('replay-status').textContent = `Effects: ${counter.body.value} (three requests, one key).`;
  } catch (err) {
    $('replay-status').textContent = `The demo failed: ${err.message}`;
  } finally {
    button.disabled = false;
  }
}
