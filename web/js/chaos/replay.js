// Idempotency-Key replay: one key, the same POST sent again (a client retrying after a lost
// answer), then with another body; the demo route's effect is a counter, read back at the end.
import { replaySequence } from '../demos/replay-sequence.js';
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

async function runReplay(button) {
  button.disabled = true;
  try {
    const { counterId, attempts, effects } = await replaySequence('chaos-page');
    render(
      $('replay-body'),
      attempts.map((a) => {
        const answer =
          a.body && typeof a.body === 'object' ? (a.body.type ? a.body.type.split('/').pop() : `counter ${a.body.counterId === counterId ? a.body.value : '?'}`) : '';
        return h('tr', {}, h('td', {}, a.label), h('td', { class: 'num' }, String(a.status)), h('td', {}, a.replayed ?? '–'), h('td', {}, answer));
      }),
    );
    $('replay-status').textContent = `Effects: ${effects} (three requests, one key).`;
  } catch (err) {
    $('replay-status').textContent = `The demo failed: ${err.message}`;
  } finally {
    button.disabled = false;
  }
}
