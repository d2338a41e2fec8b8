import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import Redis from 'ioredis';
import { Pool } from 'pg';
import { PgUserRepo } from '../../functions/identity/adapters/pg-users';
import { VaultKeyStore } from '../../functions/identity/adapters/vault-keys';
import { VaultClient } from '../../functions/shared/vault';
import { AuthService } from '../../functions/identity/core/auth-service';
import { KeyRing } from '../../functions/identity/core/keys';
import { LoginLimiter } from '../../functions/identity/core/rate-limit';
import { issueAccessToken } from '../../functions/identity/core/tokens';
import { authKeys, createVerifier } from '../../functions/shared/auth';
import { identityProblem } from '../../functions/identity/adapters/problems';
import { endpoints } from '../support/endpoints';

/** Identity's use cases against real Postgres, Redis and OpenBao (keys under a per-run Vault path). */
const e = endpoints();
// Per-project testTimeout is not applied in every jest invocation: set it here (cold starts take seconds).
jest.setTimeout(60_000);
const run = randomUUID().slice(0, 8);
const keyPaths: string[] = [];
let redis: Redis;
let pool: Pool;

/** A refusal as the identity handler answers it (the core throws IdentityErrors; token checks are already problems). */
const answered = <T>(p: Promise<T>): Promise<T> =>
  p.catch((err: unknown) => {
    throw identityProblem(err) ?? err;
  });

const email = (tag: string) => `it-${tag}-${run}-${randomUUID().slice(0, 6)}@example.test`;
const keyStore = () => {
  const path = `identity/test-${run}-${keyPaths.length}/signing-keys`;
  keyPaths.push(path);
  return new VaultKeyStore(new VaultClient(e.vaultAddr, e.vaultToken), path);
};

function service(opts: { ring?: KeyRing; limiter?: LoginLimiter } = {}) {
  return new AuthService({
    users: new PgUserRepo(() => pool),
    keys: opts.ring ?? new KeyRing(keyStore(), { accessTtlSec: 900 }),
    redis,
    limiter: opts.limiter,
  });
}

async function registered(svc: AuthService, tag: string) {
  const creds = { email: email(tag), password: 'integration-pass-1' };
  await svc.register(creds);
  return creds;
}

beforeAll(async () => {
  redis = new Redis(e.redisUrl);
  pool = new Pool({ connectionString: e.postgresUrl, options: '-c search_path=identity', max: 4 });
});

afterAll(async () => {
  await pool.query(`DELETE FROM users WHERE email LIKE $1`, [`it-%-${run}-%`]).catch(() => undefined);
  for (const path of keyPaths) {
    await fetch(`${e.vaultAddr}/v1/secret/metadata/${path}`, { method: 'DELETE', headers: { 'X-Vault-Token': e.vaultToken } }).catch(() => undefined);
  }
  await pool.end();
  redis.disconnect();
});

describe('identity refresh tokens (Redis)', () => {
  it('rotates: a refresh answers a new pair and consumes the old token', async () => {
    const svc = service();
    const creds = await registered(svc, 'rotate');
    const first = await svc.login(creds, '10.0.0.1');
    expect(first).toMatchObject({ tokenType: 'Bearer', expiresIn: 900 });
    const second = await svc.refresh(first.refreshToken);
    expect(second.refreshToken).not.toBe(first.refreshToken);
    expect(second.accessToken).not.toBe(first.accessToken);
    const third = await svc.refresh(second.refreshToken);
    await expect(svc.me(third.accessToken)).resolves.toMatchObject({ email: creds.email, roles: ['customer'] });
  });

  it('reuse of a consumed token revokes the whole family, live tokens and access tokens included', async () => {
    const svc = service();
    const creds = await registered(svc, 'reuse');
    const first = await svc.login(creds, '10.0.0.2');
    const second = await svc.refresh(first.refreshToken);
    await expect(answered(svc.refresh(first.refreshToken))).rejects.toMatchObject({ status: 401 });
    await expect(answered(svc.refresh(second.refreshToken))).rejects.toMatchObject({ status: 401 });
    await expect(answered(svc.me(second.accessToken))).rejects.toMatchObject({ status: 401 });
    const sid = JSON.parse(Buffer.from(second.accessToken.split('.')[1], 'base64url').toString()).sid as string;
    expect(await redis.exists(authKeys.revokedSession(sid))).toBe(1);
    // Other sessions of the same user are unaffected.
    const other = await svc.login(creds, '10.0.0.2');
    await expect(svc.refresh(other.refreshToken)).resolves.toMatchObject({ tokenType: 'Bearer' });
  });

  it('consumes atomically: of 10 concurrent refreshes with one token exactly one succeeds', async () => {
    const svc = service();
    const creds = await registered(svc, 'race');
    const { refreshToken } = await svc.login(creds, '10.0.0.3');
    const results = await Promise.allSettled(Array.from({ length: 10 }, () => svc.refresh(refreshToken)));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
  });

  it('rejects unknown and malformed refresh tokens without revoking anything', async () => {
    const svc = service();
    for (const bad of [`rt.AAAAAAAAAAAAAAAAAAAAAA.${'B'.repeat(43)}`, 'garbage', 'rt..x']) {
      await expect(answered(svc.refresh(bad))).rejects.toMatchObject({ status: 401 });
    }
  });

  it('logout denylists the access jti until exp and revokes the refresh family', async () => {
    const svc = service();
    const creds = await registered(svc, 'logout');
    const pair = await svc.login(creds, '10.0.0.4');
    await svc.logout(pair.accessToken);
    const { jti } = JSON.parse(Buffer.from(pair.accessToken.split('.')[1], 'base64url').toString()) as { jti: string };
    const ttl = await redis.pttl(authKeys.deniedJti(jti));
    expect(ttl).toBeGreaterThan(14 * 60_000);
    expect(ttl).toBeLessThanOrEqual(16 * 60_000 + 1000);
    await expect(answered(svc.me(pair.accessToken))).rejects.toMatchObject({ status: 401 });
    await expect(answered(svc.refresh(pair.refreshToken))).rejects.toMatchObject({ status: 401 });
  });
});

describe('identity login', () => {
  it('answers the same 401 for an unknown account and a wrong password', async () => {
    const svc = service();
    const creds = await registered(svc, 'uniform');
    const a = await answered(svc.login({ email: creds.email, password: 'wrong-password' }, '10.0.1.1')).catch((err) => err);
    const b = await answered(svc.login({ email: email('nobody'), password: 'wrong-password' }, '10.0.1.1')).catch((err) => err);
    expect(a).toMatchObject({ status: 401, message: b.message });
    expect(b).toMatchObject({ status: 401 });
  });

  it('registering an existing email changes nothing and answers the same', async () => {
    const svc = service();
    const creds = await registered(svc, 'dup');
    await expect(svc.register({ email: creds.email, password: 'another-password' })).resolves.toBeUndefined();
    await expect(svc.login(creds, '10.0.1.2')).resolves.toMatchObject({ tokenType: 'Bearer' });
  });

  it('rate limits failed logins per account with 429 and Retry-After', async () => {
    const limiter = new LoginLimiter(redis, { perIp: { limit: 1000, windowSec: 60 }, perAccount: { limit: 3, windowSec: 60 } });
    const svc = service({ limiter });
    const creds = await registered(svc, 'acct');
    for (let i = 0; i < 3; i++) {
      await expect(answered(svc.login({ ...creds, password: 'bad-password' }, `10.1.${run.length}.${i}`))).rejects.toMatchObject({ status: 401 });
    }
    const err = await answered(svc.login(creds, '10.2.0.1')).catch((x) => x);
    expect(err).toMatchObject({ status: 429 });
    expect(Number(err.headers['retry-after'])).toBeGreaterThan(0);
    expect(Number(err.headers['retry-after'])).toBeLessThanOrEqual(60);
    expect(err.headers['ratelimit-policy']).toBe('"login-account";q=3;w=60');
  });

  it('rate limits attempts per IP', async () => {
    const limiter = new LoginLimiter(redis, { perIp: { limit: 2, windowSec: 60 }, perAccount: { limit: 100, windowSec: 60 } });
    const svc = service({ limiter });
    const creds = await registered(svc, 'ip');
    const ip = `192.0.2.${Math.floor(Math.random() * 250)}-${run}`;
    await svc.login(creds, ip);
    await svc.login(creds, ip);
    await expect(answered(svc.login(creds, ip))).rejects.toMatchObject({ status: 429 });
    await expect(svc.login(creds, `${ip}-other`)).resolves.toMatchObject({ tokenType: 'Bearer' });
  });
});

describe('identity signing keys (Vault KV)', () => {
  it('concurrent first use creates exactly one key in Vault', async () => {
    const store = keyStore();
    const rings = Array.from({ length: 4 }, () => new KeyRing(store, { accessTtlSec: 900 }));
    const kids = await Promise.all(rings.map(async (r) => (await r.signingKey()).kid));
    expect(new Set(kids).size).toBe(1);
    const loaded = await store.load();
    expect(loaded?.doc.keys).toHaveLength(1);
    expect(loaded?.doc.keys[0].privateJwk.d).toBeDefined();
  });

  it('rotation keeps the old kid verifiable through a remote JWKS (createRemoteJWKSet)', async () => {
    const ring = new KeyRing(keyStore(), { accessTtlSec: 900, cacheMs: 0 });
    const server = http.createServer(async (_req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(await ring.jwks()));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/jwks.json`;
      const verifier = createVerifier({ jwksUrl: url, redis: () => redis, cooldownMs: 0 });
      const claims = { sub: randomUUID(), roles: ['customer' as const], sid: `sid-${run}` };
      const old = await issueAccessToken(ring, claims);
      await expect(verifier.verify(old.token)).resolves.toMatchObject({ jti: old.jti });

      const newKid = await ring.rotate();
      expect(newKid).not.toBe(old.kid);
      const fresh = await issueAccessToken(ring, claims);
      expect(fresh.kid).toBe(newKid);
      // The verifier has the old set cached: the unknown kid makes it refetch.
      await expect(verifier.verify(fresh.token)).resolves.toMatchObject({ jti: fresh.jti });
      await expect(verifier.verify(old.token)).resolves.toMatchObject({ jti: old.jti });
      expect((await ring.jwks()).keys.map((k) => k.kid)).toEqual([newKid, old.kid]);
    } finally {
      server.close();
    }
  });
});
