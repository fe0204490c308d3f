import { createServer, type Server, type Socket } from 'node:net';
import type { PGlite } from '@electric-sql/pglite';
import {
  copyFailMessage,
  fatalError,
  FrontendReader,
  ProtocolViolationError,
  queryMessage,
  syncMessage,
  type FrontendMessage,
} from './frontend-messages';
import { SessionStatus } from './session-status';
import { StatementNamespace } from './statement-namespace';

export interface PgliteServer {
  /** `postgresql://postgres@host:port/postgres` */
  url: string;
  port: number;
  /** Stops listening, ends every connection and waits for PGlite to finish what it was running. */
  stop(): Promise<void>;
}

export interface PgliteServerOptions {
  host: string;
  /** 0 for any free port. */
  port: number;
  /** Connections beyond this are refused with SQLSTATE 53300, as PostgreSQL refuses them. */
  maxConnections?: number;
}

/** One client connection; its messages wait here until the session is its own. */
class Client {
  readonly reader = new FrontendReader();
  readonly statements: StatementNamespace;
  /** Typed messages received and not yet run, already rewritten into the shared namespace. */
  pending: Buffer[] = [];
  closed = false;

  constructor(
    readonly socket: Socket,
    id: number,
  ) {
    this.statements = new StatementNamespace(`${id}/`);
  }

  write(bytes: Uint8Array): void {
    if (!this.closed && this.socket.writable) this.socket.write(Buffer.from(bytes));
  }
}

/**
 * The one PGlite session, lent to one client at a time: from its first
 * message until the backend says the session is idle again.
 */
class SharedSession {
  private readonly status = new SessionStatus();
  private readonly waiting: Client[] = [];
  private holder: Client | undefined;
  private running: Promise<void> | undefined;
  private stopping = false;

  constructor(private readonly db: PGlite) {}

  /** Queues `client` for the session, and starts running clients' messages if nothing is. */
  schedule(client: Client): void {
    if (client !== this.holder && !this.waiting.includes(client)) this.waiting.push(client);
    this.running ??= this.drain().finally(() => {
      this.running = undefined;
    });
  }

  /** Runs nothing more; resolves when what PGlite was running has finished. */
  async stop(): Promise<void> {
    this.stopping = true;
    await this.running;
  }

  /** Runs clients' messages, one client at a time, until nobody has anything to run. */
  private async drain(): Promise<void> {
    while (!this.stopping) {
      this.holder ??= this.waiting.shift();
      const client = this.holder;
      if (!client) return;
      if (client.closed) {
        // If PGlite cannot even roll back, nothing more can be done for this session here.
        await this.cleanUpAfter(client).catch(() => undefined);
        this.holder = undefined;
        continue;
      }
      try {
        if (await this.runTurn(client)) return; // the session stays this client's until it says more
      } catch (error) {
        // PGlite refused what this client sent (or failed itself): the client goes, the others carry on.
        client.socket.end(fatalError('XX000', (error as Error).message));
        client.closed = true;
      }
      if (client.closed) continue; // cleaned up on the next pass, before anyone else runs
      this.holder = undefined;
      if (client.pending.length > 0) this.waiting.push(client);
    }
  }

  /** Runs what `client` has sent; true while the session must stay its own, waiting for its next message. */
  private async runTurn(client: Client): Promise<boolean> {
    // StartupMessage goes alone: PGlite answers it only then. It can only come first.
    const batch = client.pending[0]?.[0] === 0 ? client.pending.splice(0, 1) : client.pending.splice(0);
    if (batch.length > 0) await this.exec(Buffer.concat(batch), (output) => client.write(output));
    if (client.closed || this.status.idle) return false;
    return client.pending.length === 0 ? true : this.runTurn(client);
  }

  /** Ends what a departed client left open on the session: a sequence, COPY, transaction, its statements. */
  private async cleanUpAfter(client: Client): Promise<void> {
    const discard = () => undefined;
    if (!this.status.idle) await this.exec(Buffer.concat([copyFailMessage('client connection closed'), syncMessage()]), discard);
    if (this.status.transactionStatus !== 'I') await this.exec(queryMessage('ROLLBACK'), discard);
    const closes = client.statements.closeAll();
    if (closes.length > 0) await this.exec(closes, discard);
  }

  private exec(bytes: Buffer, onOutput: (output: Uint8Array) => void): Promise<void> {
    return this.db.runExclusive(() =>
      this.db.execProtocolRawStream(bytes, {
        onRawData: (output) => {
          this.status.observe(output);
          onOutput(output);
        },
      }),
    );
  }
}

/** Takes connections: reads each client's messages and hands them to the session. */
class ClientConnections {
  private readonly clients = new Set<Client>();
  /** Every socket, the refused ones too, so that stop() can end them all. */
  private readonly sockets = new Set<Socket>();
  private nextId = 1;
  private stopping = false;

  constructor(
    private readonly session: SharedSession,
    private readonly maxConnections: number,
  ) {}

  accept(socket: Socket): void {
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
    socket.setNoDelay(true);
    if (this.stopping || this.clients.size >= this.maxConnections) {
      socket.end(fatalError('53300', 'sorry, too many clients already'));
      return;
    }
    const client = new Client(socket, this.nextId++);
    this.clients.add(client);
    socket.on('data', (chunk: Buffer) => this.read(client, chunk));
    socket.on('error', () => socket.destroy());
    socket.on('close', () => {
      client.closed = true;
      client.pending = [];
      this.clients.delete(client);
      // The session cleans up after the client, even when it was waiting for its next message.
      this.session.schedule(client);
    });
  }

  /** Refuses new connections and ends every open one. */
  endAll(): void {
    this.stopping = true;
    for (const socket of this.sockets) socket.destroy();
  }

  private read(client: Client, chunk: Buffer): void {
    const socket = client.socket;
    if (client.closed || socket.writableEnded) return;
    try {
      for (const message of client.reader.push(chunk)) {
        if (socket.writableEnded) break;
        receive(client, message);
      }
    } catch (error) {
      if (!(error instanceof ProtocolViolationError)) throw error;
      socket.end(fatalError('08P01', error.message));
      return;
    }
    if (client.pending.length > 0) this.session.schedule(client);
  }
}

/** Answers what needs no session, and queues the rest for it. */
function receive(client: Client, message: FrontendMessage): void {
  switch (message.kind) {
    case 'encryption-request':
      client.socket.write('N');
      return;
    case 'cancel':
      // One session runs one thing at a time, and PGlite cannot interrupt it.
      client.socket.end();
      return;
    case 'startup':
      // PGlite answers StartupMessage only when it comes alone.
      client.pending.push(message.bytes);
      return;
    case 'typed':
      if (message.type === 'X') {
        client.socket.end();
        return;
      }
      client.pending.push(client.statements.rewrite(message.type, message.bytes));
  }
}

/**
 * PGlite over the PostgreSQL wire protocol, for any number of clients,
 * though PGlite is a single session. A client gets the session from its
 * first message until the backend says the session is idle again
 * (ReadyForQuery 'I', see SessionStatus): a whole extended-protocol
 * sequence up to its Sync, or a whole transaction block. Meanwhile the
 * others' messages wait, so no client ever sees another's unnamed
 * statement, portal or transaction. Each client has its own namespace for
 * prepared statements (StatementNamespace). A client that goes away has its
 * sequence ended, its transaction rolled back and its statements closed
 * before anyone else gets the session.
 *
 * What stays shared, as it must on one session: settings changed with SET,
 * temporary tables, LISTEN, session-level advisory locks, and statements
 * prepared in SQL. Code that needs those per connection needs a real
 * PostgreSQL; `isSingleSessionServer` lets it tell.
 */
export async function servePglite(db: PGlite, options: PgliteServerOptions): Promise<PgliteServer> {
  await db.waitReady;
  const session = new SharedSession(db);
  const connections = new ClientConnections(session, options.maxConnections ?? Infinity);
  const server: Server = createServer((socket) => connections.accept(socket));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('PGlite server has no TCP address');
  return {
    url: `postgresql://postgres@${options.host}:${address.port}/postgres`,
    port: address.port,
    stop: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      connections.endAll();
      await session.stop();
      await closed;
    },
  };
}
