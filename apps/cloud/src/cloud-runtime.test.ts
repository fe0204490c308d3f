import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deviceListResponseSchema } from '@loupe/api-contracts';
import { Telemetry } from '@loupe/proto';
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
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCloud, type RunningCloud } from './cloud-runtime';
import { testCloudConfig } from './testing/test-cloud-config';
import { signedInAsAdmin } from './testing/sign-in';

describe('the cloud on real services', () => {
  let database: TestDatabase;
  let broker: TestBroker;
  let objectStore: TestObjectStore;
  let dataDir: string;
  let cloud: RunningCloud;
  let device: MqttClient;
  let topics: DeviceTopics;

  beforeAll(async () => {
    [database, broker, objectStore] = await Promise.all([startTestDatabase(), startTestBroker(), startTestObjectStore()]);
    dataDir = await mkdtemp(join(tmpdir(), 'loupe-cloud-'));
    topics = new DeviceTopics(broker.topicRoot);
    const config = testCloudConfig({
      dataDir,
      database,
      brokerUrl: broker.url,
      topicRoot: broker.topicRoot,
      blobs: {
        kind: 's3',
        bucket: objectStore.bucket,
        region: objectStore.region,
        endpoint: objectStore.endpoint,
        forcePathStyle: true,
        credentials: { accessKeyId: objectStore.accessKeyId, secretAccessKey: objectStore.secretAccessKey },
      },
    });
    cloud = await startCloud(config, pino({ level: 'silent' }));
    device = await mqtt.connectAsync(broker.url, { protocolVersion: 4, clientId: uniqueName('device') });
    await eventually(async () => expect((await fetch(`${cloud.httpUrl}/healthz`)).status).toBe(200));
  });

  afterAll(async () => {
    await device?.endAsync();
    await cloud?.stop();
    await Promise.all([database?.stop(), broker?.stop(), objectStore?.stop()]);
    await rm(dataDir, { recursive: true, force: true });
  });

  async function publishTelemetry(siteId: string, deviceId: string, message: Partial<Telemetry>) {
    const payload = Buffer.from(Telemetry.encode(Telemetry.fromPartial(message)).finish());
    await device.publishAsync(topics.forDevice(siteId, deviceId, 'telemetry'), payload, { qos: 1 });
  }

  async function listDevices() {
    const response = await fetch(`${cloud.httpUrl}/api/fleet/devices`, await signedInAsAdmin(cloud.httpUrl));
    expect(response.status).toBe(200);
    return deviceListResponseSchema.parse(await response.json()).devices;
  }

  it('reports every dependency healthy', async () => {
    const body = (await (await fetch(`${cloud.httpUrl}/healthz`)).json()) as { checks: Record<string, { status: string }> };
    expect(body.checks).toMatchObject({ database: { status: 'ok' }, broker: { status: 'ok' }, blobStore: { status: 'ok' } });
  });

  it('lists a device after its first telemetry, with its versions', async () => {
    await publishTelemetry('plant-7', 'aoi-01', {
      agentVersion: '0.1.0',
      model: { name: 'pcb-aoi', version: '3', sha256: 'ab' },
      provider: 'cpu',
    });
    const listed = await eventually(async () => {
      const found = (await listDevices()).find((d) => d.deviceId === 'aoi-01');
      expect(found).toBeDefined();
      return found!;
    });
    expect(listed).toMatchObject({ siteId: 'plant-7', agentVersion: '0.1.0', model: { name: 'pcb-aoi', version: '3' }, provider: 'cpu' });
  });

  it('moves last-seen forward as telemetry keeps coming', async () => {
    await publishTelemetry('plant-7', 'aoi-02', { agentVersion: '0.1.0' });
    const first = await eventually(async () => {
      const found = (await listDevices()).find((d) => d.deviceId === 'aoi-02');
      expect(found).toBeDefined();
      return found!.lastSeenAt;
    });
    await new Promise((resolve) => setTimeout(resolve, 20));
    await publishTelemetry('plant-7', 'aoi-02', { agentVersion: '0.1.0' });
    await eventually(async () => {
      const found = (await listDevices()).find((d) => d.deviceId === 'aoi-02');
      expect(Date.parse(found!.lastSeenAt!)).toBeGreaterThan(Date.parse(first!));
    });
  });

  it('counts a bad payload and keeps consuming', async () => {
    await device.publishAsync(topics.forDevice('plant-7', 'aoi-03', 'telemetry'), Buffer.from([0xff, 0xff, 0xff]), { qos: 1 });
    await publishTelemetry('plant-7', 'aoi-04', { agentVersion: '0.1.0' });
    await eventually(async () => expect((await listDevices()).map((d) => d.deviceId)).toContain('aoi-04'));
    const metrics = await (await fetch(`${cloud.httpUrl}/metrics`)).text();
    expect(metrics).toMatch(/loupe_cloud_telemetry_messages_total\{outcome="rejected"\} [1-9]/);
    expect((await listDevices()).map((d) => d.deviceId)).not.toContain('aoi-03');
  });

  it('exposes Prometheus metrics', async () => {
    const response = await fetch(`${cloud.httpUrl}/metrics`);
    expect(response.headers.get('content-type')).toContain('text/plain');
    const text = await response.text();
    expect(text).toContain('loupe_cloud_mqtt_connected 1');
    expect(text).toMatch(/loupe_cloud_http_requests_total\{method="GET",route="\/api\/fleet\/devices",status="200"\}/);
  });

  it('answers unknown routes with a JSON error', async () => {
    const response = await fetch(`${cloud.httpUrl}/api/nothing-here`);
    expect(response.status).toBe(404);
    expect(await response.json()).toEqual({ statusCode: 404, error: 'not_found', message: 'no route for GET /api/nothing-here' });
  });
});

describe('the cloud without its broker', () => {
  it('starts, and answers /healthz with 503 naming the broker', async () => {
    const database = await startTestDatabase();
    const dataDir = await mkdtemp(join(tmpdir(), 'loupe-cloud-'));
    const cloud = await startCloud(
      testCloudConfig({
        dataDir,
        database,
        brokerUrl: 'mqtt://127.0.0.1:1',
        topicRoot: 'loupe/v1',
        blobs: { kind: 'folder', directory: join(dataDir, 'blobs') },
      }),
      pino({ level: 'silent' }),
    );
    try {
      const response = await fetch(`${cloud.httpUrl}/healthz`);
      expect(response.status).toBe(503);
      const body = (await response.json()) as { status: string; checks: Record<string, { status: string }> };
      expect(body.status).toBe('unavailable');
      expect(body.checks).toMatchObject({ database: { status: 'ok' }, broker: { status: 'failing' }, blobStore: { status: 'ok' } });
    } finally {
      await cloud.stop();
      await database.stop();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
