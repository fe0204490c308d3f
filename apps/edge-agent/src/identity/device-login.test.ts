import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Backoff } from '@loupe/service';
import { freePort } from '@loupe/testing';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CloudRefusedError } from './cloud-requests';
import { deviceLogin, type DeviceLoginParts } from './device-login';

const KEYS = { keys: [{ keyId: 'reg-1', publicKeyPem: '-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA\n-----END PUBLIC KEY-----\n' }] };
const ENROLLED = { siteId: 'plant-7', deviceId: 'aoi-01', fleetGroup: 'line-a', username: 'plant-7/aoi-01', password: 'the-secret' };

type Answer = { status: number; body: unknown };

/** A stand-in for the cloud's two routes, answering from a script and recording each request. */
async function fakeCloud(port: number, enrollAnswers: Answer[]) {
  const requests: { path: string; body: string }[] = [];
  const server: Server = createServer((request: IncomingMessage, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      requests.push({ path: `${request.method} ${request.url}`, body });
      const answer = request.url === '/api/registry/keys' ? { status: 200, body: KEYS } : (enrollAnswers.shift() ?? { status: 500, body: {} });
      response.writeHead(answer.status, { 'content-type': 'application/json' }).end(JSON.stringify(answer.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return { requests, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

describe('deviceLogin', () => {
  let directory: string;
  let closers: (() => Promise<void>)[];

  beforeEach(async () => {
    directory = await mkdtemp(join(tmpdir(), 'loupe-identity-'));
    closers = [];
  });
  afterEach(async () => {
    await Promise.all(closers.map((close) => close()));
    await rm(directory, { recursive: true, force: true });
  });

  function parts(overrides: Partial<DeviceLoginParts> & { cloudUrl?: string; token?: string }): DeviceLoginParts {
    const { cloudUrl, token, ...rest } = overrides;
    return {
      siteId: 'plant-7',
      deviceId: 'aoi-01',
      configured: {},
      enrollment: { credentialsFile: join(directory, 'edge', 'credentials.json'), ...(cloudUrl ? { cloudUrl } : {}), ...(token ? { token } : {}) },
      registryKeysFile: join(directory, 'edge', 'registry-keys.json'),
      log: pino({ level: 'silent' }),
      retry: { backoff: new Backoff({ initialMs: 1, maxMs: 2 }), sleep: () => Promise.resolve() },
      ...rest,
    };
  }

  it('enrolls at first start, waiting out a cloud that is away, and keeps the credentials private and the registry keys as sent', async () => {
    const port = await freePort();
    let cloud: Awaited<ReturnType<typeof fakeCloud>> | undefined;
    let attempts = 0;
    // The cloud is not listening at first, then answers 503 once, then enrolls the box.
    const sleep = async () => {
      if (++attempts === 2) {
        cloud = await fakeCloud(port, [{ status: 503, body: { message: 'starting' } }, { status: 200, body: ENROLLED }]);
        closers.push(cloud.close);
      }
    };
    const login = await deviceLogin(
      parts({ cloudUrl: `http://127.0.0.1:${port}`, token: 'tok-1', retry: { backoff: new Backoff({ initialMs: 1, maxMs: 2 }), sleep } }),
    );
    expect(login).toEqual({ username: 'plant-7/aoi-01', password: 'the-secret' });
    expect(attempts).toBe(3);
    expect(cloud!.requests.map((request) => request.path)).toEqual(['POST /api/fleet/enroll', 'POST /api/fleet/enroll', 'GET /api/registry/keys']);
    expect(JSON.parse(cloud!.requests[0]!.body)).toEqual({ token: 'tok-1', siteId: 'plant-7', deviceId: 'aoi-01' });

    const file = join(directory, 'edge', 'credentials.json');
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(JSON.parse(await readFile(file, 'utf8'))).toMatchObject(ENROLLED);
    expect(JSON.parse(await readFile(join(directory, 'edge', 'registry-keys.json'), 'utf8'))).toEqual(KEYS);

    // The next start uses the file and asks the cloud nothing.
    const asked = cloud!.requests.length;
    expect(await deviceLogin(parts({ cloudUrl: cloud!.url, token: 'tok-1' }))).toEqual(login);
    expect(cloud!.requests).toHaveLength(asked);
  });

  it("stops with the cloud's reason when the token is refused, and keeps nothing", async () => {
    const cloud = await fakeCloud(0, [{ status: 403, body: { statusCode: 403, error: 'token-used', message: 'this enrollment token was used already' } }]);
    closers.push(cloud.close);
    const refused = deviceLogin(parts({ cloudUrl: cloud.url, token: 'tok-used' }));
    await expect(refused).rejects.toThrow(CloudRefusedError);
    await expect(refused).rejects.toThrow('the cloud refused the enrollment (ENROLLMENT_TOKEN) (403): this enrollment token was used already');
    await expect(stat(join(directory, 'edge', 'credentials.json'))).rejects.toThrow(/ENOENT/);
  });

  it('lets MQTT_USERNAME and MQTT_PASSWORD win, and connects without credentials when it has neither them nor a token', async () => {
    const configured = { username: 'site-account', password: 'pw' };
    expect(await deviceLogin(parts({ configured, cloudUrl: 'http://127.0.0.1:1', token: 'never-used' }))).toEqual(configured);
    expect(await deviceLogin(parts({}))).toEqual({});
  });

  it("refuses a credentials file of another device, or one that is damaged, and says what to do", async () => {
    const file = join(directory, 'credentials.json');
    const withFile = parts({ enrollment: { credentialsFile: file } });
    await writeFile(file, JSON.stringify({ ...ENROLLED, deviceId: 'aoi-02', username: 'plant-7/aoi-02', enrolledAt: new Date().toISOString() }));
    await expect(deviceLogin(withFile)).rejects.toThrow(/is for plant-7\/aoi-02, but SITE_ID\/DEVICE_ID say plant-7\/aoi-01/);
    await writeFile(file, '{"username":');
    await expect(deviceLogin(withFile)).rejects.toThrow(/not a credentials file written by the agent.*enroll the box again/);
  });
});
