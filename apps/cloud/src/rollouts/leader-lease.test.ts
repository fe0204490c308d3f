import { startTestDatabase, type TestDatabase } from '@loupe/testing';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../database/database';
import { inTransaction } from '../database/transaction';
import { LeaderLease } from './leader-lease';

describe('LeaderLease (real Postgres)', () => {
  let testDatabase: TestDatabase;
  let database: Database;

  beforeAll(async () => {
    testDatabase = await startTestDatabase();
    database = await openDatabase({ url: testDatabase.url, poolSize: 4, migrate: true }, pino({ level: 'silent' }));
  });

  afterAll(async () => {
    await database?.close();
    await testDatabase?.stop();
  });

  it('lets one replica lead, renews it in the same term, and hands over only after the lease runs out', async () => {
    const a = new LeaderLease(database.pool, 'job-1', 'replica-a', 300);
    const b = new LeaderLease(database.pool, 'job-1', 'replica-b', 300);
    const first = await a.acquire();
    expect(first).toEqual({ holder: 'replica-a', term: 1 });
    expect(await b.acquire()).toBeUndefined();
    expect(await a.acquire()).toEqual(first);

    await new Promise((resolve) => setTimeout(resolve, 400));
    const second = await b.acquire();
    expect(second).toEqual({ holder: 'replica-b', term: 2 });
    expect(await a.acquire()).toBeUndefined();

    // The old leader's fence fails: it cannot act on stale leadership.
    expect(await inTransaction(database.pool, (client) => a.fence(client, first!))).toBe(false);
    expect(await inTransaction(database.pool, (client) => b.fence(client, second!))).toBe(true);
  });

  it('hands over at once when the leader releases the lease', async () => {
    const a = new LeaderLease(database.pool, 'job-2', 'replica-a', 60_000);
    const b = new LeaderLease(database.pool, 'job-2', 'replica-b', 60_000);
    expect(await a.acquire()).toBeDefined();
    expect(await b.acquire()).toBeUndefined();
    await a.release();
    expect(await b.acquire()).toEqual({ holder: 'replica-b', term: 2 });
  });

  it('blocks a takeover while the leader is inside a fenced transaction', async () => {
    const a = new LeaderLease(database.pool, 'job-3', 'replica-a', 200);
    const b = new LeaderLease(database.pool, 'job-3', 'replica-b', 200);
    const leadership = (await a.acquire())!;
    let takeover: Promise<unknown> | undefined;
    await inTransaction(database.pool, async (client) => {
      expect(await a.fence(client, leadership)).toBe(true);
      await new Promise((resolve) => setTimeout(resolve, 300));
      takeover = b.acquire();
      const raced = await Promise.race([takeover, new Promise((resolve) => setTimeout(() => resolve('waiting'), 200))]);
      expect(raced).toBe('waiting');
    });
    expect(await takeover).toEqual({ holder: 'replica-b', term: 2 });
  });
});
