import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deviceListResponseSchema, enrollmentTokenSchema, enrollResponseSchema } from '@loupe/api-contracts';
import { Telemetry } from '@loupe/proto';
import { describeWhere, eventually, missingFiles, startCloudProcess, startTestDatabase, uniqueName, type CloudProcess, type TestDatabase } from '@loupe/testing';
import { DeviceTopics } from '@loupe/topics';
import mqtt from 'mqtt';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { MOSQUITTO_WITH_PLUGIN, startComposeMosquitto, type ComposeMosquitto } from './brokers-under-test';

/**
 * The compose stack's broker path end to end: a cloud process with
 * MQTT_DEVICE_ACCOUNTS=mosquitto-dynamic-security on a fresh Mosquitto
 * (only its admin account exists) gives its own account its role at start,
 * creates a device's account when the device enrolls over REST, hears the
 * device's telemetry, and deletes the account when the device is revoked.
 */
const missing = missingFiles('mosquitto with its dynamic-security plugin and mosquitto_ctrl', MOSQUITTO_WITH_PLUGIN);
describeWhere(missing, "the cloud on Mosquitto's dynamic-security plugin", () => {
  let database: TestDatabase;
  let mosquitto: ComposeMosquitto;
  let cloud: CloudProcess;
  let dataDir: string;
  const topics = new DeviceTopics(`test/${uniqueName('dynsec')}/loupe/v1`);

  beforeAll(async () => {
    [database, mosquitto, dataDir] = await Promise.all([startTestDatabase(), startComposeMosquitto(), mkdtemp(join(tmpdir(), 'loupe-dynsec-'))]);
    cloud = await startCloudProcess({
      database,
      broker: { url: mosquitto.serviceUrl, topicRoot: topics.root },
      dataDir,
      poolSize: 4,
      env: { MQTT_DEVICE_ACCOUNTS: 'mosquitto-dynamic-security', MQTT_USERNAME: mosquitto.service.username, MQTT_PASSWORD: mosquitto.service.password },
    });
  }, 60_000);

  afterAll(async () => {
    await cloud?.app.stop();
    await mosquitto?.stop();
    await database?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  const asDevice = (username: string, password: string) =>
    mqtt.connectAsync(mosquitto.deviceUrl, { ca: mosquitto.deviceCa, clientId: username, username, password, protocolVersion: 5, reconnectPeriod: 0, connectTimeout: 5_000 });

  it('lets an enrolled device in, hears its telemetry, and shuts it out when it is revoked', async () => {
    const { token } = enrollmentTokenSchema.parse(await cloud.call('POST', '/api/fleet/enrollment-tokens', { siteId: 'plant-7', deviceId: 'aoi-11' }));
    const { username, password } = enrollResponseSchema.parse(await cloud.post('/api/fleet/enroll', { token }));

    const device = await asDevice(username, password);
    device.on('error', () => undefined);
    const closed = new Promise<void>((resolve) => device.once('close', () => resolve()));
    await device.publishAsync(topics.forDevice('plant-7', 'aoi-11', 'telemetry'), Buffer.from(Telemetry.encode(Telemetry.fromPartial({ agentVersion: '0.1.0' })).finish()), {
      qos: 1,
    });
    await eventually(async () => {
      const { devices } = deviceListResponseSchema.parse(await cloud.call('GET', '/api/fleet/devices'));
      // Listed at enrollment already; its telemetry is what shows it got through.
      expect(devices).toMatchObject([{ deviceId: 'aoi-11', agentVersion: '0.1.0' }]);
    });

    await cloud.call('POST', '/api/fleet/devices/plant-7/aoi-11/revoke');
    await closed;
    await expect(asDevice(username, password)).rejects.toThrow(/not authori[sz]ed|Bad User Name or Password/i);
  }, 60_000);
});
