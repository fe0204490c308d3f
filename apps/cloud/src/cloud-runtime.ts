import { existsSync } from 'node:fs';
import rateLimit from '@fastify/rate-limit';
import { redactUrl } from '@loupe/config';
import { maxPacketBytesFor, MqttLink, registerLinkMetrics } from '@loupe/mqtt';
import { DESCRIPTOR_SET_BASE64, ModelRegistryServiceService } from '@loupe/proto';
import { Backoff, startGrpcServer } from '@loupe/service';
import { DeviceAcl, DeviceTopics, deviceUsername } from '@loupe/topics';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { Logger } from 'pino';
import { AppModule } from './app.module';
import type { BlobStore } from './blobs/blob-store';
import { FolderBlobStore } from './blobs/folder-blob-store';
import { S3BlobStore } from './blobs/s3-blob-store';
import { SystemClock } from './clock';
import type { CloudConfig } from './config/cloud-config';
import { openDatabase } from './database/database';
import { DataDirectoryLock } from './embedded/data-directory-lock';
import { startEmbeddedBroker } from './embedded/embedded-broker';
import { startEmbeddedDatabase } from './embedded/embedded-database';
import { BrokerAccess, generatedServiceAccount } from './fleet/identity/broker-access';
import { DeviceCredentials } from './fleet/identity/device-credentials';
import { MosquittoDynamicSecurity } from './fleet/identity/mosquitto-dynamic-security';
import { DeviceIdentityRepository } from './fleet/identity/device-identity.repository';
import { IdentityMetrics } from './fleet/identity/identity-metrics';
import { ApiExceptionFilter } from './http/api-exception.filter';
import { replyToUnreadableUrl } from './http/error-replies';
import { refuseNulCharacters } from './http/nul-characters';
import { acceptStreamedBodies } from './http/streamed-body';
import { NestLogger } from './http/nest-logger';
import { ModelRegistry } from './registry/model-registry';
import { MODEL_REGISTRY_SERVICE_NAME, modelRegistryService } from './registry/registry-grpc';
import { loadRegistryKeys } from './registry/registry-keys';
import { RolloutReconciler } from './rollouts/rollout-reconciler';
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

/**
 * The composition root: opens every connection in dependency order, builds
 * the Nest application on them, and owns their shutdown. A failure halfway
 * through start-up closes whatever was already open.
 */
export async function startCloud(config: CloudConfig, logger: Logger): Promise<RunningCloud> {
  const closers: (() => unknown)[] = [];
  const stop = async () => {
    for (const close of closers.reverse().splice(0)) {
      try {
        await close();
      } catch (error) {
        logger.error({ err: (error as Error).message }, 'error during shutdown');
      }
    }
  };

  try {
    const usesEmbedded =
      config.database.kind === 'embedded' || config.mqtt.broker.kind === 'embedded' || config.blobs.kind === 'folder';
    if (usesEmbedded) {
      const lock = await DataDirectoryLock.acquire(config.dataDir);
      closers.push(() => lock.release());
    }

    let databaseUrl: string;
    if (config.database.kind === 'embedded') {
      const embedded = await startEmbeddedDatabase(config.database, logger.child({ component: 'embedded-database' }));
      closers.push(() => embedded.stop());
      databaseUrl = embedded.url;
    } else {
      databaseUrl = config.database.url;
    }

    // The database opens before the embedded broker: the broker checks device credentials in it.
    const database = await openDatabase(
      { url: databaseUrl, poolSize: config.database.poolSize, migrate: config.database.migrateOnStart },
      logger,
    );
    closers.push(() => database.close());

    const metrics = new CloudMetrics();
    const topics = new DeviceTopics(config.mqtt.topicRoot);
    const identityMetrics = new IdentityMetrics(metrics.registry);
    const deviceCredentials = new DeviceCredentials(new DeviceIdentityRepository(database.db));
    const configuredAccount =
      config.mqtt.username !== undefined && config.mqtt.password !== undefined ? { username: config.mqtt.username, password: config.mqtt.password } : undefined;
    // How the cloud's own links sign in: as configured, or on the embedded broker with an account made up for this process.
    let brokerLogin: { username?: string; password?: string } = {
      ...(config.mqtt.username === undefined ? {} : { username: config.mqtt.username }),
      ...(config.mqtt.password === undefined ? {} : { password: config.mqtt.password }),
    };
    let mqttUrl: string;
    if (config.mqtt.broker.kind === 'embedded') {
      const serviceAccount = configuredAccount ?? generatedServiceAccount();
      brokerLogin = serviceAccount;
      const access = new BrokerAccess(serviceAccount, deviceCredentials, new DeviceAcl(topics), identityMetrics);
      const broker = await startEmbeddedBroker(
        { ...config.mqtt.broker, maxPacketBytes: maxPacketBytesFor(config.samples.maxSampleBytes) },
        access,
        logger.child({ component: 'embedded-broker' }),
      );
      closers.push(() => broker.stop());
      deviceCredentials.onInvalidated((device) => broker.disconnect(deviceUsername(device.siteId, device.deviceId)));
      mqttUrl = broker.url;
    } else {
      mqttUrl = config.mqtt.broker.url;
    }

    const blobs = openBlobStore(config, logger);
    closers.push(() => (blobs instanceof S3BlobStore ? blobs.close() : undefined));

    const linkTo = (clientId: string) =>
      new MqttLink({
        url: mqttUrl,
        clientId,
        ...brokerLogin,
        persistentSession: false,
        maxPacketBytes: maxPacketBytesFor(config.samples.maxSampleBytes),
        // The embedded broker is Aedes, which speaks 3.1.1 only.
        ...(config.mqtt.broker.kind === 'embedded' ? { protocolVersion: 4 as const } : {}),
        backoff: new Backoff({ initialMs: 250, maxMs: 15_000 }),
        logger,
      });
    let brokerAccounts: MosquittoDynamicSecurity | undefined;
    if (config.mqtt.deviceAccounts === 'mosquitto-dynamic-security') {
      const controlLink = linkTo(`${config.mqtt.clientId}-dynamic-security`);
      closers.push(() => controlLink.stop());
      brokerAccounts = new MosquittoDynamicSecurity(controlLink, topics);
      await brokerAccounts.listen();
      controlLink.start();
      await controlLink.waitConnected(30_000);
      // Before the cloud's links connect: their subscriptions need this role.
      await brokerAccounts.grantService(config.mqtt.username!);
    }
    const link = linkTo(config.mqtt.clientId);
    closers.push(() => link.stop());
    // Without shared subscriptions (3.1.1) extra connections would each get
    // every sample, so the embedded broker gets none.
    const extraIngest = config.mqtt.broker.kind === 'embedded' ? 0 : config.samples.ingestConnections - 1;
    const ingestLinks = Array.from({ length: extraIngest }, (_, i) => linkTo(`${config.mqtt.clientId}-ingest-${i + 1}`));
    for (const ingestLink of ingestLinks) closers.push(() => ingestLink.stop());
    registerLinkMetrics(link, metrics.registry, 'loupe_cloud', ingestLinks);

    let publicUrl = config.publicUrl ?? '';
    const app = await NestFactory.create<NestFastifyApplication>(
      AppModule.register({
        database,
        link,
        ingestLinks,
        topics,
        shareGroup: config.mqtt.shareGroup,
        blobs,
        sampleLimits: config.samples,
        labeling: config.labeling,
        registryKeys: await loadRegistryKeys(config.registry, logger.child({ component: 'registry' })),
        rollouts: config.rollouts,
        passwordHashing: config.signIn.hashing,
        identity: {
          credentials: deviceCredentials,
          metrics: identityMetrics,
          ...(configuredAccount ? { serviceAccount: configuredAccount } : {}),
          ...(brokerAccounts ? { brokerAccounts } : {}),
        },
        publicUrl: () => publicUrl,
        metrics,
        clock: new SystemClock(),
        logger,
      }),
      // JSON bodies: 1 MiB is far above any request's fields (the largest, a label with its boxes, is a few KiB).
      new FastifyAdapter({ bodyLimit: JSON_BODY_LIMIT, frameworkErrors: replyToUnreadableUrl }),
      { logger: new NestLogger(logger.child({ component: 'nest' })), abortOnError: false },
    );
    // Closing the app stops HTTP and lets consumers drain before the link closes.
    closers.push(() => app.close());
    await app.get(AuthService).ensureAdmin(config.admin.email, config.admin.password, logger);
    await configureHttp(app, config, metrics, logger);
    await listen(app, config.http);
    link.start();
    for (const ingestLink of ingestLinks) ingestLink.start();

    const grpc = await startGrpcServer({
      ...config.grpc,
      portSetting: 'GRPC_PORT',
      maxReceiveBytes: 4 * 1024 * 1024,
      services: [
        {
          name: MODEL_REGISTRY_SERVICE_NAME,
          definition: ModelRegistryServiceService,
          implementation: modelRegistryService(app.get(ModelRegistry), app.get(AuthService), config.registry.maxPackageBytes, logger.child({ component: 'registry' })),
        },
      ],
      descriptorSetBase64: DESCRIPTOR_SET_BASE64,
      serving: true,
    });
    closers.push(() => grpc.stop(config.shutdownTimeoutMs));

    const address = app.getHttpServer().address();
    const port = typeof address === 'object' && address ? address.port : config.http.port;
    const httpUrl = `http://${config.http.host}:${port}`;
    publicUrl = config.publicUrl ?? httpUrl;
    const rolloutReconciler = app.get(RolloutReconciler);
    rolloutReconciler.start();
    // Before the app closes: the last pass finishes and the lease is handed on.
    closers.push(() => rolloutReconciler.stop());
    logger.info(
      {
        httpUrl,
        grpcAddress: grpc.address,
        mqttUrl: redactUrl(mqttUrl),
        blobs: blobs.location,
        dataDir: config.dataDir,
        publisherKeysFile: config.registry.publisherKeysFile,
      },
      'cloud ready',
    );
    return { httpUrl, grpcAddress: grpc.address, mqttUrl, databaseUrl, stop };
  } catch (error) {
    await stop();
    throw error;
  }
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
