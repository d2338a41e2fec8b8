import { Client } from 'pg';
import { crowdProduct, crowdUsers, runCrowd, summarizeCrowd } from '../test/support/crowd';
import { endpoints } from '../test/support/endpoints';
(async () => {
  const db = new Client({ connectionString: endpoints().postgresUrl });
  await db.connect();
  const n = Number(process.argv[2] ?? 100);
  const users = await crowdUsers(Number(process.argv[4] ?? 50));
  const productId = await crowdProduct(db, 100000);
  const r = await runCrowd(db, { readers: n, readerMode: (process.argv[3] as 'one-client') ?? 'one-client', checkouts: Number(process.argv[4] ?? 50), users, productId, log: console.log });
  const s = summarizeCrowd(r);
  console.log(JSON.stringify({ s, first: r.firstTry, served: r.readersServed, workers: r.workers, orders: { ...r.orders, nonTerminal: r.orders.nonTerminal.length }, v: r.invariants.violations }, null, 1));
  await db.end();
})();
