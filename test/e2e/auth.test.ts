import { createHmac, randomUUID } from 'node:crypto';
import { createRemoteJWKSet, generateKeyPair, importJWK, jwtVerify, SignJWT, type CryptoKey, type JWK } from 'jose';
import { login as signIn } from '../support/accounts';
import { endpoints } from '../support/endpoints';

/**
 * Auth through the public API (BFF -> identity) on the emulator. Crafted tokens are signed
 * with the real signing key read from Vault (root token), so only the claim under test is wrong.
 */
const e = endpoints();
// Per-project testTimeout is not applied in every jest invocation: set it here (cold starts take seconds).
jest.setTimeout(60_000);
const api = e.apiBaseUrl;
const ISS = 'https://identity.checkout-mesh.dev';
const AUD = 'checkout-mesh-api';
const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
const claimsOf = (jwt: string) => JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString()) as Record<string, unknown>;

interface Pair {
  accessToken: string;
  refreshToken: string;
  expiresIn: number;
}

async function post(path: string, body?: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${api}${path}`, {
    method: 'POST',
    headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
}

async function me(token: string) {
  const res = await fetch(`${api}/api/me`, { headers: { authorization: `Bearer ${token}` } });
  return { status: res.status, contentType: res.headers.get('content-type'), body: await res.json() };
}

async function expect401(token: string) {
  const res = await me(token);
  expect({ status: res.status, contentType: res.contentType }).toEqual({ status: 401, contentType: 'application/problem+json' });
  expect(res.body).toMatchObject({ status: 401, type: expect.stringMatching(/unauthorized$/) });
}

async function newUser(): Promise<{ email: string; password: string }> {
  const creds = { email: `e2e-${randomUUID()}@example.test`, password: 'e2e-password-123' };
  const res = await post('/api/auth/register', creds);
  expect(res.status).toBe(202);
  return creds;
}

/** The shared sign-in (test/support/accounts.ts) for these credentials. */
const login = (creds: { email: string; password: string }): Promise<Pair> => signIn(e.apiBaseUrl, creds.email, creds.password);

async function vaultSigningKey(kid: string): Promise<CryptoKey> {
  const res = await fetch(`${e.vaultAddr}/v1/secret/data/identity/signing-keys`, { headers: { 'X-Vault-Token': e.vaultToken } });
  const body = (await res.json()) as { data: { data: { keys: { kid: string; privateJwk: JWK }[] } } };
  const key = body.data.data.keys.find((k) => k.kid === kid);
  if (!key) throw new Error(`kid ${kid} not in Vault`);
  return (await importJWK(key.privateJwk, 'ES256')) as CryptoKey;
}

describe('auth through the public API', () => {
  it('register -> login -> /api/me -> refresh -> reuse revokes the family -> logout rejects the token', async () => {
    const creds = await newUser();
    const first = await login(creds);
    expect(first.expiresIn).toBe(900);
    const mine = await me(first.accessToken);
    expect(mine.status).toBe(200);
    expect(mine.body).toMatchObject({ email: creds.email, roles: ['customer'] });

    const refreshed = await post('/api/auth/refresh', { refreshToken: first.refreshToken });
    expect(refreshed.status).toBe(200);
    const second = refreshed.body as Pair;
    expect(second.refreshToken).not.toBe(first.refreshToken);
    expect((await me(second.accessToken)).status).toBe(200);

    // Reusing the consumed token: 401, and the family (its live token and access tokens) is revoked.
    const reuse = await post('/api/auth/refresh', { refreshToken: first.refreshToken });
    expect(reuse.status).toBe(401);
    expect(reuse.headers.get('content-type')).toBe('application/problem+json');
    expect((await post('/api/auth/refresh', { refreshToken: second.refreshToken })).status).toBe(401);
    await expect401(second.accessToken);

    // A new session, then logout: the access token is denylisted at the BFF, the family revoked.
    const third = await login(creds);
    expect((await me(third.accessToken)).status).toBe(200);
    const out = await post('/api/auth/logout', undefined, { authorization: `Bearer ${third.accessToken}` });
    expect(out.status).toBe(204);
    await expect401(third.accessToken);
    expect((await post('/api/auth/refresh', { refreshToken: third.refreshToken })).status).toBe(401);
  });

  it('publishes the JWKS on the public API and tokens verify against it with createRemoteJWKSet', async () => {
    const creds = await newUser();
    const pair = await login(creds);
    const jwks = createRemoteJWKSet(new URL(`${api}/.well-known/jwks.json`));
    const { payload, protectedHeader } = await jwtVerify(pair.accessToken, jwks, { issuer: ISS, audience: AUD, algorithms: ['ES256'] });
    expect(protectedHeader).toMatchObject({ alg: 'ES256', kid: expect.any(String) });
    expect(payload).toMatchObject({ sub: expect.any(String), jti: expect.any(String), roles: ['customer'] });
    expect(payload.exp! - payload.iat!).toBe(900);
  });

  it('answers the same 401 problem+json for a wrong password and an unknown account', async () => {
    const creds = await newUser();
    const wrong = await post('/api/auth/login', { email: creds.email, password: 'not-the-password' });
    const unknown = await post('/api/auth/login', { email: `nobody-${randomUUID()}@example.test`, password: 'not-the-password' });
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect(wrong.headers.get('content-type')).toBe('application/problem+json');
    expect(wrong.body.detail).toBe(unknown.body.detail);
    expect(wrong.body.instance).toBe('/api/auth/login');
  });

  it('throttles failed logins per account: 429 problem+json with Retry-After', async () => {
    const creds = await newUser();
    for (let i = 0; i < 10; i++) {
      expect((await post('/api/auth/login', { email: creds.email, password: `wrong-${i}-password` })).status).toBe(401);
    }
    const limited = await post('/api/auth/login', creds);
    expect(limited.status).toBe(429);
    expect(limited.headers.get('content-type')).toBe('application/problem+json');
    expect(limited.body).toMatchObject({ status: 429, type: expect.stringMatching(/rate-limited$/) });
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
  });

  it('rejects expired, wrong aud, wrong iss, alg none, HS256-with-public-key, tampered, unknown kid and missing tokens', async () => {
    const creds = await newUser();
    const pair = await login(creds);
    const kid = (JSON.parse(Buffer.from(pair.accessToken.split('.')[0], 'base64url').toString()) as { kid: string }).kid;
    const key = await vaultSigningKey(kid);
    const base = claimsOf(pair.accessToken);
    const forge = (over: { iss?: string; aud?: string; iat?: number; exp?: number }, signKey: CryptoKey = key, signKid = kid) =>
      new SignJWT({ roles: base.roles, sid: base.sid })
        .setProtectedHeader({ alg: 'ES256', kid: signKid, typ: 'at+jwt' })
        .setIssuer(over.iss ?? ISS)
        .setAudience(over.aud ?? AUD)
        .setSubject(base.sub as string)
        .setJti(randomUUID())
        .setIssuedAt(over.iat ?? Math.floor(Date.now() / 1000))
        .setExpirationTime(over.exp ?? Math.floor(Date.now() / 1000) + 600)
        .sign(signKey);

    // Control: a token forged with the real key and right claims is accepted.
    expect((await me(await forge({}))).status).toBe(200);

    const now = Math.floor(Date.now() / 1000);
    const jwks = (await (await fetch(`${api}/.well-known/jwks.json`)).json()) as { keys: JWK[] };
    const [h, p, sig] = pair.accessToken.split('.');
    const hsInput = `${b64({ alg: 'HS256', kid, typ: 'at+jwt' })}.${p}`;
    const other = await generateKeyPair('ES256');
    const bad: Record<string, string> = {
      expired: await forge({ iat: now - 3600, exp: now - 1800 }),
      wrongAud: await forge({ aud: 'another-api' }),
      wrongIss: await forge({ iss: 'https://evil.example' }),
      algNone: `${b64({ alg: 'none', kid, typ: 'at+jwt' })}.${p}.`,
      hs256PublicKey: `${hsInput}.${createHmac('sha256', JSON.stringify(jwks.keys.find((k) => k.kid === kid)))
        .update(hsInput)
        .digest('base64url')}`,
      tamperedSignature: `${h}.${p}.${sig[0] === 'A' ? 'B' : 'A'}${sig.slice(1)}`,
      tamperedPayload: `${h}.${b64({ ...claimsOf(pair.accessToken), roles: ['admin'] })}.${sig}`,
      unknownKid: await forge({}, other.privateKey, `unknown-${randomUUID()}`),
    };
    for (const [name, token] of Object.entries(bad)) {
      const res = await me(token);
      expect({ name, status: res.status, contentType: res.contentType }).toEqual({ name, status: 401, contentType: 'application/problem+json' });
    }
    const missing = await fetch(`${api}/api/me`);
    expect(missing.status).toBe(401);
    expect(missing.headers.get('content-type')).toBe('application/problem+json');
    // The real token still works after all that.
    expect((await me(pair.accessToken)).status).toBe(200);
  });

  it('validates register bodies and logs in the seeded demo users with their roles', async () => {
    expect((await post('/api/auth/register', { email: 'not-an-email', password: 'long-enough-1' })).status).toBe(400);
    expect((await post('/api/auth/register', { email: `short-${randomUUID()}@example.test`, password: 'short' })).status).toBe(400);
    const admin = await login({ email: 'admin@checkout-mesh.dev', password: 'admin-password-123' });
    expect(claimsOf(admin.accessToken).roles).toEqual(['admin']);
    const demo = await login({ email: 'demo@checkout-mesh.dev', password: 'demo-password-123' });
    expect(claimsOf(demo.accessToken).roles).toEqual(['customer']);
  });
});
