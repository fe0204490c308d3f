import { isSingleSessionServer } from '@loupe/pglite-server';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import type { Logger } from 'pino';
import { MIGRATIONS_DIR } from '../migrations-dir';
import type { DB } from './generated/database-types';
import { applyMigrations, readMigrations } from './migration-runner';
import { PreparingPool } from './pg-pool';

export interface Database {
  /** Queries typed from the Prisma schema (docs/database.md, "Queries"), over `pool`. */
  db: Kysely<DB>;
  /** For the statements not yet moved to Kysely, and for holding one connection across calls. */
  pool: pg.Pool;
  /** Round trip to the server, for health checks. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export async function openDatabase(
  options: { url: string; poolSize: number; migrate: boolean; migrationsDir?: string },
  logger: Logger,
): Promise<Database> {
  const pool = new PreparingPool({ connectionString: options.url, max: await poolSizeFor(options.url, options.poolSize, logger) });
  pool.on('error', (error) => logger.warn({ err: error.message }, 'idle database connection failed'));
  // pg emits 'error' on a checked-out client whose server goes away, and Kysely checks one out for
  // every query: unheard, that event would end the process. The query itself is rejected, and the
  // pool drops the dead client when it comes back.
  pool.on('connect', (client) => client.on('error', (error) => logger.debug({ err: error.message }, 'database connection failed')));
  try {
    if (options.migrate) {
      const migrations = await readMigrations(options.migrationsDir ?? MIGRATIONS_DIR);
      await applyMigrations(pool, migrations, logger.child({ component: 'migrations' }));
    }
  } catch (error) {
    await pool.end();
    throw error;
  }
  return {
    db: new Kysely<DB>({ dialect: new PostgresDialect({ pool }) }),
    pool,
    ping: async () => {
      await pool.query('SELECT 1');
    },
    // Kysely holds nothing but the pool, so ending the pool closes both.
    close: async () => {
      await pool.end().catch(() => undefined);
    },
  };
}

/**
 * The pool size to use on the server at `url`: as asked, except on a
 * single-session server (PGlite), where every connection would share one
 * session's settings and session locks and take turns anyway. Holding one
 * connection there keeps the app's code as safe as on a real server.
 */
async function poolSizeFor(url: string, requested: number, logger: Logger): Promise<number> {
  const probe = new pg.Client({ connectionString: url });
  await probe.connect();
  try {
    const { rows } = await probe.query<{ version: string }>('SELECT version()');
    if (requested === 1 || !isSingleSessionServer(rows[0]?.version ?? '')) return requested;
    logger.info({ requested, poolSize: 1 }, 'database is one session (PGlite): the pool holds one connection');
    return 1;
  } finally {
    await probe.end();
  }
}
