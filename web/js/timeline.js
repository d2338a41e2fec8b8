// The saga timeline: one entry per Step Functions task state visit (GET /api/orders/{id}/trace),
// compensations marked as such.
import { h, fmtTime } from './dom.js';
import { plainStepError } from './reasons.js';

export const TERMINAL = ['COMPLETED', 'FAILED', 'NEEDS_ATTENTION'];

const OUTCOME = { succeeded: '✓ succeeded', failed: '✗ failed', running: '… running' };
// A forward step whose business answer was "no" (the card declined, out of stock) ran fine but
// did not succeed: it is shown as what it answered, never as "succeeded".
const RESULT = { failed: 'payment failed', declined: 'declined', rejected: 'refused' };

export function timeline(trace) {
  const steps = trace?.steps || [];
  if (!steps.length) return h('p', { class: 'muted' }, 'No saga steps yet.');
  return h(
    'ol',
    { class: 'timeline', 'aria-label': 'Saga steps' },
    steps.map((s) => {
      const ms = s.started && s.ended ? Date.parse(s.ended) - Date.parse(s.started) : null;
      const shown = s.result ? 'rejected' : s.outcome;
      return h(
        'li',
        {
          class: `step ${shown}${s.compensation ? ' compensation' : ''}`,
          dataset: { step: s.step, outcome: s.outcome, compensation: String(s.compensation), ...(s.result ? { result: s.result } : {}) },
        },
        h('span', { class: 'step-name' }, s.step),
        s.compensation ? h('span', { class: 'tag' }, 'compensation') : null,
        h('span', { class: 'outcome' }, s.result ? `✗ ${RESULT[s.result] || s.result}` : OUTCOME[s.outcome] || s.outcome),
        h('span', { class: 'muted' }, fmtTime(s.started), ms !== null ? ` · ${ms} ms` : ''),
        s.error ? h('span', { class: 'error-text', title: s.error }, plainStepError(s.error, s.cause)) : null,
      );
    }),
  );
}

/** True once the order is terminal and no step is still running. */
export const settled = (trace) => Boolean(trace) && TERMINAL.includes(trace.state) && trace.steps.every((s) => s.outcome !== 'running');
