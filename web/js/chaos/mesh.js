// The payments outbox backlog and every DLQ's depth (admin).
import { api } from '../api.js';
import { h, render, errorBox } from '../dom.js';
import { isAdmin } from './shared.js';

let section;
export async function mount(el) {
  section = el;
  await refresh();
}

export async function refresh() {
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
      ? errorBox(outbox, { technical: true })
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
      ? errorBox(dlq, { technical: true })
      : h(
          'table',
          { id: 'dlq-table' },
          h('caption', { class: 'visually-hidden' }, 'Dead-letter queues'),
          h(
            'thead',
            {},
            h(
              'tr',
              {},
              ['Consumer', 'DLQ', 'Messages'].map((t) => h('th', { scope: 'col' }, t)),
            ),
          ),
          h(
            'tbody',
            {},
            dlq.body.queues.map((q) => h('tr', {}, h('td', {}, q.queue), h('td', {}, q.dlq), h('td', { class: 'num' }, q.depth === null ? 'missing' : String(q.depth)))),
          ),
        ),
  );
}
