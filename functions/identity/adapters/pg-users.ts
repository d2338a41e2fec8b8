import type { Role } from '../../shared/auth';
import type { Queryable } from '../../shared/db';
import type { UserRecord, UserRepo } from '../core/auth-service';

interface Row {
  id: string;
  email: string;
  password_hash: string;
  roles: string[];
  created_at: Date;
}

const toUser = (r: Row): UserRecord => ({
  id: r.id,
  email: r.email,
  passwordHash: r.password_hash,
  roles: r.roles as Role[],
  createdAt: r.created_at,
});

const COLUMNS = 'id, email, password_hash, roles, created_at';

/** users in the identity schema (the leased role's search_path). */
export class PgUserRepo implements UserRepo {
  constructor(private readonly db: () => Queryable) {}

  async findByEmail(email: string): Promise<UserRecord | null> {
    const { rows } = await this.db().query<Row>(`SELECT ${COLUMNS} FROM users WHERE email = $1`, [email]);
    return rows[0] ? toUser(rows[0]) : null;
  }

  async findById(id: string): Promise<UserRecord | null> {
    if (!/^[0-9a-f-]{36}$/i.test(id)) return null;
    const { rows } = await this.db().query<Row>(`SELECT ${COLUMNS} FROM users WHERE id = $1`, [id]);
    return rows[0] ? toUser(rows[0]) : null;
  }

  async create(user: { email: string; passwordHash: string; roles: Role[] }): Promise<UserRecord | null> {
    const { rows } = await this.db().query<Row>(
      `INSERT INTO users (email, password_hash, roles) VALUES ($1, $2, $3)
       ON CONFLICT (email) DO NOTHING RETURNING ${COLUMNS}`,
      [user.email, user.passwordHash, user.roles],
    );
    return rows[0] ? toUser(rows[0]) : null;
  }
}
