// What the /chaos panels share: the page's own rate-limit bucket and drill breaker name (so runs
// never share state), the admin check, and the page configuration from GET /api/config (the
// services behind the BFF and the saga's steps: never copied into the page's code).
import { api, session, uuid } from '../api.js';

export const $ = (id) => document.getElementById(id);
export const bucket = `page-${uuid().slice(0, 8)}`;
export const isAdmin = () => Boolean(session()?.isAdmin);

let config;
/** {services: string[], saga: {steps: string[], failureModes: string[]}} */
export async function pageConfig() {
  config ??= api('api/config', { auth: false }).then((r) => ({ services: r.body.services || [], saga: r.body.saga || { steps: [], failureModes: [] } }));
  return config.catch((err) => {
    config = undefined;
    throw err;
  });
}

let products = [];
/** The products the race and saga forms offer (first 100; /chaos?category=<name>: that category's). */
export async function loadProducts() {
  const category = new URLSearchParams(location.search).get('category');
  const { body } = await api(`api/products?limit=100${category ? `&category=${encodeURIComponent(category)}` : ''}`, { auth: false });
  products = body.items;
  return products;
}
export const productList = () => products;
