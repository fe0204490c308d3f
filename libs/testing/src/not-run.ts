import { existsSync } from 'node:fs';
import { describe, it, type TestFunction } from 'vitest';

/**
 * Tests that need something a machine may lack (the mosquitto binary, a
 * PostgreSQL server) never shrink the run silently: where `missing` names
 * what is absent and why it matters, the suite or test is registered all the
 * same, reported as skipped with that reason, and NotRunReporter lists it
 * at the end of the run.
 */
export function describeWhere(missing: string | undefined, name: string, body: () => void): void {
  if (missing === undefined) describe(name, body);
  else describe(name, () => notRun('all of it', missing));
}

/** `it`, or a skipped test that says why it did not run (see describeWhere). */
export function itWhere(missing: string | undefined, name: string, body: TestFunction, timeoutMs?: number): void {
  if (missing === undefined) it(name, body, timeoutMs);
  else notRun(name, missing);
}

function notRun(name: string, missing: string): void {
  it(name, (context) => context.skip(missing));
}

/** Why a leg cannot run here, if any of `paths` is absent: `needs <what> (<paths> not found)`. */
export function missingFiles(what: string, paths: readonly string[]): string | undefined {
  const absent = paths.filter((path) => !existsSync(path));
  return absent.length === 0 ? undefined : `needs ${what} (${absent.join(', ')} not found)`;
}
