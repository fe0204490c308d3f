import { defineConfig } from 'prisma/config';
import { PrismaPg } from '@prisma/adapter-pg';
import { CatalogSafePool } from './src/database/pg-pool';

// The Prisma CLI's settings, for development commands (`npm run db:generate`,
// `npm run db:migration`, `npx prisma migrate status`). The running cloud
// applies migrations itself (src/database/migration-runner.ts).
export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
  experimental: { adapter: true },
  engine: 'js',
  adapter: () => Promise.resolve(new PrismaPg(new CatalogSafePool({ connectionString: process.env.DATABASE_URL }))),
});
