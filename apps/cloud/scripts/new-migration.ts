/**
 * `npm run db:migration -- <name>`: writes the SQL that brings the committed
 * migrations up to apps/cloud/prisma/schema.prisma as a new migration.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { MIGRATIONS_DIR, schemaMigrationDiff } from './schema-migration-diff';

const name = process.argv[2];
if (!name || !/^[a-z0-9_]+$/.test(name)) {
  console.error('usage: npm run db:migration -- <name>   (lowercase letters, digits and _, e.g. add_samples)');
  process.exit(2);
}

const sql = await schemaMigrationDiff();
if (sql === '') {
  console.log('schema.prisma and the migrations agree; no migration written.');
} else {
  const stamp = new Date().toISOString().replace(/\D/g, '').slice(0, 14);
  const directory = join(MIGRATIONS_DIR, `${stamp}_${name}`);
  await mkdir(directory, { recursive: true });
  await writeFile(join(directory, 'migration.sql'), `${sql}\n`);
  console.log(`wrote ${relative(process.cwd(), join(directory, 'migration.sql'))}; review it, then run the tests.`);
}
