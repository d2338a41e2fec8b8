import type { OrderItem, PlaceOrder } from './model';
import { OrderError } from './errors';

export interface CatalogProduct {
  id: string;
  priceCents: number;
  stock: number;
}

/** Validates a cart against catalog prices (unknown products are refused); the amount is the sum of line totals. */
export function priceCart(cart: PlaceOrder['items'], products: Map<string, CatalogProduct | undefined>): { items: OrderItem[]; amountCents: number } {
  const missing = cart.filter((i) => !products.get(i.productId)).map((i) => i.productId);
  if (missing.length) {
    throw new OrderError('unknownProducts', `Unknown products: ${missing.join(', ')}`, { missing });
  }
  const items = cart.map((i) => ({ productId: i.productId, quantity: i.quantity, unitPriceCents: products.get(i.productId)!.priceCents }));
  const amountCents = items.reduce((sum, i) => sum + i.quantity * i.unitPriceCents, 0);
  return { items, amountCents };
}
