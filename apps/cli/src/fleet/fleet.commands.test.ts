import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../cli';
import { ExitCode } from '../exit-code';

// `loupe fleet ...` over real HTTP: a node:http server plays the cloud.

interface Asked {
  method: string;
  url: string;
  body: string;
  authorization: string | undefined;
}

const servers: Server[] = [];
const folders: string[] = [];

afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
  await Promise.all(folders.splice(0).map((folder) => rm(folder, { recursive: true, force: true })));
});

async function startCloud(status: number, answer: unknown) {
  const asked: Asked[] = [];
  const server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      asked.push({ method: request.method ?? '', url: request.url ?? '', body, authorization: request.headers.authorization });
      response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(answer));
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, asked };
}

async function loupe(args: string[], cloudUrl: string) {
  let stdout = '';
  let stderr = '';
  const code = await runCli(args, {
    fetch,
    stdout: (text) => (stdout += text),
    stderr: (text) => (stderr += text),
    now: () => new Date('2026-11-22T12:00:00Z'),
    env: { LOUPE_CLOUD_URL: cloudUrl, LOUPE_TOKEN: 'session-token' },
  });
  return { code, stdout, stderr };
}

const CONFIG = {
  devices: 2,
  files: [
    { name: 'mosquitto.conf', mode: 0o644, content: 'per_listener_settings true\n' },
    { name: 'devices.passwd', mode: 0o600, content: 'plant-7/aoi-01:$7$101$x$y\n' },
    { name: 'devices.acl', mode: 0o644, content: 'user plant-7/aoi-01\n' },
  ],
};

describe('loupe fleet mosquitto-config', () => {
  it('writes every file with its mode, naming where they will live on the broker host', async () => {
    const cloud = await startCloud(200, CONFIG);
    const out = await mkdtemp(join(tmpdir(), 'loupe-mosquitto-'));
    folders.push(out);
    const run = await loupe(['fleet', 'mosquitto-config', '--out', out, '--broker-dir', '/etc/mosquitto/loupe', '--device-port', '8883'], cloud.url);
    expect(run).toMatchObject({ code: ExitCode.ok, stderr: '' });
    expect(run.stdout).toContain('for 2 enrolled devices');
    expect(run.stdout).toContain('mosquitto -c /etc/mosquitto/loupe/mosquitto.conf');
    expect(cloud.asked).toEqual([
      {
        method: 'GET',
        url: '/api/fleet/mosquitto-config?directory=%2Fetc%2Fmosquitto%2Floupe&devicePort=8883&servicePort=1885',
        body: '',
        authorization: 'Bearer session-token',
      },
    ]);
    expect((await readdir(out)).sort()).toEqual(['data', 'devices.acl', 'devices.passwd', 'mosquitto.conf']);
    for (const file of CONFIG.files) {
      expect({ name: file.name, content: await readFile(join(out, file.name), 'utf8'), mode: (await stat(join(out, file.name))).mode & 0o777 }).toEqual({
        name: file.name,
        content: file.content,
        mode: file.mode,
      });
    }
  });

  it('needs --out, and says so without asking the cloud', async () => {
    const cloud = await startCloud(200, CONFIG);
    const run = await loupe(['fleet', 'mosquitto-config'], cloud.url);
    expect(run.code).toBe(ExitCode.usage);
    expect(run.stderr).toContain('--out <dir> is required');
    expect(cloud.asked).toEqual([]);
  });

  it("passes on the cloud's refusal and writes nothing", async () => {
    const cloud = await startCloud(409, { statusCode: 409, error: 'conflict', message: 'set MQTT_USERNAME and MQTT_PASSWORD on the cloud' });
    const out = join(await mkdtemp(join(tmpdir(), 'loupe-mosquitto-')), 'never');
    folders.push(out);
    const run = await loupe(['fleet', 'mosquitto-config', '--out', out], cloud.url);
    expect(run.code).toBe(ExitCode.refused);
    expect(run.stderr).toContain('set MQTT_USERNAME and MQTT_PASSWORD');
    await expect(stat(out)).rejects.toThrow(/ENOENT/);
  });
});

describe('loupe fleet token and revoke', () => {
  it('asks for a token for the box and prints it with what to do with it', async () => {
    const cloud = await startCloud(201, { token: 'tok-123', siteId: 'plant-7', deviceId: 'aoi-01', fleetGroup: 'line-a', expiresAt: '2026-11-22T12:30:00.000Z' });
    const run = await loupe(['fleet', 'token', 'plant-7', 'aoi-01', '--group', 'line-a', '--ttl', '30m'], cloud.url);
    expect(run.code).toBe(ExitCode.ok);
    expect(JSON.parse(cloud.asked[0]!.body)).toEqual({ siteId: 'plant-7', deviceId: 'aoi-01', fleetGroup: 'line-a', ttlSeconds: 1_800 });
    expect(run.stdout).toContain('  tok-123\n');
    expect(run.stdout).toContain('set ENROLLMENT_TOKEN');
    expect((await loupe(['fleet', 'token', 'plant-7', 'aoi-01', '--ttl', 'tomorrow'], cloud.url)).code).toBe(ExitCode.usage);
  });

  it('revokes a box by site and device', async () => {
    const cloud = await startCloud(200, { siteId: 'plant-7', deviceId: 'aoi-01', revokedAt: '2026-11-22T12:00:00.000Z' });
    const run = await loupe(['fleet', 'revoke', 'plant-7', 'aoi-01'], cloud.url);
    expect(run.code).toBe(ExitCode.ok);
    expect(cloud.asked.map((asked) => `${asked.method} ${asked.url}`)).toEqual(['POST /api/fleet/devices/plant-7/aoi-01/revoke']);
    expect(run.stdout).toContain('Revoked plant-7/aoi-01');
  });
});
