import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, NoSuchKey, S3Client } from '@aws-sdk/client-s3';
import { Metadata, credentials } from '@grpc/grpc-js';
import { InspectServiceClient } from '@loupe/proto';
import { AppProcess } from '@loupe/testing';
import { freePort, startCloudProcess, type TestObjectStore } from '@loupe/testing';
import pg from 'pg';
import sharp from 'sharp';
import { scrapeMetric } from '../src/testing/scrape-metric';
import { auditDelivery, type DeliveryAudit, type StoredRow } from './delivery-audit';

const workspace = join(import.meta.dirname, '..', '..', '..');
// Every inspection becomes a sample: no uncertainty threshold, no budgets.
const SELECT_EVERYTHING = JSON.stringify({ minUncertainty: 0, samplesPerHour: 1e9, perClassPerHour: 1e9, bytesPerDay: 1e12, duplicateDistance: 0 });

/** Where the stack's cloud keeps samples and talks to its agent. */
export interface DeliveryServices {
  database: { url: string; maxConnections: number };
  broker: { url: string; topicRoot: string };
  objectStore: Omit<TestObjectStore, 'stop' | 'kind'>;
}

/** Distinct images (random pixels), so no sample is a near duplicate of another. */
export function images(count: number): Promise<Buffer[]> {
  return Promise.all(Array.from({ length: count }, () => sharp(randomBytes(96 * 96 * 3), { raw: { width: 96, height: 96, channels: 3 } }).png().toBuffer()));
}

/**
 * An edge agent, its camera and one or more clouds as separate processes,
 * on the services a test gives it, with the ledger of every sample the
 * agent accepted (its "sample accepted" log lines, and after a SIGKILL the
 * samples found in its outbox) to audit what the cloud stored against.
 */
export class DeliveryStack {
  readonly accepted = new Set<string>();
  /** Accepted samples the outbox later dropped by its policy (full). */
  readonly dropped = new Set<string>();
  readonly priorities = new Map<string, number>();
  /** The test's own connection to the cloud's database; a pool of one, so it reconnects after a database restart. */
  readonly db: pg.Pool;
  private readonly started: AppProcess[] = [];
  private readonly s3: S3Client;
  private clouds = 0;

  private constructor(
    private readonly services: DeliveryServices,
    private readonly dataDir: string,
    private readonly ports: { grpc: number; status: number },
    private readonly agentOverrides: Record<string, string>,
  ) {
    this.db = new pg.Pool({ connectionString: services.database.url, max: 1 });
    this.db.on('error', () => undefined);
    const store = services.objectStore;
    this.s3 = new S3Client({
      region: store.region,
      endpoint: store.endpoint,
      forcePathStyle: true,
      credentials: { accessKeyId: store.accessKeyId, secretAccessKey: store.secretAccessKey },
    });
  }

  static async start(services: DeliveryServices, agentOverrides: Record<string, string> = {}): Promise<DeliveryStack> {
    const dataDir = await mkdtemp(join(tmpdir(), 'loupe-delivery-'));
    return new DeliveryStack(services, dataDir, { grpc: await freePort(), status: await freePort() }, agentOverrides);
  }

  get deviceId(): string {
    return `aoi-${this.ports.grpc}`;
  }

  get outboxDir(): string {
    return join(this.dataDir, 'outbox');
  }

  /** A cloud process; several share the broker's subscription as replicas. */
  async startCloud(): Promise<AppProcess> {
    const { database, broker, objectStore } = this.services;
    const cloud = await startCloudProcess({
      name: `cloud-${++this.clouds}`,
      database,
      broker,
      dataDir: this.dataDir,
      poolSize: database.maxConnections,
      env: {
        S3_ENDPOINT: objectStore.endpoint,
        S3_BUCKET: objectStore.bucket,
        S3_REGION: objectStore.region,
        S3_ACCESS_KEY_ID: objectStore.accessKeyId,
        S3_SECRET_ACCESS_KEY: objectStore.secretAccessKey,
      },
    });
    this.started.push(cloud.app);
    return cloud.app;
  }

  async startAgent(): Promise<AppProcess> {
    const { broker } = this.services;
    const agent = new AppProcess({
      name: 'edge-agent',
      cwd: workspace,
      entry: 'apps/edge-agent/src/main.ts',
      tsconfig: 'apps/edge-agent/tsconfig.json',
      env: {
        ...process.env,
        LOG_LEVEL: 'debug',
        SITE_ID: 'plant-7',
        DEVICE_ID: this.deviceId,
        MQTT_URL: broker.url,
        MQTT_TOPIC_ROOT: broker.topicRoot,
        GRPC_HOST: '127.0.0.1',
        GRPC_PORT: String(this.ports.grpc),
        STATUS_PORT: String(this.ports.status),
        MODEL_MANIFEST: join(workspace, 'tools', 'demo', 'models', 'pcb-aoi', 'manifest.json'),
        EXECUTION_PROVIDERS: 'cpu',
        WARMUP_RUNS: '1',
        TENSORRT_ENGINE_CACHE_DIR: join(this.dataDir, 'engines'),
        OUTBOX_DIR: this.outboxDir,
        SAMPLING_POLICY: SELECT_EVERYTHING,
        UPLINK_ACK_TIMEOUT: '3s',
        ...this.agentOverrides,
      },
      print: (line) => this.record(line),
    });
    this.started.push(agent);
    await agent.waitForLog('model serving');
    return agent;
  }

  /**
   * After the agent died without a word: the samples in its outbox are
   * accepted (durable) whether or not it lived to log so. Returns those
   * that had no log line.
   */
  async acceptFromOutbox(): Promise<string[]> {
    const names = await readdir(join(this.outboxDir, 'ready')).catch(() => []);
    const ids = names.flatMap((name) => /_([0-9a-f-]{36})\.sample$/.exec(name)?.[1] ?? []);
    const unlogged = ids.filter((id) => !this.accepted.has(id));
    for (const id of unlogged) this.accepted.add(id);
    return unlogged;
  }

  camera(): InspectServiceClient {
    return new InspectServiceClient(`127.0.0.1:${this.ports.grpc}`, credentials.createInsecure());
  }

  /**
   * Sends every image, four at a time, as a camera does: a failed call is
   * tried again. Returns how many calls failed; the samples themselves are
   * counted from the agent's ledger, never from answers.
   */
  async inspectAll(pictures: Buffer[], onProgress?: (done: number) => void): Promise<{ failedCalls: number }> {
    const camera = this.camera();
    let next = 0;
    let done = 0;
    let failedCalls = 0;
    const inspect = (image: Buffer, serial: number) =>
      new Promise<void>((resolve, reject) =>
        camera.inspect(
          { requestId: '', stationId: 'line-3-aoi', unitSerial: `SN-${serial}`, image },
          new Metadata(),
          { deadline: Date.now() + 10_000 },
          (error) => (error ? reject(error) : resolve()),
        ),
      );
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        while (next < pictures.length) {
          const serial = next++;
          for (;;) {
            try {
              await inspect(pictures[serial]!, serial);
              onProgress?.(++done);
              break;
            } catch {
              failedCalls++;
              await new Promise((resolve) => setTimeout(resolve, 200));
            }
          }
        }
      }),
    );
    camera.close();
    return { failedCalls };
  }

  metric(sample: string): Promise<number> {
    return scrapeMetric(`http://127.0.0.1:${this.ports.status}`, sample);
  }

  async storedIds(): Promise<string[]> {
    return (await this.db.query<{ id: string }>('SELECT id FROM samples')).rows.map((row) => row.id);
  }

  /**
   * Waits until the agent's outbox is empty, its ledger and the stored rows
   * have stopped changing, and every accepted sample not dropped by policy
   * has a row, or `timeoutMs` passes; then counts.
   */
  async audit(imageWrites: ReadonlyMap<string, number> | undefined, timeoutMs = 120_000): Promise<DeliveryAudit> {
    const deadline = Date.now() + timeoutMs;
    let last = '';
    for (;;) {
      const ids = new Set(await this.storedIds());
      const writes = [...(imageWrites?.values() ?? [])].reduce((sum, count) => sum + count, 0);
      const now = `${this.accepted.size}/${this.dropped.size}/${ids.size}/${writes}`;
      const missing = [...this.accepted].some((id) => !this.dropped.has(id) && !ids.has(id));
      const empty = (await this.metric('loupe_agent_outbox_samples').catch(() => -1)) === 0;
      if ((now === last && !missing && empty) || Date.now() > deadline) break;
      last = now;
      await new Promise((resolve) => setTimeout(resolve, 1_000));
    }
    return auditDelivery({ accepted: this.accepted, dropped: this.dropped }, await this.storedRows(), imageWrites);
  }

  private async storedRows(): Promise<StoredRow[]> {
    const { rows } = await this.db.query<{ id: string; image_key: string; image_sha256: string }>('SELECT id, image_key, image_sha256 FROM samples');
    return Promise.all(rows.map(async (row) => ({ id: row.id, imageKey: row.image_key, imageSha256: row.image_sha256, objectSha256: await this.objectSha256(row.image_key) })));
  }

  private async objectSha256(key: string): Promise<string | undefined> {
    try {
      const object = await this.s3.send(new GetObjectCommand({ Bucket: this.services.objectStore.bucket, Key: key }));
      return createHash('sha256').update(await object.Body!.transformToByteArray()).digest('hex');
    } catch (error) {
      if (error instanceof NoSuchKey) return undefined;
      throw error;
    }
  }

  private record(line: string): void {
    if (line.includes('"sample accepted"')) {
      const entry = JSON.parse(line) as { sampleId: string; priority: number };
      this.accepted.add(entry.sampleId);
      this.priorities.set(entry.sampleId, entry.priority);
    } else if (line.includes('"outbox full; dropped the least valuable sample"')) {
      this.dropped.add((JSON.parse(line) as { sampleId: string }).sampleId);
    }
  }

  async stop(): Promise<void> {
    await Promise.all(this.started.splice(0).map((app) => app.stop('SIGKILL')));
    this.s3.destroy();
    await this.db.end().catch(() => undefined);
    await rm(this.dataDir, { recursive: true, force: true });
  }
}
