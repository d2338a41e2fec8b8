// The public API through the BFF. URLs are relative to the site's root, found from this module's
// own address (<root>/web/js/api.js): the root carries a path prefix (the API Gateway stage), and
// pages live at several depths (/, /chaos, /reference, /docs/<name>).
const ROOT = new URL('../../', import.meta.url);

const TOKENS = 'cm.tokens';

/** An API answer that was not 2xx; `problem` is the RFC 9457 body when there is one. */
export class ApiError extends Error {
  constructor(status, problem, headers) {
    super((problem && (problem.detail || problem.title)) || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
    this.headers = headers;
  }
  get type() {
    return (this.problem?.type ? this.problem.type.split('/').pop() : '') || '';
  }
}

/* ---------- session ---------- */

/** A JWT's header (0) or claims (1), decoded for display only: the BFF verifies every token it is sent. */
export const jwtPart = (token, index) => JSON.parse(atob(token.split('.')[index].replace(/-/g, '+').replace(/_/g, '/')));

export function session() {
  try {
    const raw = JSON.parse(localStorage.getItem(TOKENS) || 'null');
    if (!raw?.accessToken) return null;
    // The claims are only read for display; the BFF verifies the token on every call.
    const claims = jwtPart(raw.accessToken, 1);
    return { ...raw, sub: claims.sub, roles: claims.roles || [], isAdmin: (claims.roles || []).includes('admin') };
  } catch {
    return null;
  }
}

function saveTokens(pair, email) {
  localStorage.setItem(TOKENS, JSON.stringify({ accessToken: pair.accessToken, refreshToken: pair.refreshToken, email }));
  window.dispatchEvent(new Event('cm:session'));
}

export function clearSession() {
  localStorage.removeItem(TOKENS);
  window.dispatchEvent(new Event('cm:session'));
}

/* ---------- rate-limit counters (RateLimit headers of every answer) ---------- */

const rateLimits = new Map();
function noteRateLimit(res) {
  const policy = res.headers.get('ratelimit-policy');
  const current = res.headers.get('ratelimit');
  if (!policy) return;
  const cls = /"([^"]+)"/.exec(policy);
  const q = /;q=(\d+)/.exec(policy);
  const r = current ? /;r=(\d+)/.exec(current) : null;
  if (!cls) return;
  const entry = { routeClass: cls[1], capacity: q ? Number(q[1]) : null, remaining: r ? Number(r[1]) : null, status: res.status, at: new Date() };
  rateLimits.set(cls[1], entry);
  window.dispatchEvent(new CustomEvent('cm:ratelimit', { detail: entry }));
}
export const rateLimitSnapshot = () => [...rateLimits.values()];

/* ---------- requests ---------- */

async function send(path, { method = 'GET', body, headers = {}, auth = true } = {}) {
  const h = { accept: 'application/json', ...headers };
  if (body !== undefined) h['content-type'] = 'application/json';
  const s = auth ? session() : null;
  if (s) h.authorization = `Bearer ${s.accessToken}`;
  const res = await fetch(new URL(path.replace(/^\//, ''), ROOT), {
    method,
    headers: h,
    body: body === undefined ? undefined : JSON.stringify(body),
    cache: 'no-store',
  });
  noteRateLimit(res);
  return res;
}

let refreshing = null;
async function refreshTokens() {
  const s = session();
  if (!s?.refreshToken) return false;
  // One refresh at a time: the refresh token is single use.
  refreshing ??= (async () => {
    const res = await send('api/auth/refresh', { method: 'POST', body: { refreshToken: s.refreshToken }, auth: false });
    if (!res.ok) {
      clearSession();
      return false;
    }
    saveTokens(await res.json(), s.email);
    return true;
  })().finally(() => {
    refreshing = null;
  });
  return refreshing;
}

/**
 * Calls the API and answers `{status, headers, body}`; non-2xx answers throw ApiError unless
 * listed in `accept`. An expired access token is refreshed once.
 */
export async function api(path, opts = {}) {
  let res = await send(path, opts);
  if (res.status === 401 && opts.auth !== false && session() && (await refreshTokens())) res = await send(path, opts);
  const text = await res.text();
  let body = null;
  if (text) {
    try {
      body = JSON.parse(text);
    } catch {
      body = text;
    }
  }
  if (!res.ok && !(opts.accept || []).includes(res.status)) throw new ApiError(res.status, typeof body === 'object' ? body : null, res.headers);
  return { status: res.status, headers: res.headers, body };
}

export async function login(email, password) {
  const { body } = await api('api/auth/login', { method: 'POST', body: { email, password }, auth: false });
  saveTokens(body, email);
  return session();
}

export async function register(email, password) {
  await api('api/auth/register', { method: 'POST', body: { email, password }, auth: false });
}

export async function logout() {
  try {
    await api('api/auth/logout', { method: 'POST', accept: [401] });
  } finally {
    clearSession();
  }
}

/** A UUID for Idempotency-Key (randomUUID needs a secure context; fall back to getRandomValues). */
export function uuid() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const hex = [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export const money = (cents, currency = 'EUR') => new Intl.NumberFormat(undefined, { style: 'currency', currency }).format(cents / 100);

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
