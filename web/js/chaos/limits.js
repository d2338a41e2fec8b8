// Rate limits: the RateLimit headers of this page's own requests, and a burst at the demo class.
import { api, rateLimitSnapshot } from '../api.js';
import { h, render } from '../dom.js';
import { $, bucket } from './shared.js';

let pending = 0;
export function mount(section) {
  const burst = h('button', { type: 'button', id: 'burst', onclick: () => runBurst(burst) }, 'Send 8 requests to the demo limit');
  render(
    section,
    h('h2', { id: 'limits-title' }, 'Rate limits'),
    h('p', { class: 'muted' }, 'Token buckets per client and route class, read from the RateLimit headers of this page’s own requests.'),
    h(
      'table',
      { id: 'limits-table' },
      h('caption', { class: 'visually-hidden' }, 'Rate-limit buckets'),
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          ['Class', 'Tokens left', 'Capacity', 'Last status', 'At'].map((t) => h('th', { scope: 'col' }, t)),
        ),
      ),
      h('tbody', { id: 'limits-body' }),
    ),
    burst,
    h('p', { id: 'burst-status', class: 'muted', 'aria-live': 'polite' }),
  );
  refresh();
  // Every answer's RateLimit headers update the table (at most once a frame).
  window.addEventListener('cm:ratelimit', () => {
    if (!pending) pending = requestAnimationFrame(() => ((pending = 0), refresh()));
  });
}

export function refresh() {
  render(
    $('limits-body'),
    rateLimitSnapshot().map((r) =>
      h(
        'tr',
        { dataset: { routeClass: r.routeClass } },
        h('td', {}, r.routeClass),
        h('td', { class: 'num' }, r.remaining ?? '–'),
        h('td', { class: 'num' }, r.capacity ?? '–'),
        h('td', { class: 'num' }, String(r.status)),
        h('td', {}, r.at.toLocaleTimeString()),
      ),
    ),
  );
}

async function runBurst(button) {
  button.disabled = true;
  const seen = [];
  for (let i = 0; i < 8; i++) {
    const r = await api(`api/demo/rate-limited?bucket=${bucket}`, { auth: false, accept: [429] }).catch((e) => ({ status: e.status || 0 }));
    seen.push(r.status);
  }
  $('burst-status').textContent = `Burst answers: ${seen.join(', ')} (the demo class holds 5 tokens, refilled at 1 per second).`;
  button.disabled = false;
}
