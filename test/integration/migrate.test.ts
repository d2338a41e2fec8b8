import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { loadMigrations, migrate, MigrationError } from '../../scripts/lib/migrate';
import { endpoints } from '../support/endpoints';

/**
 * The runner against a scratch database: applies in order as the owner role, skips what
 * is applied, refuses a changed applied file, and holds under two concurrent runners.
 */
const DB = `cm_migrate_test_${process.pid}`;
let adminUrl: string;
let dbUrl: string;
let dir: string;

beforeAll(async () => {
  adminUrl = endpoints().postgresUrl.replace(/\/[^/]+$/, '/postgres');
  dbUrl = endpoints().postgresUrl.replace(/\/[^/]+$/, `/${DB}`);
  const admin = new Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${DB}`);
  await admin.query(`CREATE DATABASE ${DB}`);
  await admin.end();
  const db = new Client({ connectionString: dbUrl });
  await db.connect();
  await db.query(`DO $$ BEGIN CREATE ROLE mtest_owner NOLOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$`);
  await db.query('CREATE SCHEMA mtest AUTHORIZATION mtest_owner');
  await db.end();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'migrations-'));
  fs.mkdirSync(path.join(dir, 'mtest'));
  fs.writeFileSync(path.join(dir, 'mtest', '001_items.sql'), 'CREATE TABLE items (id int PRIMARY KEY);');
  fs.writeFileSync(path.join(dir, 'mtest', '002_seed.sql'), 'INSERT INTO items VALUES (1), (2);');
});

afterAll(async () => {
  const admin = new Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${DB} WITH (FORCE)`);
  await admin.end();
  fs.rmSync(dir, { recursive: true, force: true });
});

it('applies in order, as the owner role, into the service schema', async () => {
  const [first, second] = await Promise.all([migrate(dbUrl, dir), migrate(dbUrl, dir)]);
  // Two concurrent runners: the lock lets one apply; the other finds everything done.
  expect([...first.applied, ...second.applied].sort()).toEqual(['mtest/001_items.sql', 'mtest/002_seed.sql']);
  const db = new Client({ connectionString: dbUrl });
  await db.connect();
  const { rows } = await db.query("SELECT tableowner, (SELECT count(*) FROM mtest.items)::int AS n FROM pg_tables WHERE schemaname = 'mtest' AND tablename = 'items'");
  await db.end();
  expect(rows).toEqual([{ tableowner: 'mtest_owner', n: 2 }]);
});

it('skips applied migrations on a second run', async () => {
  const again = await migrate(dbUrl, dir);
  expect(again).toEqual({ applied: [], skipped: 2 });
});

it('refuses an applied migration whose file changed', async () => {
  fs.writeFileSync(path.join(dir, 'mtest', '002_seed.sql'), 'INSERT INTO items VALUES (3);');
  await expect(migrate(dbUrl, dir)).rejects.toThrow(/changed after it was applied/);
});

it('rolls back a failing migration and records nothing for it', async () => {
  fs.writeFileSync(path.join(dir, 'mtest', '002_seed.sql'), 'INSERT INTO items VALUES (1), (2);');
  fs.writeFileSync(path.join(dir, 'mtest', '003_bad.sql'), 'INSERT INTO items VALUES (9); SELECT nope FROM nowhere;');
  await expect(migrate(dbUrl, dir)).rejects.toBeInstanceOf(MigrationError);
  const db = new Client({ connectionString: dbUrl });
  await db.connect();
  const items = await db.query('SELECT count(*)::int AS n FROM mtest.items WHERE id = 9');
  const recorded = await db.query("SELECT count(*)::int AS n FROM public.schema_migrations WHERE service = 'mtest' AND version = 3");
  await db.end();
  expect(items.rows[0].n).toBe(0);
  expect(recorded.rows[0].n).toBe(0);
  fs.rmSync(path.join(dir, 'mtest', '003_bad.sql'));
});

it('rejects badly named files', () => {
  const bad = fs.mkdtempSync(path.join(os.tmpdir(), 'migrations-bad-'));
  fs.mkdirSync(path.join(bad, 'svc'));
  fs.writeFileSync(path.join(bad, 'svc', 'init.sql'), 'SELECT 1');
  expect(() => loadMigrations(bad)).toThrow(/expected NNN_name.sql/);
  fs.rmSync(bad, { recursive: true });
});
