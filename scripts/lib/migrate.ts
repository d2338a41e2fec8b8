import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Client } from 'pg';
import { singleConnection, withTransaction } from '../../functions/shared/db';

/**
 * The one migration runner. Files live in migrations/<service>/NNN_name.sql and run in
 * order, each in its own transaction as the service's owner role with search_path set
 * to the service's schema, so every object belongs to that service.
 *
 * A cluster-wide advisory lock serialises runners; public.schema_migrations records a
 * SHA-256 of each applied file, and a changed applied file is an error.
 */
export interface Migration {
  service: string;
  version: number;
  name: string;
  file: string;
  sql: string;
  checksum: string;
}

export class MigrationError extends Error {}

const FILE_RE = /^(\d{3,})_([a-z0-9_]+)\.sql$/;
const LOCK_KEY = 727002;

export function loadMigrations(dir: string): Migration[] {
  if (!fs.existsSync(dir)) return [];
  const out: Migration[] = [];
  for (const service of fs.readdirSync(dir).sort()) {
    const serviceDir = path.join(dir, service);
    if (!fs.statSync(serviceDir).isDirectory()) continue;
    if (!/^[a-z][a-z0-9_]*$/.test(service)) throw new MigrationError(`Bad service folder name: ${service}`);
    const seen = new Set<number>();
    for (const file of fs.readdirSync(serviceDir).sort()) {
      const m = FILE_RE.exec(file);
      if (!m) throw new MigrationError(`Bad migration file name ${service}/${file}: expected NNN_name.sql`);
      const version = Number(m[1]);
      if (seen.has(version)) throw new MigrationError(`Duplicate migration version ${service}/${m[1]}`);
      seen.add(version);
      const sql = fs.readFileSync(path.join(serviceDir, file), 'utf8');
      out.push({ service, version, name: m[2], file: `${service}/${file}`, sql, checksum: sha256(sql) });
    }
  }
  return out;
}

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

export interface MigrateResult {
  applied: string[];
  skipped: number;
}

export async function migrate(connectionString: string, dir: string): Promise<MigrateResult> {
  const migrations = loadMigrations(dir);
  const client = new Client({ connectionString });
  await client.connect();
  const applied: string[] = [];
  let skipped = 0;
  try {
    await client.query('SELECT pg_advisory_lock($1)', [LOCK_KEY]);
    await client.query(`CREATE TABLE IF NOT EXISTS public.schema_migrations (
      service    text        NOT NULL,
      version    integer     NOT NULL,
      name       text        NOT NULL,
      checksum   text        NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (service, version))`);
    const { rows } = await client.query<{ service: string; version: number; checksum: string }>('SELECT service, version, checksum FROM public.schema_migrations');
    const done = new Map(rows.map((r) => [`${r.service}/${r.version}`, r.checksum]));
    for (const m of migrations) {
      const prior = done.get(`${m.service}/${m.version}`);
      if (prior !== undefined) {
        if (prior !== m.checksum) {
          throw new MigrationError(`Migration ${m.file} was changed after it was applied (checksum mismatch): add a new migration instead`);
        }
        skipped++;
        continue;
      }
      // On the client that holds the advisory lock: the lock is a session's.
      await withTransaction(singleConnection(client), async (tx) => {
        await tx.query(`SET LOCAL ROLE "${m.service}_owner"`);
        await tx.query(`SET LOCAL search_path = "${m.service}"`);
        await tx.query(m.sql);
        await tx.query('RESET ROLE');
        await tx.query('INSERT INTO public.schema_migrations (service, version, name, checksum) VALUES ($1, $2, $3, $4)', [m.service, m.version, m.name, m.checksum]);
      }).catch((err: Error) => {
        throw new MigrationError(`Migration ${m.file} failed: ${err.message}`);
      });
      applied.push(m.file);
    }
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [LOCK_KEY]).catch(() => undefined);
    await client.end();
  }
  return { applied, skipped };
}
