import { KeyObject, randomUUID, sign as signBytes } from 'node:crypto';
import { exportJWK, generateKeyPair, importJWK, SignJWT, type CryptoKey, type JWK } from 'jose';
import { endpoints } from '../support/endpoints';
import { expectProblem, login, problemType, registerAndLogin, send } from '../support/hostile';

/**
 * Token attacks through the public API that test/e2e/auth.test.ts does not already make
 * (it covers expired, wrong aud/iss, alg none, HS256 with the public key, tampered, unknown
 * kid, logout and refresh reuse on /api/me): not-yet-valid and future-issued tokens, other
 * algorithms and `typ`s, missing claims, invented roles, keys smuggled in the header
 * (jwk / jku / x5u / crit), kid injection, oversized tokens, and revocation holding on the
 * routes that change state (orders, admin chaos rules), not only on /api/me. Crafted tokens
 * are signed with the real signing key from Vault, so only the attribute under test is wrong.
 */
jest.setTimeout(120_000);
const e = endpoints();
const api = e.apiBaseUrl;
const ISS = 'https://identity.checkout-mesh.dev';
const AUD = 'checkout-mesh-api';
const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
const claimsOf = (jwt: string) => JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString()) as Record<string, unknown>;
const headerOf = (jwt: string) => JSON.parse(Buffer.from(jwt.split('.')[0], 'base64url').toString()) as Record<string, unknown>;

let kid: string;
let key: CryptoKey;
let user: Awaited<ReturnType<typeof login>>;

beforeAll(async () => {
  user = await registerAndLogin(api);
  kid = headerOf(user.accessToken).kid as string;
  const res = await fetch(`${e.vaultAddr}/v1/secret/data/identity/signing-keys`, { headers: { 'X-Vault-Token': e.vaultToken } });
  const body = (await res.json()) as { data: { data: { keys: { kid: string; privateJwk: JWK }[] } } };
  key = (await importJWK(body.data.data.keys.find((k) => k.kid === kid)!.privateJwk, 'ES256')) as CryptoKey;
});

const me = (token: string) => send(`${api}/api/me`, 'GET', { headers: { authorization: `Bearer ${token}` } });
async function expectRejected(name: string, token: string) {
  const res = await me(token);
  expect({ name, status: res.status }).toEqual({ name, status: 401 });
  expect(expectProblem(res, name)).toBe(problemType('unauthorized'));
}

interface Forge {
  header?: Record<string, unknown>;
  claims?: Record<string, unknown>;
  omit?: string[];
  signKey?: CryptoKey;
}
/** A token like the real one (same sub, sid, roles), signed with the real key unless told otherwise. */
async function forge({ header = {}, claims = {}, omit = [], signKey }: Forge = {}): Promise<string> {
  const base = claimsOf(user.accessToken);
  const now = Math.floor(Date.now() / 1000);
  const payload: Record<string, unknown> = {
    iss: ISS,
    aud: AUD,
    sub: base.sub,
    jti: randomUUID(),
    iat: now,
    exp: now + 600,
    roles: base.roles,
    sid: base.sid,
    ...claims,
  };
  for (const k of omit) delete payload[k];
  return new SignJWT(payload).setProtectedHeader({ alg: 'ES256', kid, typ: 'at+jwt', ...header } as never).sign(signKey ?? key);
}

describe('token attacks on the public API', () => {
  it('control: a forged token with every attribute right is accepted (so each rejection below is about one attribute)', async () => {
    expect((await me(await forge())).status).toBe(200);
  });

  it('rejects not-yet-valid (nbf ahead) and future-issued (iat ahead) tokens', async () => {
    const now = Math.floor(Date.now() / 1000);
    await expectRejected('nbf+10min', await forge({ claims: { nbf: now + 600 } }));
    await expectRejected('iat+10min', await forge({ claims: { iat: now + 600, exp: now + 1200 } }));
    // Within the 5 s clock tolerance the token is fine.
    expect((await me(await forge({ claims: { nbf: now + 2 } }))).status).toBe(200);
  });

  it('rejects tokens that live longer than an access token may (a forged exp far ahead)', async () => {
    const now = Math.floor(Date.now() / 1000);
    await expectRejected('exp+10y', await forge({ claims: { exp: now + 10 * 365 * 86400 } }));
  });

  it('rejects other algorithms and typs, and alg none in any spelling', async () => {
    const p = user.accessToken.split('.')[1];
    for (const alg of ['None', 'NONE', 'nOnE']) await expectRejected(`alg ${alg}`, `${b64({ alg, kid, typ: 'at+jwt' })}.${p}.`);
    const es384 = await generateKeyPair('ES384');
    await expectRejected('ES384 with the real kid', await forge({ header: { alg: 'ES384' }, signKey: es384.privateKey }));
    const rsa = await generateKeyPair('RS256');
    await expectRejected('RS256 with the real kid', await forge({ header: { alg: 'RS256' }, signKey: rsa.privateKey }));
    const other = await generateKeyPair('ES256');
    await expectRejected('another ES256 key under the real kid', await forge({ signKey: other.privateKey }));
    await expectRejected('typ JWT', await forge({ header: { typ: 'JWT' } }));
    await expectRejected('typ missing', await forge({ header: { typ: undefined } }));
  });

  it('rejects missing sub, jti, exp or iat and invented roles', async () => {
    for (const claim of ['sub', 'jti', 'exp', 'iat']) await expectRejected(`no ${claim}`, await forge({ omit: [claim] }));
    await expectRejected('roles superadmin', await forge({ claims: { roles: ['superadmin'] } }));
    await expectRejected('roles a string', await forge({ claims: { roles: 'admin' } }));
    await expectRejected('sub a number', await forge({ claims: { sub: 42 } }));
    await expectRejected('aud list without ours', await forge({ claims: { aud: ['other-api'] } }));
  });

  it('ignores keys smuggled in the header: embedded jwk, jku, x5u, and refuses unknown crit extensions', async () => {
    const attacker = await generateKeyPair('ES256', { extractable: true });
    const jwk = await exportJWK(attacker.publicKey);
    await expectRejected('embedded jwk', await forge({ header: { jwk, kid: undefined }, signKey: attacker.privateKey }));
    await expectRejected('embedded jwk + real kid', await forge({ header: { jwk }, signKey: attacker.privateKey }));
    await expectRejected('jku to attacker', await forge({ header: { jku: 'http://127.0.0.1:9/jwks.json', kid: 'attacker' }, signKey: attacker.privateKey }));
    await expectRejected('x5u to attacker', await forge({ header: { x5u: 'http://127.0.0.1:9/cert.pem' }, signKey: attacker.privateKey }));
    // jose will not even sign an unknown crit extension: build that token by hand with the real key.
    const input = `${b64({ alg: 'ES256', kid, typ: 'at+jwt', crit: ['exp-x'], 'exp-x': 1 })}.${b64(claimsOf(await forge()))}`;
    const sig = signBytes('sha256', Buffer.from(input), { key: KeyObject.from(key), dsaEncoding: 'ieee-p1363' }).toString('base64url');
    await expectRejected('crit unknown', `${input}.${sig}`);
  });

  it('kid injection (paths, SQL, huge) is an unknown kid: 401, and the real token still works', async () => {
    for (const k of ['../../../../etc/passwd', "' OR '1'='1", `${kid}\u0000`, 'k'.repeat(5000), '', '*']) {
      await expectRejected(`kid ${k.slice(0, 30)}`, await forge({ header: { kid: k } }));
    }
    expect((await me(user.accessToken)).status).toBe(200);
  });

  it('oversized and malformed bearer tokens: 401 problem+json (or a 4xx from the front door), never a 5xx', async () => {
    const padded = await forge({ claims: { pad: 'x'.repeat(6_000) } });
    const samples: Record<string, string> = {
      padded6k: padded,
      random16k: `${'a'.repeat(5000)}.${'b'.repeat(6000)}.${'c'.repeat(5000)}`,
      fourParts: `${user.accessToken}.extra`,
      twoParts: user.accessToken.split('.').slice(0, 2).join('.'),
      notBase64: '!!!.???.***',
      unicode: 'ä.ö.ü',
    };
    for (const [name, token] of Object.entries(samples)) {
      const res = await me(token);
      expect({ name, status: res.status }).toEqual({ name, status: 401 });
      expectProblem(res, name);
    }
    for (const kb of [32, 100]) {
      const res = await me(`${'a'.repeat(kb * 1024)}.b.c`).catch((err: Error) => ({ status: 0, error: err.message }) as never);
      // A front door may refuse huge headers itself (431/413/400); it must not reach a 5xx.
      expect({ kb, serverError: res.status >= 500 }).toEqual({ kb, serverError: false });
      if (res.status === 401) expectProblem(res, `${kb} KiB`);
    }
  });
});

describe('revocation holds on the routes that change state', () => {
  it('a logged-out admin token cannot change chaos rules; a logged-out customer token cannot place orders', async () => {
    const admin = await login(api, 'admin@checkout-mesh.dev', 'admin-password-123');
    const customer = await registerAndLogin(api);
    const bad = JSON.stringify({ nothing: true });
    // Authorised before logout: the (invalid) body gets as far as validation.
    const pre = await send(`${api}/api/chaos/rules`, 'POST', { body: bad, contentType: 'application/json', headers: { authorization: `Bearer ${admin.accessToken}` } });
    expect(expectProblem(pre, 'pre-logout')).toBe(problemType('validation'));
    for (const t of [admin, customer]) {
      expect((await send(`${api}/api/auth/logout`, 'POST', { headers: { authorization: `Bearer ${t.accessToken}` } })).status).toBe(204);
    }
    const rules = await send(`${api}/api/chaos/rules`, 'POST', { body: bad, contentType: 'application/json', headers: { authorization: `Bearer ${admin.accessToken}` } });
    expect(expectProblem(rules, 'chaos after logout')).toBe(problemType('unauthorized'));
    const clear = await send(`${api}/api/chaos/rules`, 'DELETE', { headers: { authorization: `Bearer ${admin.accessToken}` } });
    expect(expectProblem(clear, 'kill switch after logout')).toBe(problemType('unauthorized'));
    const order = await send(`${api}/api/orders`, 'POST', {
      body: JSON.stringify({ items: [{ productId: '00000000-0000-4000-8000-000000000101', quantity: 1 }] }),
      contentType: 'application/json',
      headers: { authorization: `Bearer ${customer.accessToken}`, 'idempotency-key': randomUUID() },
    });
    expect(expectProblem(order, 'order after logout')).toBe(problemType('unauthorized'));
  });

  it('a customer token cannot use the admin routes (403), and a replayed refresh token revokes the session everywhere', async () => {
    const customer = await registerAndLogin(api);
    const res = await send(`${api}/api/chaos/rules`, 'DELETE', { headers: { authorization: `Bearer ${customer.accessToken}` } });
    expect(expectProblem(res, 'customer kill switch')).toBe(problemType('forbidden'));
    const refreshed = await send(`${api}/api/auth/refresh`, 'POST', { body: JSON.stringify({ refreshToken: customer.refreshToken }), contentType: 'application/json' });
    expect(refreshed.status).toBe(200);
    const second = JSON.parse(refreshed.text) as { accessToken: string };
    // The stolen first refresh token is replayed: the family is revoked, the new access token with it, on every route.
    const replay = await send(`${api}/api/auth/refresh`, 'POST', { body: JSON.stringify({ refreshToken: customer.refreshToken }), contentType: 'application/json' });
    expect(expectProblem(replay, 'replay')).toBe(problemType('unauthorized'));
    const order = await send(`${api}/api/orders`, 'POST', {
      body: JSON.stringify({ items: [{ productId: '00000000-0000-4000-8000-000000000101', quantity: 1 }] }),
      contentType: 'application/json',
      headers: { authorization: `Bearer ${second.accessToken}`, 'idempotency-key': randomUUID() },
    });
    expect(expectProblem(order, 'order with a revoked family')).toBe(problemType('unauthorized'));
  });
});
