import fs from 'node:fs';
import path from 'node:path';
import { Client } from 'pg';
import { singleConnection, withTransaction } from '../../functions/shared/db';
import { ROOT } from './paths';
import { adminPgUrl } from './settings';

/**
 * Demo data. Each file in scripts/seed/<service>.ts exports `seed(client)`, run as that
 * service's owner role with its schema on the search_path. Seeds must be idempotent
 * (ON CONFLICT DO NOTHING): `up` runs them every time.
 */
export async function seedAll(): Promise<string[]> {
  const dir = path.join(ROOT, 'scripts', 'seed');
  const files = fs.existsSync(dir)
    ? fs
        .readdirSync(dir)
        .filter((f) => f.endsWith('.ts'))
        .sort()
    : [];
  const done: string[] = [];
  const client = new Client({ connectionString: adminPgUrl() });
  await client.connect();
  try {
    for (const file of files) {
      const service = path.basename(file, '.ts');
      const mod = (await import(path.join(dir, file))) as { seed: (c: Client) => Promise<void> };
      await withTransaction(singleConnection(client), async (tx) => {
        await tx.query(`SET LOCAL ROLE "${service}_owner"`);
        await tx.query(`SET LOCAL search_path = "${service}"`);
        await mod.seed(client);
      }).catch((err: Error) => {
        throw new Error(`Seeding ${service} failed: ${err.message}`);
      });
      done.push(service);
    }
  } finally {
    await client.end();
  }
  return done;
}
