import { PrismaPg } from '@prisma/adapter-pg';
import type { Logger } from 'pino';
import { MIGRATIONS_DIR } from '../migrations-dir';
import { PrismaClient } from './generated/client';
import { applyMigrations, readMigrations } from './migration-runner';
import { CatalogSafePool } from './pg-pool';
import { forgetPreparedStatements } from './prepared-statement';

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
  const pool = new CatalogSafePool({
    connectionString: options.url,
    max: options.poolSize,
    // @types/pg says onConnect returns void, but pg-pool awaits what it returns before handing the connection out.
    // eslint-disable-next-line @typescript-eslint/no-misused-promises
    onConnect: forgetPreparedStatements,
  });
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
