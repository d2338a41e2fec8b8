import { Client, Pool } from 'pg';
import { LeasedPool } from '../functions/shared/db';
import { VaultClient } from '../functions/shared/vault';
import type { BenchContext, Benchmark } from './lib/context';
import { scaled } from './lib/context';
import { localSecrets } from './lib/env';
import type { Row, Target } from './lib/report';
import { nowMs, ratio, round, sleep } from './lib/stats';

/**
 * Credential rotation under load: the services' LeasedPool (functions/shared/db.ts) on a
 * bench-only Vault role, 8 workers querying without pause (one of them running 300 ms
 * queries, so rotations happen with queries in flight on the old pool), 5 forced rotations
 * (as test/integration/db-rotation.test.ts forces them). Floor: a plain pg Pool with static
 * credentials, same workers, same pool size. Slices alternate: ours (with a rotation in the
 * middle) then floor, 5 times. Failed queries must be 0; queries/s is the cost of leasing.
 */
const ROLE = 'bench-rotation';
const DB_CONFIG = 'bench_rotation';
// Leased users are named v-token-<role>-… (the role name possibly truncated).
const PREFIX = 'v-token-bench-r';
const WORKERS = 8;
const POOL_MAX = 6;

interface Querier {
  query(sql: string): Promise<unknown>;
}

export const rotation: Benchmark = {
  name: 'rotation',
  title: 'Credential rotation under load: LeasedPool across 5 forced rotations vs a static-credential pg Pool',
  needsFloor: false,
  async run(ctx: BenchContext) {
    const e = ctx.e;
    const db = new URL(e.postgresUrl);
    const vaultWrite = async (path: string, body: unknown) => {
      const res = await fetch(`${e.vaultAddr}/v1/${path}`, {
        method: 'POST',
        headers: { 'X-Vault-Token': e.vaultToken, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      if (!res.ok) throw new Error(`vault ${path}: ${res.status} ${await res.text()}`);
    };
    await vaultWrite(`database/config/${DB_CONFIG}`, {
      plugin_name: 'postgresql-database-plugin',
      connection_url: `postgresql://{{username}}:{{password}}@${db.hostname}:${db.port}${db.pathname}?sslmode=disable`,
      username: 'vault_admin',
      password: localSecrets().vaultDbPassword,
      allowed_roles: ROLE,
    });
    await vaultWrite(`database/roles/${ROLE}`, {
      db_name: DB_CONFIG,
      default_ttl: 300,
      max_ttl: 600,
      creation_statements: [`CREATE ROLE "{{name}}" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}' IN ROLE claims_owner;`],
      revocation_statements: [`DROP ROLE IF EXISTS "{{name}}";`],
    });
    const admin = new Client({ connectionString: e.postgresUrl });
    await admin.connect();
    const liveLeases = async () => (await admin.query<{ n: number }>('SELECT count(*)::int AS n FROM pg_roles WHERE rolname LIKE $1', [`${PREFIX}%`])).rows[0].n;

    const leased = new LeasedPool({
      vault: new VaultClient(e.vaultAddr, e.vaultToken),
      role: ROLE,
      host: db.hostname,
      port: Number(db.port),
      database: db.pathname.slice(1),
      max: POOL_MAX,
      checkIntervalMs: 100,
    });
    const plain = new Pool({ connectionString: e.postgresUrl, max: POOL_MAX });
    const count = { ours: { ok: 0, failed: 0, ms: 0 }, floor: { ok: 0, failed: 0, ms: 0 } };
    const errors: string[] = [];
    let maxLive = 0;

    const slice = async (pool: Querier, which: 'ours' | 'floor', ms: number, during?: () => Promise<void>) => {
      let running = true;
      const started = nowMs();
      const worker = async (id: number) => {
        while (running) {
          try {
            await pool.query(id === 0 ? 'SELECT pg_sleep(0.3), current_user' : 'SELECT current_user');
            count[which].ok++;
          } catch (err) {
            count[which].failed++;
            if (errors.length < 5) errors.push(`${which}: ${(err as Error).message}`);
          }
        }
      };
      const workers = Array.from({ length: WORKERS }, (_, i) => worker(i));
      if (during) {
        await sleep(ms / 2);
        await during();
        await sleep(Math.max(0, ms - (nowMs() - started)));
      } else await sleep(ms);
      running = false;
      await Promise.all(workers);
      count[which].ms += nowMs() - started;
    };

    const rotations = scaled(ctx, 5);
    try {
      await leased.query('SELECT 1');
      await plain.query('SELECT 1');
      for (let r = 0; r < rotations; r++) {
        await slice(leased, 'ours', 2000, async () => {
          await leased.rotate();
          maxLive = Math.max(maxLive, await liveLeases());
        });
        maxLive = Math.max(maxLive, await liveLeases());
        await slice(plain, 'floor', 2000);
        ctx.log(`rotation ${r + 1}: ours ${count.ours.ok} ok / ${count.ours.failed} failed, floor ${count.floor.ok} ok`);
      }
      await leased.settled();
      const qpsO = round((count.ours.ok / count.ours.ms) * 1000);
      const qpsF = round((count.floor.ok / count.floor.ms) * 1000);
      const rows: Row[] = [
        { case: `${WORKERS} workers, pool ${POOL_MAX}`, metric: 'queries/s', unit: '', ours: qpsO, floor: qpsF, ratio: ratio(qpsF, qpsO) },
        { case: `${rotations} rotations`, metric: 'failed queries', unit: '', ours: count.ours.failed, floor: count.floor.failed },
        { case: `${rotations} rotations`, metric: 'rotations done / max live leases', unit: '', ours: `${leased.rotations} / ${maxLive}` },
      ];
      const targets: Target[] = [
        { name: 'rotation: failed queries', limit: '= 0', value: count.ours.failed, met: count.ours.failed === 0 && leased.rotations >= rotations },
      ];
      return { rows, targets, notes: errors, data: { count, rotations: leased.rotations, maxLiveLeases: maxLive } };
    } finally {
      await leased.close().catch(() => undefined);
      await plain.end().catch(() => undefined);
      await admin.end();
    }
  },
};
