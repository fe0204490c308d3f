import type pg from 'pg';

const texts = new Map<string, string>();

/**
 * A statement Postgres parses and plans once per connection instead of on
 * every call. On a short statement run hundreds of times a second that is
 * most of the server's work: the labeling queue's claim ran twice as fast
 * prepared. A name stands for one text on every connection, so a second
 * text under a name already taken is refused here, at load time, rather
 * than by the server mid-request.
 */
export function preparedStatement(name: string, text: string): (values: unknown[]) => pg.QueryConfig {
  const taken = texts.get(name);
  if (taken !== undefined && taken !== text) throw new Error(`prepared statement "${name}" is already defined with another text`);
  texts.set(name, text);
  return (values) => ({ name, text, values });
}

