// One card demo: a button that runs a sequence of live calls and lists the evidence, one line per
// observation. A step that fails ends the run with its error; the button is usable again after.
import { h, render, announce, errorBox } from '../dom.js';

/**
 * mountDemo(el, { id, label, about, run }): `run(log)` performs the calls; `log(text, { ok })`
 * appends a line (ok: true ✓, false ✗, undefined a plain note) and returns the line element.
 */
export function mountDemo(el, { id, label, about, run }) {
  const list = h('ol', { class: 'evidence', id: `demo-${id}-evidence`, 'aria-live': 'polite' });
  const status = h('p', { class: 'muted demo-status', id: `demo-${id}-status` });
  const button = h('button', { type: 'button', id: `demo-${id}-run`, onclick: () => start() }, label);
  render(el, h('p', { class: 'muted' }, about), button, status, list);

  async function start() {
    button.disabled = true;
    render(list);
    status.textContent = 'Running…';
    el.dataset.state = 'running';
    const log = (text, { ok } = {}) => {
      const mark = ok === true ? '✓ ' : ok === false ? '✗ ' : '';
      const li = h('li', { class: ok === false ? 'bad' : ok === true ? 'good' : '' }, mark, text);
      list.append(li);
      return li;
    };
    try {
      await run(log);
      status.textContent = `Done at ${new Date().toLocaleTimeString()}.`;
      el.dataset.state = 'done';
      announce(`${label}: done`);
    } catch (err) {
      list.append(h('li', {}, errorBox(err, { technical: true })));
      status.textContent = 'The demo stopped at the step above.';
      el.dataset.state = 'failed';
      announce(`${label}: failed`);
    } finally {
      button.disabled = false;
    }
  }
}

/** A header of an API answer (fetch Headers), or a dash. */
export const header = (res, name) => res.headers?.get?.(name) ?? '–';

/** The last segment of a problem type URI ("…/problems/circuit-open" → "circuit-open"). */
export const problemType = (body) => (body?.type ? String(body.type).split('/').pop() : '');
