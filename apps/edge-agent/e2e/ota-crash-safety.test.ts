import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { credentials } from '@grpc/grpc-js';
import { generateSigningKey } from '@loupe/model-package';
import { InspectServiceClient, ModelUpdateStatus, type ReportedState } from '@loupe/proto';
import { AppProcess } from '@loupe/service';
import { eventually, freePort, startTestBroker, type TestBroker } from '@loupe/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { desiredStateOf, pcbAoiPackage, writeRegistryKeys, type TestPackage } from '../src/testing/model-packages';
import { FleetObserver, inspectOnce } from '../src/testing/ota-harness';
import { startPackageServer, type PackageServer } from '../src/testing/package-server';
import { DEMO_MODEL_DIR } from '../src/testing/test-agent';

const workspace = join(import.meta.dirname, '..', '..', '..');
const registry = generateSigningKey();
const { MODEL_UPDATE_STATUS_ACTIVE: ACTIVE, MODEL_UPDATE_STATUS_ROLLED_BACK: ROLLED_BACK, MODEL_UPDATE_STATUS_DOWNLOADING: DOWNLOADING } = ModelUpdateStatus;

/**
 * The agent as a separate process, killed with SIGKILL in the middle of an
 * update, on a real broker with a real package server. After every restart
 * the box must answer Inspect at once, and the update must converge.
 */
describe('OTA on the box across SIGKILL', () => {
  let broker: TestBroker;
  let server: PackageServer;
  let workDir: string;
  let v2: TestPackage;
  let dataDir: string;
  let fleet: FleetObserver | undefined;
  let client: InspectServiceClient | undefined;
  const agents: AppProcess[] = [];

  beforeAll(async () => {
    [broker, server] = await Promise.all([startTestBroker(), startPackageServer()]);
    workDir = await mkdtemp(join(tmpdir(), 'loupe-ota-e2e-'));
    v2 = await pcbAoiPackage(workDir, { version: '2', signer: registry });
  });
  afterEach(async () => {
    client?.close();
    await Promise.all(agents.splice(0).map((agent) => agent.stop('SIGKILL')));
    await fleet?.close();
    fleet = client = undefined;
    server.requests.length = 0;
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });
  afterAll(async () => {
    await Promise.all([broker?.stop(), server?.stop()]);
    await rm(workDir, { recursive: true, force: true });
  });

  /** A box of its own: data folder, ports, device id; `start()` runs its agent process again on the same data. */
  async function box() {
    dataDir = await mkdtemp(join(tmpdir(), 'loupe-ota-box-'));
    const ports = { grpc: await freePort(), status: await freePort() };
    const device = { siteId: 'plant-7', deviceId: `aoi-${ports.grpc}` };
    await writeRegistryKeys(join(dataDir, 'registry-keys.json'), [registry]);
    fleet = await FleetObserver.connect(broker.url, broker.topicRoot, device);
    const start = () => {
      const agent = new AppProcess({
        name: 'edge-agent',
        cwd: workspace,
        entry: 'apps/edge-agent/src/main.ts',
        tsconfig: 'apps/edge-agent/tsconfig.json',
        ...(process.env.E2E_VERBOSE ? { print: (line: string) => process.stdout.write(`${line}\n`) } : {}),
        env: {
          ...process.env,
          LOG_LEVEL: 'info',
          SITE_ID: device.siteId,
          DEVICE_ID: device.deviceId,
          MQTT_URL: broker.url,
          MQTT_TOPIC_ROOT: broker.topicRoot,
          GRPC_HOST: '127.0.0.1',
          GRPC_PORT: String(ports.grpc),
          STATUS_PORT: String(ports.status),
          MODEL_MANIFEST: join(DEMO_MODEL_DIR, 'manifest.json'),
          EXECUTION_PROVIDERS: 'cpu',
          WARMUP_RUNS: '1',
          TENSORRT_ENGINE_CACHE_DIR: join(dataDir, 'engines'),
          OUTBOX_DIR: join(dataDir, 'outbox'),
          MODELS_DIR: join(dataDir, 'models'),
          REGISTRY_KEYS_FILE: join(dataDir, 'registry-keys.json'),
        },
      });
      agents.push(agent);
      // A restarted box serves again without waiting for the network or the update. A client made once
      // the port listens asks at once, instead of sitting out gRPC's reconnect backoff.
      const serving = (async () => {
        await agent.waitForLog('Inspect gRPC API listening');
        client?.close();
        const inspectClient = new InspectServiceClient(`127.0.0.1:${ports.grpc}`, credentials.createInsecure());
        client = inspectClient;
        return eventually(() => inspectOnce(inspectClient), { timeoutMs: 20_000 });
      })();
      return { agent, serving };
    };
    return { fleet, start, modelsDir: join(dataDir, 'models') };
  }

  const converged = (observer: FleetObserver, status: ModelUpdateStatus, generation: number): Promise<ReportedState> =>
    eventually(
      () => {
        expect(observer.latest).toMatchObject({ status, generation });
        return observer.latest!;
      },
      { timeoutMs: 20_000 },
    );

  it('serves a model after a SIGKILL mid-download, after staging and on probation, and the update converges', async () => {
    const { fleet, start, modelsDir } = await box();
    const path = `/packages/${v2.sha256}`;
    await fleet.desire(desiredStateOf(v2, server.serve(path, v2.bytes, { bytesPerSecond: 1024 * 1024 }), 1, 'rollout-1'));

    const first = start();
    expect((await first.serving).model?.version).toBe('1');
    await eventually(() => expect(fleet.latest?.status).toBe(DOWNLOADING), { timeoutMs: 20_000 });
    await new Promise((resolve) => setTimeout(resolve, 500));
    await first.agent.stop('SIGKILL');
    const partial = (await stat(join(modelsDir, 'downloads', `${v2.sha256}.tar.part`))).size;
    expect(partial).toBeGreaterThan(0);
    expect(partial).toBeLessThan(v2.bytes.length);

    server.serve(path, v2.bytes, { bytesPerSecond: 3 * 1024 * 1024 });
    const second = start();
    const staged = second.agent.waitForLog('version staged');
    expect((await second.serving).model?.version).toBe('1');
    await staged;
    await second.agent.stop('SIGKILL');
    expect(server.requests.filter((request) => request.path === path).map((request) => request.range)).toEqual([undefined, `bytes=${partial}-`]);

    const third = start();
    const onProbation = third.agent.waitForLog('model on probation');
    // Version 1 until the staged version 2 is warmed up and swapped in, which may be done by the first answer.
    expect(['1', '2']).toContain((await third.serving).model?.version);
    await onProbation;
    await third.agent.stop('SIGKILL');

    const fourth = start();
    expect((await fourth.serving).model?.version).toBe('2');
    const report = await converged(fleet, ACTIVE, 1);
    expect(report).toMatchObject({ active: v2.model, previous: { version: '1' }, runningSha256: v2.model.sha256, rolloutId: 'rollout-1', crashes: 1 });
    expect(server.requests.filter((request) => request.path === path)).toHaveLength(2);
  });

  it('rolls a model that keeps crashing the agent back on the box within its probation window', async () => {
    const { fleet, start } = await box();
    await fleet.desire(desiredStateOf(v2, server.serve(`/packages/${v2.sha256}`, v2.bytes), 1));

    const first = start();
    await first.agent.waitForLog('model on probation');
    await first.agent.stop('SIGKILL');

    const second = start();
    expect((await second.serving).model?.version).toBe('2');
    await eventually(() => expect(fleet.latest).toMatchObject({ status: ACTIVE, crashes: 1 }), { timeoutMs: 20_000 });
    await second.agent.stop('SIGKILL');

    const third = start();
    const rolledBack = third.agent.waitForLog('model failed probation; rolled back before it loads again');
    expect((await third.serving).model?.version).toBe('1');
    await rolledBack;
    const report = await converged(fleet, ROLLED_BACK, 1);
    expect(report).toMatchObject({ active: { version: '1' }, previous: v2.model, crashes: 2 });
    expect(report.runningSha256).toBe(report.active?.sha256);
    expect(report.runningSha256).not.toBe(v2.model.sha256);
    expect(report.error).toBe('probation failed (crashes): the agent crashed 2 times on probation (limit 2)');
    // The retained desired state still names version 2: it is not downloaded or loaded again.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(fleet.latest?.status).toBe(ROLLED_BACK);
    expect(server.requests).toHaveLength(1);
  });
});
