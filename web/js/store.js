// The storefront: products, product page, cart, login/register, checkout and the order page.
// Hash routes (#/product/<id>, #/cart, #/orders/<id>...) keep every page under the one URL the
// BFF serves.
import { api, ApiError, session, login, register, logout, uuid, money, sleep } from './api.js';
import * as cart from './cart.js';
import { h, render, announce, errorBox, fmtTime } from './dom.js';
import { timeline, settled, TERMINAL } from './timeline.js';
import { payWithStripe, payWithPayPal } from './pay.js';
import { sagaGraph } from './saga-graph.js';
import { plainFailure } from './reasons.js';

const view = document.getElementById('view');
const PAGE = 12;
const CHECKOUT_KEY = 'cm.checkout';
/** sessionStorage key prefix: the buyer cancelled this order's payment on PayPal's page. */
const CANCELLED = 'cm.paypalCancelled.';

/* ---------- navigation ---------- */

function renderNav() {
  const s = session();
  const n = cart.count();
  render(
    document.getElementById('nav'),
    h('a', { href: '#/' }, 'Products'),
    h('a', { href: '#/cart', id: 'nav-cart' }, `Cart (${n})`),
    s ? h('a', { href: '#/orders', id: 'nav-orders' }, 'My orders') : null,
    h('a', { href: './chaos' }, 'Chaos'),
    h('a', { href: '#/health' }, 'Health'),
    h('a', { href: './reference' }, 'How it works'),
    s
      ? [h('span', { class: 'who' }, s.email || 'signed in', s.isAdmin ? ' (admin)' : ''), h('button', { type: 'button', class: 'link', onclick: onLogout }, 'Log out')]
      : h('a', { href: '#/login' }, 'Log in'),
  );
}

async function onLogout() {
  await logout();
  announce('Logged out');
  location.hash = '#/';
}

let stopPolling = () => {};
let navigated = false;

async function route() {
  // In-page anchors (the skip link) are not routes.
  if (location.hash && !location.hash.startsWith('#/')) return;
  stopPolling();
  stopPolling = () => {};
  const [, page = '', arg] = location.hash.replace(/^#/, '').split('?')[0].split('/');
  const views = { '': products, product, cart: cartPage, login: loginPage, register: registerPage, orders: (id) => (id ? orderPage(id) : myOrders()), health };
  const fn = views[page] || notFound;
  view.setAttribute('aria-busy', 'true');
  try {
    await fn(arg ? decodeURIComponent(arg) : undefined);
  } catch (err) {
    render(view, h('h1', {}, 'Something went wrong'), errorBox(err));
  } finally {
    view.removeAttribute('aria-busy');
  }
  const heading = view.querySelector('h1');
  if (heading) {
    document.title = `${heading.textContent} · Checkout Mesh`;
    // After an in-app navigation, move focus to the new page's heading so keyboard and
    // screen-reader users land on it; the first load leaves focus at the top (skip link first).
    if (navigated) {
      heading.setAttribute('tabindex', '-1');
      heading.focus();
    }
  }
  navigated = true;
}

const notFound = async () => render(view, h('h1', {}, 'Page not found'), h('p', {}, h('a', { href: '#/' }, 'Back to the products')));

/* ---------- products ---------- */

const LAST_LISTING = 'cm.lastListing';
/** A listing answer kept per query, so an outage can show what the shopper last saw. */
function rememberListing(qs, body) {
  try {
    const all = JSON.parse(sessionStorage.getItem(LAST_LISTING) || '{}');
    all[qs] = { body, at: new Date().toISOString() };
    sessionStorage.setItem(LAST_LISTING, JSON.stringify(Object.fromEntries(Object.entries(all).slice(-10))));
  } catch {
    /* storage full or off: nothing to keep */
  }
}
function lastListing(qs) {
  try {
    return JSON.parse(sessionStorage.getItem(LAST_LISTING) || '{}')[qs] || null;
  } catch {
    return null;
  }
}

/** An outage (5xx, 429, no connection), as opposed to an answer that is final (4xx). */
const isOutage = (err) => !(err instanceof ApiError) || err.status >= 500 || err.status === 429;

async function products() {
  const at = location.hash;
  const params = new URLSearchParams(location.hash.split('?')[1] || '');
  const q = params.get('q') || '';
  // #/?category=<name>: one category only (also those the listing leaves out, asked for by name).
  const category = params.get('category') || '';
  const offset = Number(params.get('offset') || 0);
  const qs = new URLSearchParams({ limit: String(PAGE), offset: String(offset) });
  if (q) qs.set('q', q);
  if (category) qs.set('category', category);
  let body;
  let stale = null;
  try {
    ({ body } = await api(`api/products?${qs}`, { auth: false }));
    rememberListing(String(qs), body);
  } catch (err) {
    if (location.hash !== at) return;
    if (!isOutage(err)) throw err;
    // The catalog is down or refusing: say so in plain words, show the last listing this browser
    // saw (if any), and try again on our own every few seconds.
    stale = lastListing(String(qs));
    body = stale ? stale.body : null;
    let active = true;
    stopPolling = () => (active = false);
    const retry = async () => {
      await sleep(5000);
      if (!active) return;
      try {
        await api(`api/products?${qs}`, { auth: false });
        if (active) route();
      } catch {
        if (active) retry();
      }
    };
    retry();
  }
  // The visitor went elsewhere while the listing loaded: that page is showing now, leave it.
  if (location.hash !== at) return;
  const search = h('input', { type: 'search', id: 'q', name: 'q', value: q, autocomplete: 'off' });
  const go = (o) =>
    (location.hash = `#/?${new URLSearchParams({ ...(search.value ? { q: search.value } : {}), ...(category ? { category } : {}), ...(o ? { offset: String(o) } : {}) })}`);
  const outage =
    body === null || stale
      ? h(
          'div',
          { class: 'notice', role: 'status', id: 'catalog-outage' },
          h('p', {}, h('strong', {}, 'The product catalog is not answering right now.'), ' We keep trying every few seconds; this page updates by itself.'),
          stale ? h('p', { class: 'muted' }, `Below is the list as you last saw it (${fmtTime(stale.at)}); stock may have changed.`) : null,
        )
      : null;
  if (body === null) {
    render(view, h('h1', {}, 'Products'), outage);
    return;
  }
  render(
    view,
    h('h1', {}, q ? `Products matching “${q}”` : 'Products'),
    outage,
    h(
      'form',
      { role: 'search', class: 'search', onsubmit: (e) => (e.preventDefault(), go(0)) },
      h('label', { for: 'q' }, 'Search by name or SKU'),
      search,
      h('button', { type: 'submit' }, 'Search'),
    ),
    h(
      'p',
      { class: 'muted', role: 'status' },
      `${body.total} product${body.total === 1 ? '' : 's'}`,
      category ? [` in category ${category} · `, h('a', { href: '#/' }, 'all products')] : null,
    ),
    h(
      'ul',
      { class: 'grid', 'aria-label': 'Products' },
      body.items.map((p) =>
        h(
          'li',
          { class: 'card' },
          h('h2', {}, h('a', { href: `#/product/${p.id}` }, p.name)),
          h('p', { class: 'muted' }, p.category, ' · ', p.sku),
          h('p', { class: 'price' }, money(p.priceCents)),
          h('p', {}, p.stock > 0 ? `${p.stock} in stock` : 'Out of stock'),
          addButton(p),
        ),
      ),
    ),
    h(
      'nav',
      { class: 'pager', 'aria-label': 'Pages' },
      offset > 0 ? h('button', { type: 'button', onclick: () => go(Math.max(0, offset - PAGE)) }, 'Previous') : null,
      body.nextOffset !== null ? h('button', { type: 'button', onclick: () => go(body.nextOffset) }, 'Next') : null,
    ),
  );
}

function addButton(p, qtyInput) {
  return h(
    'button',
    {
      type: 'button',
      disabled: p.stock <= 0,
      'aria-label': `Add to cart: ${p.name}`,
      onclick: () => {
        const n = qtyInput ? Math.max(1, Number(qtyInput.value) || 1) : 1;
        cart.add(p, n);
        announce(`Added ${n} × ${p.name} to the cart`);
      },
    },
    'Add to cart',
  );
}

async function product(id) {
  const at = location.hash;
  const { body: p, headers } = await api(`api/products/${encodeURIComponent(id)}`, { auth: false });
  if (location.hash !== at) return;
  const qty = h('input', { type: 'number', id: 'qty', min: '1', max: String(Math.max(1, p.stock)), value: '1', inputmode: 'numeric' });
  render(
    view,
    h('p', {}, h('a', { href: '#/' }, '← All products')),
    h('h1', {}, p.name),
    h(
      'dl',
      { class: 'facts' },
      h('dt', {}, 'Price'),
      h('dd', { class: 'price' }, money(p.priceCents)),
      h('dt', {}, 'In stock'),
      h('dd', { id: 'stock' }, String(p.stock)),
      h('dt', {}, 'Reserved for orders'),
      h('dd', {}, String(p.reserved)),
      h('dt', {}, 'Category'),
      h('dd', {}, p.category),
      h('dt', {}, 'SKU'),
      h('dd', {}, p.sku),
      h('dt', {}, 'Version (ETag)'),
      h('dd', {}, h('code', {}, headers.get('etag') || p.version)),
    ),
    h('div', { class: 'row' }, h('label', { for: 'qty' }, 'Quantity'), qty, addButton(p, qty)),
  );
}

/* ---------- cart and checkout ---------- */

async function cartPage() {
  const list = cart.items();
  const s = session();
  if (!list.length) {
    render(view, h('h1', {}, 'Your cart'), h('p', {}, 'The cart is empty. ', h('a', { href: '#/' }, 'Browse the products.')));
    return;
  }
  const status = h('p', { id: 'checkout-status', role: 'status', 'aria-live': 'polite' });
  const placeButton = h('button', { type: 'button', id: 'place-order', class: 'primary', onclick: () => checkout(placeButton, status, form) }, 'Place order');
  const form = h(
    'fieldset',
    {},
    h('legend', {}, 'Payment provider'),
    ['stripe', 'paypal'].map((p, i) =>
      h('label', { class: 'radio' }, h('input', { type: 'radio', name: 'provider', value: p, checked: i === 0 }), p === 'stripe' ? 'Card (Stripe)' : 'PayPal'),
    ),
  );
  render(
    view,
    h('h1', {}, 'Your cart'),
    h(
      'table',
      {},
      h('caption', { class: 'visually-hidden' }, 'Items in the cart'),
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          ['Product', 'Price', 'Quantity', 'Total', ''].map((t) => h('th', { scope: 'col' }, t)),
        ),
      ),
      h(
        'tbody',
        {},
        list.map((i) => {
          const id = `qty-${i.productId}`;
          return h(
            'tr',
            {},
            h('td', {}, h('a', { href: `#/product/${i.productId}` }, i.name)),
            h('td', {}, money(i.priceCents)),
            h(
              'td',
              {},
              h('label', { for: id, class: 'visually-hidden' }, `Quantity of ${i.name}`),
              h('input', {
                type: 'number',
                id,
                min: '0',
                max: '10000',
                value: String(i.quantity),
                class: 'qty',
                onchange: (e) => (cart.setQuantity(i.productId, Math.max(0, Number(e.target.value) || 0)), cartPage()),
              }),
            ),
            h('td', {}, money(i.priceCents * i.quantity)),
            h(
              'td',
              {},
              h('button', { type: 'button', class: 'link', 'aria-label': `Remove ${i.name}`, onclick: () => (cart.remove(i.productId), cartPage()) }, 'Remove'),
            ),
          );
        }),
      ),
      h('tfoot', {}, h('tr', {}, h('th', { scope: 'row', colspan: '3' }, 'Total'), h('td', { id: 'cart-total' }, money(cart.total())), h('td'))),
    ),
    s
      ? [form, placeButton, status]
      : h('p', {}, h('a', { href: '#/login?next=cart' }, 'Log in'), ' or ', h('a', { href: '#/register' }, 'create an account'), ' to check out.'),
  );
}

/**
 * One checkout attempt = one Idempotency-Key, kept (with the request it belongs to) until the
 * order is accepted, so a retry after a lost answer replays instead of ordering twice. The
 * button is disabled while a request is in flight.
 */
let placing = false;
async function checkout(button, status, form) {
  if (placing) return;
  placing = true;
  button.disabled = true;
  const provider = form.querySelector('input[name=provider]:checked').value;
  const body = { items: cart.items().map((i) => ({ productId: i.productId, quantity: i.quantity })), paymentProvider: provider };
  const fingerprint = JSON.stringify(body);
  let attempt = JSON.parse(sessionStorage.getItem(CHECKOUT_KEY) || 'null');
  if (!attempt || attempt.fingerprint !== fingerprint) {
    attempt = { key: uuid(), fingerprint };
    sessionStorage.setItem(CHECKOUT_KEY, JSON.stringify(attempt));
  }
  status.textContent = 'Placing your order…';
  try {
    for (let tries = 0; ; tries++) {
      const res = await api('api/orders', { method: 'POST', body, headers: { 'idempotency-key': attempt.key }, accept: [409] });
      if (res.status === 409 && tries < 20) {
        // The first request with this key is still running: wait and ask again with the same key.
        await sleep(1000 * Number(res.headers.get('retry-after') || 1));
        continue;
      }
      if (res.status === 409) throw new ApiError(409, res.body, res.headers);
      sessionStorage.removeItem(CHECKOUT_KEY);
      cart.clear();
      announce('Order placed');
      location.hash = `#/orders/${res.body.id}`;
      return;
    }
  } catch (err) {
    // 4xx answers are final for this key (a replay gives the same answer): start afresh next time.
    if (err instanceof ApiError && err.status < 500 && err.status !== 429) sessionStorage.removeItem(CHECKOUT_KEY);
    status.replaceChildren(errorBox(err));
    button.textContent = 'Try again';
    button.disabled = false;
  } finally {
    placing = false;
  }
}

/* ---------- login / register ---------- */

function authForm({ title, submit, onSubmit, extra }) {
  const email = h('input', { type: 'email', id: 'email', name: 'email', autocomplete: 'username', required: true });
  const password = h('input', {
    type: 'password',
    id: 'password',
    name: 'password',
    autocomplete: title === 'Log in' ? 'current-password' : 'new-password',
    required: true,
    minlength: '8',
  });
  const status = h('p', { role: 'status', 'aria-live': 'polite' });
  const button = h('button', { type: 'submit', class: 'primary' }, submit);
  render(
    view,
    h('h1', {}, title),
    h(
      'form',
      {
        class: 'stack',
        onsubmit: async (e) => {
          e.preventDefault();
          button.disabled = true;
          status.textContent = '';
          try {
            await onSubmit(email.value.trim(), password.value, status);
          } catch (err) {
            status.replaceChildren(errorBox(err));
          } finally {
            button.disabled = false;
          }
        },
      },
      h('label', { for: 'email' }, 'Email'),
      email,
      h('label', { for: 'password' }, 'Password (at least 8 characters)'),
      password,
      button,
      status,
    ),
    extra,
  );
}

async function loginPage() {
  const next = new URLSearchParams(location.hash.split('?')[1] || '').get('next');
  authForm({
    title: 'Log in',
    submit: 'Log in',
    onSubmit: async (email, password) => {
      const s = await login(email, password);
      announce(`Logged in as ${s.email}`);
      if (next === 'chaos') location.assign('./chaos');
      else location.hash = next ? `#/${next}` : '#/';
    },
    extra: h('p', {}, 'No account yet? ', h('a', { href: '#/register' }, 'Create one'), '. Demo: demo@checkout-mesh.dev / demo-password-123.'),
  });
}

async function registerPage() {
  authForm({
    title: 'Create an account',
    submit: 'Create account',
    onSubmit: async (email, password) => {
      await register(email, password);
      // Register answers 202 either way (no account enumeration): log in to find out.
      await login(email, password);
      announce('Account created, logged in');
      location.hash = '#/';
    },
    extra: h('p', {}, 'Have an account? ', h('a', { href: '#/login' }, 'Log in')),
  });
}

/* ---------- order page ---------- */

async function orderPage(id) {
  if (!session()) {
    render(view, h('h1', {}, 'Order'), h('p', {}, h('a', { href: `#/login?next=orders/${id}` }, 'Log in'), ' to see this order.'));
    return;
  }
  const summary = h('div', { id: 'order-summary' });
  const state = h('p', { id: 'order-state', role: 'status', 'aria-live': 'polite' });
  const pay = h('div', { id: 'payment' });
  const steps = h('div', { id: 'timeline' });
  const graph = sagaGraph({ id: 'order-saga', title: 'Checkout saga of this order' });
  render(
    view,
    h('p', {}, h('a', { href: '#/orders' }, '← My orders')),
    h('h1', {}, 'Order'),
    state,
    summary,
    pay,
    h('h2', {}, 'Saga timeline'),
    steps,
    h('h2', {}, 'Saga graph'),
    h(
      'p',
      { class: 'muted' },
      'The state machine as the Step Functions console draws it, with the path this order took lit. Select a state for its input, output and error.',
    ),
    graph.el,
  );
  let active = true;
  stopPolling = () => (active = false);
  let shownPayment = null;
  // Back from a cancel on PayPal's page: fail the payment now (once), so the saga compensates at once.
  if (sessionStorage.getItem(`${CANCELLED}${id}`) === '1') {
    sessionStorage.setItem(`${CANCELLED}${id}`, 'sent');
    api(`api/orders/${encodeURIComponent(id)}/payment/cancel`, { method: 'POST', accept: [409] })
      .then(() => announce('Payment cancelled'))
      .catch(() => undefined); // the order page shows whatever happens next
  }
  // Poll in the background so the page (and its focus handling) is ready at once.
  const poll = async () => {
    while (active) {
      let order, trace;
      try {
        [{ body: order }, { body: trace }] = await Promise.all([api(`api/orders/${encodeURIComponent(id)}`), api(`api/orders/${encodeURIComponent(id)}/trace`)]);
      } catch (err) {
        // 4xx (not found, not yours) is final; a 5xx or a lost connection is tried again.
        if (err instanceof ApiError && err.status < 500 && err.status !== 429) throw err;
        await sleep(2000);
        continue;
      }
      if (!active) return;
      renderOrder(order, summary, state);
      const payKey = order.state === 'AWAITING_PAYMENT' && order.payment ? order.payment.sessionId : null;
      if (payKey !== shownPayment) {
        shownPayment = payKey;
        render(pay, payKey ? paymentBox(order) : null);
      }
      render(steps, timeline(trace));
      graph.update(trace);
      if (settled(trace) && TERMINAL.includes(order.state)) return;
      await sleep(1000);
    }
  };
  runPoll(poll, state);
}

/** Runs a poll loop; a failure is shown on the page instead of ending silently. */
function runPoll(poll, where) {
  poll().catch((err) => where.replaceChildren(errorBox(err)));
}

/** Product names for order lines (orders store ids and prices only); looked up once each. */
const names = new Map();
function productName(id) {
  if (!names.has(id)) {
    names.set(id, 'product');
    api(`api/products/${encodeURIComponent(id)}`, { auth: false })
      .then(({ body }) => {
        names.set(id, body.name);
        document.querySelectorAll(`[data-product-name="${id}"]`).forEach((el) => (el.textContent = body.name));
      })
      .catch(() => undefined); // a product since removed keeps the placeholder
  }
  return h('span', { dataset: { productName: id } }, names.get(id));
}

function renderOrder(order, summary, state) {
  const label = order.state.replace(/_/g, ' ');
  if (state.dataset.state !== order.state) {
    state.dataset.state = order.state;
    render(state, 'Status: ', h('strong', { class: `state state-${order.state.toLowerCase()}` }, label));
  }
  render(
    summary,
    h('p', { class: 'muted' }, 'Order ', h('code', {}, order.id)),
    h(
      'ul',
      {},
      (order.items || []).map((i) => h('li', {}, `${i.quantity} × `, productName(i.productId), ` at ${money(i.unitPriceCents, order.currency)}`)),
    ),
    h('p', {}, 'Total ', h('strong', {}, money(order.amountCents, order.currency)), ` · paying with ${order.paymentProvider}`),
    ['FAILED', 'NEEDS_ATTENTION'].includes(order.state)
      ? h(
          'div',
          { class: 'failed-order', id: 'order-failure' },
          h('p', { class: 'error' }, plainFailure(order, { cancelled: Boolean(sessionStorage.getItem(`${CANCELLED}${order.id}`)) })),
          h('button', { type: 'button', id: 'try-again', class: 'primary', onclick: (e) => tryAgain(order, e.target) }, 'Try again'),
          h('span', { class: 'muted' }, ' puts these items back in your cart for a new order.'),
        )
      : null,
  );
}

/** A failed order's items back in the cart; the next checkout is a new attempt with a new Idempotency-Key. */
async function tryAgain(order, button) {
  button.disabled = true;
  for (const i of order.items || []) {
    const p = await api(`api/products/${encodeURIComponent(i.productId)}`, { auth: false })
      .then((r) => r.body)
      .catch(() => ({ id: i.productId, name: names.get(i.productId) || 'product', priceCents: i.unitPriceCents, currency: order.currency }));
    if (!cart.items().some((c) => c.productId === i.productId)) cart.add(p, i.quantity);
  }
  announce('The items are back in your cart');
  location.hash = '#/cart';
}

/* ---------- my orders ---------- */

const ORDERS_PAGE = 10;
async function myOrders() {
  if (!session()) {
    render(view, h('h1', {}, 'My orders'), h('p', {}, h('a', { href: '#/login?next=orders' }, 'Log in'), ' to see your orders.'));
    return;
  }
  const offset = Number(new URLSearchParams(location.hash.split('?')[1] || '').get('offset') || 0);
  const { body } = await api(`api/orders?${new URLSearchParams({ limit: String(ORDERS_PAGE), offset: String(offset) })}`);
  const go = (o) => (location.hash = o ? `#/orders?offset=${o}` : '#/orders');
  render(
    view,
    h('h1', {}, 'My orders'),
    h('p', { class: 'muted', role: 'status' }, `${body.total} order${body.total === 1 ? '' : 's'}`),
    body.items.length
      ? h(
          'ul',
          { class: 'order-list', 'aria-label': 'Orders' },
          body.items.map((o) =>
            h(
              'li',
              { class: 'order-row', dataset: { orderId: o.id, state: o.state } },
              h('a', { href: `#/orders/${o.id}` }, new Date(o.createdAt).toLocaleString()),
              h('span', { class: `state state-${o.state.toLowerCase()}` }, o.state.replace(/_/g, ' ')),
              h('span', {}, `${(o.items || []).reduce((n, i) => n + i.quantity, 0)} item(s)`),
              h('strong', {}, money(o.amountCents, o.currency)),
            ),
          ),
        )
      : h('p', {}, 'No orders yet. ', h('a', { href: '#/' }, 'Browse the products.')),
    h(
      'nav',
      { class: 'pager', 'aria-label': 'Pages' },
      offset > 0 ? h('button', { type: 'button', onclick: () => go(Math.max(0, offset - ORDERS_PAGE)) }, 'Newer') : null,
      body.nextOffset !== null ? h('button', { type: 'button', onclick: () => go(body.nextOffset) }, 'Older') : null,
    ),
  );
}

function paymentBox(order) {
  const p = order.payment;
  const status = h('p', { role: 'status', 'aria-live': 'polite' });
  const run = (fn) => async (e) => {
    const buttons = e.target.parentElement.querySelectorAll('button');
    buttons.forEach((b) => (b.disabled = true));
    status.textContent = 'Sending the payment to the provider…';
    try {
      await fn();
      status.textContent = 'Payment sent; waiting for the provider’s confirmation.';
    } catch (err) {
      status.replaceChildren(errorBox(err));
      buttons.forEach((b) => (b.disabled = false));
    }
  };
  if (order.paymentProvider === 'paypal' || p.provider === 'paypal') {
    const cancelled = sessionStorage.getItem(`${CANCELLED}${order.id}`);
    return h(
      'section',
      { class: 'pay', 'aria-labelledby': 'pay-title' },
      h('h2', { id: 'pay-title' }, 'Payment'),
      cancelled
        ? h('p', { id: 'paypal-cancelled', class: 'notice' }, 'You cancelled the payment on PayPal: nothing was charged, and the order is being cancelled.')
        : h('div', { class: 'row' }, h('button', { type: 'button', id: 'pay-paypal', class: 'primary', onclick: () => payWithPayPal(p) }, 'Continue to PayPal')),
      status,
    );
  }
  return h(
    'section',
    { class: 'pay', 'aria-labelledby': 'pay-title' },
    h('h2', { id: 'pay-title' }, 'Payment'),
    h('p', {}, 'Test mode: no real card is charged.'),
    h(
      'div',
      { class: 'row' },
      h('button', { type: 'button', id: 'pay-card', class: 'primary', onclick: run(() => payWithStripe(p, 'pm_card_visa')) }, 'Pay with test card'),
      h('button', { type: 'button', id: 'pay-declined', onclick: run(() => payWithStripe(p, 'pm_card_chargeDeclined')) }, 'Pay with a declined card'),
    ),
    status,
  );
}

/* ---------- health ---------- */

async function health() {
  const { body } = await api('api/health', { auth: false, accept: [503] });
  render(
    view,
    h('h1', {}, 'System health'),
    h('p', { role: 'status' }, body.status === 'up' ? 'All services are up.' : 'Some services are down.'),
    h(
      'table',
      {},
      h('caption', { class: 'visually-hidden' }, 'Each service and its dependencies'),
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          ['Service', 'Status', 'Dependencies'].map((t) => h('th', { scope: 'col' }, t)),
        ),
      ),
      h(
        'tbody',
        {},
        Object.entries(body.services || {}).map(([name, svc]) =>
          h(
            'tr',
            {},
            h('td', {}, name),
            h('td', { class: svc.status }, svc.status),
            h(
              'td',
              {},
              Object.entries(svc.report?.dependencies || {})
                .map(([d, r]) => `${d}: ${r.status}`)
                .join(', ') ||
                svc.error ||
                '',
            ),
          ),
        ),
      ),
    ),
    h('button', { type: 'button', onclick: health }, 'Refresh'),
  );
}

/* ---------- start ---------- */

// PayPal's approval page sends the buyer back with ?order=<id> (and paypal=cancelled when they
// cancelled there): show that order, without PayPal's token in the address bar.
const back = new URLSearchParams(location.search);
const returning = back.get('order');
if (returning && back.get('paypal') === 'cancelled') sessionStorage.setItem(`${CANCELLED}${returning}`, '1');
if (returning && !location.hash) history.replaceState(null, '', `${location.pathname}#/orders/${encodeURIComponent(returning)}`);

document.querySelector('.skip').addEventListener('click', (e) => (e.preventDefault(), view.focus()));
window.addEventListener('hashchange', route);
for (const ev of ['cm:cart', 'cm:session', 'storage']) window.addEventListener(ev, renderNav);
renderNav();
route();
