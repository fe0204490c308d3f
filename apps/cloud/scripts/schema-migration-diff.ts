import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startTestDatabase } from '@loupe/testing';

export const CLOUD_DIR = join(import.meta.dirname, '..');
export const MIGRATIONS_DIR = join(CLOUD_DIR, 'prisma', 'migrations');

const EMPTY_MIGRATION = '-- This is an empty migration.';

/**
 * The SQL that takes a database built from the committed migrations to what
 * apps/cloud/prisma/schema.prisma describes; empty when they agree.
 *
 * Prisma's offline (WebAssembly) engine has no shadow database of its own:
 * `--from-migrations` replays the migrations into the database its adapter
 * points at, so that must be a throwaway one, here an in-memory PGlite.
 */
export async function schemaMigrationDiff(): Promise<string> {
  const database = await startTestDatabase({});
  try {
    const { stdout } = await promisify(execFile)(
      'npx',
      ['prisma', 'migrate', 'diff', '--from-migrations', MIGRATIONS_DIR, '--to-schema-datamodel', 'prisma/schema.prisma', '--script'],
      { cwd: CLOUD_DIR, env: { ...process.env, DATABASE_URL: database.url, CHECKPOINT_DISABLE: '1' } },
    );
    const sql = stdout
      .split('\n')
      .filter((line) => !line.startsWith('Loaded Prisma config'))
      .join('\n')
      .trim();
    return sql === EMPTY_MIGRATION ? '' : sql;
  } finally {
    await database.stop();
  }
}
