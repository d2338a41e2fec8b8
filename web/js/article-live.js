// The articles' tie to the running system (/docs/<article>): under each article, what the live stack
// shows of its subject — the deployed state machine, the outbox and DLQs, each service's Vault lease.
import { api, session } from './api.js';
import { h, render, fmtTime, errorBox } from './dom.js';
import { sagaGraph } from './saga-graph.js';
import { dlqDepth, outboxLine } from './mesh-view.js';

const section = document.getElementById('live');

const PANELS = {
  async 'saga-vs-2pc'() {
    const graph = sagaGraph({ id: 'article-saga', title: "This project's checkout saga, as deployed" });
    render(
      section,
      h('h2', {}, 'The live state machine'),
      h(
        'p',
        { class: 'muted' },
        'Drawn from the deployed ASL (GET /api/saga/definition): forward steps down the middle, each with its Catch into the compensations on the side, and the park state for a compensation that keeps failing. Click a state for its details; run a forced failure on the ',
        h('a', { href: '../chaos' }, 'chaos page'),
        ' or the Orders card of ',
        h('a', { href: '../reference#svc-orders' }, 'How it works'),
        ' to see a path lit.',
      ),
      graph.el,
    );
    await graph.update(null);
  },

  async outbox() {
    const title = h('h2', {}, 'The live outboxes and dead-letter queues');
    if (!session()?.isAdmin) {
      render(
        section,
        title,
        h(
          'p',
          {},
          'The backlog of every outbox and the depth of every DLQ are operator data: sign in as an admin on the ',
          h('a', { href: '../chaos' }, 'chaos page'),
          ' and come back.',
        ),
      );
      return;
    }
    const [outbox, dlq] = await Promise.all([api('api/ops/outbox'), api('api/ops/dlq')]);
    render(
      section,
      title,
      h(
        'ul',
        { id: 'live-outboxes' },
        outbox.body.outboxes.map((o) => h('li', {}, outboxLine(o))),
        dlq.body.queues.map((q) => h('li', {}, `${q.dlq} (${q.service}): ${dlqDepth(q)}`)),
      ),
      h('p', { class: 'muted' }, `Read at ${fmtTime(new Date().toISOString())}; redrive a DLQ from the chaos page.`),
    );
  },

  async 'credential-rotation'() {
    // 503 is an answer too: some dependency is down, and the body says which.
    const { body } = await api('api/health', { auth: false, accept: [503] });
    const rows = Object.entries(body.services || {})
      .map(([name, svc]) => [name, svc.report?.dependencies?.postgres?.detail])
      .filter(([, d]) => d?.user);
    render(
      section,
      h('h2', {}, "Each service's lease, now"),
      h(
        'table',
        { id: 'live-leases' },
        h('caption', {}, 'The Postgres user each service holds from Vault (one Lambda worker each, from GET /api/health)'),
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            ['Service', 'Leased user', 'Lease ends', 'Left', 'Rotations on that worker'].map((t) => h('th', { scope: 'col' }, t)),
          ),
        ),
        h(
          'tbody',
          {},
          rows.map(([name, d]) =>
            h(
              'tr',
              {},
              h('td', {}, name),
              h('td', {}, h('code', {}, d.user)),
              h('td', {}, fmtTime(d.leaseExpiresAt)),
              h('td', { class: 'num' }, typeof d.leaseSecondsLeft === 'number' ? `${Math.round(d.leaseSecondsLeft / 60)} min` : '–'),
              h('td', { class: 'num' }, String(d.rotations ?? '–')),
            ),
          ),
        ),
      ),
    );
  },
};

const panel = section && PANELS[section.dataset.article];
if (panel) panel().catch((err) => render(section, h('h2', {}, 'The live system'), errorBox(err, { technical: true })));
