import { Client } from 'pg';
import { restartVault } from '../../scripts/lib/infra';
import { ownedPid } from '../../scripts/lib/proc';
import { secrets, settings } from '../../scripts/lib/settings';
import { registerAndLogin } from '../support/accounts';
import { endpoints } from '../support/endpoints';

/**
 * The deployed services survive an OpenBao restart without a redeploy: OpenBao keeps its data on
 * disk (.local/openbao), so after a crash (SIGKILL) and `ensureVault` (start, unseal) the
 * services' tokens and the database leases they hold are still Vault's. Proven through the
 * public API: DB-backed calls succeed on the leases from before the restart, Vault still renews
 * such a lease, and a service whose leases are revoked after the restart leases new credentials
 * from the restarted OpenBao with its unchanged token. In the soak project (run on its own,
 * after the other suites): a restart would fail the Vault calls of suites running beside it.
 */
const e = endpoints();
const vault = async (method: string, p: string, body?: unknown) => {
  const res = await fetch(`${e.vaultAddr}/v1/${p}`, {
    method,
    headers: { 'X-Vault-Token': e.vaultToken, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(5000),
  });
  const text = await res.text();
  // biome-ignore lint/suspicious/noExplicitAny: OpenBao's JSON answers, read by path in the assertions
  return { status: res.status, body: text ? (JSON.parse(text) as Record<string, any>) : {} };
};
const leaseIds = async (role: string): Promise<string[]> => {
  const res = await vault('LIST', `sys/leases/lookup/database/creds/${role}`);
  return ((res.body.data?.keys as string[] | undefined) ?? []).map((k) => `database/creds/${role}/${k}`);
};
type Health = { status: string; services: Record<string, { status: string; report?: { dependencies?: { postgres?: { detail?: { user?: string } } } } }> };
const health = async (): Promise<{ code: number; body: Health }> => {
  const res = await fetch(e.healthUrl, { signal: AbortSignal.timeout(30_000) });
  return { code: res.status, body: (await res.json()) as Health };
};
/** Services the health probe reaches on one warm worker (catalog may run two, each with its lease). */
const WARM_SINGLE = ['identity', 'claims', 'payments', 'orders'];
const dbUser = (h: Health, svc: string) => h.services[svc]?.report?.dependencies?.postgres?.detail?.user;
/** The system reports healthy (each probe a DB query through a service's leased user), within a bound. */
async function healthyWithin(ms: number): Promise<Health> {
  const deadline = Date.now() + ms;
  for (;;) {
    const h = await health().catch(() => undefined);
    if (h?.code === 200) return h.body;
    if (Date.now() > deadline) throw new Error(`not healthy within ${ms} ms: ${JSON.stringify(h?.body ?? {}).slice(0, 500)}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

beforeAll(() => {
  // The restart acts on this checkout's OpenBao, by the settings `npm run up` used.
  if (settings.vaultAddr !== e.vaultAddr)
    throw new Error(`VAULT_ADDR ${settings.vaultAddr} is not the stack's (${e.vaultAddr}): export the environment \`npm run up\` ran with`);
  if (!ownedPid('openbao')) throw new Error('this test restarts our own OpenBao (.local/pids/openbao.pid), started by `npm run up`');
});

it('services keep working through an OpenBao crash and restart, on their old leases and with new ones, without a redeploy', async () => {
  const before = await healthyWithin(60_000);
  const ordersLeases = await leaseIds('orders');
  expect(ordersLeases.length).toBeGreaterThan(0);
  for (const svc of WARM_SINGLE) expect(dbUser(before, svc)).toMatch(/^v-token-sv-/);

  const restartedAt = Math.floor(Date.now() / 1000);
  await restartVault(secrets(), 'crash');

  // Nothing was redeployed and nothing re-leased: the users serving were leased before the
  // restart (Vault's username template ends with the lease's unix time), Vault still knows
  // their leases and renews them.
  const after = await healthyWithin(30_000);
  const leasedAt = (user?: string) => Number(/-(\d{10})$/.exec(user ?? '')?.[1] ?? NaN);
  for (const svc of WARM_SINGLE) expect({ svc, beforeRestart: leasedAt(dbUser(after, svc)) <= restartedAt }).toEqual({ svc, beforeRestart: true });
  expect(await leaseIds('orders')).toEqual(expect.arrayContaining(ordersLeases));
  const renewed = await vault('PUT', 'sys/leases/renew', { lease_id: ordersLeases[0], increment: 3600 });
  expect({ status: renewed.status, renewed: renewed.body.lease_id }).toEqual({ status: 200, renewed: ordersLeases[0] });

  // DB-backed calls through the public API: a new account (identity writes), its orders (orders reads).
  const session = await registerAndLogin(e.apiBaseUrl);
  const orders = await fetch(`${e.apiBaseUrl}/api/orders`, { headers: { authorization: `Bearer ${session.accessToken}` }, signal: AbortSignal.timeout(30_000) });
  expect(orders.status).toBe(200);

  // A fresh lease from the restarted OpenBao: revoke catalog's leases (users dropped); its next
  // query leases new credentials with the token it had before the restart.
  const catalogBefore = dbUser(after, 'catalog');
  const revoked = await vault('PUT', 'sys/leases/revoke-prefix/database/creds/catalog');
  expect(revoked.status).toBe(204);
  const db = new Client({ connectionString: e.postgresUrl });
  await db.connect();
  try {
    expect((await db.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [catalogBefore])).rowCount).toBe(0);
    const released = await healthyWithin(30_000);
    const catalogAfter = dbUser(released, 'catalog');
    expect(catalogAfter).toMatch(/^v-token-sv-catalog-/);
    expect(catalogAfter).not.toBe(catalogBefore);
    expect((await db.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [catalogAfter])).rowCount).toBe(1);
    expect((await leaseIds('catalog')).length).toBeGreaterThan(0);
  } finally {
    await db.end();
  }
}, 180_000);
