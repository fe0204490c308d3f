import { existsSync } from 'node:fs';
import rateLimit from '@fastify/rate-limit';
import { redactUrl } from '@loupe/config';
import { maxPacketBytesFor, MqttLink, registerLinkMetrics } from '@loupe/mqtt';
import { Backoff } from '@loupe/service';
import { DeviceAcl, DeviceTopics, deviceUsername } from '@loupe/topics';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { Logger } from 'pino';
import { AppModule, type Infrastructure } from './app.module';
import type { BlobStore } from './blobs/blob-store';
import { FolderBlobStore } from './blobs/folder-blob-store';
import { S3BlobStore } from './blobs/s3-blob-store';
import { SystemClock } from './clock';
import type { CloudConfig } from './config/cloud-config';
import { openDatabase, type Database } from './database/database';
import { DataDirectoryLock } from './embedded/data-directory-lock';
import { startEmbeddedBroker } from './embedded/embedded-broker';
import { startEmbeddedDatabase } from './embedded/embedded-database';
import { BrokerAccess, generatedServiceAccount, type ServiceAccount } from './fleet/identity/broker-access';
import { DeviceCredentials } from './fleet/identity/device-credentials';
import { MosquittoDynamicSecurity } from './fleet/identity/mosquitto-dynamic-security';
import { DeviceIdentityRepository } from './fleet/identity/device-identity.repository';
import { IdentityMetrics } from './fleet/identity/identity-metrics';
import { ApiExceptionFilter } from './http/api-exception.filter';
import { replyToUnreadableUrl } from './http/error-replies';
import { refuseNulCharacters } from './http/nul-characters';
import { acceptStreamedBodies } from './http/streamed-body';
import { NestLogger } from './http/nest-logger';
import { RegistryGrpcServer } from './registry/registry-grpc.server';
import { loadRegistryKeys } from './registry/registry-keys';
import { AuthService } from './auth/auth.service';
import { throttleSignIns } from './auth/sign-in-throttle';
import { CloudMetrics } from './metrics/cloud-metrics';

const JSON_BODY_LIMIT = 1024 * 1024;

export interface RunningCloud {
  /** Base URL of the REST API and UI, e.g. http://127.0.0.1:8080. */
  httpUrl: string;
  /** `host:port` of the ModelRegistry gRPC service. */
  grpcAddress: string;
  /** The broker edge agents should use (the embedded one when no MQTT_URL). */
  mqttUrl: string;
  databaseUrl: string;
  /** Finishes in-flight work, then closes everything in reverse order of opening. */
  stop(): Promise<void>;
}

/** What start-up opened, closed in reverse order of opening; a failure to close one is logged and the rest still close. */
class Closers {
  private readonly closers: (() => unknown)[] = [];

  constructor(private readonly logger: Logger) {}

  add(close: () => unknown): void {
    this.closers.push(close);
  }

  async closeAll(): Promise<void> {
    for (const close of this.closers.reverse().splice(0)) {
      try {
        await close();
      } catch (error) {
        this.logger.error({ err: (error as Error).message }, 'error during shutdown');
      }
    }
  }
}

/** The connections start-up opens, in dependency order, before the application is built on them. */
interface Connections {
  databaseUrl: string;
  database: Database;
  mqttUrl: string;
  link: MqttLink;
  ingestLinks: MqttLink[];
  blobs: BlobStore;
  topics: DeviceTopics;
  metrics: CloudMetrics;
  identity: Infrastructure['identity'];
}

/**
 * The composition root: opens every connection in dependency order, builds
 * the Nest application on them, and owns their shutdown. Everything
 * long-lived inside the application (consumers, the rollout reconciler,
 * the registry's gRPC server) starts and stops with it through Nest's
 * lifecycle hooks; `app.close()` lets them finish before the connections
 * close. A failure halfway through start-up closes whatever was open.
 */
export async function startCloud(config: CloudConfig, logger: Logger): Promise<RunningCloud> {
  const closers = new Closers(logger);
  try {
    const connections = await openConnections(config, logger, closers);
    const app = await createApp(config, connections, logger);
    // Closing the app stops HTTP, gRPC and the reconciler and lets consumers drain before the links and the database close.
    closers.add(() => app.close());
    await app.get(AuthService).ensureAdmin(config.admin.email, config.admin.password, logger);
    await configureHttp(app, config, connections.metrics, logger);
    await listen(app, config.http);
    for (const link of [connections.link, ...connections.ingestLinks]) link.start();
    const httpUrl = httpUrlOf(app, config);
    const grpcAddress = app.get(RegistryGrpcServer).address;
    const { mqttUrl, databaseUrl, blobs } = connections;
    logger.info(
      { httpUrl, grpcAddress, mqttUrl: redactUrl(mqttUrl), blobs: blobs.location, dataDir: config.dataDir, publisherKeysFile: config.registry.publisherKeysFile },
      'cloud ready',
    );
    return { httpUrl, grpcAddress, mqttUrl, databaseUrl, stop: () => closers.closeAll() };
  } catch (error) {
    await closers.closeAll();
    throw error;
  }
}

async function openConnections(config: CloudConfig, logger: Logger, closers: Closers): Promise<Connections> {
  const usesEmbedded = config.database.kind === 'embedded' || config.mqtt.broker.kind === 'embedded' || config.blobs.kind === 'folder';
  if (usesEmbedded) {
    const lock = await DataDirectoryLock.acquire(config.dataDir);
    closers.add(() => lock.release());
  }
  let databaseUrl: string;
  if (config.database.kind === 'embedded') {
    const embedded = await startEmbeddedDatabase(config.database, logger.child({ component: 'embedded-database' }));
    closers.add(() => embedded.stop());
    databaseUrl = embedded.url;
  } else {
    databaseUrl = config.database.url;
  }
  // The database opens before the embedded broker: the broker checks device credentials in it.
  const database = await openDatabase({ url: databaseUrl, poolSize: config.database.poolSize, migrate: config.database.migrateOnStart }, logger);
  closers.add(() => database.close());
  const metrics = new CloudMetrics();
  const topics = new DeviceTopics(config.mqtt.topicRoot);
  const identity = { credentials: new DeviceCredentials(new DeviceIdentityRepository(database.db)), metrics: new IdentityMetrics(metrics.registry) };
  const broker = await openBroker(config, { topics, identity }, logger, closers);
  const blobs = openBlobStore(config, logger);
  closers.add(() => (blobs instanceof S3BlobStore ? blobs.close() : undefined));
  const links = await openLinks(config, broker, topics, logger, closers);
  registerLinkMetrics(links.link, metrics.registry, 'loupe_cloud', links.ingestLinks);
  return { databaseUrl, database, mqttUrl: broker.url, ...links, blobs, topics, metrics, identity: { ...identity, ...links.identity } };
}

/** Where the cloud's links connect and how they sign in: the configured broker and account, or the embedded broker with an account made up for this process. */
interface BrokerLogin {
  url: string;
  login: { username?: string; password?: string };
  configuredAccount: ServiceAccount | undefined;
}

async function openBroker(
  config: CloudConfig,
  { topics, identity }: { topics: DeviceTopics; identity: { credentials: DeviceCredentials; metrics: IdentityMetrics } },
  logger: Logger,
  closers: Closers,
): Promise<BrokerLogin> {
  const { username, password } = config.mqtt;
  const configuredAccount = username !== undefined && password !== undefined ? { username, password } : undefined;
  if (config.mqtt.broker.kind !== 'embedded') {
    const login = { ...(username === undefined ? {} : { username }), ...(password === undefined ? {} : { password }) };
    return { url: config.mqtt.broker.url, login, configuredAccount };
  }
  const serviceAccount = configuredAccount ?? generatedServiceAccount();
  const access = new BrokerAccess(serviceAccount, identity.credentials, new DeviceAcl(topics), identity.metrics);
  const broker = await startEmbeddedBroker(
    { ...config.mqtt.broker, maxPacketBytes: maxPacketBytesFor(config.samples.maxSampleBytes) },
    access,
    logger.child({ component: 'embedded-broker' }),
  );
  closers.add(() => broker.stop());
  identity.credentials.onInvalidated((device) => broker.disconnect(deviceUsername(device.siteId, device.deviceId)));
  return { url: broker.url, login: serviceAccount, configuredAccount };
}

/** The cloud's links to the broker (not yet started), and the broker's own device accounts when it keeps them. */
async function openLinks(config: CloudConfig, broker: BrokerLogin, topics: DeviceTopics, logger: Logger, closers: Closers) {
  const linkTo = (clientId: string) => {
    const link = new MqttLink({
      url: broker.url,
      clientId,
      ...broker.login,
      persistentSession: false,
      maxPacketBytes: maxPacketBytesFor(config.samples.maxSampleBytes),
      // The embedded broker is Aedes, which speaks 3.1.1 only.
      ...(config.mqtt.broker.kind === 'embedded' ? { protocolVersion: 4 as const } : {}),
      backoff: new Backoff({ initialMs: 250, maxMs: 15_000 }),
      logger,
    });
    closers.add(() => link.stop());
    return link;
  };
  let brokerAccounts: MosquittoDynamicSecurity | undefined;
  if (config.mqtt.deviceAccounts === 'mosquitto-dynamic-security') {
    const controlLink = linkTo(`${config.mqtt.clientId}-dynamic-security`);
    brokerAccounts = new MosquittoDynamicSecurity(controlLink, topics);
    await brokerAccounts.listen();
    controlLink.start();
    await controlLink.waitConnected(30_000);
    // Before the cloud's links connect: their subscriptions need this role.
    await brokerAccounts.grantService(config.mqtt.username!);
  }
  const link = linkTo(config.mqtt.clientId);
  // Without shared subscriptions (3.1.1) extra connections would each get
  // every sample, so the embedded broker gets none.
  const extraIngest = config.mqtt.broker.kind === 'embedded' ? 0 : config.samples.ingestConnections - 1;
  const ingestLinks = Array.from({ length: extraIngest }, (_, i) => linkTo(`${config.mqtt.clientId}-ingest-${i + 1}`));
  const identity = {
    ...(broker.configuredAccount ? { serviceAccount: broker.configuredAccount } : {}),
    ...(brokerAccounts ? { brokerAccounts } : {}),
  };
  return { link, ingestLinks, identity };
}

async function createApp(config: CloudConfig, connections: Connections, logger: Logger): Promise<NestFastifyApplication> {
  const { database, link, ingestLinks, topics, blobs, metrics, identity } = connections;
  const app: NestFastifyApplication = await NestFactory.create<NestFastifyApplication>(
    AppModule.register({
      config,
      database,
      link,
      ingestLinks,
      topics,
      blobs,
      metrics,
      identity,
      registryKeys: await loadRegistryKeys(config.registry, logger.child({ component: 'registry' })),
      // Asked only once HTTP listens (devices fetch packages there), so the port is known by then.
      publicUrl: () => config.publicUrl ?? httpUrlOf(app, config),
      clock: new SystemClock(),
      logger,
    }),
    // JSON bodies: 1 MiB is far above any request's fields (the largest, a label with its boxes, is a few KiB).
    new FastifyAdapter({ bodyLimit: JSON_BODY_LIMIT, frameworkErrors: replyToUnreadableUrl }),
    { logger: new NestLogger(logger.child({ component: 'nest' })), abortOnError: false },
  );
  return app;
}

/** The address HTTP listens on. */
function httpUrlOf(app: NestFastifyApplication, config: CloudConfig): string {
  const address = app.getHttpServer().address();
  const port = typeof address === 'object' && address ? address.port : config.http.port;
  return `http://${config.http.host}:${port}`;
}

async function listen(app: NestFastifyApplication, http: CloudConfig['http']): Promise<void> {
  try {
    await app.listen(http.port, http.host);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new Error(`HTTP_PORT ${http.port} is taken on ${http.host}; stop what uses it or set HTTP_PORT to a free port`);
    }
    throw error;
  }
}

function openBlobStore(config: CloudConfig, logger: Logger): BlobStore {
  return config.blobs.kind === 's3' ? new S3BlobStore(config.blobs, logger.child({ component: 'blobs' })) : new FolderBlobStore(config.blobs.directory);
}

/**
 * Fastify before any route runs: errors answered by the one filter, small
 * JSON bodies, package tars streamed to the push route only (after its
 * guard), no NUL in any input, nosniff on every answer, throttled sign-in.
 */
async function configureHttp(app: NestFastifyApplication, config: CloudConfig, metrics: CloudMetrics, logger: Logger): Promise<void> {
  app.useGlobalFilters(new ApiExceptionFilter(logger.child({ component: 'http' })));
  const fastify = app.getHttpAdapter().getInstance();
  // Model packages arrive as tar bodies, far above the JSON limit: read by the push route as they arrive, never buffered whole.
  acceptStreamedBodies(fastify, ['application/x-tar', 'application/octet-stream'], {
    maxBytes: config.registry.maxPackageBytes,
    setting: 'REGISTRY_MAX_PACKAGE_BYTES',
  });
  fastify.addHook('preValidation', refuseNulCharacters);
  // Browsers must not guess a type for what the cloud serves: a sample image made to look like HTML stays an image.
  fastify.addHook('onSend', (_request, reply, payload, done) => {
    void reply.header('x-content-type-options', 'nosniff');
    done(null, payload);
  });
  await app.register(rateLimit, { global: false });
  throttleSignIns(fastify, config.signIn, metrics.signInsRefused);
  fastify.addHook('onResponse', (request, reply, done) => {
    metrics.httpRequests.inc({
      method: request.method,
      route: request.routeOptions.url ?? 'unmatched',
      status: String(reply.statusCode),
    });
    done();
  });
  if (existsSync(config.labelerWebDir)) {
    app.useStaticAssets({ root: config.labelerWebDir, prefix: '/' });
  } else {
    logger.warn({ labelerWebDir: config.labelerWebDir }, 'labeler UI not built; run `npm run build:web` to serve it');
  }
}
