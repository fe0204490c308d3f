import { isSingleSessionServer } from '@loupe/pglite-server';
import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import type { Logger } from 'pino';
import { MIGRATIONS_DIR } from '../migrations-dir';
import { PrismaClient } from './generated/client';
import { applyMigrations, readMigrations } from './migration-runner';
import { CatalogSafePool } from './pg-pool';

export interface Database {
  prisma: PrismaClient;
  pool: CatalogSafePool;
  /** Round trip to the server, for health checks. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export async function openDatabase(
  options: { url: string; poolSize: number; migrate: boolean; migrationsDir?: string },
  logger: Logger,
): Promise<Database> {
  const pool = new CatalogSafePool({ connectionString: options.url, max: await poolSizeFor(options.url, options.poolSize, logger) });
  pool.on('error', (error) => logger.warn({ err: error.message }, 'idle database connection failed'));
  try {
    if (options.migrate) {
      const migrations = await readMigrations(options.migrationsDir ?? MIGRATIONS_DIR);
      await applyMigrations(pool, migrations, logger.child({ component: 'migrations' }));
    }
  } catch (error) {
    await pool.end();
    throw error;
  }
  const prisma = new PrismaClient({ adapter: new PrismaPg(pool) });
  return {
    prisma,
    pool,
    ping: async () => {
      await pool.query('SELECT 1');
    },
    close: async () => {
      await prisma.$disconnect();
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
