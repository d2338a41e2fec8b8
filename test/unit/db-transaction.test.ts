import { withTransaction, type Queryable } from '../../functions/shared/db';

/** withTransaction over a pool with pg's connect(): BEGIN/COMMIT, ROLLBACK on error, broken connections not reused. */
function fakePool(opts: { rollbackFails?: boolean } = {}) {
  const statements: string[] = [];
  const released: Array<Error | boolean | undefined> = [];
  const query = (async (text: string) => {
    statements.push(text);
    if (text === 'ROLLBACK' && opts.rollbackFails) throw new Error('connection terminated');
    return { rows: [], rowCount: 0 };
  }) as unknown as Queryable['query'];
  return { statements, released, connect: async () => ({ query, release: (err?: Error | boolean) => void released.push(err) }) };
}

describe('withTransaction', () => {
  it('commits what fn did and returns its result', async () => {
    const pool = fakePool();
    expect(await withTransaction(pool, async (tx) => (await tx.query('UPDATE t SET x = 1'), 'done'))).toBe('done');
    expect(pool.statements).toEqual(['BEGIN', 'UPDATE t SET x = 1', 'COMMIT']);
    expect(pool.released).toEqual([undefined]);
  });

  it('rolls back and rethrows; the connection goes back to the pool', async () => {
    const pool = fakePool();
    await expect(withTransaction(pool, async () => Promise.reject(new Error('business failure')))).rejects.toThrow('business failure');
    expect(pool.statements).toEqual(['BEGIN', 'ROLLBACK']);
    expect(pool.released).toEqual([undefined]);
  });

  it('a connection whose ROLLBACK failed is released as broken (destroyed, not reused)', async () => {
    const pool = fakePool({ rollbackFails: true });
    await expect(withTransaction(pool, async () => Promise.reject(new Error('business failure')))).rejects.toThrow('business failure');
    expect(pool.released[0]).toBeInstanceOf(Error);
  });

  it('on the LeasedPool it runs inside withClient (the lease stays in use until the work is done)', async () => {
    const statements: string[] = [];
    const client = { query: (async (text: string) => (statements.push(text), { rows: [], rowCount: 0 })) as unknown as Queryable['query'] };
    let borrowed = 0;
    const leased = {
      withClient: async <T>(fn: (c: Queryable) => Promise<T>) => {
        borrowed++;
        return fn(client);
      },
    };
    await withTransaction(leased, async (tx) => tx.query('SELECT 1'));
    expect(borrowed).toBe(1);
    expect(statements).toEqual(['BEGIN', 'SELECT 1', 'COMMIT']);
  });
});
