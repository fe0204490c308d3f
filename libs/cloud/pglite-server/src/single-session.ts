/**
 * Whether a server's `SELECT version()` names PGlite: PostgreSQL compiled to
 * WebAssembly, one session behind however many connections it accepts (see
 * servePglite). A pool of several connections there shares one session's
 * settings, advisory locks and SQL-prepared statements, and waits its turn
 * anyway, so pools should hold one connection.
 */
export function isSingleSessionServer(version: string): boolean {
  return /\bwasm32\b|emscripten/i.test(version);
}
