import { startTestDatabase, type TestDatabase } from '@loupe/testing';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from './database';
import { preparedStatement } from './prepared-statement';
import { inTransaction } from './transaction';

describe('openDatabase', () => {
  let testDatabase: TestDatabase;
  let database: Database;

  beforeAll(async () => {
    testDatabase = await startTestDatabase();
    database = await openDatabase({ url: testDatabase.url, poolSize: 4, migrate: false }, pino({ level: 'silent' }));
    await database.pool.query('CREATE TABLE tallies (owner text NOT NULL, n int NOT NULL)');
  });
  afterAll(async () => {
    await database?.close();
    await testDatabase?.stop();
  });

  it('holds the pool size asked for on PostgreSQL, and one connection on PGlite, which is one session', () => {
    expect(database.pool.options.max).toBe(testDatabase.kind === 'pglite' ? 1 : 4);
  });

  it('answers concurrent prepared statements and transactions from a pool asked for several connections', async () => {
    const plus = preparedStatement('test-database-plus', 'SELECT $1::int + 100 AS n');
    const work = Array.from({ length: 24 }, (_, index) =>
      index % 3 === 0
        ? inTransaction(database.pool, async (client) => {
            await client.query('INSERT INTO tallies VALUES ($1, $2)', [`w${index}`, index]);
            await client.query('INSERT INTO tallies VALUES ($1, $2)', [`w${index}`, index]);
            return (await client.query<{ n: number }>('SELECT sum(n)::int AS n FROM tallies WHERE owner = $1', [`w${index}`])).rows[0]!.n;
          })
        : database.pool.query<{ n: number }>(plus([index])).then(({ rows }) => rows[0]!.n),
    );
    const expected = Array.from({ length: 24 }, (_, index) => (index % 3 === 0 ? 2 * index : index + 100));
    expect(await Promise.all(work)).toEqual(expected);
  });
});
