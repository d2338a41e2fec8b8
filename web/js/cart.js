// The cart lives in localStorage: {productId: {productId, name, priceCents, currency, quantity}}.
const KEY = 'cm.cart';

export function items() {
  try {
    return Object.values(JSON.parse(localStorage.getItem(KEY) || '{}'));
  } catch {
    return [];
  }
}

function save(list) {
  localStorage.setItem(KEY, JSON.stringify(Object.fromEntries(list.map((i) => [i.productId, i]))));
  window.dispatchEvent(new Event('cm:cart'));
}

export function add(product, quantity = 1) {
  const list = items();
  const found = list.find((i) => i.productId === product.id);
  if (found) found.quantity += quantity;
  else list.push({ productId: product.id, name: product.name, priceCents: product.priceCents, currency: product.currency || 'EUR', quantity });
  save(list);
}

export function setQuantity(productId, quantity) {
  save(
    items()
      .map((i) => (i.productId === productId ? { ...i, quantity } : i))
      .filter((i) => i.quantity > 0),
  );
}

export const remove = (productId) => setQuantity(productId, 0);
export const clear = () => save([]);
export const count = () => items().reduce((n, i) => n + i.quantity, 0);
export const total = () => items().reduce((n, i) => n + i.quantity * i.priceCents, 0);
