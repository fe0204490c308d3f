import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { SampleAck, SampleUpload, SelectionReason } from '@loupe/proto';
import {
  eventually,
  startTestBroker,
  startTestDatabase,
  startTestObjectStore,
  uniqueName,
  type TestBroker,
  type TestDatabase,
  type TestObjectStore,
} from '@loupe/testing';
import { DeviceTopics } from '@loupe/topics';
import mqtt, { type MqttClient } from 'mqtt';
import pg from 'pg';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCloud, type RunningCloud } from '../cloud-runtime';
import { testCloudConfig } from '../testing/test-cloud-config';

const MAX_SAMPLE_BYTES = 64 * 1024;
/** Bytes that start like a JPEG, as the media type the tests send says. */
const jpeg = (bytes: number) => Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), randomBytes(bytes - 4)]);

describe('sample ingest on real Postgres, broker and S3', () => {
  let database: TestDatabase;
  let broker: TestBroker;
  let objectStore: TestObjectStore;
  let dataDir: string;
  let cloud: RunningCloud;
  let device: MqttClient;
  let neighbour: MqttClient;
  let topics: DeviceTopics;
  let db: pg.Client;
  let s3: S3Client;
  const acked = new Map<string, number>();
  const refused = new Map<string, string>();
  const neighbourAcked = new Set<string>();
  const neighbourRefused = new Map<string, string>();

  beforeAll(async () => {
    [database, broker, objectStore] = await Promise.all([startTestDatabase(), startTestBroker(), startTestObjectStore()]);
    dataDir = await mkdtemp(join(tmpdir(), 'loupe-ingest-'));
    topics = new DeviceTopics(broker.topicRoot);
    const credentials = { accessKeyId: objectStore.accessKeyId, secretAccessKey: objectStore.secretAccessKey };
    cloud = await startCloud(
      testCloudConfig({
        dataDir,
        database,
        brokerUrl: broker.url,
        topicRoot: broker.topicRoot,
        maxSampleBytes: MAX_SAMPLE_BYTES,
        blobs: { kind: 's3', bucket: objectStore.bucket, region: objectStore.region, endpoint: objectStore.endpoint, forcePathStyle: true, credentials },
      }),
      pino({ level: process.env.DEBUG_INGEST ? 'debug' : 'silent' }),
    );
    s3 = new S3Client({ region: objectStore.region, endpoint: objectStore.endpoint, forcePathStyle: true, credentials });
    device = await mqtt.connectAsync(broker.url, { protocolVersion: 4, clientId: uniqueName('device') });
    device.on('message', (_topic, payload) => {
      const ack = SampleAck.decode(payload);
      for (const id of ack.sampleIds) acked.set(id, (acked.get(id) ?? 0) + 1);
      for (const rejected of ack.rejected) refused.set(rejected.sampleId, rejected.reason);
    });
    await device.subscribeAsync(topics.forDevice('plant-7', 'aoi-01', 'acks'), { qos: 1 });
    neighbour = await mqtt.connectAsync(broker.url, { protocolVersion: 4, clientId: uniqueName('neighbour') });
    neighbour.on('message', (_topic, payload) => {
      const ack = SampleAck.decode(payload);
      for (const id of ack.sampleIds) neighbourAcked.add(id);
      for (const rejected of ack.rejected) neighbourRefused.set(rejected.sampleId, rejected.reason);
    });
    await neighbour.subscribeAsync(topics.forDevice('plant-7', 'aoi-02', 'acks'), { qos: 1 });
    db = new pg.Client({ connectionString: database.url });
    await db.connect();
    await eventually(async () => expect((await fetch(`${cloud.httpUrl}/healthz`)).status).toBe(200));
  });

  afterAll(async () => {
    await device?.endAsync();
    await neighbour?.endAsync();
    await cloud?.stop();
    await db?.end();
    s3?.destroy();
    await Promise.all([database?.stop(), broker?.stop(), objectStore?.stop()]);
    await rm(dataDir, { recursive: true, force: true });
  });

  function upload(overrides: Partial<SampleUpload> = {}): SampleUpload {
    return SampleUpload.fromPartial({
      sampleId: randomUUID(),
      device: { siteId: 'plant-7', deviceId: 'aoi-01' },
      stationId: 'line-3-aoi',
      unitSerial: 'SN-1',
      capturedAt: new Date(),
      model: { name: 'pcb-aoi', version: '1', sha256: 'ab' },
      prediction: { verdict: 'reject', scores: [{ label: 'Defective', score: 0.55 }, { label: 'Normal', score: 0.45 }], boxes: [] },
      image: jpeg(2_000),
      imageMediaType: 'image/jpeg',
      priority: 0.9,
      reason: SelectionReason.SELECTION_REASON_MARGIN,
      attempt: 1,
      ...overrides,
    });
  }

  async function publish(payload: Uint8Array, from: MqttClient = device, deviceId = 'aoi-01') {
    await from.publishAsync(topics.forDevice('plant-7', deviceId, 'samples'), Buffer.from(payload), { qos: 1 });
  }

  async function metric(line: string): Promise<number> {
    const text = await (await fetch(`${cloud.httpUrl}/metrics`)).text();
    const found = text.split('\n').find((each) => each.startsWith(`${line} `));
    return found === undefined ? 0 : Number(found.slice(line.length + 1));
  }

  async function query<T extends pg.QueryResultRow>(sql: string, values: unknown[] = []): Promise<T[]> {
    return (await db.query<T>(sql, values)).rows;
  }

  async function objectSha256(key: string): Promise<string> {
    const object = await s3.send(new GetObjectCommand({ Bucket: objectStore.bucket, Key: key }));
    return createHash('sha256').update(await object.Body!.transformToByteArray()).digest('hex');
  }

  it('stores each sample once, with an image whose SHA-256 matches, and acknowledges it to the device', async () => {
    const sent = Array.from({ length: 40 }, () => upload());
    for (const sample of sent) await publish(SampleUpload.encode(sample).finish());
    await eventually(() => expect(sent.every((sample) => acked.has(sample.sampleId))).toBe(true), { timeoutMs: 20_000 });
    const ids = sent.map((sample) => sample.sampleId);
    const rows = await query<{ id: string; image_key: string; image_sha256: string; reason: string }>(
      'SELECT id, image_key, image_sha256, reason FROM samples WHERE id = ANY($1::uuid[])',
      [ids],
    );
    expect(rows.map((row) => row.id).sort()).toEqual([...ids].sort());
    for (const row of rows) {
      const original = sent.find((sample) => sample.sampleId === row.id)!;
      const expected = createHash('sha256').update(original.image).digest('hex');
      expect(row.image_sha256).toBe(expected);
      expect(await objectSha256(row.image_key)).toBe(expected);
      expect(row.reason).toBe('margin');
    }
  });

  it("queues stored samples in the labeling queue of their model's project, the most doubtful first", async () => {
    const projectId = randomUUID();
    await query('INSERT INTO projects (id, name, model_name, task, classes) VALUES ($1, $2, $3, $4, $5)', [
      projectId,
      'solder joints',
      'solder-aoi',
      'classification',
      ['Normal', 'Defective'],
    ]);
    const model = { name: 'solder-aoi', version: '2', sha256: 'cd' };
    const queued = [0.2, 0.9, 0.5].map((priority) => upload({ model, priority }));
    const unqueued = upload();
    for (const sample of [...queued, unqueued]) await publish(SampleUpload.encode(sample).finish());
    await eventually(() => expect([...queued, unqueued].every((sample) => acked.has(sample.sampleId))).toBe(true), { timeoutMs: 20_000 });
    const tasks = await query<{ sample_id: string; project_id: string; state: string }>(
      'SELECT sample_id, project_id, state FROM label_tasks WHERE sample_id = ANY($1::uuid[]) ORDER BY priority DESC',
      [[...queued, unqueued].map((sample) => sample.sampleId)],
    );
    expect(tasks).toEqual(
      [queued[1]!, queued[2]!, queued[0]!].map((sample) => ({ sample_id: sample.sampleId, project_id: projectId, state: 'open' })),
    );
  });

  it('keeps one row for a sample delivered three times, and acknowledges every delivery', async () => {
    const sample = upload();
    const payload = SampleUpload.encode(sample).finish();
    for (let i = 0; i < 3; i++) await publish(payload);
    await eventually(() => expect(acked.get(sample.sampleId)).toBe(3), { timeoutMs: 20_000 });
    const rows = await query<{ n: number }>('SELECT count(*)::int AS n FROM samples WHERE id = $1::uuid', [sample.sampleId]);
    expect(rows[0]?.n).toBe(1);
  });

  it('dead-letters malformed, truncated, invalid and oversized payloads with reasons, and goes on ingesting', async () => {
    const oversized = upload({ image: jpeg(MAX_SAMPLE_BYTES + 1) });
    const invalid = upload({ stationId: '', priority: 3 });
    const whole = SampleUpload.encode(upload()).finish();
    // Field 1 with wire type 7, which protobuf does not have.
    await publish(Buffer.from([0x0f, 0x01, 0x02]));
    await publish(whole.subarray(0, Math.floor(whole.byteLength / 2)));
    await publish(SampleUpload.encode(invalid).finish());
    await publish(SampleUpload.encode(oversized).finish());
    const after = upload();
    await publish(SampleUpload.encode(after).finish());

    await eventually(() => expect(acked.has(after.sampleId)).toBe(true), { timeoutMs: 20_000 });
    // Messages are handled concurrently, so dead letters may land in any order.
    const letters = await query<{ reason: string; detail: string; sample_id: string | null }>(
      'SELECT reason, detail, sample_id FROM dead_letters ORDER BY reason, id',
    );
    expect(letters.map((letter) => letter.reason)).toEqual(['invalid', 'malformed', 'malformed', 'too_large']);
    expect(letters[0]?.detail).toMatch(/station_id is required; priority must be within 0..1/);
    expect(letters[3]).toMatchObject({ sample_id: oversized.sampleId });
    expect(letters[3]?.detail).toMatch(/limit is 65536/);
    expect(refused.get(oversized.sampleId)).toMatch(/^too_large/);
    expect(refused.get(invalid.sampleId)).toMatch(/^invalid/);
    const metrics = await (await fetch(`${cloud.httpUrl}/metrics`)).text();
    expect(metrics).toContain('loupe_cloud_sample_dead_letters_total{reason="malformed"} 2');
    expect(metrics).toContain('loupe_cloud_sample_dead_letters_total{reason="too_large"} 1');
  });

  it('stores every valid sample of a group with poison in it, dead-letters and refuses each poison one by id, and never drops the connection', async () => {
    const connectsBefore = await metric('loupe_cloud_mqtt_connects_total');
    // One connect for each of the cloud's four ingest links, none since.
    expect(connectsBefore).toBe(4);
    const lettersBefore = await query<{ n: number }>('SELECT count(*)::int AS n FROM dead_letters');
    const valid = Array.from({ length: 30 }, () => upload());
    const poison = [
      upload({ unitSerial: 'SN-0042\u0000\u0000' }),
      upload({ stationId: 'line\u001b[31m' }),
      upload({ model: { name: 'pcb-aoi\u0000', version: '1', sha256: '' } }),
      upload({ imageMediaType: 'image/png' }),
      upload({ capturedAt: new Date(Date.now() - 400 * 24 * 3_600_000) }),
      upload({ capturedAt: new Date(Date.now() + 3_600_000) }),
      upload({ stationId: 'x'.repeat(129) }),
    ];
    const all = [...valid];
    poison.forEach((sample, index) => all.splice(index * 4 + 1, 0, sample));
    for (const sample of all) await publish(SampleUpload.encode(sample).finish());

    await eventually(() => expect(valid.every((sample) => acked.has(sample.sampleId)) && poison.every((sample) => refused.has(sample.sampleId))).toBe(true), {
      timeoutMs: 20_000,
    });
    const stored = await query<{ id: string }>('SELECT id FROM samples WHERE id = ANY($1::uuid[])', [all.map((sample) => sample.sampleId)]);
    expect(stored.map((row) => row.id).sort()).toEqual(valid.map((sample) => sample.sampleId).sort());
    const letters = await query<{ sample_id: string; reason: string; detail: string }>('SELECT sample_id, reason, detail FROM dead_letters WHERE sample_id = ANY($1::text[])', [
      poison.map((sample) => sample.sampleId),
    ]);
    expect(letters.map((letter) => letter.sample_id).sort()).toEqual(poison.map((sample) => sample.sampleId).sort());
    expect(new Set(letters.map((letter) => letter.reason))).toEqual(new Set(['invalid']));
    expect(refused.get(poison[0]!.sampleId)).toMatch(/^invalid: unit_serial has a control character \(U\+0000\) at position 7/);
    expect(refused.get(poison[3]!.sampleId)).toMatch(/image_media_type is image\/png but the image starts with ff d8 ff e0/);
    expect(refused.get(poison[4]!.sampleId)).toMatch(/SAMPLE_MAX_AGE/);
    expect(refused.get(poison[5]!.sampleId)).toMatch(/ahead of the cloud's clock/);
    expect((await query<{ n: number }>('SELECT count(*)::int AS n FROM dead_letters'))[0]!.n - lettersBefore[0]!.n).toBe(poison.length);
    expect(await metric('loupe_cloud_mqtt_connects_total')).toBe(connectsBefore);
  });

  it("refuses a sample id stored for another device as id_conflict, to the second device, and leaves the first device's row as it was", async () => {
    const original = upload();
    await publish(SampleUpload.encode(original).finish());
    await eventually(() => expect(acked.has(original.sampleId)).toBe(true), { timeoutMs: 20_000 });

    const borrowed = upload({ sampleId: original.sampleId, device: { siteId: 'plant-7', deviceId: 'aoi-02' } });
    await publish(SampleUpload.encode(borrowed).finish(), neighbour, 'aoi-02');
    const reused = upload({ sampleId: original.sampleId });
    await publish(SampleUpload.encode(reused).finish());
    await eventually(() => expect(neighbourRefused.has(original.sampleId) && refused.has(original.sampleId)).toBe(true), { timeoutMs: 20_000 });

    expect(neighbourAcked.has(original.sampleId)).toBe(false);
    expect(neighbourRefused.get(original.sampleId)).toMatch(/^id_conflict: sample_id .* is already stored for device plant-7\/aoi-01/);
    expect(refused.get(original.sampleId)).toMatch(/^id_conflict: .* already stored with another image/);
    const rows = await query<{ device_id: string; image_sha256: string }>('SELECT device_id, image_sha256 FROM samples WHERE id = $1::uuid', [original.sampleId]);
    expect(rows).toEqual([{ device_id: 'aoi-01', image_sha256: createHash('sha256').update(original.image).digest('hex') }]);
    const letters = await query<{ device_id: string; reason: string }>('SELECT device_id, reason FROM dead_letters WHERE sample_id = $1 ORDER BY device_id', [original.sampleId]);
    expect(letters).toEqual([
      { device_id: 'aoi-01', reason: 'id_conflict' },
      { device_id: 'aoi-02', reason: 'id_conflict' },
    ]);
  });

  it('dead-letters and counts a sample published under a site or device id that is not one, and goes on', async () => {
    const before = await metric('loupe_cloud_sample_dead_letters_total{reason="invalid_topic"}');
    const stray = upload();
    await device.publishAsync(`${topics.root}/plant 7/aoi-01/samples`, Buffer.from(SampleUpload.encode(stray).finish()), { qos: 1 });
    const after = upload();
    await publish(SampleUpload.encode(after).finish());
    await eventually(async () => expect(await metric('loupe_cloud_sample_dead_letters_total{reason="invalid_topic"}')).toBe(before + 1), { timeoutMs: 20_000 });
    const letters = await query<{ topic: string; site_id: string | null }>("SELECT topic, site_id FROM dead_letters WHERE reason = 'invalid_topic'");
    expect(letters).toEqual([{ topic: `${topics.root}/plant 7/aoi-01/samples`, site_id: null }]);
    await eventually(() => expect(acked.has(after.sampleId)).toBe(true), { timeoutMs: 20_000 });
  });
});
