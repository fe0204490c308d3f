import http from 'node:http';
import { join, resolve } from 'node:path';
import { AppProcess } from './app-process';
import { freePort } from './free-port';
import type { TestBroker } from './test-broker';
import type { TestDatabase } from './test-database';

const ADMIN = { email: 'admin@loupe.test', password: 'admin-password-for-tests' };
const workspace = resolve(import.meta.dirname, '..', '..', '..');

export interface CloudProcess {
  app: AppProcess;
  httpUrl: string;
  /** `host:port` of the ModelRegistry gRPC service. */
  grpcAddress: string;
  admin: { id: string; token: string };
  /** POSTs JSON, with a session token if given; throws on an error status. */
  post: (path: string, body: unknown, token?: string) => Promise<Record<string, unknown> | undefined>;
  /** Calls the REST API as the admin; throws on an error status with the cloud's answer. */
  call: <T>(method: 'GET' | 'POST', path: string, body?: unknown) => Promise<T>;
}

interface CloudProcessOptions {
  database: Pick<TestDatabase, 'url'>;
  broker: Pick<TestBroker, 'url' | 'topicRoot'>;
  /** Holds the process's data directory, named as the process is. */
  dataDir: string;
  /** `cloud` unless given; replicas on one database each need their own name, and so their own data directory. */
  name?: string;
  poolSize: number;
  env?: NodeJS.ProcessEnv;
  /** Receives every line the cloud prints; dropped when absent. */
  print?: (line: string) => void;
}

/** A cloud process on the given database and broker, signed in as its admin, for end-to-end tests and benchmarks. */
export async function startCloudProcess(options: CloudProcessOptions): Promise<CloudProcess> {
  const name = options.name ?? 'cloud';
  const httpPort = await freePort();
  const app = new AppProcess({
    name,
    cwd: workspace,
    entry: 'apps/cloud/src/main.ts',
    tsconfig: 'apps/cloud/tsconfig.json',
    print: options.print,
    env: cloudEnv(options, name, httpPort),
  });
  try {
    const ready = await app.waitForLog('cloud ready');
    const httpUrl = `http://127.0.0.1:${httpPort}`;
    const send = jsonSender(httpUrl);
    const post = (path: string, body: unknown, token?: string) => send('POST', path, body, token) as Promise<Record<string, unknown> | undefined>;
    const session = (await post('/api/auth/login', ADMIN)) as { token: string; user: { id: string } };
    return {
      app,
      httpUrl,
      grpcAddress: String(ready.grpcAddress),
      admin: { id: session.user.id, token: session.token },
      post,
      call: <T>(method: 'GET' | 'POST', path: string, body?: unknown) => send(method, path, body, session.token) as Promise<T>,
    };
  } catch (error) {
    // The caller never gets the process to stop.
    await app.stop('SIGKILL');
    throw error;
  }
}

function cloudEnv(options: CloudProcessOptions, name: string, httpPort: number): NodeJS.ProcessEnv {
  return {
    ...process.env,
    // 'cloud ready' is an info line; AppProcess waits for it.
    LOG_LEVEL: 'info',
    DATA_DIR: join(options.dataDir, name),
    HTTP_PORT: String(httpPort),
    GRPC_PORT: '0',
    LABELER_WEB_DIR: join(options.dataDir, 'no-ui'),
    DATABASE_URL: options.database.url,
    DATABASE_POOL_SIZE: String(options.poolSize),
    MQTT_URL: options.broker.url,
    MQTT_TOPIC_ROOT: options.broker.topicRoot,
    ADMIN_EMAIL: ADMIN.email,
    ADMIN_PASSWORD: ADMIN.password,
    ...options.env,
  };
}

/**
 * Sends JSON to the cloud's REST API and reads its JSON answer; an error
 * status throws with the cloud's answer. node:http on keep-alive sockets
 * rather than fetch: undici's fetch costs the client about as much CPU as
 * the server spends on a request, and client and server share this
 * machine's cores.
 */
function jsonSender(httpUrl: string) {
  const agent = new http.Agent({ keepAlive: true });
  return (method: 'GET' | 'POST', path: string, body: unknown, token?: string) =>
    new Promise<unknown>((done, fail) => {
      const payload = body === undefined ? undefined : JSON.stringify(body);
      const headers: http.OutgoingHttpHeaders = payload === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) };
      if (token) headers.authorization = `Bearer ${token}`;
      const request = http.request(`${httpUrl}${path}`, { method, agent, headers }, (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('error', fail);
        response.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          const status = response.statusCode ?? 0;
          if (status < 200 || status >= 300) fail(new Error(`${method} ${path} answered ${status}: ${text}`));
          else done(status === 204 ? undefined : (JSON.parse(text) as unknown));
        });
      });
      request.on('error', fail);
      request.end(payload);
    });
}
