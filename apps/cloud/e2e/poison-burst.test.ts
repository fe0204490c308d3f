import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SampleAck, SampleUpload, SelectionReason } from '@loupe/proto';
import { eventually, startCloudProcess, startTestBroker, startTestDatabase, uniqueName, type CloudProcess, type TestBroker, type TestDatabase } from '@loupe/testing';
import { DeviceTopics } from '@loupe/topics';
import fc from 'fast-check';
import mqtt, { type MqttClient } from 'mqtt';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';

/**
 * Issue 16, point 1: poison samples never stall ingest. A real cloud
 * process on the test broker (Mosquitto with MQTT_URL, Aedes without) and
 * the test database (PostgreSQL with DATABASE_URL, PGlite without), its
 * images in its blob folder; devices are plain MQTT clients publishing
 * SampleUpload payloads, so nothing between them and the cloud screens what
 * they send. Every count is exact.
 */

const SITE = 'plant-9';
const DEVICES = ['aoi-1', 'aoi-2', 'aoi-3', 'aoi-4'];
/** The cloud's INGEST_CONNECTIONS: each of its links connects once, and never again if nothing fails. */
const INGEST_CONNECTIONS = 4;
const WINDOW = 32;

/** Bytes that start like a JPEG, as the media type the devices send says. */
const jpeg = () => Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), randomBytes(2_000)]);
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

function upload(deviceId: string, overrides: Partial<SampleUpload> = {}): SampleUpload {
  return SampleUpload.fromPartial({
    sampleId: randomUUID(),
    device: { siteId: SITE, deviceId },
    stationId: 'line-3-aoi',
    unitSerial: `SN-${randomBytes(3).toString('hex')}`,
    capturedAt: new Date(),
    model: { name: 'pcb-aoi', version: '1', sha256: 'ab' },
    prediction: { verdict: 'reject', scores: [{ label: 'Defective', score: 0.55 }, { label: 'Normal', score: 0.45 }], boxes: [] },
    image: jpeg(),
    imageMediaType: 'image/jpeg',
    priority: 0.5,
    reason: SelectionReason.SELECTION_REASON_MARGIN,
    attempt: 1,
    ...overrides,
  });
}

const encode = (sample: SampleUpload) => Buffer.from(SampleUpload.encode(sample).finish());

/** A device as the broker sees it: publishes samples, hears its acks, counts each by id. */
class Device {
  readonly acks = new Map<string, number>();
  readonly refusals = new Map<string, string[]>();

  private constructor(
    readonly deviceId: string,
    private readonly client: MqttClient,
    private readonly topics: DeviceTopics,
  ) {}

  static async connect(url: string, topics: DeviceTopics, deviceId: string): Promise<Device> {
    const client = await mqtt.connectAsync(url, { clientId: uniqueName(deviceId), reconnectPeriod: 0 });
    const device = new Device(deviceId, client, topics);
    client.on('message', (_topic, payload) => {
      const ack = SampleAck.decode(payload);
      for (const id of ack.sampleIds) device.acks.set(id, (device.acks.get(id) ?? 0) + 1);
      for (const { sampleId, reason } of ack.rejected) device.refusals.set(sampleId, [...(device.refusals.get(sampleId) ?? []), reason]);
    });
    await client.subscribeAsync(topics.forDevice(SITE, deviceId, 'acks'), { qos: 1 });
    return device;
  }

  /** Publishes at QoS 1 with up to WINDOW awaiting the broker's PUBACK. */
  async publish(payloads: Buffer[]): Promise<void> {
    const topic = this.topics.forDevice(SITE, this.deviceId, 'samples');
    let next = 0;
    await Promise.all(
      Array.from({ length: WINDOW }, async () => {
        while (next < payloads.length) await this.client.publishAsync(topic, payloads[next++]!, { qos: 1 });
      }),
    );
  }

  /** How the cloud answered an id: acknowledgements and refusals received. */
  answers(id: string): { acks: number; refusals: number } {
    return { acks: this.acks.get(id) ?? 0, refusals: this.refusals.get(id)?.length ?? 0 };
  }

  end(): Promise<void> {
    return this.client.endAsync();
  }
}

describe('a burst with poison in it, on a cloud process, a real broker and a real database', () => {
  let database: TestDatabase;
  let broker: TestBroker;
  let dataDir: string;
  let cloud: CloudProcess;
  let db: pg.Client;
  let devices: Device[];

  beforeAll(async () => {
    [database, broker] = await Promise.all([startTestDatabase(), startTestBroker()]);
    dataDir = await mkdtemp(join(tmpdir(), 'loupe-poison-'));
    cloud = await startCloudProcess({ database, broker, dataDir, poolSize: database.maxConnections, env: { INGEST_CONNECTIONS: String(INGEST_CONNECTIONS) } });
    db = new pg.Client({ connectionString: database.url });
    await db.connect();
    const topics = new DeviceTopics(broker.topicRoot);
    devices = await Promise.all(DEVICES.map((deviceId) => Device.connect(broker.url, topics, deviceId)));
  }, 120_000);

  afterAll(async () => {
    await Promise.all((devices ?? []).map((device) => device.end()));
    await db?.end();
    await cloud?.app.stop();
    await Promise.all([database?.stop(), broker?.stop()]);
    await rm(dataDir, { recursive: true, force: true });
  });

  async function query<T extends pg.QueryResultRow>(sql: string, values: unknown[] = []): Promise<T[]> {
    return (await db.query<T>(sql, values)).rows;
  }

  /** A metric's value, summed over its label sets when `labels` is left out; 0 when absent. */
  async function metric(name: string, labels = ''): Promise<number> {
    const text = await (await fetch(`${cloud.httpUrl}/metrics`)).text();
    return text
      .split('\n')
      .filter((line) => (labels ? line.startsWith(`${name}{${labels}} `) : line.startsWith(`${name} `) || line.startsWith(`${name}{`)))
      .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
  }

  /** Every upload the cloud has settled: stored, a duplicate, or dead-lettered. */
  const settled = async () => (await metric('loupe_cloud_samples_ingested_total')) + (await metric('loupe_cloud_sample_dead_letters_total'));

  async function expectNoReconnects(): Promise<void> {
    expect(await metric('loupe_cloud_mqtt_connects_total')).toBe(INGEST_CONNECTIONS);
    expect(await metric('loupe_cloud_sample_store_failures_total')).toBe(0);
  }

  it('stores every valid sample of several hundred from four devices exactly once, dead-letters and refuses each poison one exactly once, and never reconnects', async () => {
    const [a, b, c, d] = devices as [Device, Device, Device, Device];
    // Stored before the burst, so the ids the burst reuses belong to them for certain.
    const earlier = upload(a.deviceId);
    await a.publish([encode(earlier)]);
    await eventually(() => expect(a.acks.get(earlier.sampleId)).toBe(1), { timeoutMs: 30_000 });

    const valid = new Map(devices.map((device) => [device, Array.from({ length: 150 }, () => upload(device.deviceId))]));
    const whole = encode(upload(c.deviceId));
    const poison = [
      { device: a, sample: upload(a.deviceId, { unitSerial: 'SN-0042\u0000\u0000' }), reason: 'invalid' },
      { device: b, sample: upload(b.deviceId, { stationId: 's'.repeat(10_000) }), reason: 'invalid' },
      { device: c, sample: upload(c.deviceId, { imageMediaType: 'image/png' }), reason: 'invalid' },
      { device: b, sample: upload(b.deviceId, { sampleId: earlier.sampleId }), reason: 'id_conflict' },
      { device: d, sample: upload(d.deviceId, { capturedAt: new Date(Date.now() - 90 * 24 * 3_600_000) }), reason: 'invalid' },
      { device: d, sample: upload(d.deviceId, { capturedAt: new Date(Date.now() + 24 * 3_600_000) }), reason: 'invalid' },
    ];
    const undecodable = [whole.subarray(0, whole.length - 700), Buffer.from([0x0f, 0x01, 0x02])];
    // About 1% poison, spread through each device's stream.
    const streams = new Map(devices.map((device) => [device, valid.get(device)!.map(encode)]));
    poison.forEach(({ device, sample }, index) => streams.get(device)!.splice(20 + index * 17, 0, encode(sample)));
    streams.get(c)!.splice(75, 0, undecodable[0]!);
    streams.get(a)!.splice(120, 0, undecodable[1]!);
    const published = [...streams.values()].reduce((sum, stream) => sum + stream.length, 0);
    const settledBefore = await settled();

    await Promise.all(devices.map((device) => device.publish(streams.get(device)!)));
    await eventually(async () => expect(await settled()).toBe(settledBefore + published), { timeoutMs: 120_000, intervalMs: 250 });
    // SampleAcks go out just after a sample settles.
    const named = [...[...valid].flatMap(([device, samples]) => samples.map((sample) => ({ device, sample }))), ...poison];
    await eventually(() => expect(named.filter(({ device, sample }) => answered(device, sample.sampleId) === 0)).toEqual([]));

    const validIds = [...valid.values()].flat().map((sample) => sample.sampleId);
    const rows = await query<{ id: string; n: number }>('SELECT id, count(*)::int AS n FROM samples WHERE id = ANY($1::uuid[]) GROUP BY id', [validIds]);
    expect(rows.length).toBe(validIds.length);
    expect(rows.every((row) => row.n === 1)).toBe(true);
    for (const [device, samples] of valid) {
      expect(samples.map((sample) => device.answers(sample.sampleId))).toEqual(samples.map(() => ({ acks: 1, refusals: 0 })));
    }

    const letters = await query<{ device_id: string | null; sample_id: string | null; reason: string }>(
      'SELECT device_id, sample_id, reason FROM dead_letters WHERE topic LIKE $1 ORDER BY id',
      [`${broker.topicRoot}/%`],
    );
    expect(letters.filter((letter) => letter.sample_id !== null).map((letter) => `${letter.device_id} ${letter.sample_id} ${letter.reason}`).sort()).toEqual(
      poison.map(({ device, sample, reason }) => `${device.deviceId} ${sample.sampleId} ${reason}`).sort(),
    );
    expect(letters.filter((letter) => letter.sample_id === null).map((letter) => `${letter.device_id} ${letter.reason}`).sort()).toEqual(['aoi-1 malformed', 'aoi-3 malformed']);
    expect(poison.map(({ device, sample }) => device.answers(sample.sampleId))).toEqual(poison.map(() => ({ acks: 0, refusals: 1 })));
    expect(b.refusals.get(earlier.sampleId)?.[0]).toMatch(/^id_conflict: sample_id .* is already stored for device plant-9\/aoi-1/);

    const kept = await query<{ device_id: string; image_sha256: string }>('SELECT device_id, image_sha256 FROM samples WHERE id = $1::uuid', [earlier.sampleId]);
    expect(kept).toEqual([{ device_id: 'aoi-1', image_sha256: sha256(earlier.image) }]);
    await expectNoReconnects();
  }, 300_000);

  it('settles any mutation of valid uploads (field values, flipped bytes, cuts) once: stored once or dead-lettered once and refused by id, never losing the valid ones beside it', async () => {
    const device = devices[0]!;
    const text = fc.oneof(fc.string({ unit: 'binary', maxLength: 40 }), fc.string({ maxLength: 300 }), fc.constantFrom('', 'SN\u0000', 'x'.repeat(129)));
    const fieldChange = fc.oneof(
      text.map((value) => (sample: SampleUpload) => void (sample.unitSerial = value)),
      text.map((value) => (sample: SampleUpload) => void (sample.stationId = value)),
      text.map((value) => (sample: SampleUpload) => void (sample.model!.name = value)),
      text.map((value) => (sample: SampleUpload) => void (sample.prediction!.verdict = value)),
      text.map((value) => (sample: SampleUpload) => void (sample.imageMediaType = value)),
      fc.constantFrom('image/png', 'image/webp', 'image/bmp', 'image/tiff').map((value) => (sample: SampleUpload) => void (sample.imageMediaType = value)),
      fc.string({ maxLength: 40 }).map((value) => (sample: SampleUpload) => void (sample.sampleId = value)),
      fc.date({ min: new Date(0), max: new Date(Date.UTC(2200, 0)), noInvalidDate: true }).map((value) => (sample: SampleUpload) => void (sample.capturedAt = value)),
      fc.float().map((value) => (sample: SampleUpload) => void (sample.priority = value)),
      fc.uint8Array({ maxLength: 64 }).map((value) => (sample: SampleUpload) => void (sample.image = Buffer.from(value))),
    );
    const mutation = fc.oneof(
      fieldChange.map((change) => (sample: SampleUpload) => {
        change(sample);
        return encode(sample);
      }),
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 4 }).map((flips) => (sample: SampleUpload) => {
        const bytes = encode(sample);
        for (const [at, flip] of flips) bytes[at % bytes.length]! ^= flip;
        return bytes;
      }),
      fc.nat().map((cut) => (sample: SampleUpload) => {
        const bytes = encode(sample);
        return bytes.subarray(0, cut % bytes.length);
      }),
    );
    // Each run: valid uploads with mutated ones among them, in one go.
    const batch = fc.array(fc.option(mutation, { freq: 2 }), { minLength: 4, maxLength: 16 });

    await fc.assert(
      fc.asyncProperty(batch, async (plan) => {
        const originals = plan.map(() => upload(device.deviceId));
        const payloads = plan.map((mutate, index) => (mutate ? mutate(originals[index]!) : encode(originals[index]!)));
        const settledBefore = await settled();
        await device.publish(payloads);
        await eventually(async () => expect(await settled()).toBe(settledBefore + payloads.length), { timeoutMs: 60_000, intervalMs: 100 });
        // SampleAcks go out just after a sample settles.
        const ids = payloads.map(readableId);
        await eventually(() => expect(ids.filter((id) => id !== undefined && answered(device, id) === 0)).toEqual([]));

        for (const [index, id] of ids.entries()) {
          if (plan[index] === null) {
            // Never lost: a valid upload is stored and acknowledged once.
            expect(device.answers(originals[index]!.sampleId)).toEqual({ acks: 1, refusals: 0 });
          }
          if (id === undefined) continue;
          const stored = await query<{ n: number }>('SELECT count(*)::int AS n FROM samples WHERE id = $1::uuid', [id]);
          const letters = await query<{ n: number }>('SELECT count(*)::int AS n FROM dead_letters WHERE lower(sample_id) = lower($1)', [id]);
          const outcome = { stored: stored[0]!.n, deadLettered: letters[0]!.n, ...device.answers(id) };
          expect([
            { stored: 1, deadLettered: 0, acks: 1, refusals: 0 },
            { stored: 0, deadLettered: 1, acks: 0, refusals: 1 },
          ]).toContainEqual(outcome);
        }
      }),
      { numRuns: 12 },
    );
    await expectNoReconnects();
  }, 600_000);
});

/** Acknowledgements and refusals a device has had for an id, together. */
function answered(device: Device, id: string): number {
  const { acks, refusals } = device.answers(id);
  return acks + refusals;
}

/** The sample id a payload carries, if it decodes and the id is a UUID (zod's rule, as the cloud's): what the cloud can name it by. */
function readableId(payload: Buffer): string | undefined {
  try {
    const { sampleId } = SampleUpload.decode(payload);
    return z.uuid().safeParse(sampleId).success ? sampleId : undefined;
  } catch {
    return undefined;
  }
}
