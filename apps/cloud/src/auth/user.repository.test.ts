import { startTestDatabase, uniqueName, type TestDatabase } from '@loupe/testing';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../database/database';
import { EmailTakenError, UserRepository } from './user.repository';

describe('UserRepository', () => {
  let testDatabase: TestDatabase;
  let database: Database;
  let users: UserRepository;

  beforeAll(async () => {
    testDatabase = await startTestDatabase();
    database = await openDatabase({ url: testDatabase.url, poolSize: testDatabase.maxConnections, migrate: true }, pino({ level: 'silent' }));
    users = new UserRepository(database.db);
  });
  afterAll(async () => {
    await database?.close();
    await testDatabase?.stop();
  });

  it('creates a user once per email, and finds them with their password hash', async () => {
    const email = `${uniqueName('ada')}@example.com`;
    const ada = await users.create({ email, name: 'Ada', role: 'reviewer' }, 'hash-1');
    await expect(users.create({ email, name: 'Other', role: 'admin' }, 'hash-2')).rejects.toBeInstanceOf(EmailTakenError);
    expect(await users.findByEmail(email)).toEqual({ ...ada, passwordHash: 'hash-1' });
    expect(await users.findByEmail(`nobody-${email}`)).toBeUndefined();
    expect((await users.list()).filter((user) => user.email === email)).toEqual([ada]);
  });

  it('answers for a live session only, until it is ended', async () => {
    const user = await users.create({ email: `${uniqueName('bo')}@example.com`, name: 'Bo', role: 'labeler' }, 'hash');
    const expiresAt = new Date(Date.now() + 60_000);
    await users.startSession(user.id, 'a'.repeat(64), expiresAt);
    await users.startSession(user.id, 'b'.repeat(64), new Date(Date.now() - 1_000));
    expect(await users.sessionOf('a'.repeat(64))).toEqual({ user, expiresAt });
    expect(await users.sessionOf('b'.repeat(64))).toBeUndefined();
    await users.endSession('a'.repeat(64));
    expect(await users.sessionOf('a'.repeat(64))).toBeUndefined();
  });
});
