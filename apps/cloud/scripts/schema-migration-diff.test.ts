import { describe, expect, it } from 'vitest';
import { schemaMigrationDiff } from './schema-migration-diff';

describe('prisma/migrations', () => {
  it('cover everything schema.prisma describes (run `npm run db:migration -- <name>` after a schema change)', async () => {
    expect(await schemaMigrationDiff()).toBe('');
  }, 60_000);
});
