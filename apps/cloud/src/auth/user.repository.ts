import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { DomainError } from '@loupe/service';
import { Kysely, sql } from 'kysely';
import type { DB } from '../database/generated/database-types';
import { preparedQuery } from '../database/prepared-query';
import type { Role } from './roles';

export interface User {
  id: string;
  email: string;
  name: string;
  role: Role;
}

/** The email is taken (HTTP 409). */
export class EmailTakenError extends DomainError {
  readonly kind = 'conflict';
  constructor(email: string) {
    super(`a user with email ${email} exists already`);
  }
}

// Every signed-in request asks this, so Postgres plans it once per connection.
const liveSession = preparedQuery('auth-live-session', (db, p: { tokenHash: string }) =>
  db
    .selectFrom('sessions as s')
    .innerJoin('users as u', 'u.id', 's.user_id')
    .select(['u.id', 'u.email', 'u.name', 'u.role', 's.expires_at'])
    .where('s.token_hash', '=', p.tokenHash)
    .where('s.expires_at', '>', sql<Date>`now()`)
    // Only create() writes users, and it takes a Role.
    .$narrowType<{ role: Role }>(),
);

/** Users and their sessions. Tokens are kept as SHA-256 hashes only. */
@Injectable()
export class UserRepository {
  constructor(@Inject(Kysely) private readonly db: Kysely<DB>) {}

  async create(user: Omit<User, 'id'>, passwordHash: string): Promise<User> {
    const id = randomUUID();
    const { numInsertedOrUpdatedRows } = await this.db
      .insertInto('users')
      .values({ id, email: user.email, name: user.name, role: user.role, password_hash: passwordHash })
      .onConflict((oc) => oc.column('email').doNothing())
      .executeTakeFirstOrThrow();
    if (numInsertedOrUpdatedRows !== 1n) throw new EmailTakenError(user.email);
    return { id, ...user };
  }

  async findByEmail(email: string): Promise<(User & { passwordHash: string }) | undefined> {
    const row = await this.db
      .selectFrom('users')
      .select(['id', 'email', 'name', 'role', 'password_hash'])
      .where('email', '=', email)
      .$narrowType<{ role: Role }>()
      .executeTakeFirst();
    return row && { id: row.id, email: row.email, name: row.name, role: row.role, passwordHash: row.password_hash };
  }

  async list(): Promise<User[]> {
    return this.db.selectFrom('users').select(['id', 'email', 'name', 'role']).orderBy('email').$narrowType<{ role: Role }>().execute();
  }

  async startSession(userId: string, tokenHash: string, expiresAt: Date): Promise<void> {
    await this.db.insertInto('sessions').values({ token_hash: tokenHash, user_id: userId, expires_at: expiresAt }).execute();
  }

  /** The user of a live session, and when the session ends. */
  async sessionOf(tokenHash: string): Promise<{ user: User; expiresAt: Date } | undefined> {
    const [row] = (await liveSession.execute(this.db, { tokenHash })).rows;
    return row && { user: { id: row.id, email: row.email, name: row.name, role: row.role }, expiresAt: row.expires_at };
  }

  async endSession(tokenHash: string): Promise<void> {
    await this.db.deleteFrom('sessions').where('token_hash', '=', tokenHash).execute();
  }
}
