import { z } from 'zod';

// Versions are Postgres integers: 1 up to 2^31 - 1.
const MAX_VERSION = 2_147_483_647;

/** A model version number, as the registry numbers them. */
export const versionNumberSchema = z.number().int().min(1, 'a version is 1 or more').max(MAX_VERSION, `a version is at most ${MAX_VERSION}`);

/** A version in a path or query: decimal digits only, so "1e3", "0x10" and " 7" are refused rather than read as numbers. */
export const versionNumberTextSchema = z
  .string()
  .regex(/^[0-9]{1,10}$/, 'a version is a whole number, e.g. 3')
  .transform(Number)
  .pipe(versionNumberSchema);
