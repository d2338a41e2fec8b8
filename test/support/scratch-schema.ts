import { randomUUID } from 'node:crypto';
import { Pool } from 'pg';
import { endpoints } from './endpoints';

/** A throwaway Postgres schema for a test file, with copies of a service's tables. */
export interface ScratchSchema {
  name: string;
  /** Unscoped pool: reads and checks by qualified name (`${name}.table`). */
  admin: Pool;
  /** Pool whose search_path is the schema, as a service's leased pool resolves its own tables. */
  db: Pool;
  /** Empties every table made here (between tests). */
  truncate(): Promise<void>;
  /** Drops the schema and ends both pools (afterAll). */
  drop(): Promise<void>;
}

/**
 * Creates `<prefix>_<random>` with one table per entry: a column list, or `LIKE schema.table
 * INCLUDING ALL` to copy a migrated table (its constraints and indexes with it).
 */
export async function scratchSchema(prefix: string, tables: Record<string, string>, opts: { dbMax?: number } = {}): Promise<ScratchSchema> {
  const name = `${prefix}_${randomUUID().slice(0, 8)}`;
  const url = endpoints().postgresUrl;
  const admin = new Pool({ connectionString: url, max: 2 });
  await admin.query(`CREATE SCHEMA ${name}`);
  for (const [table, definition] of Object.entries(tables)) await admin.query(`CREATE TABLE ${name}.${table} (${definition})`);
  const db = new Pool({ connectionString: url, max: opts.dbMax ?? 8, options: `-c search_path=${name}` });
  const qualified = Object.keys(tables).map((t) => `${name}.${t}`);
  return {
    name,
    admin,
    db,
    truncate: async () => {
      await admin.query(`TRUNCATE ${qualified.join(', ')}`);
    },
    drop: async () => {
      await admin.query(`DROP SCHEMA IF EXISTS ${name} CASCADE`);
      await db.end();
      await admin.end();
    },
  };
}
