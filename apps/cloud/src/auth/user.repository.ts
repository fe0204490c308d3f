import { randomUUID } from 'node:crypto';
import { DomainError } from '@loupe/service';
import type pg from 'pg';
import type { Role } from './roles';

export interface User {
  id: string;
  email: string;
  name: string;
  role: Role;
}

interface UserRow extends User {
  password_hash: string;
}

/** The email is taken (HTTP 409). */
export class EmailTakenError extends DomainError {
  readonly kind = 'conflict';
  constructor(email: string) {
    super(`a user with email ${email} exists already`);
    this.name = 'EmailTakenError';
  }
}

/** Users and their sessions. Tokens are kept as SHA-256 hashes only. */
export class UserRepository {
  constructor(private readonly pool: pg.Pool) {}

  async create(user: Omit<User, 'id'>, passwordHash: string): Promise<User> {
    const id = randomUUID();
    const { rowCount } = await this.pool.query(
      `INSERT INTO users (id, email, name, role, password_hash) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (email) DO NOTHING`,
      [id, user.email, user.name, user.role, passwordHash],
    );
    if (rowCount !== 1) throw new EmailTakenError(user.email);
    return { id, ...user };
  }

  async findByEmail(email: string): Promise<(User & { passwordHash: string }) | undefined> {
    const { rows } = await this.pool.query<UserRow>('SELECT id, email, name, role, password_hash FROM users WHERE email = $1', [email]);
    const row = rows[0];
    return row && { id: row.id, email: row.email, name: row.name, role: row.role, passwordHash: row.password_hash };
  }

  async list(): Promise<User[]> {
    const { rows } = await this.pool.query<User>('SELECT id, email, name, role FROM users ORDER BY email');
    return rows;
  }

  async startSession(userId: string, tokenHash: string, expiresAt: Date): Promise<void> {
    await this.pool.query('INSERT INTO sessions (token_hash, user_id, expires_at) VALUES ($1, $2, $3)', [tokenHash, userId, expiresAt]);
  }

  /** The user of a live session, and when the session ends. */
  async sessionOf(tokenHash: string): Promise<{ user: User; expiresAt: Date } | undefined> {
    const { rows } = await this.pool.query<User & { expires_at: Date }>(
      `SELECT u.id, u.email, u.name, u.role, s.expires_at FROM sessions s JOIN users u ON u.id = s.user_id
       WHERE s.token_hash = $1 AND s.expires_at > now()`,
      [tokenHash],
    );
    const row = rows[0];
    return row && { user: { id: row.id, email: row.email, name: row.name, role: row.role }, expiresAt: row.expires_at };
  }

  async endSession(tokenHash: string): Promise<void> {
    await this.pool.query('DELETE FROM sessions WHERE token_hash = $1', [tokenHash]);
  }
}
