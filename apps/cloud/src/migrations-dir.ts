import { fileURLToPath } from 'node:url';

/**
 * The Prisma migrations folder. This module sits at the top of src/ and the
 * build bundles to dist/apps/cloud/src/main.js with the migrations copied to
 * dist/apps/cloud/prisma/, so the same relative path holds in both layouts.
 */
export const MIGRATIONS_DIR = fileURLToPath(new URL('../prisma/migrations', import.meta.url));
