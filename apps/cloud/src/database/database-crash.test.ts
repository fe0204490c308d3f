import { itWhere, postgresProcessUnavailable, startPostgresProcess } from '@loupe/testing';
import { sql } from 'kysely';
import { pino } from 'pino';
import { expect } from 'vitest';
import { openDatabase } from './database';

// Kysely checks a connection out of the pool for each query. pg emits 'error' on a checked-out
// client whose server goes away; without a listener, that event ended the whole cloud process
// (found by the fault matrix's PostgreSQL-crash leg), where the query's own rejection is all
// that should happen.
itWhere(postgresProcessUnavailable(), 'fails a query whose server crashes under it, and keeps the process and the pool usable', async () => {
  const postgres = await startPostgresProcess();
  const database = await openDatabase({ url: postgres.url, poolSize: 4, migrate: false }, pino({ level: 'silent' }));
  try {
    const sleeping = Promise.allSettled(Array.from({ length: 4 }, () => sql`SELECT pg_sleep(30)`.execute(database.db)));
    await new Promise((resolve) => setTimeout(resolve, 300));
    await postgres.crash();
    expect((await sleeping).map((outcome) => outcome.status)).toEqual(['rejected', 'rejected', 'rejected', 'rejected']);
    await postgres.restart();
    const { rows } = await sql<{ n: number }>`SELECT 1 AS n`.execute(database.db);
    expect(rows).toEqual([{ n: 1 }]);
  } finally {
    await database.close();
    await postgres.stop();
  }
}, 60_000);
