// The saga timeline: one entry per Step Functions task state visit (GET /api/orders/{id}/trace),
// compensations marked as such.
import { h, fmtTime } from './dom.js';

export const TERMINAL = ['COMPLETED', 'FAILED', 'NEEDS_ATTENTION'];

const OUTCOME = { succeeded: '✓ succeeded', failed: '✗ failed', running: '… running' };

export function timeline(trace) {
  const steps = (trace && trace.steps) || [];
  if (!steps.length) return h('p', { class: 'muted' }, 'No saga steps yet.');
  return h(
    'ol',
    { class: 'timeline', 'aria-label': 'Saga steps' },
    steps.map((s) => {
      const ms = s.started && s.ended ? Date.parse(s.ended) - Date.parse(s.started) : null;
      return h(
        'li',
        { class: `step ${s.outcome}${s.compensation ? ' compensation' : ''}`, dataset: { step: s.step, outcome: s.outcome, compensation: String(s.compensation) } },
        h('span', { class: 'step-name' }, s.step),
        s.compensation ? h('span', { class: 'tag' }, 'compensation') : null,
        h('span', { class: 'outcome' }, OUTCOME[s.outcome] || s.outcome),
        h('span', { class: 'muted' }, fmtTime(s.started), ms !== null ? ` · ${ms} ms` : ''),
        s.error ? h('span', { class: 'error-text' }, `${s.error}${s.cause ? `: ${truncate(s.cause)}` : ''}`) : null,
      );
    }),
  );
}

const truncate = (s) => (s.length > 160 ? `${s.slice(0, 160)}…` : s);

/** True once the order is terminal and no step is still running. */
export const settled = (trace) => Boolean(trace) && TERMINAL.includes(trace.state) && trace.steps.every((s) => s.outcome !== 'running');
