import type pg from 'pg';

const textsByName = new Map<string, string>();
const namesByText = new Map<string, string>();

/**
 * Names a statement text so that Postgres parses and plans it once per
 * connection instead of on every call. On a short statement run hundreds of
 * times a second that is most of the server's work: the labeling queue's
 * claim ran twice as fast prepared. A name stands for one text on every
 * connection, so a second text under a name already taken is refused here,
 * at load time, rather than by the server mid-request.
 */
export function registerStatement(name: string, text: string): void {
  const taken = textsByName.get(name);
  if (taken !== undefined && taken !== text) throw new Error(`prepared statement "${name}" is already defined with another text`);
  const named = namesByText.get(text);
  if (named !== undefined && named !== name) throw new Error(`prepared statement "${name}" has the text of "${named}"; use that one`);
  textsByName.set(name, text);
  namesByText.set(text, name);
}

/** The name `text` was registered under, if it was: the pool's connections run it as that prepared statement. */
export function statementNameOf(text: string): string | undefined {
  return namesByText.get(text);
}

/** A raw SQL statement run prepared under `name`. */
export function preparedStatement(name: string, text: string): (values: unknown[]) => pg.QueryConfig {
  registerStatement(name, text);
  return (values) => ({ name, text, values });
}
