import { Client } from 'pg';
import { endpoints, localSecrets } from '../support/endpoints';

/**
 * Least privilege in Postgres and Vault: a service's Vault-leased database user can use its own
 * schema and nothing else (every other service's schema answers "permission denied", 42501, for
 * reads, writes and DDL, and the shared `public` schema takes no new objects), and a service's
 * Vault token can lease only its own database role and read only its own secrets.
 */
jest.setTimeout(60_000);
const SERVICES = ['identity', 'catalog', 'claims', 'payments', 'orders'] as const;
type Service = (typeof SERVICES)[number];
/** One table per schema to aim at. */
const TABLE: Record<Service, string> = {
  identity: 'users',
  catalog: 'products',
  claims: 'claims',
  payments: 'payment_sessions',
  orders: 'orders',
};

const e = endpoints();
const secrets = localSecrets();
const leases: string[] = [];
const clients: Client[] = [];

async function vault(token: string, method: string, path: string, body?: unknown) {
  const res = await fetch(`${e.vaultAddr}/v1/${path}`, {
    method,
    headers: { 'X-Vault-Token': token, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

/** Leases credentials the way the service does (its own Vault token) and connects with them. */
async function connectAs(service: Service): Promise<Client> {
  const lease = await vault(secrets.serviceTokens[service], 'GET', `database/creds/${service}`);
  expect(lease.status).toBe(200);
  leases.push(lease.body.lease_id);
  const url = new URL(e.postgresUrl);
  const client = new Client({
    host: url.hostname,
    port: Number(url.port || 5432),
    database: url.pathname.slice(1),
    user: lease.body.data.username,
    password: lease.body.data.password,
  });
  await client.connect();
  clients.push(client);
  return client;
}

async function sqlState(client: Client, sql: string): Promise<string> {
  try {
    await client.query(sql);
    return 'ok';
  } catch (err) {
    return (err as { code?: string }).code ?? String(err);
  }
}

afterAll(async () => {
  await Promise.all(clients.map((c) => c.end().catch(() => undefined)));
  // Revoke what the test leased so the users are dropped now, not at the lease TTL.
  for (const id of leases) await vault(secrets.vaultRootToken, 'PUT', 'sys/leases/revoke', { lease_id: id });
});

describe("each service's Vault-leased Postgres user is confined to its own schema", () => {
  it.each(SERVICES)('%s: own schema usable; every other schema refuses reads, writes and DDL with 42501', async (service) => {
    const db = await connectAs(service);
    // Own schema: reachable through the search_path Vault set, and by name.
    expect(await sqlState(db, `SELECT count(*) FROM ${TABLE[service]}`)).toBe('ok');
    expect(await sqlState(db, `SELECT count(*) FROM ${service}.${TABLE[service]}`)).toBe('ok');
    const denied: Record<string, string> = {};
    for (const other of SERVICES.filter((s) => s !== service)) {
      denied[`select ${other}`] = await sqlState(db, `SELECT * FROM ${other}.${TABLE[other]} LIMIT 1`);
      denied[`delete ${other}`] = await sqlState(db, `DELETE FROM ${other}.${TABLE[other]} WHERE false`);
      denied[`create in ${other}`] = await sqlState(db, `CREATE TABLE ${other}.sneaky (x int)`);
      // Changing the search_path does not open the door either: a schema without USAGE is skipped,
      // so the table is simply not there (42P01), counted as denied.
      await db.query(`SET search_path = ${other}`);
      const viaPath = await sqlState(db, `SELECT * FROM ${TABLE[other]} LIMIT 1`);
      denied[`search_path ${other}`] = viaPath === '42P01' ? '42501' : viaPath;
      await db.query('RESET search_path');
    }
    denied['create in public'] = await sqlState(db, 'CREATE TABLE public.sneaky (x int)');
    // 42501 = insufficient_privilege ("permission denied for schema ..."); 42P01 would mean it only could not find it.
    expect(Object.fromEntries(Object.entries(denied).map(([k, v]) => [k, v === '42501' ? 'denied' : v]))).toEqual(
      Object.fromEntries(Object.keys(denied).map((k) => [k, 'denied'])),
    );
  });

  it('catalog cannot read identity or payments tables, and identity cannot read catalog (the named pairs)', async () => {
    const catalog = await connectAs('catalog');
    const identity = await connectAs('identity');
    await expect(catalog.query('SELECT email, password_hash FROM identity.users LIMIT 1')).rejects.toThrow(/permission denied for schema identity/);
    await expect(catalog.query('SELECT * FROM payments.payment_sessions LIMIT 1')).rejects.toThrow(/permission denied for schema payments/);
    await expect(identity.query('UPDATE catalog.products SET stock = stock + 1 WHERE false')).rejects.toThrow(/permission denied for schema catalog/);
  });
});

describe("each service's Vault token reaches only its own database role and secrets", () => {
  it("a service token cannot lease another service's database role", async () => {
    for (const service of SERVICES) {
      for (const other of SERVICES.filter((s) => s !== service)) {
        const res = await vault(secrets.serviceTokens[service], 'GET', `database/creds/${other}`);
        expect({ service, other, status: res.status }).toEqual({ service, other, status: 403 });
      }
    }
  });

  it('catalog and orders cannot read the JWT signing keys or the payment provider secrets; payments cannot write them', async () => {
    for (const service of ['catalog', 'orders', 'bff', 'chaos'] as const) {
      for (const path of ['secret/data/identity/signing-keys', 'secret/data/payments/stripe']) {
        const res = await vault(secrets.serviceTokens[service], 'GET', path);
        expect({ service, path, status: res.status }).toEqual({ service, path, status: 403 });
      }
    }
    const write = await vault(secrets.serviceTokens.payments, 'POST', 'secret/data/identity/signing-keys', { data: { keys: [] } });
    expect(write.status).toBe(403);
  });
});
