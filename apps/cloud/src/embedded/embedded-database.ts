import { mkdir } from 'node:fs/promises';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import type { Logger } from 'pino';

export interface EmbeddedDatabase {
  url: string;
  stop(): Promise<void>;
}

/**
 * PostgreSQL for one machine: PGlite keeping its files in `directory`,
 * served over the Postgres wire protocol on loopback so the app (and `psql`)
 * connect to it exactly as to a real server.
 */
export async function startEmbeddedDatabase(
  options: { directory: string; port: number },
  logger: Logger,
): Promise<EmbeddedDatabase> {
  await mkdir(options.directory, { recursive: true });
  const db = await PGlite.create(options.directory);
  // One socket: PGlite is a single session, and its multiplexer can
  // interleave two clients' extended-protocol messages outside transactions.
  const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: options.port, maxConnections: 1 });
  await server.start();
  const url = `postgresql://postgres@${server.getServerConn()}/postgres`;
  logger.info({ url, directory: options.directory }, 'embedded database (PGlite) started');
  return {
    url,
    stop: async () => {
      await server.stop();
      // close() checkpoints, so the next start needs no crash recovery.
      await db.close();
    },
  };
}
