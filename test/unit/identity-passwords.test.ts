import { dummyVerify, hashPassword, verifyPassword } from '../../functions/identity/core/passwords';

describe('identity passwords (scrypt)', () => {
  it('hashes with a per-user salt and verifies only the right password', async () => {
    const a = await hashPassword('correct horse battery');
    const b = await hashPassword('correct horse battery');
    expect(a).toMatch(/^scrypt\$16384\$8\$1\$[A-Za-z0-9_-]+\$[A-Za-z0-9_-]+$/);
    expect(a).not.toEqual(b);
    await expect(verifyPassword('correct horse battery', a)).resolves.toBe(true);
    await expect(verifyPassword('correct horse batterY', a)).resolves.toBe(false);
    await expect(verifyPassword('', a)).resolves.toBe(false);
  });

  it('never matches (nor throws on) malformed stored hashes', async () => {
    for (const bad of [
      '',
      'plain',
      'scrypt$1$2$3$x$y',
      'bcrypt$16384$8$1$AAAA$BBBB',
      'scrypt$99999999$8$1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
    ]) {
      await expect(verifyPassword('x', bad)).resolves.toBe(false);
    }
  });

  it('spends a real verification on unknown accounts and always fails', async () => {
    await expect(dummyVerify('anything')).resolves.toBe(false);
  });
});
