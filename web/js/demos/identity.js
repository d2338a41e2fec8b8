// Identity card: sign in, JWKS, refresh rotation, refresh-token reuse revoking the family, logout
// revoking the access token's JTI. Tokens stay in this function (the page's own session is untouched).
import { api, jwtPart } from '../api.js';
import { h } from '../dom.js';
import { problemType } from './kit.js';

const auth = (token) => ({ auth: false, headers: { authorization: `Bearer ${token}` } });
const post = (path, body, opts = {}) => api(path, { method: 'POST', body, auth: false, accept: [401], ...opts });
const tail = (token) => `…${token.slice(-6)}`;

/** The form fields (prefilled with the local demo account) the run reads. */
export function identityFields() {
  const email = h('input', { type: 'email', id: 'demo-identity-email', value: 'demo@checkout-mesh.dev', autocomplete: 'off' });
  const password = h('input', { type: 'password', id: 'demo-identity-password', value: 'demo-password-123', autocomplete: 'off' });
  const el = h(
    'div',
    { class: 'grid-form' },
    h('div', { class: 'field' }, h('label', { for: 'demo-identity-email' }, 'Account'), email),
    h('div', { class: 'field' }, h('label', { for: 'demo-identity-password' }, 'Password'), password),
  );
  return { el, read: () => ({ email: email.value.trim(), password: password.value }) };
}

export const identityDemo = (fields) => ({
  id: 'identity',
  label: 'Tokens: issue, rotate, reuse, revoke',
  about:
    'Signs in (the local demo account; any account works), checks the token against the JWKS, rotates the refresh token, reuses the spent one, then logs out and shows the access token refused.',
  async run(log) {
    const credentials = fields.read();
    const first = (await post('api/auth/login', credentials, { accept: [] })).body;
    const head = jwtPart(first.accessToken, 0);
    const claims = jwtPart(first.accessToken, 1);
    log(`Signed in: access token ${head.alg}, kid ${head.kid}, valid ${claims.exp - claims.iat} s; refresh token ${tail(first.refreshToken)}`, { ok: true });

    const { body: jwks } = await api('.well-known/jwks.json', { auth: false });
    const key = jwks.keys.find((k) => k.kid === head.kid);
    log(`JWKS publishes ${jwks.keys.length} key(s); the token's kid is ${key ? `there (${key.kty} ${key.crv})` : 'missing'}`, { ok: Boolean(key) });

    const rotated = await post('api/auth/refresh', { refreshToken: first.refreshToken });
    log(`Refresh: ${rotated.status}, a new pair (refresh token ${tail(rotated.body.refreshToken)}); the old one is spent`, { ok: rotated.status === 200 });

    const reuse = await post('api/auth/refresh', { refreshToken: first.refreshToken });
    log(`The spent refresh token again: ${reuse.status} ${problemType(reuse.body)} — ${reuse.body?.detail ?? ''}`, { ok: reuse.status === 401 });
    const family = await post('api/auth/refresh', { refreshToken: rotated.body.refreshToken });
    log(`The newest refresh token of that family: ${family.status} (the reuse revoked the whole family)`, { ok: family.status === 401 });

    const second = (await post('api/auth/login', credentials, { accept: [] })).body;
    const jti = jwtPart(second.accessToken, 1).jti;
    const before = await api('api/me', { ...auth(second.accessToken), accept: [401] });
    log(`New session: GET /api/me with its access token: ${before.status}`, { ok: before.status === 200 });
    const out = await post('api/auth/logout', undefined, auth(second.accessToken));
    const after = await api('api/me', { ...auth(second.accessToken), accept: [401] });
    log(`Logout: ${out.status}; the same unexpired access token (jti …${jti.slice(-6)}): ${after.status} ${problemType(after.body)}`, {
      ok: after.status === 401,
    });
  },
});
