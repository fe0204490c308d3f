import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deviceListResponseSchema } from '@loupe/api-contracts';
import { eventually, freePort, startTestBroker, startTestDatabase } from '@loupe/testing';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { signedInAsLocalAdmin } from './local-admin';
import { DEMO_PROJECT, LOCAL_LABELER } from './local-demo';

const workspace = join(import.meta.dirname, '..', '..');

/** `npm start` as a newcomer runs it: the same script, nothing configured. */
function npmStart(env: Record<string, string>) {
  const { DATABASE_URL: _db, MQTT_URL: _mqtt, S3_ENDPOINT: _s3, S3_BUCKET: _bucket, ...machine } = process.env;
  const child = spawn(process.execPath, ['--import', 'tsx', 'tools/dev/start.ts'], {
    cwd: workspace,
    env: { ...machine, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number>((resolve) => child.once('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1))));
  return { child, exited, output: () => output };
}

describe('npm start', () => {
  let dataDir: string | undefined;
  let running: ReturnType<typeof npmStart> | undefined;

  afterEach(async () => {
    if (running && running.child.exitCode === null) {
      running.child.kill('SIGINT');
      await running.exited;
    }
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('runs the cloud and an edge agent that shows up in the device list and whose samples reach the labeling queue, then stops cleanly on Ctrl-C', async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'loupe-start-'));
    const httpPort = await freePort();
    running = npmStart({
      DATA_DIR: dataDir,
      HTTP_PORT: String(httpPort),
      GRPC_PORT: '0',
      EMBEDDED_MQTT_PORT: String(await freePort()),
      STATUS_PORT: String(await freePort()),
      TELEMETRY_INTERVAL: '1s',
    });
    const started = Date.now();
    const devicesUrl = `http://127.0.0.1:${httpPort}/api/fleet/devices`;
    // One session for every poll: sign-in is throttled per account, and a slow start would spend its attempts.
    const session = await eventually(() => signedInAsLocalAdmin(`http://127.0.0.1:${httpPort}`), { timeoutMs: 60_000, intervalMs: 200 });
    const listDevices = async () => deviceListResponseSchema.parse(await (await fetch(devicesUrl, session)).json()).devices;

    const first = await eventually(
      async () => {
        const [device] = await listDevices();
        // Enrolled is not yet listed as running: the agent's first telemetry is.
        expect(device).toMatchObject({ siteId: 'demo-site', deviceId: 'edge-1' });
        expect(device?.lastSeenAt).not.toBeNull();
        return device!;
      },
      { timeoutMs: 60_000, intervalMs: 200 },
    );
    // The acceptance figure; the bound itself is checked on a quiet machine (docs/testing.md).
    process.stdout.write(`npm start: edge agent listed ${((Date.now() - started) / 1000).toFixed(1)} s after launch\n`);
    await eventually(async () => {
      const [device] = await listDevices();
      expect(Date.parse(device!.lastSeenAt!)).toBeGreaterThan(Date.parse(first.lastSeenAt!));
    });
    expect(running.output()).toContain('Loupe is running');
    expect(running.output()).toContain('admin@loupe.local / loupe-local-admin');
    const page = await fetch(`http://127.0.0.1:${httpPort}/`);
    expect(page.headers.get('content-type')).toContain('text/html');
    expect(await page.text()).toContain('<title>Loupe</title>');
    expect(running.output()).toContain(`http://127.0.0.1:${httpPort}/api/fleet/devices`);

    // The loop runs end to end: camera, agent, sample upload, ingest, labeling queue.
    expect(running.output()).toContain(`${LOCAL_LABELER.email} / ${LOCAL_LABELER.password}`);
    const api = `http://127.0.0.1:${httpPort}/api`;
    const login = await fetch(`${api}/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(LOCAL_LABELER) });
    const labeler = { authorization: `Bearer ${((await login.json()) as { token: string }).token}` };
    const { projects } = (await (await fetch(`${api}/projects`, { headers: labeler })).json()) as { projects: { id: string; name: string }[] };
    const project = projects.find((candidate) => candidate.name === DEMO_PROJECT.name);
    expect(project).toBeDefined();
    const claimed = await eventually(
      async () => {
        const response = (await (await fetch(`${api}/projects/${project!.id}/claims`, { method: 'POST', headers: labeler })).json()) as { claim: { imageUrl: string } | null };
        expect(response.claim).not.toBeNull();
        return response.claim!;
      },
      { timeoutMs: 60_000, intervalMs: 500 },
    );
    const image = await fetch(`http://127.0.0.1:${httpPort}${claimed.imageUrl}`, { headers: labeler });
    expect(image.status).toBe(200);
    // The demo model and the default backbone are in the registry, pushed with the machine's own publisher key.
    const { models } = (await (await fetch(`${api}/models`, { headers: labeler })).json()) as { models: { modelName: string; latestVersion: number }[] };
    expect(models).toHaveLength(2);
    expect(models).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ modelName: DEMO_PROJECT.modelName, project: DEMO_PROJECT.name, latestVersion: 1 }),
        expect.objectContaining({ modelName: 'squeezenet-features', task: 'features', latestVersion: 1 }),
      ]),
    );
    expect(running.output()).toContain(`--key ${join(dataDir, 'local-publisher.pem')}`);

    running.child.kill('SIGINT');
    expect(await running.exited).toBe(0);
    expect(existsSync(join(dataDir, 'cloud.pid'))).toBe(false);
    await expect(fetch(devicesUrl)).rejects.toThrow();
  }, 120_000);

  it('uses the database and broker named by DATABASE_URL and MQTT_URL instead of embedded ones', async () => {
    const [database, broker] = await Promise.all([startTestDatabase(), startTestBroker()]);
    try {
      dataDir = await mkdtemp(join(tmpdir(), 'loupe-start-'));
      const httpPort = await freePort();
      running = npmStart({
        DATA_DIR: dataDir,
        DATABASE_URL: database.url,
        DATABASE_POOL_SIZE: String(database.maxConnections),
        MQTT_URL: broker.url,
        MQTT_TOPIC_ROOT: broker.topicRoot,
        HTTP_PORT: String(httpPort),
        GRPC_PORT: '0',
        STATUS_PORT: String(await freePort()),
        TELEMETRY_INTERVAL: '1s',
      });
      const session = await eventually(() => signedInAsLocalAdmin(`http://127.0.0.1:${httpPort}`), { timeoutMs: 60_000, intervalMs: 200 });
      await eventually(
        async () => {
          const response = await fetch(`http://127.0.0.1:${httpPort}/api/fleet/devices`, session);
          // Heard from, not only enrolled: its telemetry is what writes the devices table read below.
          const devices = deviceListResponseSchema.parse(await response.json()).devices;
          expect(devices.map((d) => [d.deviceId, d.lastSeenAt !== null])).toEqual([['edge-1', true]]);
        },
        { timeoutMs: 60_000, intervalMs: 200 },
      );
      const client = new pg.Client({ connectionString: database.url });
      await client.connect();
      try {
        expect((await client.query('SELECT id FROM devices')).rows).toEqual([{ id: 'edge-1' }]);
      } finally {
        await client.end();
      }
      expect(existsSync(join(dataDir, 'cloud', 'postgres'))).toBe(false);
      running.child.kill('SIGINT');
      expect(await running.exited).toBe(0);
    } finally {
      await Promise.all([database.stop(), broker.stop()]);
    }
  }, 120_000);

  it('exits non-zero naming MQTT_URL when it is not a URL', async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'loupe-start-'));
    running = npmStart({ DATA_DIR: dataDir, MQTT_URL: 'not-a-url', HTTP_PORT: String(await freePort()) });
    expect(await running.exited).not.toBe(0);
    expect(running.output()).toMatch(/MQTT_URL: must be a URL starting with mqtt:\/\//);
  }, 60_000);
});
