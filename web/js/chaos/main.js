// The /chaos page: one module per panel, each with mount(section, ctx) (build it once) and
// refresh() (update it with live data). This file only wires them up: the sign-in box, then the
// panels, then a 2 s refresh of the live ones while the tab is visible.
import { h, render, errorBox } from '../dom.js';
import { $, loadProducts } from './shared.js';
import * as signin from './signin.js';
import * as rules from './rules.js';
import * as race from './race.js';
import * as saga from './saga.js';
import * as breakers from './breakers.js';
import * as limits from './limits.js';
import * as mesh from './mesh.js';
import * as replay from './replay.js';

const PANELS = { rules, race, saga, breakers, limits, replay, mesh };
/** Refreshed every 2 s; the others change only on the visitor's actions. */
const LIVE = [rules, breakers, mesh];

/** After a sign-in or sign-out: what the visitor may see and do changed. */
async function refreshAll() {
  signin.refresh();
  await Promise.all([rules.refresh(), breakers.refresh(), mesh.refresh().catch(() => {})]);
  limits.refresh();
}

async function start() {
  document.querySelector('.skip').addEventListener('click', (e) => (e.preventDefault(), $('main').focus()));
  signin.mount($('signin'), { refreshAll });
  await loadProducts().catch(() => {});
  await Promise.all(
    Object.entries(PANELS).map(([id, panel]) =>
      Promise.resolve()
        .then(() => panel.mount($(id), { refreshAll }))
        .catch((err) => render($(id), h('h2', { id: `${id}-title` }, id), errorBox(err, { technical: true }))),
    ),
  );
  window.addEventListener('cm:session', signin.refresh);
  setInterval(() => {
    if (document.hidden) return;
    for (const panel of LIVE) Promise.resolve(panel.refresh()).catch(() => {});
  }, 2000);
}

start();
