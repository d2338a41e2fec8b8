import type { Client } from 'pg';
import { hashPassword } from '../../functions/identity/core/passwords';

/**
 * Demo accounts (listed in docs/identity.md): a customer and an admin. Idempotent: existing
 * accounts are left as they are, so re-seeding never rehashes or resets a password.
 */
export const DEMO_USERS = [
  { email: 'demo@checkout-mesh.dev', password: 'demo-password-123', roles: ['customer'] },
  { email: 'admin@checkout-mesh.dev', password: 'admin-password-123', roles: ['admin'] },
] as const;

export async function seed(client: Client): Promise<void> {
  for (const user of DEMO_USERS) {
    const { rowCount } = await client.query('SELECT 1 FROM users WHERE email = $1', [user.email]);
    if (rowCount) continue;
    await client.query('INSERT INTO users (email, password_hash, roles) VALUES ($1, $2, $3) ON CONFLICT (email) DO NOTHING', [
      user.email,
      await hashPassword(user.password),
      [...user.roles],
    ]);
  }
}
