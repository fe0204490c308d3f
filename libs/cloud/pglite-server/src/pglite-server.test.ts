import { connect, type Socket } from 'node:net';
import { PGlite } from '@electric-sql/pglite';
import fc from 'fast-check';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { cstring, queryMessage, syncMessage, typedMessage } from './frontend-messages';
import { servePglite, type PgliteServer } from './pglite-server';

/** One client's step, as the generative test draws them. */
type Step =
  | { kind: 'unnamed'; value: number }
  | { kind: 'named'; value: number }
  | { kind: 'transaction'; rows: number; commit: boolean }
  | { kind: 'failed-transaction' };

describe('PGlite served to several clients at once', () => {
  let db: PGlite;
  let server: PgliteServer;
  const open: pg.Client[] = [];
  const sockets: Socket[] = [];

  beforeAll(async () => {
    db = await PGlite.create();
    server = await servePglite(db, { host: '127.0.0.1', port: 0, maxConnections: 12 });
  });
  afterEach(async () => {
    await Promise.all(open.splice(0).map((client) => client.end().catch(() => undefined)));
    for (const socket of sockets.splice(0)) socket.destroy();
  });
  afterAll(async () => {
    await server?.stop();
    await db?.close();
  });

  async function client(): Promise<pg.Client> {
    const connection = new pg.Client({ connectionString: server.url });
    connection.on('error', () => undefined);
    await connection.connect();
    open.push(connection);
    return connection;
  }

  /** A socket after StartupMessage, for a client that speaks the protocol by hand. */
  async function rawClient(): Promise<{ socket: Socket; received: () => Buffer }> {
    const socket = connect(server.port, '127.0.0.1');
    sockets.push(socket);
    let received = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => (received = Buffer.concat([received, chunk])));
    socket.on('error', () => undefined);
    await new Promise((resolve) => socket.once('connect', resolve));
    const parameters = Buffer.concat([cstring('user'), cstring('postgres'), Buffer.alloc(1)]);
    const startup = Buffer.alloc(8);
    startup.writeInt32BE(8 + parameters.length, 0);
    startup.writeInt32BE(196608, 4);
    socket.write(Buffer.concat([startup, parameters]));
    await until(() => received.includes(Buffer.from([0x5a, 0, 0, 0, 5, 0x49]))); // ReadyForQuery 'I'
    return { socket, received: () => received };
  }

  /** Runs `steps` as one client; returns what went wrong, if anything, and the rows it committed. */
  async function runSteps(connection: pg.Client, name: string, steps: Step[]): Promise<{ wrong: string[]; committed: number }> {
    const wrong: string[] = [];
    let committed = 0;
    // The same statement name with another text on every client, as the pool of every process would have.
    const offset = Number(name.slice(1)) * 1_000;
    for (const [index, step] of steps.entries()) {
      switch (step.kind) {
        case 'unnamed': {
          const { rows } = await connection.query<{ n: number; who: string }>('SELECT $1::int AS n, $2::text AS who', [step.value, name]);
          if (rows[0]?.n !== step.value || rows[0]?.who !== name) wrong.push(`${name} step ${index}: got ${JSON.stringify(rows)}`);
          break;
        }
        case 'named': {
          const { rows } = await connection.query<{ n: number }>({ name: 'plus', text: `SELECT $1::int + ${offset} AS n`, values: [step.value] });
          if (rows[0]?.n !== step.value + offset) wrong.push(`${name} step ${index}: named statement gave ${JSON.stringify(rows)}`);
          break;
        }
        case 'transaction': {
          await connection.query('BEGIN');
          for (let row = 0; row < step.rows; row++) await connection.query('INSERT INTO marks (owner) VALUES ($1)', [name]);
          const { rows } = await connection.query<{ n: number }>('SELECT count(*)::int AS n FROM marks WHERE owner = $1', [name]);
          if (rows[0]?.n !== committed + step.rows) wrong.push(`${name} step ${index}: saw ${rows[0]?.n} of its rows, expected ${committed + step.rows}`);
          await connection.query(step.commit ? 'COMMIT' : 'ROLLBACK');
          if (step.commit) committed += step.rows;
          break;
        }
        case 'failed-transaction': {
          await connection.query('BEGIN');
          const refused = await connection.query('SELECT 1 / 0').then(() => false, () => true);
          if (!refused) wrong.push(`${name} step ${index}: division by zero succeeded`);
          await connection.query('ROLLBACK');
          break;
        }
      }
    }
    return { wrong, committed };
  }

  const stepArbitrary: fc.Arbitrary<Step> = fc.oneof(
    fc.record({ kind: fc.constant('unnamed' as const), value: fc.integer({ min: -1_000, max: 1_000 }) }),
    fc.record({ kind: fc.constant('named' as const), value: fc.integer({ min: -1_000, max: 1_000 }) }),
    fc.record({ kind: fc.constant('transaction' as const), rows: fc.integer({ min: 1, max: 3 }), commit: fc.boolean() }),
    fc.record({ kind: fc.constant('failed-transaction' as const) }),
  );

  it('gives each client its own results, statements and transactions, whatever the interleaving', async () => {
    await (await client()).query('CREATE TABLE marks (owner text NOT NULL)');
    const clients = await Promise.all(Array.from({ length: 4 }, () => client()));
    await fc.assert(
      fc.asyncProperty(fc.array(fc.array(stepArbitrary, { minLength: 1, maxLength: 12 }), { minLength: 4, maxLength: 4 }), async (plans) => {
        await clients[0]!.query('TRUNCATE marks');
        const outcomes = await Promise.all(plans.map((steps, index) => runSteps(clients[index]!, `c${index}`, steps)));
        expect(outcomes.flatMap((outcome) => outcome.wrong)).toEqual([]);
        const { rows } = await clients[0]!.query<{ owner: string; n: number }>('SELECT owner, count(*)::int AS n FROM marks GROUP BY owner');
        const stored = Object.fromEntries(rows.map((row) => [row.owner, row.n]));
        const expected = Object.fromEntries(outcomes.flatMap((outcome, index) => (outcome.committed > 0 ? [[`c${index}`, outcome.committed]] : [])));
        expect(stored).toEqual(expected);
      }),
      { numRuns: 25 },
    );
  });

  it('lets a pool replace its connections and prepare the same names again', async () => {
    const pool = new pg.Pool({ connectionString: server.url, max: 4 });
    try {
      const plusOne = { name: 'plus-one', text: 'SELECT $1::int + 1 AS n' };
      const answers = await Promise.all(Array.from({ length: 40 }, (_, n) => pool.query<{ n: number }>({ ...plusOne, values: [n] })));
      expect(answers.map(({ rows }) => rows[0]!.n)).toEqual(Array.from({ length: 40 }, (_, n) => n + 1));
      for (let round = 0; round < 4; round++) (await pool.connect()).release(true);
      expect((await pool.query<{ n: number }>({ ...plusOne, values: [41] })).rows).toEqual([{ n: 42 }]);
    } finally {
      await pool.end();
    }
  });

  it('rolls back the transaction of a client that goes away in it, and lets the others on', async () => {
    const [writer, other] = [await client(), await client()];
    await writer.query('CREATE TABLE IF NOT EXISTS abandoned (n int)');
    await writer.query('BEGIN');
    await writer.query('INSERT INTO abandoned VALUES (1)');
    // Waits for the session, which the writer's transaction holds.
    const waiting = other.query<{ n: number }>('SELECT count(*)::int AS n FROM abandoned');
    (writer as unknown as { connection: { stream: Socket } }).connection.stream.destroy();
    expect((await waiting).rows).toEqual([{ n: 0 }]);
  });

  it('ends the extended-protocol sequence of a client that goes away before its Sync', async () => {
    const other = await client();
    const raw = await rawClient();
    const parse = typedMessage('P', Buffer.concat([cstring(''), cstring('SELECT 1'), Buffer.alloc(2)]));
    const bind = typedMessage('B', Buffer.concat([cstring(''), cstring(''), Buffer.alloc(6)]));
    raw.socket.write(Buffer.concat([parse, bind]));
    const parsedAndBound = Buffer.from([0x31, 0, 0, 0, 4, 0x32, 0, 0, 0, 4]);
    await until(() => raw.received().includes(parsedAndBound));
    // Waits for the session, which the raw client holds until its Sync.
    const answer = other.query<{ n: number }>('SELECT 2 AS n');
    raw.socket.destroy();
    expect((await answer).rows).toEqual([{ n: 2 }]);
  });

  it('gives each connection its own prepared statement names, and closes them when it goes', async () => {
    const [first, second] = [await client(), await client()];
    const same = (n: number) => ({ name: 'same', text: `SELECT ${n} AS n` });
    expect((await first.query(same(1))).rows).toEqual([{ n: 1 }]);
    expect((await second.query(same(2))).rows).toEqual([{ n: 2 }]);
    expect((await first.query(same(1))).rows).toEqual([{ n: 1 }]);
    await first.end();
    await eventuallyTrue(async () => {
      const { rows } = await second.query<{ statement: string }>('SELECT statement FROM pg_prepared_statements');
      return JSON.stringify(rows) === JSON.stringify([{ statement: 'SELECT 2 AS n' }]);
    });
  });

  it('ends a connection that breaks the protocol with a FATAL error, and serves the others', async () => {
    const other = await client();
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 1, maxLength: 64 }), async (garbage) => {
        const raw = await rawClient();
        const closed = new Promise((resolve) => raw.socket.once('close', resolve));
        // A simple query, then bytes no client should send, then Terminate in case they were a valid message.
        raw.socket.write(Buffer.concat([queryMessage('SELECT 1'), Buffer.from(garbage), syncMessage(), typedMessage('X', Buffer.alloc(0))]));
        raw.socket.end();
        await closed;
        expect((await other.query<{ n: number }>('SELECT 3 AS n')).rows).toEqual([{ n: 3 }]);
      }),
      { numRuns: 40 },
    );
  });

  it('refuses connections beyond its limit as PostgreSQL does', async () => {
    await Promise.all(Array.from({ length: 12 }, () => client()));
    const refused = await client().then(() => 'accepted', (error: Error & { code?: string }) => error.code);
    expect(refused).toBe('53300');
  });
});

async function eventuallyTrue(condition: () => Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

async function until(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
