// Every outbox's backlog and every consumer DLQ's depth, each named with its service (admin).
import { api } from '../api.js';
import { h, render, announce, errorBox } from '../dom.js';
import { isAdmin } from './shared.js';
import { outboxLine } from '../mesh-view.js';

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
          'div',
          { id: 'outbox' },
          h('p', {}, 'Outboxes: ', h('strong', { id: 'outbox-pending' }, String(outbox.body.pending)), ' unsent event', outbox.body.pending === 1 ? '' : 's', ' in all.'),
          h(
            'ul',
            { id: 'outbox-list' },
            outbox.body.outboxes.map((o) => h('li', { dataset: { service: o.service } }, outboxLine(o))),
          ),
        ),
    dlq instanceof Error
      ? errorBox(dlq, { technical: true })
      : [
          h(
            'table',
            { id: 'dlq-table' },
            h('caption', { class: 'visually-hidden' }, 'Dead-letter queues'),
            h(
              'thead',
              {},
              h(
                'tr',
                {},
                ['Service', 'Consumer', 'DLQ', 'Messages', 'Redrive'].map((t) => h('th', { scope: 'col' }, t)),
              ),
            ),
            h(
              'tbody',
              {},
              dlq.body.queues.map((q) =>
                h(
                  'tr',
                  { dataset: { queue: q.queue } },
                  h('td', {}, q.service),
                  h('td', {}, q.queue),
                  h('td', {}, q.dlq),
                  h('td', { class: 'num' }, q.depth === null ? 'missing' : String(q.depth)),
                  h('td', {}, q.depth ? h('button', { type: 'button', onclick: (e) => redrive(e.currentTarget, q.queue) }, `Redrive ${q.queue}`) : '–'),
                ),
              ),
            ),
          ),
          dlq.body.unavailable.length
            ? h('p', { class: 'error', role: 'alert' }, `Not reporting: ${dlq.body.unavailable.map((u) => `${u.service} (${u.error})`).join(', ')}`)
            : null,
        ],
  );
}

/** Moves a consumer's DLQ messages back to its queue (the owner re-sends each, then deletes it from the DLQ). */
async function redrive(button, queue) {
  button.disabled = true;
  try {
    const { body } = await api(`api/ops/dlq/${encodeURIComponent(queue)}/redrive`, { method: 'POST' });
    announce(`${body.moved} message${body.moved === 1 ? '' : 's'} moved back to ${queue}`);
  } catch (err) {
    button.after(errorBox(err, { technical: true }));
  }
  await refresh();
}
