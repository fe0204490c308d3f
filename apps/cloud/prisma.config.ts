import { defineConfig } from 'prisma/config';
import { PrismaPg } from '@prisma/adapter-pg';
import { CatalogSafePool } from './src/database/pg-pool';

// Prisma 6 fetches a native query engine from the internet before `generate`
// and `migrate` unless the client engine type says none is used. Our only
// generator is prisma-kysely (no Prisma client), so the CLI cannot read the
// type from a `prisma-client` generator block; the environment is the other
// place it looks. Nothing here runs a query engine: migrations go through the
// WebAssembly schema engine and the adapter below.
process.env['PRISMA_CLIENT_ENGINE_TYPE'] ??= 'client';

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
