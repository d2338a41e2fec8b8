import { Client } from 'pg';
import { LeasedPool } from '../../functions/shared/db';
import { VaultClient } from '../../functions/shared/vault';
import { endpoints, localSecrets } from '../support/endpoints';

/**
 * Vault-leased credentials rotating under load (invariant 5): concurrent queries, some of
 * them running for more than a second, across forced and TTL-driven rotations. No query
 * may fail, no more than two leases may live at once, and retired users must be dropped.
 */
const ROLE = 'rotation-test';
const PREFIX = 'v-token-rotation';

async function vaultWrite(path: string, body: unknown) {
  const e = endpoints();
  const res = await fetch(`${e.vaultAddr}/v1/${path}`, {
    method: 'POST',
    headers: { 'X-Vault-Token': e.vaultToken, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`vault ${path}: ${res.status} ${await res.text()}`);
}

let admin: Client;

beforeAll(async () => {
  const e = endpoints();
  const db = new URL(e.postgresUrl);
  await vaultWrite('database/config/rotation_test', {
    plugin_name: 'postgresql-database-plugin',
    connection_url: `postgresql://{{username}}:{{password}}@${db.hostname}:${db.port}${db.pathname}?sslmode=disable`,
    username: 'vault_admin',
    password: localSecrets().vaultDbPassword,
    allowed_roles: ROLE,
  });
  // Seconds, not hours: renewals hit max_ttl quickly, so TTL-driven rotations happen too.
  await vaultWrite(`database/roles/${ROLE}`, {
    db_name: 'rotation_test',
    default_ttl: 4,
    max_ttl: 8,
    creation_statements: [`CREATE ROLE "{{name}}" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}' IN ROLE claims_owner;`],
    revocation_statements: [`DROP ROLE IF EXISTS "{{name}}";`],
  });
  admin = new Client({ connectionString: e.postgresUrl });
  await admin.connect();
});

afterAll(async () => {
  await admin?.end();
});

const liveLeaseUsers = async () =>
  (await admin.query<{ rolname: string }>('SELECT rolname FROM pg_roles WHERE rolname LIKE $1', [`${PREFIX}%`])).rows.map((r) => r.rolname);

it('rotates at least 5 times under load with zero failed queries and at most 2 live leases', async () => {
  const e = endpoints();
  const db = new URL(e.postgresUrl);
  const users = new Set<string>();
  const pool = new LeasedPool({
    vault: new VaultClient(e.vaultAddr, e.vaultToken),
    role: ROLE,
    host: db.hostname,
    port: Number(db.port),
    database: db.pathname.slice(1),
    max: 6,
    checkIntervalMs: 100,
    onRotate: ({ oldUser, newUser }) => {
      users.add(oldUser);
      users.add(newUser);
    },
  });

  let ok = 0;
  let failed = 0;
  const errors: string[] = [];
  let maxLive = 0;
  let running = true;

  const worker = async (id: number) => {
    for (let i = 0; running; i++) {
      try {
        // Every fourth query is slow, so rotations happen while it runs on the old pool.
        const sql = (id + i) % 4 === 0 ? 'SELECT pg_sleep(1.2), current_user AS u' : 'SELECT current_user AS u';
        const { rows } = await pool.query<{ u: string }>(sql);
        users.add(rows[0].u);
        ok++;
      } catch (err) {
        failed++;
        errors.push((err as Error).message);
      }
    }
  };
  const watcher = async () => {
    while (running) {
      maxLive = Math.max(maxLive, (await liveLeaseUsers()).length);
      await new Promise((r) => setTimeout(r, 50));
    }
  };

  const workers = Array.from({ length: 8 }, (_, i) => worker(i));
  const watching = watcher();
  for (let r = 0; r < 5; r++) {
    await new Promise((res) => setTimeout(res, 1500));
    await pool.rotate();
  }
  // Keep going long enough for a TTL-driven renewal/rotation as well.
  await new Promise((res) => setTimeout(res, 3000));
  running = false;
  await Promise.all(workers);
  await pool.settled();
  await watching;

  expect(errors.slice(0, 3)).toEqual([]);
  expect(failed).toBe(0);
  expect(ok).toBeGreaterThan(100);
  expect(pool.rotations).toBeGreaterThanOrEqual(5);
  expect(maxLive).toBeLessThanOrEqual(2);

  // Every retired user is gone from pg_roles once drained; only the current one remains.
  const live = await liveLeaseUsers();
  expect(live).toEqual([pool.currentUser]);
  expect(users.size).toBeGreaterThanOrEqual(6);
  await pool.close();
  expect(await liveLeaseUsers()).toEqual([]);
}, 60_000);

it('a lease revoked behind the pool (user dropped mid-load) costs no failed query: the pool leases anew', async () => {
  const e = endpoints();
  const db = new URL(e.postgresUrl);
  const role = 'revocation-test';
  // Like the services' roles: member of a schema owner, with that schema as search_path, and
  // revocation that drops what the user owned and the user itself.
  await vaultWrite(`database/roles/${role}`, {
    db_name: 'rotation_test',
    default_ttl: 300,
    max_ttl: 600,
    creation_statements: [
      `CREATE ROLE "{{name}}" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}' IN ROLE claims_owner;`,
      `ALTER ROLE "{{name}}" SET search_path = claims;`,
      `GRANT "{{name}}" TO vault_admin;`,
    ],
    revocation_statements: [`REASSIGN OWNED BY "{{name}}" TO claims_owner;`, `DROP OWNED BY "{{name}}";`, `DROP ROLE IF EXISTS "{{name}}";`],
  });
  await vaultWrite('database/config/rotation_test', {
    plugin_name: 'postgresql-database-plugin',
    connection_url: `postgresql://{{username}}:{{password}}@${db.hostname}:${db.port}${db.pathname}?sslmode=disable`,
    username: 'vault_admin',
    password: localSecrets().vaultDbPassword,
    allowed_roles: `${ROLE},${role}`,
  });
  const pool = new LeasedPool({
    vault: new VaultClient(e.vaultAddr, e.vaultToken),
    role,
    host: db.hostname,
    port: Number(db.port),
    database: db.pathname.slice(1),
    max: 4,
    checkIntervalMs: 0,
  });
  let ok = 0;
  const errors: string[] = [];
  let running = true;
  const worker = async () => {
    while (running) {
      try {
        // An unqualified table name: resolved through the user's search_path, lost with the user.
        await pool.query('SELECT count(*) FROM claims');
        ok++;
      } catch (err) {
        errors.push(`${(err as { code?: string }).code} ${(err as Error).message}`);
      }
    }
  };
  const workers = Array.from({ length: 4 }, worker);
  await new Promise((r) => setTimeout(r, 500));
  const first = pool.currentUser;
  // What an operator does to compromised credentials: revoke every lease of the role.
  const res = await fetch(`${e.vaultAddr}/v1/sys/leases/revoke-prefix/database/creds/${role}`, { method: 'PUT', headers: { 'X-Vault-Token': e.vaultToken } });
  expect(res.status).toBe(204);
  await new Promise((r) => setTimeout(r, 1500));
  running = false;
  await Promise.all(workers);
  expect(errors.slice(0, 3)).toEqual([]);
  expect(ok).toBeGreaterThan(50);
  expect(pool.rotations).toBeGreaterThanOrEqual(1);
  expect(pool.currentUser).not.toBe(first);
  await pool.close();
}, 60_000);
