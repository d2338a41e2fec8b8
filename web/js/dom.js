// A tiny element builder: h('button', {type: 'button', onclick}, 'Label'). Text is always set as
// text (never innerHTML), so API data cannot inject markup.
import { ApiError } from './api.js';

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k in el && typeof v !== 'string') el[k] = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

/** Replaces the element's content. Tables get a scroll box, so a wide table never widens the page. */
export function render(el, ...children) {
  el.replaceChildren();
  append(el, children);
  for (const table of el.querySelectorAll('table')) {
    if (table.parentElement.classList.contains('table-wrap')) continue;
    const cap = table.caption;
    const name = cap?.id ? { 'aria-labelledby': cap.id } : { 'aria-label': cap?.textContent || 'Table' };
    // Focusable, so keyboard users can scroll it too.
    const box = h('div', { class: 'table-wrap', tabindex: '0', role: 'region', ...name });
    table.replaceWith(box);
    box.append(table);
  }
}

/** Announces a message in the page's polite live region. */
export function announce(text) {
  const live = document.getElementById('announcer');
  if (live) {
    live.textContent = '';
    // A fresh text node after a tick makes screen readers repeat identical messages.
    setTimeout(() => (live.textContent = text), 50);
  }
}

export const fmtTime = (iso) => (iso ? new Date(iso).toLocaleTimeString() : '');

/**
 * An error as an alert paragraph. A 5xx (a service down, a fault injected on purpose) reads as
 * "unavailable" in plain words; its detail (which may name internals such as a chaos rule) is
 * shown only with `technical: true` (the /chaos page, for the people who injected it).
 */
export function errorBox(err, { technical = false } = {}) {
  let text;
  if (!(err instanceof ApiError)) text = String(err?.message || err);
  else if (err.status >= 500 && !technical) text = `The service is unavailable right now (${err.status}). Please try again in a moment.`;
  else if (err.status === 429 && !technical) text = 'Too many requests just now. Please wait a few seconds and try again.';
  else text = `${err.message} (${err.status})`;
  return h('p', { class: 'error', role: 'alert' }, text);
}
