import { execFile } from 'node:child_process';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startTestDatabase, type TestDatabase } from '@loupe/testing';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { MIGRATIONS_DIR } from '../migrations-dir';
import { FailedMigrationError, applyMigrations, readMigrations } from './migration-runner';
import { CatalogSafePool } from './pg-pool';

const logger = pino({ level: 'silent' });
const cloudRoot = join(MIGRATIONS_DIR, '..', '..');

describe('applyMigrations', () => {
  let database: TestDatabase | undefined;
  let pool: CatalogSafePool | undefined;
  afterEach(async () => {
    await pool?.end();
    await database?.stop();
  });

  async function freshPool() {
    database = await startTestDatabase();
    pool = new CatalogSafePool({ connectionString: database.url, max: database.maxConnections });
    return pool;
  }

  it('creates the schema from the repository migrations, once', async () => {
    const db = await freshPool();
    const migrations = await readMigrations(MIGRATIONS_DIR);
    expect(await applyMigrations(db, migrations, logger)).toEqual(migrations.map((m) => m.name));
    expect(await applyMigrations(db, migrations, logger)).toEqual([]);
    const tables = await db.query<{ table_name: string }>(
      "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name",
    );
    expect(tables.rows.map((row) => row.table_name)).toEqual([
      '_prisma_migrations',
      'dead_letters',
      'device_credentials',
      'device_model_states',
      'device_model_stats',
      'devices',
      'enrollment_tokens',
      'label_skips',
      'label_tasks',
      'labeler_days',
      'labels',
      'leader_leases',
      'model_alias_moves',
      'model_aliases',
      'model_versions',
      'projects',
      'promotion_events',
      'promotions',
      'reviews',
      'rollout_devices',
      'rollout_events',
      'rollouts',
      'sample_features',
      'samples',
      'sessions',
      'sites',
      'training_policies',
      'training_runs',
      'users',
    ]);
  });

  // Truly concurrent on PostgreSQL; on PGlite (one connection) the calls queue.
  it('lets concurrent replicas migrate without applying anything twice', async () => {
    const db = await freshPool();
    const migrations = await readMigrations(MIGRATIONS_DIR);
    const results = await Promise.all([1, 2, 3].map(() => applyMigrations(db, migrations, logger)));
    expect(results.flat().sort()).toEqual(migrations.map((m) => m.name).sort());
  });

  it('rolls back a failing migration and refuses to go on until it is resolved', async () => {
    const db = await freshPool();
    const directory = await mkdtemp(join(tmpdir(), 'loupe-migrations-'));
    await mkdir(join(directory, '001_good'));
    await writeFile(join(directory, '001_good', 'migration.sql'), 'CREATE TABLE good (id int);');
    await mkdir(join(directory, '002_bad'));
    await writeFile(join(directory, '002_bad', 'migration.sql'), 'CREATE TABLE half (id int); SELECT * FROM missing;');
    const migrations = await readMigrations(directory);
    await rm(directory, { recursive: true, force: true });
    await expect(applyMigrations(db, migrations, logger)).rejects.toThrow(/002_bad failed: relation "missing"/);
    const half = await db.query("SELECT to_regclass('public.half') AS t");
    expect(half.rows[0]).toEqual({ t: null });
    await db.query("INSERT INTO _prisma_migrations (id, checksum, migration_name) VALUES ('x', 'y', '002_bad')");
    await expect(applyMigrations(db, migrations, logger)).rejects.toThrow(FailedMigrationError);
  });

  it('keeps the history Prisma reads, so `prisma migrate status` agrees', async () => {
    const db = await freshPool();
    await applyMigrations(db, await readMigrations(MIGRATIONS_DIR), logger);
    const { stdout } = await promisify(execFile)('npx', ['prisma', 'migrate', 'status'], {
      cwd: cloudRoot,
      env: { ...process.env, DATABASE_URL: database?.url, CHECKPOINT_DISABLE: '1' },
    });
    expect(stdout).toContain('Database schema is up to date!');
  }, 60_000);
});
