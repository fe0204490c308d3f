import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { envBoolean, envDurationMs, envPort, envUrl, loadConfig } from '@loupe/config';
import { LOG_LEVELS } from '@loupe/service';
import { DEFAULT_BACKBONE_MODEL } from '@loupe/trainer';
import { DEFAULT_TOPIC_ROOT, isTopicRoot, isTopicSegment, TOPIC_ROOT_RULE } from '@loupe/topics';
import { z } from 'zod';

/**
 * Every setting of the cloud service. docs/configuration.md documents each
 * key; a test keeps the two in step. Nothing else reads process.env.
 */
export const cloudEnvSchema = z
  .object({
    LOG_LEVEL: z.enum(LOG_LEVELS).default('info'),
    HTTP_HOST: z.string().min(1).default('127.0.0.1'),
    HTTP_PORT: envPort().default(8080),
    GRPC_HOST: z.string().min(1).default('127.0.0.1'),
    GRPC_PORT: envPort().default(50052),
    DATA_DIR: z.string().min(1).default('.data'),
    LABELER_WEB_DIR: z.string().min(1).default('dist/apps/labeler-web'),
    SHUTDOWN_TIMEOUT: envDurationMs().prefault('10s'),

    DATABASE_URL: envUrl(['postgres', 'postgresql']).optional(),
    DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(200).default(10),
    DATABASE_MIGRATE_ON_START: envBoolean().default(true),
    EMBEDDED_DATABASE_PORT: envPort().default(0),

    MQTT_URL: envUrl(['mqtt', 'mqtts', 'ws', 'wss']).optional(),
    MQTT_USERNAME: z.string().optional(),
    MQTT_PASSWORD: z.string().optional(),
    MQTT_CLIENT_ID: z.string().min(1).default(`loupe-cloud-${hostname()}-${process.pid}`),
    MQTT_TOPIC_ROOT: z.string().refine(isTopicRoot, TOPIC_ROOT_RULE).default(DEFAULT_TOPIC_ROOT),
    MQTT_SHARE_GROUP: z.string().refine(isTopicSegment, 'must be a single topic level: letters, digits, . _ -').default('loupe-cloud'),
    MQTT_DEVICE_ACCOUNTS: z.enum(['database', 'mosquitto-dynamic-security']).default('database'),
    EMBEDDED_MQTT_HOST: z.string().min(1).default('127.0.0.1'),
    EMBEDDED_MQTT_PORT: envPort().default(1884),

    S3_BUCKET: z.string().min(3).max(63).optional(),
    S3_ENDPOINT: envUrl(['http', 'https']).optional(),
    S3_REGION: z.string().min(1).default('us-east-1'),
    S3_ACCESS_KEY_ID: z.string().optional(),
    S3_SECRET_ACCESS_KEY: z.string().optional(),
    S3_FORCE_PATH_STYLE: envBoolean().default(true),

    INGEST_CONNECTIONS: z.coerce.number().int().min(1).max(64).default(4),
    SAMPLE_MAX_BYTES: z.coerce.number().int().min(1_024).max(256 * 1024 * 1024).default(16 * 1024 * 1024),
    SAMPLE_MAX_AGE: envDurationMs()
      .refine((ms) => ms >= 3_600_000, 'must be at least 1h')
      .prefault('720h'),

    ADMIN_EMAIL: z.email({ message: 'must be an email address' }).default('admin@loupe.local'),
    ADMIN_PASSWORD: z.string().min(12, 'must have at least 12 characters').optional(),
    SIGN_IN_ATTEMPTS_PER_ADDRESS: z.coerce.number().int().min(1).max(1_000_000).default(100),
    SIGN_IN_ATTEMPTS_PER_ACCOUNT: z.coerce.number().int().min(1).max(10_000).default(10),
    SIGN_IN_WINDOW: envDurationMs()
      .refine((ms) => ms >= 1_000 && ms <= 86_400_000, 'must be between 1s and 24h')
      .prefault('1m'),
    PASSWORD_HASH_CONCURRENCY: z.coerce.number().int().min(1).max(16).default(2),
    PASSWORD_HASH_QUEUE: z.coerce.number().int().min(0).max(10_000).default(16),

    LABEL_LEASE: envDurationMs()
      .refine((ms) => ms >= 1_000 && ms <= 3_600_000, 'must be between 1s and 1h')
      .prefault('2m'),

    REGISTRY_SIGNING_KEY_FILE: z.string().min(1).optional(),
    REGISTRY_PUBLISHER_KEYS_FILE: z.string().min(1).optional(),
    REGISTRY_MAX_PACKAGE_BYTES: z.coerce.number().int().min(1_024).max(4 * 1024 ** 3).default(512 * 1024 * 1024),
    TRAINER_SIGNING_KEY_FILE: z.string().min(1).optional(),

    PUBLIC_URL: envUrl(['http', 'https']).optional(),
    ROLLOUT_TICK: envDurationMs()
      .refine((ms) => ms >= 50 && ms <= 60_000, 'must be between 50ms and 1m')
      .prefault('1s'),
    ROLLOUT_LEADER_TTL: envDurationMs()
      .refine((ms) => ms >= 500, 'must be at least 500ms')
      .prefault('10s'),
    ROLLOUT_REPUBLISH_AFTER: envDurationMs()
      .refine((ms) => ms >= 1_000, 'must be at least 1s')
      .prefault('30s'),

    TRAINING_WORKER: envBoolean().default(true),
    TRAINING_POLL: envDurationMs()
      .refine((ms) => ms >= 100 && ms <= 600_000, 'must be between 100ms and 10m')
      .prefault('5s'),
    TRAINING_LEASE: envDurationMs()
      .refine((ms) => ms >= 3_000 && ms <= 3_600_000, 'must be between 3s and 1h')
      .prefault('2m'),
    TRAINING_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(20).default(3),
    TRAINING_DEFAULT_BACKBONE: z.string().min(1).max(200).default(DEFAULT_BACKBONE_MODEL),
  })
  .superRefine((env, context) => {
    if (env.MQTT_DEVICE_ACCOUNTS === 'mosquitto-dynamic-security' && (!env.MQTT_URL || env.MQTT_USERNAME === undefined || env.MQTT_PASSWORD === undefined)) {
      context.addIssue({
        code: 'custom',
        path: ['MQTT_DEVICE_ACCOUNTS'],
        message: "mosquitto-dynamic-security needs MQTT_URL, and MQTT_USERNAME and MQTT_PASSWORD of the plugin's admin account",
      });
    }
    if (env.ROLLOUT_LEADER_TTL < 3 * env.ROLLOUT_TICK) {
      context.addIssue({ code: 'custom', path: ['ROLLOUT_LEADER_TTL'], message: 'must be at least 3 times ROLLOUT_TICK, so the leader renews its lease in time' });
    }
    if (env.S3_ENDPOINT && !env.S3_BUCKET) {
      context.addIssue({ code: 'custom', path: ['S3_BUCKET'], message: 'is required when S3_ENDPOINT is set' });
    }
    if (Boolean(env.S3_ACCESS_KEY_ID) !== Boolean(env.S3_SECRET_ACCESS_KEY)) {
      context.addIssue({
        code: 'custom',
        path: [env.S3_ACCESS_KEY_ID ? 'S3_SECRET_ACCESS_KEY' : 'S3_ACCESS_KEY_ID'],
        message: 'S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY are set together or not at all',
      });
    }
  });

export type CloudEnv = z.output<typeof cloudEnvSchema>;

export interface CloudConfig {
  logLevel: CloudEnv['LOG_LEVEL'];
  http: { host: string; port: number };
  /** The ModelRegistry gRPC service, for the CLI and training pipelines. */
  grpc: { host: string; port: number };
  labelerWebDir: string;
  shutdownTimeoutMs: number;
  /** Where embedded services keep their files; survives restarts. */
  dataDir: string;
  database:
    | { kind: 'postgres'; url: string; poolSize: number; migrateOnStart: boolean }
    | { kind: 'embedded'; directory: string; port: number; poolSize: number; migrateOnStart: boolean };
  mqtt: {
    topicRoot: string;
    shareGroup: string;
    clientId: string;
    username?: string;
    password?: string;
    broker: { kind: 'external'; url: string } | { kind: 'embedded'; host: string; port: number };
    /** Where device accounts live: only in the database (the embedded broker checks it), or also in Mosquitto's dynamic-security plugin. */
    deviceAccounts: CloudEnv['MQTT_DEVICE_ACCOUNTS'];
  };
  blobs:
    | {
        kind: 's3';
        bucket: string;
        region: string;
        endpoint?: string;
        forcePathStyle: boolean;
        credentials?: { accessKeyId: string; secretAccessKey: string };
      }
    | { kind: 'folder'; directory: string };
  samples: { maxSampleBytes: number; maxSampleAgeMs: number; ingestConnections: number };
  labeling: { leaseSeconds: number };
  admin: { email: string; password?: string };
  signIn: {
    /** Sign-in attempts one client address, and one account, may make per window; past them, 429 with Retry-After. */
    attemptsPerAddress: number;
    attemptsPerAccount: number;
    windowMs: number;
    /** Password hashes (128 MiB, ~100 ms each) running at once, and waiting; past both, 503 with Retry-After. */
    hashing: { concurrent: number; waiting: number };
  };
  registry: {
    /** The registry's ed25519 key (PKCS#8 PEM); generated here at first start when not configured. */
    signingKeyFile: string;
    signingKeyConfigured: boolean;
    /** Public keys (PEM, one or more) whose signed packages may be pushed. */
    publisherKeysFile: string;
    maxPackageBytes: number;
    /** The trainer's ed25519 publisher key (PKCS#8 PEM), always trusted for pushes; generated here at first start when not configured. */
    trainerKeyFile: string;
    trainerKeyConfigured: boolean;
  };
  /** The URL devices download model packages from; by default the HTTP listener's. */
  publicUrl?: string;
  rollouts: { tickMs: number; leaderTtlMs: number; republishAfterMs: number };
  training: {
    /** Whether this process runs a training worker; at scale workers are a deployment of their own, with the same code. */
    worker: boolean;
    pollMs: number;
    /** A worker renews it a few times per lease; a run whose lease runs out is claimed again by another worker. */
    leaseSeconds: number;
    /** Claims of one run before it fails as interrupted too often. */
    maxAttempts: number;
    /** The registry model whose latest version is the backbone of runs that name none. */
    defaultBackbone: string;
  };
}

export function loadCloudConfig(env: NodeJS.ProcessEnv): CloudConfig {
  const e = loadConfig('loupe cloud', cloudEnvSchema, env);
  const dataDir = resolve(e.DATA_DIR);
  return {
    logLevel: e.LOG_LEVEL,
    http: { host: e.HTTP_HOST, port: e.HTTP_PORT },
    grpc: { host: e.GRPC_HOST, port: e.GRPC_PORT },
    labelerWebDir: resolve(e.LABELER_WEB_DIR),
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT,
    dataDir,
    database: databaseSettings(e, dataDir),
    mqtt: mqttSettings(e),
    blobs: blobStoreSettings(e, dataDir),
    samples: { maxSampleBytes: e.SAMPLE_MAX_BYTES, maxSampleAgeMs: e.SAMPLE_MAX_AGE, ingestConnections: e.INGEST_CONNECTIONS },
    labeling: { leaseSeconds: e.LABEL_LEASE / 1000 },
    admin: { email: e.ADMIN_EMAIL.toLowerCase(), ...(e.ADMIN_PASSWORD === undefined ? {} : { password: e.ADMIN_PASSWORD }) },
    signIn: {
      attemptsPerAddress: e.SIGN_IN_ATTEMPTS_PER_ADDRESS,
      attemptsPerAccount: e.SIGN_IN_ATTEMPTS_PER_ACCOUNT,
      windowMs: e.SIGN_IN_WINDOW,
      hashing: { concurrent: e.PASSWORD_HASH_CONCURRENCY, waiting: e.PASSWORD_HASH_QUEUE },
    },
    registry: registrySettings(e, dataDir),
    ...(e.PUBLIC_URL === undefined ? {} : { publicUrl: e.PUBLIC_URL }),
    rollouts: { tickMs: e.ROLLOUT_TICK, leaderTtlMs: e.ROLLOUT_LEADER_TTL, republishAfterMs: e.ROLLOUT_REPUBLISH_AFTER },
    training: {
      worker: e.TRAINING_WORKER,
      pollMs: e.TRAINING_POLL,
      leaseSeconds: e.TRAINING_LEASE / 1000,
      maxAttempts: e.TRAINING_MAX_ATTEMPTS,
      defaultBackbone: e.TRAINING_DEFAULT_BACKBONE,
    },
  };
}

/** Without DATABASE_URL, the embedded PGlite under DATA_DIR. */
function databaseSettings(e: CloudEnv, dataDir: string): CloudConfig['database'] {
  return e.DATABASE_URL
    ? { kind: 'postgres', url: e.DATABASE_URL, poolSize: e.DATABASE_POOL_SIZE, migrateOnStart: e.DATABASE_MIGRATE_ON_START }
    : {
        kind: 'embedded',
        directory: resolve(dataDir, 'cloud', 'postgres'),
        port: e.EMBEDDED_DATABASE_PORT,
        // PGlite is a single session; see the embedded database notes in docs/configuration.md.
        poolSize: 1,
        migrateOnStart: e.DATABASE_MIGRATE_ON_START,
      };
}

/** Without MQTT_URL, the embedded broker. */
function mqttSettings(e: CloudEnv): CloudConfig['mqtt'] {
  return {
    topicRoot: e.MQTT_TOPIC_ROOT,
    shareGroup: e.MQTT_SHARE_GROUP,
    clientId: e.MQTT_CLIENT_ID,
    ...(e.MQTT_USERNAME === undefined ? {} : { username: e.MQTT_USERNAME }),
    ...(e.MQTT_PASSWORD === undefined ? {} : { password: e.MQTT_PASSWORD }),
    broker: e.MQTT_URL
      ? { kind: 'external', url: e.MQTT_URL }
      : { kind: 'embedded', host: e.EMBEDDED_MQTT_HOST, port: e.EMBEDDED_MQTT_PORT },
    deviceAccounts: e.MQTT_DEVICE_ACCOUNTS,
  };
}

/** Without S3_BUCKET, a folder under DATA_DIR. */
function blobStoreSettings(e: CloudEnv, dataDir: string): CloudConfig['blobs'] {
  return e.S3_BUCKET
    ? {
        kind: 's3',
        bucket: e.S3_BUCKET,
        region: e.S3_REGION,
        forcePathStyle: e.S3_FORCE_PATH_STYLE,
        ...(e.S3_ENDPOINT === undefined ? {} : { endpoint: e.S3_ENDPOINT }),
        ...(e.S3_ACCESS_KEY_ID && e.S3_SECRET_ACCESS_KEY
          ? { credentials: { accessKeyId: e.S3_ACCESS_KEY_ID, secretAccessKey: e.S3_SECRET_ACCESS_KEY } }
          : {}),
      }
    : { kind: 'folder', directory: resolve(dataDir, 'cloud', 'blobs') };
}

/** The key files default to DATA_DIR, where the registry and the trainer generate their keys at first start. */
function registrySettings(e: CloudEnv, dataDir: string): CloudConfig['registry'] {
  return {
    signingKeyFile: resolve(e.REGISTRY_SIGNING_KEY_FILE ?? resolve(dataDir, 'cloud', 'registry', 'signing-key.pem')),
    signingKeyConfigured: e.REGISTRY_SIGNING_KEY_FILE !== undefined,
    publisherKeysFile: resolve(e.REGISTRY_PUBLISHER_KEYS_FILE ?? resolve(dataDir, 'cloud', 'registry', 'publisher-keys.pem')),
    maxPackageBytes: e.REGISTRY_MAX_PACKAGE_BYTES,
    trainerKeyFile: resolve(e.TRAINER_SIGNING_KEY_FILE ?? resolve(dataDir, 'cloud', 'trainer', 'signing-key.pem')),
    trainerKeyConfigured: e.TRAINER_SIGNING_KEY_FILE !== undefined,
  };
}
