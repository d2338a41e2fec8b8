import { randomUUID } from 'node:crypto';
import { DEMO_USERS } from '../../scripts/seed/identity';

/**
 * The one place tests sign in through the public API: a session is the token pair plus who it
 * is (email, password, `sub`). `loginAs` uses the seeded demo accounts (scripts/seed/identity.ts).
 */
export interface Session {
  accessToken: string;
  refreshToken: string;
  expiresIn: number;
  tokenType: string;
  email: string;
  password: string;
  sub: string;
}

const post = (url: string, body: unknown) =>
  fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal: AbortSignal.timeout(30_000) });

export async function login(api: string, email: string, password: string): Promise<Session> {
  const res = await post(`${api}/api/auth/login`, { email, password });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`login ${email}: ${res.status} ${text.slice(0, 300)}`);
  const pair = JSON.parse(text) as Omit<Session, 'email' | 'password' | 'sub'>;
  const sub = JSON.parse(Buffer.from(pair.accessToken.split('.')[1], 'base64url').toString()).sub as string;
  return { ...pair, email, password, sub };
}

/** A new account (removed by nobody: emails are unique per run) signed in. */
export async function registerAndLogin(api: string, email = `test-${randomUUID()}@example.test`, password = 'test-password-123'): Promise<Session> {
  const res = await post(`${api}/api/auth/register`, { email, password });
  if (res.status !== 202) throw new Error(`register ${email}: ${res.status} ${(await res.text()).slice(0, 300)}`);
  return login(api, email, password);
}

/** The seeded demo customer or admin. */
export function loginAs(api: string, role: 'customer' | 'admin'): Promise<Session> {
  const user = DEMO_USERS.find((u) => (u.roles as readonly string[]).includes(role))!;
  return login(api, user.email, user.password);
}
