/**
 * `npm run bench:ingest`: Loupe's edge-to-Postgres sample ingest against the
 * broker's own QoS 1 throughput for the same payload size, in one run, on
 * the services the environment names (DATABASE_URL, MQTT_URL, S3_*; the
 * embedded defaults otherwise).
 *
 * (a) broker: a bare mqtt.js publisher and subscriber, QoS 1, nothing else;
 *     with the CPU the two spent per message, and the CPU per sample that
 *     all of this machine's cores leave at the target rate;
 * (b) ingest: an agent inspects BENCH_SAMPLES images with its broker link
 *     cut, selecting every one (about 50 KB each); then the link comes back
 *     and the backlog goes to the cloud, until every row is in Postgres;
 *     also the CPU time the cloud and the agent spent per sample meanwhile;
 * (c) outage: the agent inspects at full speed, selecting every image, while
 *     its broker connection is cut for BENCH_OUTAGE_S seconds (default 300);
 *     then the backlog drains. Drain rate over production rate, and the
 *     station's inspect p50 during the outage against one with the link up.
 * (e) poison: the cloud's rate with about 1% poison samples mixed into the
 *     same load, over its rate without them, from plain clients publishing
 *     straight to the broker (ingest-poison.ts); target at least 0.9;
 * (d) disk: with the blob folder of the embedded default (no S3_BUCKET), how
 *     many images a bare writer makes durable per second on its disk, as the
 *     folder store does (write, fsync, link, unlink, fsync the folder), 16 at once
 *     and nothing else: the most ingest can reach there, whatever the broker.
 *
 * Target: ingest at least 60% of the broker figure, and with poison at least
 * 90% of the clean rate. The last line is JSON.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { link, mkdir, mkdtemp, open, readFile, rm, unlink } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { credentials } from '@grpc/grpc-js';
import { InspectServiceClient } from '@loupe/proto';
import { SampleUpload, SelectionReason } from '@loupe/proto';
import { AppProcess } from '@loupe/testing';
import { freePort, startTcpProxy, startTestBroker, startTestDatabase, uniqueName } from '@loupe/testing';
import mqtt from 'mqtt';
import pg from 'pg';
import sharp from 'sharp';
import { poisonRatio } from './ingest-poison';

const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 1_000);
const IMAGE_BYTES = 50 * 1024;
const OUTAGE_S = Number(process.env.BENCH_OUTAGE_S ?? 300);
// Clean and poisoned phases alternate this many times each.
const POISON_ROUNDS = 4;
const workspace = resolve(import.meta.dirname, '..', '..');

function log(message: string): void {
  process.stdout.write(`${message}\n`);
}

function samplePayload(id: string): Uint8Array {
  return SampleUpload.encode(
    SampleUpload.fromPartial({
      sampleId: id,
      device: { siteId: 'bench', deviceId: 'aoi-1' },
      stationId: 'line-1',
      unitSerial: id.slice(0, 8),
      capturedAt: new Date(),
      model: { name: 'pcb-aoi', version: '1', sha256: '' },
      prediction: { verdict: 'reject', scores: [{ label: 'Defective', score: 0.55 }], boxes: [] },
      // Starts like the JPEG its media type says, as the cloud checks.
      image: Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), randomBytes(IMAGE_BYTES - 4)]),
      imageMediaType: 'image/jpeg',
      priority: Math.random(),
      reason: SelectionReason.SELECTION_REASON_MARGIN,
      attempt: 1,
    }),
  ).finish();
}

/**
 * (a) QoS 1 messages per second through the broker, publisher to subscriber,
 * 16 in flight, and the CPU time the two clients (this process) spent per
 * message.
 */
async function brokerThroughput(url: string, topicRoot: string): Promise<{ rate: number; clientsCpuMs: number }> {
  const topic = `${topicRoot}/bench/raw`;
  const payload = Buffer.from(samplePayload(randomUUID()));
  const subscriber = await mqtt.connectAsync(url, { clientId: uniqueName('bench-sub') });
  const publisher = await mqtt.connectAsync(url, { clientId: uniqueName('bench-pub') });
  await subscriber.subscribeAsync(topic, { qos: 1 });
  let received = 0;
  const allReceived = new Promise<void>((done) =>
    subscriber.on('message', () => {
      if (++received === SAMPLES) done();
    }),
  );
  const started = performance.now();
  const cpuAtStart = process.cpuUsage();
  let sent = 0;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (sent < SAMPLES) {
        sent++;
        await publisher.publishAsync(topic, payload, { qos: 1 });
      }
    }),
  );
  await allReceived;
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuAtStart);
  await Promise.all([publisher.endAsync(), subscriber.endAsync()]);
  return { rate: SAMPLES / seconds, clientsCpuMs: (cpu.user + cpu.system) / 1000 / SAMPLES };
}

/** (d) Images of IMAGE_BYTES made durable per second in `folder`, 16 at once, one file each, as the folder store writes them. */
async function diskDurableWrites(folder: string): Promise<number> {
  await mkdir(folder, { recursive: true });
  const image = randomBytes(IMAGE_BYTES);
  const count = Math.min(SAMPLES, 2_000);
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (next < count) {
        const path = join(folder, `${next++}.jpg`);
        const file = await open(`${path}.partial`, 'w');
        await file.writeFile(image);
        await file.sync();
        await file.close();
        await link(`${path}.partial`, path);
        await unlink(`${path}.partial`);
        const directory = await open(folder, 'r');
        await directory.sync();
        await directory.close();
      }
    }),
  );
  const perSecond = count / ((performance.now() - started) / 1000);
  await rm(folder, { recursive: true, force: true });
  return perSecond;
}

/** A JPEG of random pixels of about 50 KB: unique, so never a near duplicate. */
function noiseJpeg(): Promise<Buffer> {
  return sharp(randomBytes(248 * 248 * 3), { raw: { width: 248, height: 248, channels: 3 } }).jpeg({ quality: 90 }).toBuffer();
}

/**
 * CPU seconds a process has used (user + system, all its threads), from
 * /proc; undefined where there is no /proc. USER_HZ is 100 on Linux.
 */
async function cpuSeconds(pid: number | undefined): Promise<number | undefined> {
  if (pid === undefined) return undefined;
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  // Fields after the parenthesised command name; utime and stime are the 12th and 13th.
  const fields = stat?.slice(stat.lastIndexOf(')') + 2).split(' ');
  return fields && (Number(fields[11]) + Number(fields[12])) / 100;
}

async function countRows(db: pg.Client): Promise<number> {
  const { rows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM samples');
  return rows[0]?.n ?? 0;
}

async function waitForRows(db: pg.Client, count: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while ((await countRows(db)) < count) {
    if (Date.now() > deadline) throw new Error(`only ${await countRows(db)} of ${count} samples arrived within ${timeoutMs / 1000} s`);
    await new Promise((done) => setTimeout(done, 100));
  }
}

const broker = await startTestBroker();
const database = await startTestDatabase();
const dataDir = await mkdtemp(join(tmpdir(), 'loupe-bench-ingest-'));
const db = new pg.Client({ connectionString: database.url });
const target = new URL(broker.url);
const proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 1883) });
const apps: AppProcess[] = [];

function startApp(name: 'cloud' | 'edge-agent', env: Record<string, string>, readyLog: string): Promise<AppProcess> {
  const app = new AppProcess({
    name,
    cwd: workspace,
    entry: `apps/${name}/src/main.ts`,
    tsconfig: `apps/${name}/tsconfig.json`,
    env: { ...process.env, LOG_LEVEL: 'warn', MQTT_TOPIC_ROOT: broker.topicRoot, ...env },
  });
  apps.push(app);
  return app.waitForLog(readyLog).then(() => app);
}

try {
  log(`broker: ${broker.kind} at ${broker.url}; database: ${database.kind}; ${SAMPLES} samples of ${IMAGE_BYTES / 1024} KB`);
  const { rate: brokerRate, clientsCpuMs } = await brokerThroughput(broker.url, broker.topicRoot);
  // At the target rate, every core of this machine shared among the agent,
  // the broker, the cloud and Postgres leaves this much CPU per sample.
  const cpuBudgetMs = (availableParallelism() * 1000) / (0.6 * brokerRate);
  log(`(a) broker QoS 1: ${brokerRate.toFixed(1)} msgs/s; its two clients spent ${clientsCpuMs.toFixed(2)} ms of CPU per message`);
  log(`    at 60% of that rate, ${availableParallelism()} cores leave ${cpuBudgetMs.toFixed(2)} ms of CPU per sample for everything`);

  const cloudHttpPort = await freePort();
  const cloud = await startApp(
    'cloud',
    {
      LOG_LEVEL: 'info',
      DATA_DIR: join(dataDir, 'cloud'),
      HTTP_PORT: String(cloudHttpPort),
      GRPC_PORT: '0',
      LABELER_WEB_DIR: join(dataDir, 'no-ui'),
      DATABASE_URL: database.url,
      DATABASE_POOL_SIZE: String(database.maxConnections),
      MQTT_URL: broker.url,
    },
    'cloud ready',
  );
  await db.connect();

  // One agent for both measurements, behind a link the bench can cut.
  const grpcPort = await freePort();
  const agent = await startApp(
    'edge-agent',
    {
      LOG_LEVEL: 'info',
      SITE_ID: 'bench',
      DEVICE_ID: 'aoi-1',
      MQTT_URL: `mqtt://${proxy.address}`,
      GRPC_HOST: '127.0.0.1',
      GRPC_PORT: String(grpcPort),
      STATUS_PORT: String(await freePort()),
      EXECUTION_PROVIDERS: 'cpu',
      TENSORRT_ENGINE_CACHE_DIR: join(dataDir, 'engines'),
      OUTBOX_DIR: join(dataDir, 'outbox'),
      MODEL_MANIFEST: join(workspace, 'tools', 'demo', 'models', 'pcb-aoi', 'manifest.json'),
      // Every inspection is selected; the camera cycles through 64 distinct images,
      // so the duplicate check only compares with the last one.
      SAMPLING_POLICY: JSON.stringify({ minUncertainty: 0, samplesPerHour: 1e9, perClassPerHour: 1e9, bytesPerDay: 1e12, duplicateDistance: 0, duplicateMemory: 1 }),
    },
    'model serving',
  );
  const camera = new InspectServiceClient(`127.0.0.1:${grpcPort}`, credentials.createInsecure());
  const pictures = await Promise.all(Array.from({ length: 64 }, () => noiseJpeg()));
  log(`camera images: ${Math.round(pictures.reduce((sum, picture) => sum + picture.byteLength, 0) / pictures.length / 1024)} KB on average`);

  /**
   * Cuts the agent's link, inspects until `until` says stop, restores the
   * link and waits for every sample to reach Postgres. Returns the
   * production rate during the cut and the drain rate after it.
   */
  let shot = 0;
  /** One inspection; resolves with its latency in ms. */
  const inspectOnce = () =>
    new Promise<number>((done, fail) => {
      const sent = performance.now();
      const image = pictures[shot % pictures.length]!;
      camera.inspect({ requestId: '', stationId: 'line-1', unitSerial: String(shot++), image }, (error) =>
        error ? fail(error) : done(performance.now() - sent),
      );
    });
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN;

  // Inspect latency with the link up and uploads flowing, for comparison with the outage.
  const linkedRows = await countRows(db);
  const linkedLatencies: number[] = [];
  for (let i = 0; i < 300; i++) linkedLatencies.push(await inspectOnce());
  await waitForRows(db, linkedRows + 300, 600_000);
  const linkedP50 = median(linkedLatencies);
  log(`inspect p50 with the link up: ${linkedP50.toFixed(2)} ms`);

  async function outage(until: (inspected: number, elapsedMs: number) => boolean) {
    const before = await countRows(db);
    proxy.cut();
    const started = performance.now();
    const latencies: number[] = [];
    while (!until(latencies.length, performance.now() - started)) latencies.push(await inspectOnce());
    const inspected = latencies.length;
    const produced = inspected / ((performance.now() - started) / 1000);
    const restored = performance.now();
    proxy.restore();
    // The agent reconnects on its backoff schedule; the drain is timed from
    // the first sample in, so that wait is reported on its own.
    await waitForRows(db, before + 1, 600_000);
    const firstIn = performance.now();
    const cpuBefore = await Promise.all([cpuSeconds(cloud.pid), cpuSeconds(agent.pid)]);
    await waitForRows(db, before + inspected, 3_600_000);
    const drained = (inspected - 1) / ((performance.now() - firstIn) / 1000);
    const cpuAfter = await Promise.all([cpuSeconds(cloud.pid), cpuSeconds(agent.pid)]);
    // CPU per sample while draining: what each side spends on the work, however busy the machine.
    const [cloudCpuMs, agentCpuMs] = cpuAfter.map((after, side) => {
      const before = cpuBefore[side];
      return after === undefined || before === undefined ? undefined : Math.round(((after - before) * 1000 * 100) / (inspected - 1)) / 100;
    });
    return { inspected, produced, drained, reconnectS: (firstIn - restored) / 1000, p50: median(latencies), cloudCpuMs, agentCpuMs };
  }

  const backlog = await outage((inspected) => inspected >= SAMPLES);
  const ingestRate = backlog.drained;
  log(`(b) edge to Postgres: ${ingestRate.toFixed(1)} samples/s (${((ingestRate / brokerRate) * 100).toFixed(0)}% of the broker), first sample ${backlog.reconnectS.toFixed(1)} s after the link came back`);
  if (backlog.cloudCpuMs !== undefined) log(`(b) CPU per sample: cloud ${backlog.cloudCpuMs} ms, agent ${backlog.agentCpuMs} ms`);

  log(`(c) link cut for ${OUTAGE_S} s while the station inspects`);
  const long = await outage((_inspected, elapsedMs) => elapsedMs >= OUTAGE_S * 1000);
  const productionRate = long.produced;
  const drainRate = long.drained;
  camera.close();
  log(
    `(c) produced ${productionRate.toFixed(1)} samples/s during the outage; drained ${long.inspected} at ${drainRate.toFixed(1)} samples/s, ` +
      `the first ${long.reconnectS.toFixed(1)} s after the link came back; inspect p50 during it ${long.p50.toFixed(2)} ms`,
  );

  log(`(e) ${SAMPLES} samples from 4 plain clients, clean and with 1% poison, ${POISON_ROUNDS} rounds each`);
  const poison = await poisonRatio({
    brokerUrl: broker.url,
    topicRoot: broker.topicRoot,
    db,
    metricsUrl: `http://127.0.0.1:${cloudHttpPort}/metrics`,
    samples: SAMPLES,
    imageBytes: IMAGE_BYTES,
    rounds: POISON_ROUNDS,
    cloudCpuSeconds: () => cpuSeconds(cloud.pid),
  });
  const poisonRatioValue = poison.poisonRate / poison.cleanRate;
  log(
    `(e) clean ${poison.cleanRate.toFixed(1)} samples/s; with ${poison.poisoned} poison ${poison.poisonRate.toFixed(1)} valid samples/s ` +
      `(${(poisonRatioValue * 100).toFixed(0)}%); cloud reconnects meanwhile: ${poison.reconnects}`,
  );
  if (poison.cloudCpuMs) log(`(e) cloud CPU per valid sample: clean ${poison.cloudCpuMs.clean.toFixed(2)} ms, with poison ${poison.cloudCpuMs.poison.toFixed(2)} ms`);

  const diskRate = process.env.S3_BUCKET ? undefined : await diskDurableWrites(join(dataDir, 'cloud', 'disk-check'));
  if (diskRate !== undefined) log(`(d) the blob folder's disk: ${diskRate.toFixed(1)} images/s made durable by a bare writer; ingest reached ${((ingestRate / diskRate) * 100).toFixed(0)}% of it`);
  log(
    JSON.stringify({
      samples: SAMPLES,
      image_bytes: IMAGE_BYTES,
      broker: broker.kind,
      database: database.kind,
      broker_msgs_per_s: Math.round(brokerRate * 10) / 10,
      broker_clients_cpu_ms_per_msg: Math.round(clientsCpuMs * 1000) / 1000,
      cpu_budget_ms_per_sample_at_target: Math.round(cpuBudgetMs * 100) / 100,
      ingest_samples_per_s: Math.round(ingestRate * 10) / 10,
      ratio: Math.round((ingestRate / brokerRate) * 1000) / 1000,
      ratio_target_met: ingestRate >= 0.6 * brokerRate,
      ...(backlog.cloudCpuMs === undefined ? {} : { cloud_cpu_ms_per_sample: backlog.cloudCpuMs, agent_cpu_ms_per_sample: backlog.agentCpuMs }),
      outage_s: OUTAGE_S,
      production_samples_per_s: Math.round(productionRate * 10) / 10,
      drain_samples_per_s: Math.round(drainRate * 10) / 10,
      drain_vs_production: Math.round((drainRate / productionRate) * 100) / 100,
      reconnect_after_outage_s: Math.round(long.reconnectS * 10) / 10,
      inspect_p50_ms_link_up: Math.round(linkedP50 * 100) / 100,
      inspect_p50_ms_outage: Math.round(long.p50 * 100) / 100,
      poison_clean_samples_per_s: Math.round(poison.cleanRate * 10) / 10,
      poison_samples_per_s: Math.round(poison.poisonRate * 10) / 10,
      poison_ratio: Math.round(poisonRatioValue * 1000) / 1000,
      poison_ratio_target_met: poisonRatioValue >= 0.9,
      poison_reconnects: poison.reconnects,
      ...(poison.cloudCpuMs && {
        poison_clean_cloud_cpu_ms_per_sample: Math.round(poison.cloudCpuMs.clean * 100) / 100,
        poison_cloud_cpu_ms_per_sample: Math.round(poison.cloudCpuMs.poison * 100) / 100,
      }),
      ...(diskRate === undefined ? {} : { disk_durable_images_per_s: Math.round(diskRate * 10) / 10, ingest_vs_disk: Math.round((ingestRate / diskRate) * 1000) / 1000 }),
    }),
  );
} finally {
  await Promise.all(apps.map((app) => app.stop('SIGKILL')));
  await db.end().catch(() => undefined);
  await proxy.stop();
  await database.stop();
  await broker.stop();
  await rm(dataDir, { recursive: true, force: true });
}
