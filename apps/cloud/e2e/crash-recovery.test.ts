import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deviceListResponseSchema, enrollmentTokenSchema, enrollResponseSchema } from '@loupe/api-contracts';
import { Telemetry } from '@loupe/proto';
import { AppProcess } from '@loupe/testing';
import { eventually, freePort } from '@loupe/testing';
import { DeviceTopics } from '@loupe/topics';
import mqtt from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { signedInAsAdmin } from '../src/testing/sign-in';
import { TEST_ADMIN_PASSWORD } from '../src/testing/test-cloud-config';

const workspace = join(import.meta.dirname, '..', '..', '..');

/** The environment of a machine with nothing configured: embedded everything. */
function embeddedEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const { DATABASE_URL: _db, MQTT_URL: _mqtt, S3_ENDPOINT: _s3, S3_BUCKET: _bucket, ...rest } = process.env;
  return { ...rest, LOG_LEVEL: 'info', ADMIN_EMAIL: 'admin@loupe.test', ADMIN_PASSWORD: TEST_ADMIN_PASSWORD, ...extra };
}

describe('the cloud after SIGKILL on embedded defaults', () => {
  const started: AppProcess[] = [];
  let dataDir: string | undefined;

  afterEach(async () => {
    await Promise.all(started.splice(0).map((app) => app.stop('SIGKILL')));
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  async function startCloud(env: NodeJS.ProcessEnv) {
    const cloud = new AppProcess({ name: 'cloud', cwd: workspace, entry: 'apps/cloud/src/main.ts', tsconfig: 'apps/cloud/tsconfig.json', env });
    started.push(cloud);
    const ready = await cloud.waitForLog('cloud ready');
    return { cloud, httpUrl: String(ready.httpUrl), mqttUrl: String(ready.mqttUrl) };
  }

  it('comes back with its data directory intact and the device list still there', async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'loupe-crash-'));
    const env = embeddedEnv({
      DATA_DIR: dataDir,
      HTTP_PORT: String(await freePort()),
      GRPC_PORT: '0',
      EMBEDDED_MQTT_PORT: String(await freePort()),
      LABELER_WEB_DIR: join(dataDir, 'no-ui'),
    });

    const first = await startCloud(env);
    // The embedded broker admits enrolled devices only.
    const admin = (await signedInAsAdmin(first.httpUrl)).headers as Record<string, string>;
    const post = async (path: string, headers: Record<string, string>, body: unknown) =>
      (await fetch(`${first.httpUrl}${path}`, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify(body) })).json();
    const { token } = enrollmentTokenSchema.parse(await post('/api/fleet/enrollment-tokens', admin, { siteId: 'plant-7', deviceId: 'aoi-09' }));
    const { username, password } = enrollResponseSchema.parse(await post('/api/fleet/enroll', {}, { token }));
    const device = await mqtt.connectAsync(first.mqttUrl, { protocolVersion: 4, reconnectPeriod: 0, clientId: username, username, password });
    const topic = new DeviceTopics().forDevice('plant-7', 'aoi-09', 'telemetry');
    await device.publishAsync(topic, Buffer.from(Telemetry.encode(Telemetry.fromPartial({ agentVersion: '0.1.0' })).finish()), {
      qos: 1,
    });
    await device.endAsync(true);
    const listed = await eventually(async () => {
      const body = deviceListResponseSchema.parse(await (await fetch(`${first.httpUrl}/api/fleet/devices`, await signedInAsAdmin(first.httpUrl))).json());
      // Listed at enrollment already; wait for the telemetry.
      expect(body.devices).toMatchObject([{ deviceId: 'aoi-09', agentVersion: '0.1.0' }]);
      return body.devices;
    });
    expect(await readFile(join(dataDir, 'cloud.pid'), 'utf8')).toBe(String(first.cloud.pid));

    expect(await first.cloud.stop('SIGKILL')).toBe(137);

    const second = await startCloud(env);
    const after = deviceListResponseSchema.parse(await (await fetch(`${second.httpUrl}/api/fleet/devices`, await signedInAsAdmin(second.httpUrl))).json());
    expect(after.devices).toEqual(listed);
    expect(await readFile(join(dataDir, 'cloud.pid'), 'utf8')).toBe(String(second.cloud.pid));
    expect(await second.cloud.stop()).toBe(0);
  }, 120_000);

  it('refuses to share its data directory with a running cloud', async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'loupe-lock-'));
    const env = (httpPort: number, mqttPort: number) =>
      embeddedEnv({ DATA_DIR: dataDir!, HTTP_PORT: String(httpPort), GRPC_PORT: '0', EMBEDDED_MQTT_PORT: String(mqttPort), LABELER_WEB_DIR: join(dataDir!, 'x') });
    const first = await startCloud(env(await freePort(), await freePort()));
    const lines: string[] = [];
    const second = new AppProcess({
      name: 'cloud',
      cwd: workspace,
      entry: 'apps/cloud/src/main.ts',
      tsconfig: 'apps/cloud/tsconfig.json',
      env: env(await freePort(), await freePort()),
      print: (line) => lines.push(line),
    });
    started.push(second);
    expect(await second.exited).toBe(1);
    expect(lines.join('\n')).toContain(`is in use by process ${first.cloud.pid}`);
  }, 120_000);
});
