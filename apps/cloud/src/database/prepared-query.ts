import {
  DummyDriver,
  Kysely,
  PostgresAdapter,
  PostgresIntrospector,
  PostgresQueryCompiler,
  type Compilable,
  type QueryResult,
} from 'kysely';
import type { DB } from './generated/database-types';
import { registerStatement } from './prepared-statement';

/** Builds and compiles queries, never runs them: statements are compiled once, at load. */
const builder = new Kysely<DB>({
  dialect: {
    createAdapter: () => new PostgresAdapter(),
    createDriver: () => new DummyDriver(),
    createIntrospector: (db) => new PostgresIntrospector(db),
    createQueryCompiler: () => new PostgresQueryCompiler(),
  },
});

/** What runs a compiled query: the database or one of its transactions. */
export type QueryRunner = Pick<Kysely<DB>, 'executeQuery'>;

/** A pg client or pool, for callers that hold a connection of their own. */
export interface PgQueryable {
  query(config: { text: string; values: unknown[] }): Promise<{ rows: unknown[]; rowCount: number | null }>;
}

export interface PreparedQuery<P, O> {
  /** Runs on the database or a transaction. */
  execute(db: QueryRunner, params: P): Promise<QueryResult<O>>;
  /** Runs on a pg connection the caller holds (a transaction not opened through Kysely). */
  executeOn(client: PgQueryable, params: P): Promise<{ rows: O[]; rowCount: number | null }>;
}

/** Stands in for a parameter while the query is compiled; the compiled parameter list says where each one goes. */
class Slot {
  constructor(readonly key: string) {}
}

/**
 * A Kysely query compiled once, at load, and run as the named prepared
 * statement `name` (see registerStatement): its types come from the schema,
 * and a call costs no more than the hand-written SQL it replaces, neither
 * compiling in Node nor planning in Postgres. `build` receives stand-ins for
 * `params` and must pass them on as values, not look at them: a query whose
 * shape depends on its values is not one statement. A parameter `build` read
 * but did not pass on is refused here.
 */
export function preparedQuery<P extends object, O>(name: string, build: (db: Kysely<DB>, params: P) => Compilable<O>): PreparedQuery<P, O> {
  const read = new Set<string>();
  const standIns = new Proxy({}, { get: (_target, key) => (read.add(String(key)), new Slot(String(key))) }) as P;
  const compiled = build(builder, standIns).compile();
  const slots = compiled.parameters.map((value) => (value instanceof Slot ? value : { constant: value }));
  const passed = new Set(slots.flatMap((slot) => (slot instanceof Slot ? [slot.key] : [])));
  const unpassed = [...read].filter((key) => !passed.has(key));
  if (unpassed.length > 0) throw new Error(`prepared query "${name}" read ${unpassed.join(', ')} without passing it on as a value`);
  registerStatement(name, compiled.sql);
  const valuesOf = (params: P): unknown[] =>
    slots.map((slot) => (slot instanceof Slot ? (params as Record<string, unknown>)[slot.key] : slot.constant));
  return {
    execute: (db, params) => db.executeQuery<O>({ ...compiled, parameters: valuesOf(params) }),
    executeOn: async (client, params) => {
      const { rows, rowCount } = await client.query({ text: compiled.sql, values: valuesOf(params) });
      return { rows: rows as O[], rowCount };
    },
  };
}
