import { startTestDatabase } from '@loupe/testing';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { openDatabase } from './database';
import { preparedStatement } from './prepared-statement';

describe('preparedStatement', () => {
  it('names the statement in each query, and refuses a second text under a name already taken', () => {
    const byId = preparedStatement('test-sample-by-id', 'SELECT * FROM samples WHERE id = $1');
    expect(byId(['a'])).toEqual({ name: 'test-sample-by-id', text: 'SELECT * FROM samples WHERE id = $1', values: ['a'] });
    expect(() => preparedStatement('test-sample-by-id', 'SELECT * FROM samples WHERE id = $1')).not.toThrow();
    expect(() => preparedStatement('test-sample-by-id', 'SELECT id FROM samples WHERE id = $1')).toThrow(/already defined with another text/);
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
