import { PGlite } from '@electric-sql/pglite';
import { servePglite } from '@loupe/pglite-server';
import pg from 'pg';
import { uniqueName } from './unique-name';

export interface TestDatabase {
  /** Connection string of an empty database that only this test uses. */
  url: string;
  /** `postgres` when `DATABASE_URL` named a server, `pglite` otherwise. */
  kind: 'postgres' | 'pglite';
  /**
   * How many connections a pool of the code under test should hold. PGlite
   * is one session that its server hands to one connection at a time, so a
   * pool there holds one (openDatabase makes it so in any case); a test's
   * own inspection clients may still connect beside it.
   */
  maxConnections: number;
  stop(): Promise<void>;
}

/**
 * An empty database for one test file. With `DATABASE_URL` set, a fresh
 * database is created on that server and dropped afterwards; without it, an
 * in-memory PGlite is served on a loopback port.
 */
export async function startTestDatabase(env: NodeJS.ProcessEnv = process.env): Promise<TestDatabase> {
  const serverUrl = env.DATABASE_URL;
  return serverUrl ? createOnServer(serverUrl) : startPglite();
}

async function createOnServer(serverUrl: string): Promise<TestDatabase> {
  const name = uniqueName('loupe_test').replaceAll('-', '_');
  await withAdminClient(serverUrl, (client) => client.query(`CREATE DATABASE "${name}"`));
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    kind: 'postgres',
    maxConnections: 16,
    stop: () =>
      withAdminClient(serverUrl, async (client) => {
        await waitForSessionsToClose(client, name);
        // FORCE ends connections a test forgot to close (PostgreSQL 13+).
        await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      }),
  };
}

/**
 * pg's `Pool.end()` resolves once it has asked its connections to close,
 * before the server has seen them go. A FORCE drop in that window makes the
 * server send each one a termination error, which the ended pool then raises
 * as an unhandled 'error' event in the test process.
 */
async function waitForSessionsToClose(client: pg.Client, database: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const { rows } = await client.query<{ open: number }>(
      'SELECT count(*)::int AS open FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()',
      [database],
    );
    if (rows[0]?.open === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

async function withAdminClient(serverUrl: string, work: (client: pg.Client) => Promise<unknown>): Promise<void> {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    await work(client);
  } finally {
    await client.end();
  }
}

async function startPglite(): Promise<TestDatabase> {
  const db = await PGlite.create();
  const server = await servePglite(db, { host: '127.0.0.1', port: 0, maxConnections: 32 });
  return {
    url: server.url,
    kind: 'pglite',
    maxConnections: 1,
    stop: async () => {
      await server.stop();
      await db.close();
    },
  };
}
