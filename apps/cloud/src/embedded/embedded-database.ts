import { mkdir } from 'node:fs/promises';
import { PGlite } from '@electric-sql/pglite';
import { servePglite } from '@loupe/pglite-server';
import type { Logger } from 'pino';

export interface EmbeddedDatabase {
  url: string;
  stop(): Promise<void>;
}

/**
 * Connections a machine's own tools may hold beside the cloud's (psql, a
 * test's inspection client); they take turns on PGlite's one session.
 */
const MAX_CONNECTIONS = 16;

/**
 * PostgreSQL for one machine: PGlite keeping its files in `directory`,
 * served over the Postgres wire protocol on loopback so the app (and `psql`)
 * connect to it exactly as to a real server. PGlite is one session; the
 * server hands it to one connection at a time (see servePglite).
 */
export async function startEmbeddedDatabase(
  options: { directory: string; port: number },
  logger: Logger,
): Promise<EmbeddedDatabase> {
  await mkdir(options.directory, { recursive: true });
  const db = await PGlite.create(options.directory);
  const server = await servePglite(db, { host: '127.0.0.1', port: options.port, maxConnections: MAX_CONNECTIONS });
  logger.info({ url: server.url, directory: options.directory }, 'embedded database (PGlite) started');
  return {
    url: server.url,
    stop: async () => {
      await server.stop();
      // close() checkpoints, so the next start needs no crash recovery.
      await db.close();
    },
  };
}
