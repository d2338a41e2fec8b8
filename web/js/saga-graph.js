// The saga as the Step Functions console shows it: the state machine drawn from the deployed ASL
// (GET /api/saga/definition, laid out by saga-layout.js), the path one execution took lit from
// its history (the `events` of GET /api/orders/{id}/trace), each state clickable for its input,
// output and error, and the event list. Built once; update(trace) only changes classes and text,
// so polling never moves the keyboard focus.
import { api } from './api.js';
import { h, render, fmtTime } from './dom.js';
import { layoutSaga, START } from './saga-layout.js';

const SVG = 'http://www.w3.org/2000/svg';
function s(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined && v !== null) el.setAttribute(k, String(v));
  for (const c of children.flat()) if (c) el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return el;
}

let definition;
/** The ASL, fetched once per page. */
export function sagaDefinition() {
  definition ??= api('api/saga/definition', { auth: false }).then((r) => r.body);
  return definition.catch((err) => {
    definition = undefined;
    throw err;
  });
}

/** What each status is called on the page (and in each state's accessible name). */
export const STATUS = {
  succeeded: 'succeeded',
  failed: 'failed',
  caught: 'failed, caught',
  rejected: 'answered no',
  compensation: 'compensated',
  running: 'running',
  none: 'not run',
};
const FAIL_EVENTS = /^(TaskFailed|TaskTimedOut|LambdaFunctionFailed|LambdaFunctionTimedOut|ExecutionFailed|ExecutionTimedOut|ExecutionAborted)$/;

/**
 * Folds the history into one record per state (its last visit): status, input, output, error,
 * times, event ids, plus the transitions taken. `results` maps a forward step to its business
 * "no" (trace.steps[].result), so a declined payment is not shown as a success.
 */
export function executedPath(events, asl, results = {}) {
  const states = new Map();
  const taken = new Set();
  let lastExited = null;
  let open = null;
  for (const e of events || []) {
    if (/StateEntered$/.test(e.type) && e.name) {
      taken.add(`${lastExited ?? START}\u0000${e.name}`);
      open = { name: e.name, status: 'running', input: e.input, entered: e.timestamp, eventIds: [e.id], attempts: 0 };
      states.set(e.name, open);
    } else if (/StateExited$/.test(e.type) && e.name) {
      const v = states.get(e.name);
      if (v) {
        v.output = e.output;
        v.exited = e.timestamp;
        v.eventIds.push(e.id);
        if (v.status === 'running') v.status = 'succeeded';
      }
      lastExited = e.name;
      open = null;
    } else if (open) {
      open.eventIds.push(e.id);
      if (e.type === 'TaskScheduled' || e.type === 'LambdaFunctionScheduled') open.attempts++;
      if (FAIL_EVENTS.test(e.type)) {
        open.status = 'failed';
        open.error = e.error;
        open.cause = e.cause;
      } else if (e.type === 'TaskSucceeded' || e.type === 'LambdaFunctionSucceeded') {
        // A retry that worked: the earlier attempt's error stays visible, the state succeeded.
        if (open.status === 'failed') {
          open.retriedAfter = open.error;
          open.error = open.cause = undefined;
        }
        open.status = 'running';
      }
    }
  }
  for (const v of states.values()) {
    const def = asl.States[v.name] || {};
    // A failed task that was left (exited) went on through its Catch.
    if (v.status === 'failed' && v.exited) v.status = 'caught';
    else if (v.status === 'succeeded' && results[v.name]) v.status = 'rejected';
    else if (v.status === 'succeeded' && def.Type === 'Fail') v.status = 'failed';
    else if (v.status === 'succeeded' && isCompensation(v.name, asl)) v.status = 'compensation';
    if (def.Type === 'Fail' && v.status === 'running') v.status = 'failed';
    if (def.Type === 'Succeed' && v.status === 'running') v.status = 'succeeded';
  }
  return { states, taken };
}

let compensations;
/** States the happy path never reaches (only a Catch or a Choice's Default leads there). */
function isCompensation(name, asl) {
  compensations ??= new Set(
    layoutSaga(asl)
      .nodes.filter((n) => !n.main && asl.States[n.id] && asl.States[n.id].Type !== 'Fail')
      .map((n) => n.id),
  );
  return compensations.has(name);
}

const pretty = (text) => {
  if (text === undefined || text === null) return '';
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return String(text);
  }
};

let graphs = 0;
/**
 * Answers { el, update(trace) }. The element holds the graph, the legend, the selected state's
 * details and the event list; `id` prefixes its element ids (two graphs may share a page).
 */
export function sagaGraph({ id = 'saga-graph', title = 'Saga graph' } = {}) {
  const n = ++graphs;
  const figure = h('div', { class: 'sg-scroll', tabindex: '0', role: 'region', 'aria-label': `${title} (scrolls)` });
  const details = h(
    'div',
    { class: 'sg-details', id: `${id}-details`, 'aria-live': 'polite' },
    h('p', { class: 'muted' }, 'Select a state to see its input, output and error.'),
  );
  const events = h('div', { class: 'sg-events', id: `${id}-events` });
  const legend = h(
    'ul',
    { class: 'sg-legend', 'aria-label': 'Legend' },
    ['succeeded', 'rejected', 'caught', 'compensation', 'failed', 'running', 'none'].map((k) => h('li', { class: `sg-key ${k}` }, STATUS[k])),
  );
  const el = h(
    'div',
    { class: 'saga-graph', id },
    h('div', { class: 'sg-main' }, figure, legend),
    h('div', { class: 'sg-side' }, details, h('details', { class: 'sg-events-box' }, h('summary', {}, 'Execution events'), events)),
  );
  let built = null;
  let selected = null;
  let chosen = false; // the visitor picked a state: stop following the execution
  let last = null;

  function build(asl) {
    const layout = layoutSaga(asl);
    const marker = (name, cls) =>
      s(
        'marker',
        {
          id: `sg${n}-${name}`,
          viewBox: '0 0 10 10',
          refX: 9,
          refY: 5,
          markerWidth: 9,
          markerHeight: 9,
          markerUnits: 'userSpaceOnUse',
          orient: 'auto-start-reverse',
          class: cls,
        },
        s('path', { d: 'M0,0 L10,5 L0,10 z' }),
      );
    const edgeEls = layout.edges.map((e) => {
      const d = e.points.map(([x, y], i) => `${i ? 'L' : 'M'}${x},${y}`).join(' ');
      const path = s('path', { d, class: `sg-edge ${e.kind}`, 'marker-end': `url(#sg${n}-arrow)`, dataset: undefined });
      path.dataset.from = e.from;
      path.dataset.to = e.to;
      path.append(s('title', {}, `${e.from} → ${e.to}${e.label ? ` (${e.label})` : ''}`));
      return { e, path };
    });
    const nodeEls = layout.nodes.map((node) => {
      const shape =
        node.type === 'Choice'
          ? s('rect', { x: node.x, y: node.y, width: node.width, height: node.height, rx: 17, class: 'sg-shape' })
          : node.type === 'Start'
            ? s('rect', { x: node.x, y: node.y, width: node.width, height: node.height, rx: 13, class: 'sg-shape' })
            : s('rect', { x: node.x, y: node.y, width: node.width, height: node.height, rx: 4, class: 'sg-shape' });
      const label = s(
        'text',
        { x: node.x + node.width / 2, y: node.y + node.height / 2, class: 'sg-label', 'text-anchor': 'middle', 'dominant-baseline': 'central' },
        node.id,
      );
      const g = s('g', { class: `sg-node ${node.type.toLowerCase()}${node.main ? '' : ' side'}`, 'data-state': node.id }, shape, label);
      if (node.type !== 'Start') {
        g.setAttribute('tabindex', '0');
        g.setAttribute('role', 'button');
        g.setAttribute('aria-label', `${node.id} (${node.type}): ${STATUS.none}`);
        const pick = () => select(node.id);
        g.addEventListener('click', pick);
        g.addEventListener('keydown', (ev) => {
          if (ev.key === 'Enter' || ev.key === ' ') ev.preventDefault(), pick();
        });
      }
      return { node, g };
    });
    const svg = s(
      'svg',
      {
        viewBox: `0 0 ${layout.width} ${layout.height}`,
        width: layout.width,
        height: layout.height,
        class: 'sg-svg',
        role: 'group',
        'aria-label': `${title}: the checkout saga's states and transitions`,
      },
      s('defs', {}, marker('arrow', 'sg-arrow')),
      s(
        'g',
        { class: 'sg-edges' },
        edgeEls.map((x) => x.path),
      ),
      s(
        'g',
        { class: 'sg-nodes' },
        nodeEls.map((x) => x.g),
      ),
    );
    render(figure, svg);
    built = { asl, layout, edgeEls, nodeEls };
  }

  function select(name) {
    selected = name;
    chosen = true;
    for (const { node, g } of built.nodeEls) g.classList.toggle('selected', node.id === name);
    showDetails();
    showEvents();
  }

  function showDetails() {
    if (!built || !selected) return;
    const def = built.asl.States[selected] || {};
    const v = last?.path.states.get(selected);
    const block = (label, text) => (text ? [h('dt', {}, label), h('dd', {}, h('pre', { tabindex: '0' }, pretty(text)))] : null);
    render(
      details,
      h('h3', { class: 'sg-title' }, selected, ' ', h('span', { class: `sg-status ${v ? v.status : 'none'}` }, STATUS[v ? v.status : 'none'])),
      h('p', { class: 'muted' }, def.Type, def.Comment ? ` · ${def.Comment}` : ''),
      v
        ? h(
            'dl',
            { class: 'sg-facts' },
            h('dt', {}, 'Entered'),
            h('dd', {}, fmtTime(v.entered)),
            v.exited ? [h('dt', {}, 'Exited'), h('dd', {}, fmtTime(v.exited), ` · ${Date.parse(v.exited) - Date.parse(v.entered)} ms`)] : null,
            v.attempts > 1 ? [h('dt', {}, 'Attempts'), h('dd', {}, String(v.attempts))] : null,
            v.retriedAfter ? [h('dt', {}, 'Retried after'), h('dd', {}, v.retriedAfter)] : null,
            v.error ? [h('dt', {}, 'Error'), h('dd', { class: 'error-text' }, v.error)] : null,
            block('Cause', v.cause),
            block('Input', v.input),
            block('Output', v.output),
          )
        : h('p', {}, 'This execution has not entered this state.'),
    );
  }

  function showEvents() {
    const list = last?.events || [];
    const mine = selected && last?.path.states.get(selected);
    const ids = new Set(mine ? mine.eventIds : []);
    render(
      events,
      list.length
        ? h(
            'table',
            { class: 'sg-event-table' },
            h('caption', { class: 'visually-hidden' }, 'Execution events'),
            h(
              'thead',
              {},
              h(
                'tr',
                {},
                ['#', 'Type', 'State', 'Time'].map((t) => h('th', { scope: 'col' }, t)),
              ),
            ),
            h(
              'tbody',
              {},
              list.map((e) =>
                h(
                  'tr',
                  { class: `${ids.has(e.id) ? 'mine' : ''}${FAIL_EVENTS.test(e.type) ? ' bad' : ''}` },
                  h('td', { class: 'num' }, e.id ?? ''),
                  h('td', {}, e.type, e.error ? h('div', { class: 'error-text' }, e.error) : null),
                  h('td', {}, e.name || ''),
                  h('td', {}, fmtTime(e.timestamp)),
                ),
              ),
            ),
          )
        : h('p', { class: 'muted' }, 'No events yet.'),
    );
  }

  async function update(trace) {
    if (!built) {
      try {
        build(await sagaDefinition());
      } catch (err) {
        render(figure, h('p', { class: 'error' }, `The state machine could not be loaded (${err.message}); the steps below still show the saga.`));
        return;
      }
    }
    const results = Object.fromEntries((trace?.steps || []).filter((x) => x.result).map((x) => [x.step, x.result]));
    const events = trace?.events || [];
    const path = executedPath(events, built.asl, results);
    const changed = !last || last.events.length !== events.length || (trace && last.state !== trace.state);
    last = { events, path, state: trace?.state };
    for (const { node, g } of built.nodeEls) {
      if (node.type === 'Start') {
        g.classList.toggle('visited', events.length > 0);
        continue;
      }
      const v = path.states.get(node.id);
      const status = v ? v.status : 'none';
      g.setAttribute('class', `sg-node ${node.type.toLowerCase()}${node.main ? '' : ' side'} ${status}${selected === node.id ? ' selected' : ''}`);
      g.dataset.status = status;
      g.setAttribute('aria-label', `${node.id} (${node.type}): ${STATUS[status]}`);
    }
    for (const { e, path: p } of built.edgeEls) {
      const on = path.taken.has(`${e.from}\u0000${e.to}`) && (e.kind !== 'catch' || path.states.get(e.from)?.status === 'caught');
      p.classList.toggle('taken', on);
      p.setAttribute('marker-end', `url(#sg${n}-arrow)`);
    }
    if (changed) {
      // Until the visitor picks a state, show the one that tells the story: the failure, else the
      // last one entered.
      if (!chosen) {
        const all = [...path.states.values()];
        const pick = all.find((v) => v.status === 'caught' || v.status === 'rejected' || v.status === 'failed') || all[all.length - 1];
        if (pick) selected = pick.name;
        for (const { node, g } of built.nodeEls) g.classList.toggle('selected', node.id === selected);
      }
      showDetails();
      showEvents();
    }
  }

  return { el, update };
}
