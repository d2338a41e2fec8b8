import type { Client } from 'pg';
import { DEMO_CATEGORY, RACE_DEMO_PRODUCT_ID } from '../../functions/catalog/core/model';

/** Demo products with fixed ids so the seed is idempotent and docs/tests can name them. */
export const DEMO_PRODUCTS: Array<{ id: string; sku: string; name: string; category: string; priceCents: number; stock: number }> = [
  { id: '00000000-0000-4000-8000-000000000101', sku: 'MUG-001', name: 'Stoneware Mug', category: 'kitchen', priceCents: 1400, stock: 120 },
  { id: '00000000-0000-4000-8000-000000000102', sku: 'KTL-002', name: 'Pour-over Kettle', category: 'kitchen', priceCents: 5900, stock: 40 },
  { id: '00000000-0000-4000-8000-000000000103', sku: 'GRD-003', name: 'Burr Coffee Grinder', category: 'kitchen', priceCents: 8900, stock: 25 },
  { id: '00000000-0000-4000-8000-000000000104', sku: 'TSH-004', name: 'Organic Cotton T-Shirt', category: 'apparel', priceCents: 2500, stock: 200 },
  { id: '00000000-0000-4000-8000-000000000105', sku: 'HOD-005', name: 'Merino Hoodie', category: 'apparel', priceCents: 7900, stock: 60 },
  { id: '00000000-0000-4000-8000-000000000106', sku: 'SCK-006', name: 'Wool Hiking Socks', category: 'apparel', priceCents: 1800, stock: 300 },
  { id: '00000000-0000-4000-8000-000000000107', sku: 'BKP-007', name: 'Daypack 20L', category: 'outdoor', priceCents: 6900, stock: 50 },
  { id: '00000000-0000-4000-8000-000000000108', sku: 'BTL-008', name: 'Insulated Bottle', category: 'outdoor', priceCents: 3200, stock: 150 },
  { id: '00000000-0000-4000-8000-000000000109', sku: 'LMP-009', name: 'Headlamp 400lm', category: 'outdoor', priceCents: 3900, stock: 80 },
  { id: '00000000-0000-4000-8000-000000000110', sku: 'NTB-010', name: 'Dot Grid Notebook', category: 'stationery', priceCents: 1200, stock: 500 },
  { id: '00000000-0000-4000-8000-000000000111', sku: 'PEN-011', name: 'Fountain Pen', category: 'stationery', priceCents: 4500, stock: 70 },
  { id: '00000000-0000-4000-8000-000000000112', sku: 'LTD-012', name: 'Limited Edition Print', category: 'stationery', priceCents: 9900, stock: 3 },
  // The ETag race's own product (POST /api/catalog/race touches nothing else); hidden from listings.
  { id: RACE_DEMO_PRODUCT_ID, sku: 'RACE-DEMO', name: 'Race Demo Counter', category: DEMO_CATEGORY, priceCents: 100, stock: 1000 },
];

export async function seed(client: Client): Promise<void> {
  for (const p of DEMO_PRODUCTS) {
    await client.query(
      `INSERT INTO products (id, sku, name, category, price_cents, stock)
       VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT DO NOTHING`,
      [p.id, p.sku, p.name, p.category, p.priceCents, p.stock],
    );
  }
}
