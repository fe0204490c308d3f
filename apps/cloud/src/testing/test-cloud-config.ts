import { join } from 'node:path';
import { uniqueName, type TestDatabase } from '@loupe/testing';
import { DEFAULT_BACKBONE_MODEL } from '@loupe/trainer';
import type { CloudConfig } from '../config/cloud-config';

/** A cloud on the given test services, with everything else on quiet, loopback defaults. */
/** The password of the test cloud's admin, admin@loupe.test. */
export const TEST_ADMIN_PASSWORD = 'admin-password-for-tests';

export function testCloudConfig(options: {
  dataDir: string;
  database: TestDatabase;
  brokerUrl: string;
  topicRoot: string;
  blobs: CloudConfig['blobs'];
  maxSampleBytes?: number;
  /** A PEM file of publisher public keys whose packages the registry accepts. */
  publisherKeysFile?: string;
  rollouts?: Partial<CloudConfig['rollouts']>;
  training?: Partial<CloudConfig['training']>;
  signIn?: Partial<CloudConfig['signIn']>;
}): CloudConfig {
  return {
    logLevel: 'silent',
    http: { host: '127.0.0.1', port: 0 },
    grpc: { host: '127.0.0.1', port: 0 },
    labelerWebDir: join(options.dataDir, 'no-ui'),
    shutdownTimeoutMs: 5_000,
    dataDir: options.dataDir,
    database: {
      kind: 'postgres',
      url: options.database.url,
      poolSize: options.database.maxConnections,
      migrateOnStart: true,
    },
    mqtt: {
      topicRoot: options.topicRoot,
      shareGroup: 'loupe-cloud',
      clientId: uniqueName('cloud'),
      broker: { kind: 'external', url: options.brokerUrl },
      deviceAccounts: 'database',
    },
    blobs: options.blobs,
    samples: { maxSampleBytes: options.maxSampleBytes ?? 16 * 1024 * 1024, maxSampleAgeMs: 30 * 24 * 3_600_000, ingestConnections: 4 },
    labeling: { leaseSeconds: 120 },
    admin: { email: 'admin@loupe.test', password: TEST_ADMIN_PASSWORD },
    signIn: { attemptsPerAddress: 100, attemptsPerAccount: 10, windowMs: 60_000, hashing: { concurrent: 2, waiting: 16 }, ...options.signIn },
    registry: {
      signingKeyFile: join(options.dataDir, 'registry', 'signing-key.pem'),
      signingKeyConfigured: false,
      publisherKeysFile: options.publisherKeysFile ?? join(options.dataDir, 'registry', 'publisher-keys.pem'),
      maxPackageBytes: 64 * 1024 * 1024,
      trainerKeyFile: join(options.dataDir, 'trainer', 'signing-key.pem'),
      trainerKeyConfigured: false,
    },
    // Fast passes and a short lease, so tests see rollouts move and replicas fail over in seconds.
    rollouts: { tickMs: 200, leaderTtlMs: 2_000, republishAfterMs: 5_000, ...options.rollouts },
    // Off unless a test trains: a worker would claim runs another test's worker is meant to take.
    training: { worker: false, pollMs: 200, leaseSeconds: 10, maxAttempts: 3, defaultBackbone: DEFAULT_BACKBONE_MODEL, ...options.training },
  };
}
