import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { deviceListResponseSchema } from '@loupe/api-contracts';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../cli';
import { ExitCode } from '../exit-code';

// `loupe fleet list` and `loupe fleet show` end to end over real HTTP: a node:http server on a
// free port plays the cloud, and the command runs with the real fetch.

const fleet = {
  devices: [
    {
      siteId: 'plant-7',
      deviceId: 'aoi-03',
      fleetGroup: 'line-3',
      revoked: false,
      enrolledAt: '2026-11-22T09:00:00.000Z',
      agentVersion: '0.1.0',
      model: { name: 'pcb-aoi', version: '3' },
      provider: 'cuda',
      firstSeenAt: '2026-11-22T10:00:00.000Z',
      lastSeenAt: '2026-11-22T11:59:30.000Z',
      desired: { generation: 2, model: { name: 'pcb-aoi', version: '3', sha256: 'a'.repeat(64) }, rolloutId: 'r-1' },
      reported: {
        generation: 2,
        reportedAt: '2026-11-22T11:59:00.000Z',
        status: 'ACTIVE',
        active: { name: 'pcb-aoi', version: '3', sha256: 'a'.repeat(64) },
        previous: { name: 'pcb-aoi', version: '2', sha256: 'b'.repeat(64) },
        error: '',
        provider: 'cuda',
        runningSha256: 'a'.repeat(64),
      },
      stats: {
        inspections: 120,
        errors: 0,
        rejects: 4,
        uncertain: 9,
        confidenceHistogram: [0, 0, 0, 0, 0, 0, 0, 1, 19, 100],
        p99Ms: 17.5,
        shadowVersion: null,
        shadowCompared: 0,
        shadowDisagreed: 0,
        updatedAt: '2026-11-22T11:59:30.000Z',
      },
    },
    {
      siteId: 'plant-7',
      deviceId: 'aoi-04',
      fleetGroup: null,
      revoked: false,
      enrolledAt: null,
      agentVersion: '0.1.0',
      model: null,
      provider: null,
      firstSeenAt: '2026-11-22T11:00:00.000Z',
      lastSeenAt: '2026-11-22T11:00:00.000Z',
      desired: null,
      reported: null,
      stats: null,
    },
  ],
};

const servers: Server[] = [];

afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
});

/** A cloud that answers every request with `status` and `body`, recording the paths asked for. */
async function startCloud(status: number, body: string) {
  const paths: string[] = [];
  const authorizations: (string | undefined)[] = [];
  const server = createServer((request, response) => {
    paths.push(request.url ?? '');
    authorizations.push(request.headers.authorization);
    response.writeHead(status, { 'content-type': 'application/json' }).end(body);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, paths, authorizations };
}

/** A URL nobody listens on: a port the system handed out and took back. */
async function closedPortUrl() {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return `http://127.0.0.1:${port}`;
}

async function loupe(argv: string[], env: NodeJS.ProcessEnv = {}) {
  let stdout = '';
  let stderr = '';
  const exitCode = await runCli(argv, {
    fetch,
    stdout: (text) => (stdout += text),
    stderr: (text) => (stderr += text),
    now: () => new Date('2026-11-22T12:00:00.000Z'),
    env,
  });
  return { exitCode, stdout, stderr };
}

describe('loupe fleet list against a cloud over HTTP', () => {
  it('prints the fleet as a table', async () => {
    const cloud = await startCloud(200, JSON.stringify(fleet));
    const run = await loupe(['fleet', 'list', '--cloud-url', cloud.url]);
    expect(cloud.paths).toEqual(['/api/fleet/devices']);
    expect(run).toEqual({
      exitCode: ExitCode.ok,
      stderr: '',
      stdout: [
        'SITE     DEVICE  GROUP   AGENT  MODEL      PROVIDER  LAST SEEN  UPDATE',
        'plant-7  aoi-03  line-3  0.1.0  pcb-aoi@3  cuda      30 s ago   ACTIVE',
        'plant-7  aoi-04  -       0.1.0  -          -         1 h ago    -',
        '',
      ].join('\n'),
    });
  });

  it('prints the validated response with --json, without fields outside the contract', async () => {
    const cloud = await startCloud(200, JSON.stringify({ ...fleet, nextPage: 'abc' }));
    const run = await loupe(['fleet', 'list', '--json', '--cloud-url', cloud.url]);
    expect(run.exitCode).toBe(ExitCode.ok);
    expect(JSON.parse(run.stdout)).toEqual(deviceListResponseSchema.parse(fleet));
    expect(run.stdout).not.toContain('nextPage');
  });

  it('says how to get a first device when the fleet is empty', async () => {
    const cloud = await startCloud(200, JSON.stringify({ devices: [] }));
    const run = await loupe(['fleet', 'list', '--cloud-url', cloud.url]);
    expect(run).toEqual({
      exitCode: ExitCode.ok,
      stdout: 'No devices yet: start an edge agent, see README\n',
      stderr: '',
    });
  });

  it('sends the session token from LOUPE_TOKEN, and says to set it when the cloud asks for a sign-in', async () => {
    const signedIn = await startCloud(200, JSON.stringify(fleet));
    expect((await loupe(['fleet', 'list', '--cloud-url', signedIn.url], { LOUPE_TOKEN: 'tok-123' })).exitCode).toBe(ExitCode.ok);
    expect(signedIn.authorizations).toEqual(['Bearer tok-123']);
    const signedOut = await startCloud(401, JSON.stringify({ statusCode: 401, error: 'unauthenticated', message: 'sign in first' }));
    const { exitCode, stderr } = await loupe(['fleet', 'list', '--cloud-url', signedOut.url]);
    expect(exitCode).toBe(ExitCode.refused);
    expect(stderr).toContain('sign in first; set LOUPE_TOKEN to your session token');
  });

  it('shows the message of a cloud that refuses the request and exits 3', async () => {
    const refusal = { statusCode: 403, error: 'forbidden', message: 'this token may not list devices' };
    const cloud = await startCloud(403, JSON.stringify(refusal));
    const run = await loupe(['fleet', 'list', '--cloud-url', cloud.url]);
    expect(run).toMatchObject({ exitCode: ExitCode.refused, stdout: '' });
    expect(run.stderr).toBe(
      `loupe: the cloud refused GET ${cloud.url}/api/fleet/devices (403 forbidden): this token may not list devices\n`,
    );
  });

  it('reports a cloud that fails with 500 and exits 4', async () => {
    const failure = { statusCode: 500, error: 'internal_error', message: 'database unavailable' };
    const cloud = await startCloud(500, JSON.stringify(failure));
    const run = await loupe(['fleet', 'list', '--cloud-url', cloud.url]);
    expect(run).toMatchObject({ exitCode: ExitCode.failed, stdout: '' });
    expect(run.stderr).toContain(`GET ${cloud.url}/api/fleet/devices (500 internal_error): database unavailable`);
  });

  it('names the field of an answer that breaks the contract and exits 4', async () => {
    const stale = { devices: [{ ...fleet.devices[0], lastSeenAt: 'yesterday' }] };
    const cloud = await startCloud(200, JSON.stringify(stale));
    const run = await loupe(['fleet', 'list', '--cloud-url', cloud.url]);
    expect(run).toMatchObject({ exitCode: ExitCode.failed, stdout: '' });
    expect(run.stderr).toContain('devices.0.lastSeenAt');
  });

  it('reports an answer that is not JSON and exits 4', async () => {
    const cloud = await startCloud(200, '<html>Welcome to nginx</html>');
    const run = await loupe(['fleet', 'list', '--cloud-url', cloud.url]);
    expect(run.exitCode).toBe(ExitCode.failed);
    expect(run.stderr).toContain('answered with something other than JSON');
  });

  it('says where it looked when nothing listens there and exits 4', async () => {
    const url = await closedPortUrl();
    const run = await loupe(['fleet', 'list', '--cloud-url', url]);
    expect(run).toEqual({
      exitCode: ExitCode.failed,
      stdout: '',
      stderr:
        `loupe: cannot reach the cloud at ${url}/: connection refused; ` +
        'is it running (npm start)? set LOUPE_CLOUD_URL or --cloud-url\n',
    });
  });

  it('asks for one fleet group with --group', async () => {
    const cloud = await startCloud(200, JSON.stringify({ devices: [] }));
    expect((await loupe(['fleet', 'list', '--group', 'line 3', '--cloud-url', cloud.url])).exitCode).toBe(ExitCode.ok);
    expect(cloud.paths).toEqual(['/api/fleet/devices?group=line+3']);
  });
});

describe('loupe fleet show against a cloud over HTTP', () => {
  it('prints every fact about one device from the one device list', async () => {
    const cloud = await startCloud(200, JSON.stringify(fleet));
    const run = await loupe(['fleet', 'show', 'plant-7', 'aoi-03', '--cloud-url', cloud.url]);
    expect(cloud.paths).toEqual(['/api/fleet/devices']);
    expect(run).toEqual({
      exitCode: ExitCode.ok,
      stderr: '',
      stdout: [
        'Device:         plant-7/aoi-03',
        'Fleet group:    line-3',
        'Enrolled:       2026-11-22T09:00:00.000Z',
        'Agent:          0.1.0',
        'Model:          pcb-aoi@3',
        'Provider:       cuda',
        'First seen:     2026-11-22T10:00:00.000Z',
        'Last seen:      2026-11-22T11:59:30.000Z (30 s ago)',
        'Desired:        pcb-aoi@3 (generation 2, rollout r-1)',
        'Update status:  ACTIVE at 2026-11-22T11:59:00.000Z',
        'Active:         pcb-aoi@3',
        'Previous:       pcb-aoi@2',
        'Error:          -',
        'Statistics:     120 inspections, 4 rejects, 9 uncertain, 0 errors, p99 17.5 ms',
        '',
      ].join('\n'),
    });
  });

  it('prints the device as JSON with --json', async () => {
    const cloud = await startCloud(200, JSON.stringify(fleet));
    const run = await loupe(['fleet', 'show', 'plant-7', 'aoi-04', '--json', '--cloud-url', cloud.url]);
    expect(JSON.parse(run.stdout)).toEqual(fleet.devices[1]);
  });

  it('says the cloud knows no such device and exits 3', async () => {
    const cloud = await startCloud(200, JSON.stringify(fleet));
    const run = await loupe(['fleet', 'show', 'plant-7', 'aoi-99', '--cloud-url', cloud.url]);
    expect(run).toMatchObject({ exitCode: ExitCode.refused, stdout: '' });
    expect(run.stderr).toContain('the cloud knows no device plant-7/aoi-99');
  });
});
