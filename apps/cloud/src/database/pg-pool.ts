import pg from 'pg';
import { statementNameOf } from './prepared-statement';

/**
 * Catalog-internal types that travel as text, by Postgres OID, and the
 * standard type to report instead: `"char"` (18, e.g. pg_class.relkind) and
 * `name` (19, identifiers) become `text` (25); their arrays (1002, 1003)
 * become `text[]` (1009).
 */
const CATALOG_TYPE_STAND_INS = new Map([
  [18, 25],
  [19, 25],
  [1002, 1009],
  [1003, 1009],
]);

/**
 * A pg client whose results report `name` and `"char"` columns as `text`.
 *
 * Prisma 6.19's WebAssembly schema engine reads catalog tables through the
 * driver adapter, and @prisma/adapter-pg has no mapping for them, so
 * `migrate` commands fail with "Column type 'name' could not be
 * deserialized". They carry plain text on the wire, so relabelling is
 * lossless. Patched on the client, not the pool, because the adapter
 * also queries on connections it checks out.
 */
class CatalogSafeClient extends pg.Client {
  override query(...args: unknown[]): never {
    // pg-pool calls with a callback; everyone else awaits the promise.
    const last = args.at(-1);
    if (typeof last === 'function') {
      const callback = last as (error: Error | null, result?: unknown) => void;
      args[args.length - 1] = (error: Error | null, result?: unknown) => callback(error, relabelNameColumns(result));
    }
    const result = (super.query as (...a: unknown[]) => unknown)(...args);
    if (result instanceof Promise) return result.then(relabelNameColumns) as never;
    return result as never;
  }
}

function relabelNameColumns<T>(result: T): T {
  const fields = (result as { fields?: { dataTypeID: number }[] } | undefined)?.fields;
  for (const field of fields ?? []) {
    field.dataTypeID = CATALOG_TYPE_STAND_INS.get(field.dataTypeID) ?? field.dataTypeID;
  }
  return result;
}

/** A pg pool of CatalogSafeClient connections; use it wherever Prisma connects. */
export class CatalogSafePool extends pg.Pool {
  constructor(config: pg.PoolConfig) {
    super({ ...config, Client: CatalogSafeClient });
  }
}

/**
 * A pg client that runs every statement text registered with
 * registerStatement as that named prepared statement, whoever sends it:
 * Kysely hands its connections only SQL text and values, so the name is
 * found from the text here.
 */
class PreparingClient extends pg.Client {
  override query(...args: unknown[]): never {
    const [text, values, ...rest] = args;
    const name = typeof text === 'string' && Array.isArray(values) ? statementNameOf(text) : undefined;
    if (name === undefined) return (super.query as (...a: unknown[]) => never)(...args);
    return (super.query as (...a: unknown[]) => never)({ name, text, values }, ...rest);
  }
}

/** The cloud's pool: connections that run registered statements prepared (prepared-statement.ts). */
export class PreparingPool extends pg.Pool {
  constructor(config: pg.PoolConfig) {
    super({ ...config, Client: PreparingClient });
  }
}
