import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { chown, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { freePort } from './free-port';

export interface PostgresProcess {
  /** Its `postgres` database. */
  url: string;
  /**
   * Stops it the way a crash does: SIGQUIT, PostgreSQL's immediate shutdown
   * (every backend ends at once, no checkpoint), so the next start replays
   * its WAL. Connections to it fail meanwhile.
   */
  crash(): Promise<void>;
  /** Starts it again on the same port and data directory; resolves once it answers queries. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

const INSTALLATIONS = '/usr/lib/postgresql';

/** Debian's PostgreSQL server binaries, the newest version installed. */
function serverBinaries(): { initdb: string; postgres: string } | undefined {
  const versions = existsSync(INSTALLATIONS) ? readdirSync(INSTALLATIONS).filter((name) => /^\d+$/.test(name)) : [];
  const newest = versions.sort((a, b) => Number(b) - Number(a)).find((version) => existsSync(join(INSTALLATIONS, version, 'bin', 'postgres')));
  if (newest === undefined) return undefined;
  const bin = join(INSTALLATIONS, newest, 'bin');
  return { initdb: join(bin, 'initdb'), postgres: join(bin, 'postgres') };
}

/** PostgreSQL refuses to run as root; as root, it runs as the `postgres` user. */
function postgresUser(): { uid: number; gid: number } | undefined {
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((entry) => entry.startsWith('postgres:'));
  const [, , uid, gid] = line?.split(':') ?? [];
  return uid === undefined || gid === undefined ? undefined : { uid: Number(uid), gid: Number(gid) };
}

const runningAsRoot = () => process.getuid?.() === 0;

/** Why startPostgresProcess cannot run on this machine, if it cannot. */
export function postgresProcessUnavailable(): string | undefined {
  if (!serverBinaries()) return `needs PostgreSQL's server binaries (initdb, postgres) under ${INSTALLATIONS}/<version>/bin`;
  if (runningAsRoot() && (!postgresUser() || !existsSync('/usr/bin/setpriv'))) return 'runs as root, and PostgreSQL needs a postgres user and setpriv to run as';
  return undefined;
}

/**
 * A PostgreSQL cluster of the test's own (initdb in a temporary folder, a
 * free port), so a test can crash and restart it without disturbing any
 * other test. See postgresProcessUnavailable for what it needs.
 */
export async function startPostgresProcess(): Promise<PostgresProcess> {
  const unavailable = postgresProcessUnavailable();
  if (unavailable) throw new Error(`cannot start a PostgreSQL process: ${unavailable}`);
  const binaries = serverBinaries()!;
  const user = runningAsRoot() ? postgresUser() : undefined;
  const command = (binary: string, args: string[]): [string, string[]] =>
    user ? ['/usr/bin/setpriv', [`--reuid=${user.uid}`, `--regid=${user.gid}`, '--init-groups', '--', binary, ...args]] : [binary, args];
  const directory = await mkdtemp(join(tmpdir(), 'loupe-postgres-'));
  if (user) await chown(directory, user.uid, user.gid);
  const data = join(directory, 'data');
  await promisify(execFile)(...command(binaries.initdb, ['-D', data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--no-sync']));
  const port = await freePort();
  const url = `postgresql://postgres@127.0.0.1:${port}/postgres`;
  // fsync is off: a process crash keeps what was written in the kernel's page cache, and the disk is shared with other tests.
  const args = ['-D', data, '-p', String(port), '-k', directory, '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off'];
  let child: ChildProcess;
  const start = async () => {
    child = spawn(...command(binaries.postgres, args), { stdio: 'ignore' });
    await answering(url, child);
  };
  const signal = async (name: NodeJS.Signals) => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill(name);
    await exited;
  };
  await start();
  return {
    url,
    crash: () => signal('SIGQUIT'),
    restart: start,
    stop: async () => {
      await signal('SIGINT');
      await rm(directory, { recursive: true, force: true });
    },
  };
}

/** Waits until PostgreSQL answers a query: the port opens before crash recovery ends. */
async function answering(url: string, child: ChildProcess, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`postgres exited with code ${child.exitCode} while starting`);
    const client = new pg.Client({ connectionString: url });
    client.on('error', () => undefined);
    const ok = await client.connect().then(
      () => client.query('SELECT 1').then(() => true),
      () => false,
    );
    await client.end().catch(() => undefined);
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`postgres did not answer on ${url} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
