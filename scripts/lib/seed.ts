import fs from 'node:fs';
import path from 'node:path';
import { Client } from 'pg';
import { ROOT } from './paths';
import { adminPgUrl } from './settings';

/**
 * Demo data. Each file in scripts/seed/<service>.ts exports `seed(client)`, run as that
 * service's owner role with its schema on the search_path. Seeds must be idempotent
 * (ON CONFLICT DO NOTHING): `up` runs them every time.
 */
export async function seedAll(): Promise<string[]> {
  const dir = path.join(ROOT, 'scripts', 'seed');
  const files = fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith('.ts')).sort() : [];
  const done: string[] = [];
  const client = new Client({ connectionString: adminPgUrl() });
  await client.connect();
  try {
    for (const file of files) {
      const service = path.basename(file, '.ts');
      const mod = (await import(path.join(dir, file))) as { seed: (c: Client) => Promise<void> };
      await client.query('BEGIN');
      try {
        await client.query(`SET LOCAL ROLE "${service}_owner"`);
        await client.query(`SET LOCAL search_path = "${service}"`);
        await mod.seed(client);
        await client.query('COMMIT');
        done.push(service);
      } catch (err) {
        await client.query('ROLLBACK');
        throw new Error(`Seeding ${service} failed: ${(err as Error).message}`);
      }
    }
  } finally {
    await client.end();
  }
  return done;
}
