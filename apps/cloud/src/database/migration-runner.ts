import { createHash, randomUUID } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type pg from 'pg';
import type { Logger } from 'pino';

export interface Migration {
  name: string;
  sql: string;
  checksum: string;
}

/** A migration that failed before and was never resolved. */
export class FailedMigrationError extends Error {
  constructor(name: string) {
    super(
      `migration ${name} failed earlier and was never resolved; fix the database, then mark it with ` +
        '`npx prisma migrate resolve` (see docs/database.md)',
    );
    this.name = 'FailedMigrationError';
  }
}

// Prisma's own advisory lock key, so this runner and `prisma migrate deploy`
// never run at the same time against one database.
const MIGRATION_LOCK_KEY = 72707369;

/** Reads `<dir>/<timestamp>_<name>/migration.sql` in name order, as Prisma does. */
export async function readMigrations(directory: string): Promise<Migration[]> {
  const entries = await readdir(directory, { withFileTypes: true });
  const names = entries.filter((entry) => entry.isDirectory()).map((entry) => entry.name).sort();
  return Promise.all(
    names.map(async (name) => {
      const sql = await readFile(join(directory, name, 'migration.sql'), 'utf8');
      return { name, sql, checksum: createHash('sha256').update(sql).digest('hex') };
    }),
  );
}

/**
 * Applies pending migrations, each in its own transaction, and records them
 * in Prisma's `_prisma_migrations` table so `prisma migrate status` and
 * `prisma migrate deploy` agree with what ran here. Applying in-process
 * keeps the Prisma CLI (a development tool) out of the running service.
 *
 * Safe to call from several replicas at once: they queue on Prisma's
 * advisory lock (which also keeps `prisma migrate deploy` out), and each
 * migration re-checks the history under a table lock inside its own
 * transaction, so a migration is applied once even if the advisory lock is
 * ever bypassed.
 */
export async function applyMigrations(pool: pg.Pool, migrations: Migration[], logger: Logger): Promise<string[]> {
  const client = await pool.connect();
  // A connection the server drops mid-migration must fail the run, not the
  // process, and must not go back into the pool.
  let broken: Error | undefined;
  const onError = (error: Error) => {
    broken = error;
    logger.error({ err: error.message }, 'migration connection failed');
  };
  client.on('error', onError);
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    try {
      await ensureHistoryTable(client);
      const ran: string[] = [];
      for (const migration of migrations) {
        if (await applyIfPending(client, migration, logger)) {
          logger.info({ migration: migration.name }, 'migration applied');
          ran.push(migration.name);
        }
      }
      return ran;
    } finally {
      // After a failure the migration's error is the one worth reporting.
      await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]).catch(() => undefined);
    }
  } finally {
    client.off('error', onError);
    client.release(broken);
  }
}

async function applyIfPending(client: pg.PoolClient, migration: Migration, logger: Logger): Promise<boolean> {
  await client.query('BEGIN');
  try {
    await client.query('LOCK TABLE _prisma_migrations IN EXCLUSIVE MODE');
    const unresolved = await client.query<{ migration_name: string }>(
      'SELECT migration_name FROM _prisma_migrations WHERE finished_at IS NULL AND rolled_back_at IS NULL LIMIT 1',
    );
    if (unresolved.rows[0]) throw new FailedMigrationError(unresolved.rows[0].migration_name);
    const done = await client.query<{ checksum: string }>(
      'SELECT checksum FROM _prisma_migrations WHERE migration_name = $1 AND finished_at IS NOT NULL',
      [migration.name],
    );
    if (done.rows[0]) {
      if (done.rows[0].checksum !== migration.checksum) {
        logger.warn({ migration: migration.name }, 'applied migration was edited afterwards; the database keeps the old version');
      }
      await client.query('COMMIT');
      return false;
    }
    await runMigrationSql(client, migration);
    await client.query(
      `INSERT INTO _prisma_migrations (id, checksum, migration_name, started_at, finished_at, applied_steps_count)
       VALUES ($1, $2, $3, now(), now(), 1)`,
      [randomUUID(), migration.checksum, migration.name],
    );
    await client.query('COMMIT');
    return true;
  } catch (error) {
    // The migration's own error is the one worth reporting.
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}

async function runMigrationSql(client: pg.PoolClient, migration: Migration): Promise<void> {
  try {
    await client.query(migration.sql);
  } catch (error) {
    throw new Error(`migration ${migration.name} failed: ${(error as Error).message}`, { cause: error });
  }
}

// The same definition Prisma creates, so either tool can take over.
async function ensureHistoryTable(client: pg.PoolClient): Promise<void> {
  await client.query(`
    CREATE TABLE IF NOT EXISTS _prisma_migrations (
      id                  VARCHAR(36) PRIMARY KEY NOT NULL,
      checksum            VARCHAR(64) NOT NULL,
      finished_at         TIMESTAMPTZ,
      migration_name      VARCHAR(255) NOT NULL,
      logs                TEXT,
      rolled_back_at      TIMESTAMPTZ,
      started_at          TIMESTAMPTZ NOT NULL DEFAULT now(),
      applied_steps_count INTEGER NOT NULL DEFAULT 0
    )`);
}
