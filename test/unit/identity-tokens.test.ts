import { createHmac } from 'node:crypto';
import { generateKeyPair, SignJWT, type JWTVerifyGetKey } from 'jose';
import { KeyRing, MemoryKeyStore, prune, type StoredKey } from '../../functions/identity/core/keys';
import { issueAccessToken } from '../../functions/identity/core/tokens';
import { assertNotRevoked, authKeys, bearerToken, JWT_AUDIENCE, JWT_ISSUER, requireRole, verifyAccessJwt, type Principal } from '../../functions/shared/auth';
import { HttpProblem } from '../../functions/shared/problem';

const claims = { sub: '00000000-0000-4000-8000-000000000001', roles: ['customer' as const], sid: 'family-1' };
const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

async function expect401(p: Promise<unknown>) {
  await expect(p).rejects.toBeInstanceOf(HttpProblem);
  await expect(p).rejects.toMatchObject({ status: 401 });
}

describe('identity access tokens', () => {
  let ring: KeyRing;
  let keys: JWTVerifyGetKey;

  beforeEach(async () => {
    ring = new KeyRing(new MemoryKeyStore(), { accessTtlSec: 900 });
    keys = await ring.verificationKeys();
  });

  it('issues ES256 tokens with kid, iss, aud, sub, jti, roles and a 15 minute exp', async () => {
    const issued = await issueAccessToken(ring, claims);
    const [header, payload] = issued.token
      .split('.')
      .slice(0, 2)
      .map((p) => JSON.parse(Buffer.from(p, 'base64url').toString()));
    expect(header).toEqual({ alg: 'ES256', kid: issued.kid, typ: 'at+jwt' });
    expect(payload).toMatchObject({
      iss: JWT_ISSUER,
      aud: JWT_AUDIENCE,
      sub: claims.sub,
      jti: issued.jti,
      roles: ['customer'],
      sid: 'family-1',
      client_id: 'checkout-mesh-web',
    });
    expect(payload.exp - payload.iat).toBe(900);
    const p = await verifyAccessJwt(issued.token, keys);
    expect(p).toEqual({ sub: claims.sub, roles: ['customer'], jti: issued.jti, sid: 'family-1', exp: issued.exp });
  });

  it('rejects expired, wrong aud, wrong iss, alg none, HS256 with the public key, tampered and unknown-kid tokens', async () => {
    const { token } = await issueAccessToken(ring, claims);
    const { kid, key } = await ring.signingKey();
    const signed = (mut: (j: SignJWT) => SignJWT) =>
      mut(new SignJWT({ roles: ['customer'] }).setProtectedHeader({ alg: 'ES256', kid, typ: 'at+jwt' }).setSubject('u').setJti('j').setIssuedAt()).sign(key);
    const expired = await signed((j) => j.setIssuer(JWT_ISSUER).setAudience(JWT_AUDIENCE).setIssuedAt(1000).setExpirationTime(2000));
    const wrongAud = await signed((j) => j.setIssuer(JWT_ISSUER).setAudience('someone-else').setExpirationTime('5m'));
    const wrongIss = await signed((j) => j.setIssuer('https://evil.example').setAudience(JWT_AUDIENCE).setExpirationTime('5m'));
    const [, payload, sig] = token.split('.');
    const none = `${b64({ alg: 'none', kid, typ: 'at+jwt' })}.${payload}.`;
    const pub = (await ring.jwks()).keys[0];
    const hsInput = `${b64({ alg: 'HS256', kid, typ: 'at+jwt' })}.${payload}`;
    const hs256 = `${hsInput}.${createHmac('sha256', JSON.stringify(pub)).update(hsInput).digest('base64url')}`;
    const tampered = `${token.split('.').slice(0, 2).join('.')}.${sig[0] === 'A' ? 'B' : 'A'}${sig.slice(1)}`;
    const tamperedPayload = `${token.split('.')[0]}.${b64({ ...JSON.parse(Buffer.from(payload, 'base64url').toString()), roles: ['admin'] })}.${sig}`;
    const other = await generateKeyPair('ES256');
    const unknownKid = await new SignJWT({ roles: ['customer'] })
      .setProtectedHeader({ alg: 'ES256', kid: 'unknown-kid', typ: 'at+jwt' })
      .setIssuer(JWT_ISSUER)
      .setAudience(JWT_AUDIENCE)
      .setSubject('u')
      .setJti('j')
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(other.privateKey);
    for (const bad of [expired, wrongAud, wrongIss, none, hs256, tampered, tamperedPayload, unknownKid, 'not-a-jwt', '']) {
      await expect401(verifyAccessJwt(bad, keys));
    }
  });

  it('generates one key on first use; rotation publishes the next key before it signs and keeps the old one', async () => {
    let now = Date.now();
    const store = new MemoryKeyStore();
    const a = new KeyRing(store, { accessTtlSec: 900, publishLeadMs: 60_000, cacheMs: 0, now: () => now });
    const b = new KeyRing(store, { accessTtlSec: 900, cacheMs: 0, now: () => now });
    const [ka, kb] = await Promise.all([a.signingKey(), b.signingKey()]);
    expect(ka.kid).toBe(kb.kid);
    const old = await issueAccessToken(a, claims, { now });

    const next = await a.rotate();
    expect((await a.jwks()).keys.map((k) => k.kid)).toEqual([next, ka.kid]);
    expect((await a.signingKey()).kid).toBe(ka.kid); // published, not signing yet
    now += 61_000;
    expect((await a.signingKey()).kid).toBe(next);
    const fresh = await issueAccessToken(a, claims, { now });
    expect(fresh.kid).toBe(next);
    const set = await b.verificationKeys();
    // The verifier shares the simulated clock (a token issued "in the future" is refused).
    await expect(verifyAccessJwt(old.token, set, { currentDate: new Date(now) })).resolves.toMatchObject({ jti: old.jti });
    await expect(verifyAccessJwt(fresh.token, set, { currentDate: new Date(now) })).resolves.toMatchObject({ jti: fresh.jti });
  });

  it('re-reads the store when a token names a kid another instance just rotated in', async () => {
    const now = Date.now();
    const store = new MemoryKeyStore();
    const signer = new KeyRing(store, { accessTtlSec: 900, cacheMs: 0, now: () => now });
    const verifierRing = new KeyRing(store, { accessTtlSec: 900, cacheMs: 60_000, now: () => now });
    await verifierRing.signingKey(); // caches the first key set
    await signer.rotate();
    const fresh = await issueAccessToken(signer, claims, { now });
    await expect(verifyAccessJwt(fresh.token, await verifierRing.verificationKeys())).resolves.toMatchObject({ jti: fresh.jti });
  });

  it('prunes a key only after every token it signed has expired', () => {
    const key = (kid: string, signFrom: number) => ({ kid, signFrom }) as StoredKey;
    const t = 10_000_000;
    const keys = [key('k1', 0), key('k2', t), key('k3', t + 5_000)];
    expect(prune(keys, t + 1000, 900).map((k) => k.kid)).toEqual(['k1', 'k2', 'k3']);
    expect(prune(keys, t + 900_000 + 60_001, 900).map((k) => k.kid)).toEqual(['k2', 'k3']);
    expect(prune(keys, t + 5_000 + 900_000 + 60_001, 900).map((k) => k.kid)).toEqual(['k3']);
  });
});

describe('shared auth helpers', () => {
  const principal: Principal = { sub: 'u', roles: ['customer'], jti: 'j', sid: 's', exp: 0 };

  it('parses bearer tokens and answers 401 without one', () => {
    expect(bearerToken({ headers: { authorization: 'Bearer abc.def.ghi' } })).toBe('abc.def.ghi');
    expect(() => bearerToken({ headers: {} })).toThrow(expect.objectContaining({ status: 401 }));
    expect(() => bearerToken({ headers: { authorization: 'Basic Zm9v' } })).toThrow(expect.objectContaining({ status: 401 }));
  });

  it('requireRole answers 403 without the role', () => {
    expect(requireRole({ ...principal, roles: ['admin'] }, 'admin').sub).toBe('u');
    expect(() => requireRole(principal, 'admin')).toThrow(expect.objectContaining({ status: 403 }));
  });

  it('checks the jti and session denylist keys, failing closed when Redis is down', async () => {
    const seen: string[][] = [];
    await assertNotRevoked({ exists: async (...k: string[]) => (seen.push(k), 0) } as never, principal);
    expect(seen[0]).toEqual([authKeys.deniedJti('j'), authKeys.revokedSession('s')]);
    await expect(assertNotRevoked({ exists: async () => 1 } as never, principal)).rejects.toMatchObject({ status: 401 });
    await expect(
      assertNotRevoked(
        {
          exists: async () => {
            throw new Error('down');
          },
        } as never,
        principal,
      ),
    ).rejects.toMatchObject({ status: 503 });
  });
});
