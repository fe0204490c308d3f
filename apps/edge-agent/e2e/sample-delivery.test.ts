import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { Metadata, credentials } from '@grpc/grpc-js';
import { InspectServiceClient, type InspectResponse } from '@loupe/proto';
import { AppProcess } from '@loupe/service';
import {
  eventually,
  freePort,
  startBrokerProcess,
  startTcpProxy,
  type BrokerProcess,
  type TcpProxy,
  startTestBroker,
  startTestDatabase,
  startTestObjectStore,
  type TestBroker,
  type TestDatabase,
  type TestObjectStore,
} from '@loupe/testing';
import pg from 'pg';
import sharp from 'sharp';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { scrapeMetric } from '../src/testing/scrape-metric';

const workspace = join(import.meta.dirname, '..', '..', '..');
const SAMPLES = Number(process.env.E2E_SAMPLES ?? 300);
// Every inspection becomes a sample: no uncertainty threshold, no budgets.
const SELECT_EVERYTHING = JSON.stringify({ minUncertainty: 0, samplesPerHour: 1e9, perClassPerHour: 1e9, bytesPerDay: 1e12, duplicateDistance: 0 });

/**
 * Edge agent to Postgres and S3 through a real broker, as separate
 * processes, with the failures a factory sees. "Exactly once": every sample
 * the agent accepted has one row, no row is unexplained, and each row's
 * object exists with the SHA-256 the row names.
 */
describe('sample delivery from the edge to the cloud', () => {
  let database: TestDatabase | undefined;
  let broker: TestBroker;
  let objectStore: TestObjectStore;
  let db: pg.Client;
  let s3: S3Client;
  let dataDir: string;
  const started: AppProcess[] = [];
  let ownBroker: BrokerProcess | undefined;
  let proxy: TcpProxy | undefined;

  beforeAll(async () => {
    [broker, objectStore] = await Promise.all([startTestBroker(), startTestObjectStore()]);
    s3 = new S3Client({
      region: objectStore.region,
      endpoint: objectStore.endpoint,
      forcePathStyle: true,
      credentials: { accessKeyId: objectStore.accessKeyId, secretAccessKey: objectStore.secretAccessKey },
    });
  });
  afterEach(async () => {
    await Promise.all(started.splice(0).map((app) => app.stop('SIGKILL')));
    await ownBroker?.stop();
    ownBroker = undefined;
    await proxy?.stop();
    proxy = undefined;
    await db?.end();
    await database?.stop();
    database = undefined;
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });
  afterAll(async () => {
    s3?.destroy();
    await Promise.all([broker?.stop(), objectStore?.stop()]);
  });

  /** A cloud, an agent and a camera of their own per test, on the shared broker and object store. */
  async function setUp(mqtt = { url: broker.url, topicRoot: broker.topicRoot }, agentOverrides: Record<string, string> = {}) {
    dataDir = await mkdtemp(join(tmpdir(), 'loupe-delivery-'));
    const testDatabase = await startTestDatabase();
    database = testDatabase;
    db = new pg.Client({ connectionString: testDatabase.url });
    await db.connect();
    const ports = { http: await freePort(), grpc: await freePort(), status: await freePort() };
    const deviceId = `aoi-${ports.grpc}`;
    const accepted = new Set<string>();
    const priorities = new Map<string, number>();

    const startCloud = async () => {
      const cloud = new AppProcess({
        name: 'cloud',
        cwd: workspace,
        entry: 'apps/cloud/src/main.ts',
        tsconfig: 'apps/cloud/tsconfig.json',
        env: {
          ...process.env,
          LOG_LEVEL: 'info',
          DATA_DIR: join(dataDir, 'cloud'),
          HTTP_PORT: String(ports.http),
          GRPC_PORT: '0',
          LABELER_WEB_DIR: join(dataDir, 'no-ui'),
          DATABASE_URL: testDatabase.url,
          DATABASE_POOL_SIZE: String(testDatabase.maxConnections),
          MQTT_URL: mqtt.url,
          MQTT_TOPIC_ROOT: mqtt.topicRoot,
          S3_ENDPOINT: objectStore.endpoint,
          S3_BUCKET: objectStore.bucket,
          S3_REGION: objectStore.region,
          S3_ACCESS_KEY_ID: objectStore.accessKeyId,
          S3_SECRET_ACCESS_KEY: objectStore.secretAccessKey,
        },
      });
      started.push(cloud);
      await cloud.waitForLog('cloud ready');
      return cloud;
    };

    const startAgent = async () => {
      const agent = new AppProcess({
        name: 'edge-agent',
        cwd: workspace,
        entry: 'apps/edge-agent/src/main.ts',
        tsconfig: 'apps/edge-agent/tsconfig.json',
        env: {
          ...process.env,
          LOG_LEVEL: 'debug',
          SITE_ID: 'plant-7',
          DEVICE_ID: deviceId,
          MQTT_URL: mqtt.url,
          MQTT_TOPIC_ROOT: mqtt.topicRoot,
          GRPC_HOST: '127.0.0.1',
          GRPC_PORT: String(ports.grpc),
          STATUS_PORT: String(ports.status),
          MODEL_MANIFEST: join(workspace, 'tools', 'demo', 'models', 'pcb-aoi', 'manifest.json'),
          EXECUTION_PROVIDERS: 'cpu',
          WARMUP_RUNS: '1',
          TENSORRT_ENGINE_CACHE_DIR: join(dataDir, 'engines'),
          OUTBOX_DIR: join(dataDir, 'outbox'),
          SAMPLING_POLICY: SELECT_EVERYTHING,
          UPLINK_ACK_TIMEOUT: '3s',
          ...agentOverrides,
        },
        print: (line) => {
          if (!line.includes('"sample accepted"')) return;
          const entry = JSON.parse(line) as { sampleId: string; priority: number };
          accepted.add(entry.sampleId);
          priorities.set(entry.sampleId, entry.priority);
        },
      });
      started.push(agent);
      await agent.waitForLog('model serving');
      return agent;
    };

    const camera = () => new InspectServiceClient(`127.0.0.1:${ports.grpc}`, credentials.createInsecure());
    return { startCloud, startAgent, camera, accepted, priorities, statusPort: ports.status };
  }

  /** Distinct images (random pixels), so no sample is a near duplicate of another. */
  async function images(count: number): Promise<Buffer[]> {
    return Promise.all(Array.from({ length: count }, () => sharp(randomBytes(96 * 96 * 3), { raw: { width: 96, height: 96, channels: 3 } }).png().toBuffer()));
  }

  /** Sends every image, four at a time; returns how many the agent answered. Failed calls are retried by the camera. */
  async function inspectAll(camera: InspectServiceClient, pictures: Buffer[], onProgress?: (done: number) => void): Promise<number> {
    let next = 0;
    let answered = 0;
    const inspect = (image: Buffer) =>
      new Promise<InspectResponse>((resolve, reject) =>
        camera.inspect({ requestId: '', stationId: 'line-3-aoi', unitSerial: `SN-${next}`, image }, new Metadata(), { deadline: Date.now() + 10_000 }, (error, response) =>
          error ? reject(error) : resolve(response),
        ),
      );
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        while (next < pictures.length) {
          const image = pictures[next++]!;
          for (;;) {
            try {
              await inspect(image);
              answered++;
              onProgress?.(answered);
              break;
            } catch {
              await new Promise((resolve) => setTimeout(resolve, 200));
            }
          }
        }
      }),
    );
    return answered;
  }

  async function rows(): Promise<{ id: string; image_key: string; image_sha256: string }[]> {
    return (await db.query<{ id: string; image_key: string; image_sha256: string }>('SELECT id, image_key, image_sha256 FROM samples')).rows;
  }

  const agentMetric = (statusPort: number, sample: string) => scrapeMetric(`http://127.0.0.1:${statusPort}`, sample);
  const outboxSamples = (statusPort: number) => agentMetric(statusPort, 'loupe_agent_outbox_samples');

  /**
   * Waits until the agent has nothing left to send and its log of accepted
   * samples has stopped growing (captures finish just after the answers),
   * then checks every accepted sample has its row and object.
   */
  async function expectExactlyOnce(stack: { accepted: Set<string>; statusPort: number }, answered: number) {
    const { accepted } = stack;
    let seen = -1;
    await eventually(
      async () => {
        const settled = seen === accepted.size;
        seen = accepted.size;
        expect(settled).toBe(true);
        expect(await outboxSamples(stack.statusPort)).toBe(0);
        expect((await rows()).length).toBeGreaterThanOrEqual(accepted.size);
      },
      { timeoutMs: 120_000, intervalMs: 1_000 },
    );
    const stored = await rows();
    const ids = new Set(stored.map((row) => row.id));
    for (const id of accepted) expect(ids.has(id), `accepted sample ${id} has no row`).toBe(true);
    expect(stored.length).toBeLessThanOrEqual(answered);
    for (const row of stored) {
      const object = await s3.send(new GetObjectCommand({ Bucket: objectStore.bucket, Key: row.image_key }));
      expect(createHash('sha256').update(await object.Body!.transformToByteArray()).digest('hex')).toBe(row.image_sha256);
    }
    return stored;
  }

  it(`delivers ${SAMPLES} samples in steady state, each once`, async () => {
    const stack = await setUp();
    await stack.startCloud();
    await stack.startAgent();
    const camera = stack.camera();
    const answered = await inspectAll(camera, await images(SAMPLES));
    camera.close();
    const stored = await expectExactlyOnce(stack, answered);
    expect(stored.length).toBe(SAMPLES);
    expect(stack.accepted.size).toBe(SAMPLES);
  }, 300_000);

  it('loses nothing when the agent is killed mid-stream and restarted', async () => {
    const stack = await setUp();
    await stack.startCloud();
    let agent = await stack.startAgent();
    const camera = stack.camera();
    const pictures = await images(200);
    let killed = false;
    const answered = await inspectAll(camera, pictures, (done) => {
      if (done !== 100 || killed) return;
      killed = true;
      void agent.stop('SIGKILL').then(async () => {
        agent = await stack.startAgent();
      });
    });
    camera.close();
    expect(killed).toBe(true);
    const stored = await expectExactlyOnce(stack, answered);
    expect(stored.length).toBeGreaterThanOrEqual(stack.accepted.size);
  }, 300_000);

  it('loses nothing when the cloud is killed mid-stream and restarted', async () => {
    const stack = await setUp();
    let cloud = await stack.startCloud();
    await stack.startAgent();
    const camera = stack.camera();
    let restarted: Promise<void> | undefined;
    const answered = await inspectAll(camera, await images(200), (done) => {
      if (done !== 60 || restarted) return;
      restarted = cloud.stop('SIGKILL').then(async () => {
        cloud = await stack.startCloud();
      });
    });
    camera.close();
    await restarted;
    const stored = await expectExactlyOnce(stack, answered);
    expect(stored.length).toBe(200);
  }, 300_000);

  it('loses nothing when the broker is killed mid-stream and restarted empty', async () => {
    ownBroker = await startBrokerProcess();
    const brokerProcess = ownBroker;
    const stack = await setUp({ url: brokerProcess.url, topicRoot: 'loupe/v1' });
    await stack.startCloud();
    await stack.startAgent();
    const camera = stack.camera();
    let restarted: Promise<void> | undefined;
    const answered = await inspectAll(camera, await images(200), (done) => {
      if (done !== 60 || restarted) return;
      // Without persistence the broker forgets sessions, subscriptions and
      // every message it had not delivered.
      restarted = brokerProcess.kill().then(() => new Promise((resolve) => setTimeout(resolve, 1_000))).then(() => brokerProcess.restart());
    });
    camera.close();
    await restarted;
    const stored = await expectExactlyOnce(stack, answered);
    expect(stored.length).toBe(200);
  }, 300_000);

  /** An agent whose broker link goes through a proxy the test can cut. */
  async function setUpBehindProxy(agentOverrides: Record<string, string> = {}) {
    const target = new URL(broker.url);
    proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 1883) });
    const stack = await setUp({ url: broker.url, topicRoot: broker.topicRoot }, { MQTT_URL: `mqtt://${proxy.address}`, ...agentOverrides });
    return { ...stack, link: proxy };
  }

  it('keeps inspecting through a broker outage, then drains the backlog most valuable first', async () => {
    // Priority orders the backlog window by window; within one window the
    // cloud stores in any order, so the window is a fraction of the backlog.
    const stack = await setUpBehindProxy({ UPLINK_WINDOW: '32' });
    await stack.startCloud();
    await stack.startAgent();
    stack.link.cut();
    const camera = stack.camera();
    const answered = await inspectAll(camera, await images(120));
    camera.close();
    expect(answered).toBe(120);
    await eventually(async () => expect(await outboxSamples(stack.statusPort)).toBe(120), { timeoutMs: 30_000 });
    expect((await rows()).length).toBe(0);

    stack.link.restore();
    await expectExactlyOnce(stack, answered);
    const arrival = (await db.query<{ id: string }>('SELECT id FROM samples ORDER BY received_at, id')).rows.map((row) => stack.priorities.get(row.id)!);
    const mean = (values: number[]) => values.reduce((sum, value) => sum + value, 0) / values.length;
    // The order is by priority up to the window: compare the first and last quarters.
    expect(mean(arrival.slice(0, 30))).toBeGreaterThan(mean(arrival.slice(-30)));
    expect(Math.min(...arrival.slice(0, 16))).toBeGreaterThanOrEqual(Math.max(...arrival.slice(-16)));
  }, 300_000);

  it('keeps the most valuable samples when the outbox fills during an outage, and counts the rest', async () => {
    const stack = await setUpBehindProxy({ OUTBOX_MAX_SAMPLES: '20' });
    await stack.startCloud();
    await stack.startAgent();
    stack.link.cut();
    const camera = stack.camera();
    const answered = await inspectAll(camera, await images(60));
    camera.close();
    expect(answered).toBe(60);
    await eventually(async () => expect(await agentMetric(stack.statusPort, 'loupe_agent_outbox_dropped_total{reason="outbox_full"}')).toBe(40), {
      timeoutMs: 30_000,
    });
    expect(await outboxSamples(stack.statusPort)).toBe(20);

    stack.link.restore();
    await eventually(async () => expect((await rows()).length).toBe(20), { timeoutMs: 120_000, intervalMs: 500 });
    const kept = new Set((await rows()).map((row) => row.id));
    const byValue = [...stack.priorities.entries()].sort((a, b) => b[1] - a[1]);
    const threshold = byValue[19]![1];
    for (const [id, priority] of byValue) {
      if (priority > threshold) expect(kept.has(id), `sample with priority ${priority} was dropped`).toBe(true);
      if (priority < threshold) expect(kept.has(id), `sample with priority ${priority} was kept`).toBe(false);
    }
  }, 300_000);
});
