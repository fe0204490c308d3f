import http from 'node:http';
import { join, resolve } from 'node:path';
import { AppProcess } from '@loupe/service';
import { freePort, type TestBroker, type TestDatabase } from '@loupe/testing';

const ADMIN = { email: 'admin@bench.local', password: 'bench-admin-password' };
const workspace = resolve(import.meta.dirname, '..', '..');

export interface BenchCloud {
  app: AppProcess;
  httpUrl: string;
  admin: { id: string; token: string };
  /** POSTs JSON, with a session token if given; throws on an error status. */
  post: (path: string, body: unknown, token?: string) => Promise<Record<string, unknown> | undefined>;
}

/** A cloud process for a benchmark on the given database and broker, signed in as its admin. */
export async function startBenchCloud(options: {
  database: TestDatabase;
  broker: TestBroker;
  dataDir: string;
  poolSize: number;
  env?: NodeJS.ProcessEnv;
}): Promise<BenchCloud> {
  const httpPort = await freePort();
  const app = new AppProcess({
    name: 'cloud',
    cwd: workspace,
    entry: 'apps/cloud/src/main.ts',
    tsconfig: 'apps/cloud/tsconfig.json',
    env: {
      ...process.env,
      // 'cloud ready' is an info line; AppProcess waits for it.
      LOG_LEVEL: 'info',
      DATA_DIR: join(options.dataDir, 'cloud'),
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
    },
  });
  await app.waitForLog('cloud ready');
  const httpUrl = `http://127.0.0.1:${httpPort}`;
  // node:http on keep-alive sockets rather than fetch: undici's fetch costs
  // the client about as much CPU as the server spends on a request, and
  // client and server share this machine's cores.
  const agent = new http.Agent({ keepAlive: true });
  const post = (path: string, body: unknown, token?: string) =>
    new Promise<Record<string, unknown> | undefined>((done, fail) => {
      const payload = JSON.stringify(body);
      const headers: http.OutgoingHttpHeaders = { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) };
      if (token) headers.authorization = `Bearer ${token}`;
      const request = http.request(`${httpUrl}${path}`, { method: 'POST', agent, headers }, (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('error', fail);
        response.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          const status = response.statusCode ?? 0;
          if (status < 200 || status >= 300) fail(new Error(`POST ${path} answered ${status}: ${text}`));
          else done(status === 204 ? undefined : (JSON.parse(text) as Record<string, unknown>));
        });
      });
      request.on('error', fail);
      request.end(payload);
    });
  const session = (await post('/api/auth/login', ADMIN)) as { token: string; user: { id: string } };
  return { app, httpUrl, admin: { id: session.user.id, token: session.token }, post };
}
