import { startTestDatabase } from '@loupe/testing';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { openDatabase } from './database';
import { preparedQuery } from './prepared-query';
import { preparedStatement } from './prepared-statement';

describe('preparedStatement', () => {
  it('names the statement in each query, and refuses a second text under a name already taken', () => {
    const byId = preparedStatement('test-sample-by-id', 'SELECT * FROM samples WHERE id = $1');
    expect(byId(['a'])).toEqual({ name: 'test-sample-by-id', text: 'SELECT * FROM samples WHERE id = $1', values: ['a'] });
    expect(() => preparedStatement('test-sample-by-id', 'SELECT * FROM samples WHERE id = $1')).not.toThrow();
    expect(() => preparedStatement('test-sample-by-id', 'SELECT id FROM samples WHERE id = $1')).toThrow(/already defined with another text/);
  });
});

describe('preparedQuery', () => {
  it('refuses a build that looks at a parameter instead of passing it on', () => {
    expect(() =>
      preparedQuery('test-inspects', (db, p: { email: string | null }) => {
        const query = db.selectFrom('users').select('id');
        return p.email === null ? query : query.where('email', '=', 'x');
      }),
    ).toThrow(/read email without passing it on/);
  });

  it('refuses a second query text under a name already taken', () => {
    preparedQuery('test-user-by-email', (db, p: { email: string }) => db.selectFrom('users').select('id').where('email', '=', p.email));
    expect(() => preparedQuery('test-user-by-email', (db, p: { email: string }) => db.selectFrom('users').select('name').where('email', '=', p.email))).toThrow(
      /already defined with another text/,
    );
  });
});

describe('prepared queries', () => {
  it('run as prepared statements, with constants and parameters in their places, on the database and in transactions', async () => {
    const testDatabase = await startTestDatabase();
    const database = await openDatabase({ url: testDatabase.url, poolSize: 1, migrate: false }, pino({ level: 'silent' }));
    const sum = preparedQuery('test-sum', (db, p: { a: number; b: number }) =>
      db.selectNoFrom(sql<number>`${p.a}::int + ${7}::int + ${p.b}::int`.as('n')),
    );
    try {
      expect((await sum.execute(database.db, { a: 1, b: 2 })).rows).toEqual([{ n: 10 }]);
      expect(await database.db.transaction().execute(async (trx) => (await sum.execute(trx, { a: 3, b: 4 })).rows)).toEqual([{ n: 14 }]);
      expect((await sum.executeOn(database.pool, { a: 5, b: 6 })).rows).toEqual([{ n: 18 }]);
      // One connection, so the statement prepared above is in this session's list.
      const { rows } = await database.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM pg_prepared_statements WHERE statement LIKE $1', [
        '%::int + $2::int + $3::int%',
      ]);
      expect(rows).toEqual([{ n: 1 }]);
    } finally {
      await database.close();
      await testDatabase.stop();
    }
  });
});

describe('prepared statements on the embedded database', () => {
  it('still run after the pool replaces its connection, though PGlite is one session for every connection', async () => {
    const embedded = await startTestDatabase({});
    const database = await openDatabase({ url: embedded.url, poolSize: 1, migrate: false }, pino({ level: 'silent' }));
    try {
      const plusOne = preparedStatement('test-plus-one', 'SELECT $1::int + 1 AS n');
      expect((await database.pool.query(plusOne([1]))).rows).toEqual([{ n: 2 }]);
      const connection = await database.pool.connect();
      connection.release(true);
      expect((await database.pool.query(plusOne([2]))).rows).toEqual([{ n: 3 }]);
    } finally {
      await database.close();
      await embedded.stop();
    }
  });
});
