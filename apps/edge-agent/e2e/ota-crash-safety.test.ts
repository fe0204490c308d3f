import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { credentials } from '@grpc/grpc-js';
import { generateSigningKey, publicKeyToPem, TrustedKeys, verifyPackage } from '@loupe/model-package';
import { InspectServiceClient, ModelUpdateStatus, type ReportedState } from '@loupe/proto';
import { AppProcess } from '@loupe/testing';
import { eventually, freePort, startTestBroker, type TestBroker } from '@loupe/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { OTA_FAULT_POINTS, type OtaFaultPoint } from '../src/ota/fault-points';
import { desiredStateOf, flipByte, pcbAoiPackage, writeRegistryKeys, type TestPackage } from '../src/testing/model-packages';
import { FleetObserver, inspectOnce } from '../src/testing/ota-harness';
import { startPackageServer, type PackageServer } from '../src/testing/package-server';
import { DEMO_MODEL_DIR } from '../src/testing/test-agent';

const workspace = join(import.meta.dirname, '..', '..', '..');
const registry = generateSigningKey();
const trusted = new TrustedKeys([publicKeyToPem(registry.publicKey)]);
const BOOT_MANIFEST = join(DEMO_MODEL_DIR, 'manifest.json');
const { MODEL_UPDATE_STATUS_ACTIVE: ACTIVE, MODEL_UPDATE_STATUS_ROLLED_BACK: ROLLED_BACK, MODEL_UPDATE_STATUS_FAILED: FAILED } = ModelUpdateStatus;

/** The fault points of an update, in the order an update reaches them; the rest belong to a roll-back and a failure. */
const UPDATE_POINTS = OTA_FAULT_POINTS.filter((point) => !point.startsWith('roll-back') && point !== 'after:roll-back' && point !== 'fail:recorded');

interface StateOnDisk {
  active?: { version: string; sha256: string; manifestPath: string };
  staged?: { version: string; sha256: string; manifestPath: string };
  previous?: { version: string; sha256: string; manifestPath: string };
}

/**
 * The agent as a separate process on a real broker with a real package
 * server, killed with SIGKILL at every fault point of an update, a
 * roll-back and a failed update (OTA_TEST_KILL_AT makes it kill itself
 * there, so no kill depends on timing). After every kill the box on disk
 * names only verified models, the next start serves the one state.json
 * names, and the updates finish.
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
  async function box(settings: Record<string, string> = {}) {
    dataDir = await mkdtemp(join(tmpdir(), 'loupe-ota-box-'));
    const modelsDir = join(dataDir, 'models');
    const ports = { grpc: await freePort(), status: await freePort() };
    const device = { siteId: 'plant-7', deviceId: `aoi-${ports.grpc}` };
    await writeRegistryKeys(join(dataDir, 'registry-keys.json'), [registry]);
    fleet = await FleetObserver.connect(broker.url, broker.topicRoot, device);
    const start = (env: Record<string, string> = {}) => {
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
          MODEL_MANIFEST: BOOT_MANIFEST,
          EXECUTION_PROVIDERS: 'cpu',
          WARMUP_RUNS: '1',
          TENSORRT_ENGINE_CACHE_DIR: join(dataDir, 'engines'),
          OUTBOX_DIR: join(dataDir, 'outbox'),
          MODELS_DIR: modelsDir,
          REGISTRY_KEYS_FILE: join(dataDir, 'registry-keys.json'),
          ...settings,
          ...env,
        },
      });
      agents.push(agent);
      // Waited on from the start, so no line is missed: its port listening, the first model it serves, the fault point it dies at.
      const listening = agent.waitForLog('Inspect gRPC API listening');
      const firstServed = agent.waitForLog('model serving');
      const killed = agent.waitForLog('OTA_TEST_KILL_AT reached; the agent kills itself');
      for (const line of [listening, firstServed, killed]) line.catch(() => undefined);
      return { agent, listening, firstServed, killed };
    };
    /** An Inspect client for the running agent, made once its port listens (so it does not sit out gRPC's reconnect backoff). */
    const answering = async ({ listening }: { listening: Promise<unknown> }) => {
      await listening;
      client?.close();
      const inspectClient = new InspectServiceClient(`127.0.0.1:${ports.grpc}`, credentials.createInsecure());
      client = inspectClient;
      return eventually(() => inspectOnce(inspectClient), { timeoutMs: 20_000 });
    };
    return { fleet, start, answering, modelsDir };
  }

  const converged = (observer: FleetObserver, status: ModelUpdateStatus, generation: number): Promise<ReportedState> =>
    eventually(
      () => {
        expect(observer.latest).toMatchObject({ status, generation });
        return observer.latest!;
      },
      { timeoutMs: 30_000 },
    );

  async function stateOnDisk(modelsDir: string): Promise<StateOnDisk> {
    return JSON.parse(await readFile(join(modelsDir, 'state.json'), 'utf8').catch(() => '{}')) as StateOnDisk;
  }

  /** Every model state.json names is MODEL_MANIFEST or a version under MODELS_DIR whose files match their signed manifest. */
  async function expectOnlyVerifiedModels(modelsDir: string, where: string): Promise<StateOnDisk> {
    const state = await stateOnDisk(modelsDir);
    for (const model of [state.active, state.staged, state.previous]) {
      if (!model || model.manifestPath === BOOT_MANIFEST) continue;
      const verified = await verifyPackage(dirname(model.manifestPath), trusted);
      expect(verified.manifest.files.find((file) => file.path === verified.model.modelFile)?.sha256, where).toBe(model.sha256);
    }
    return state;
  }

  type Run = ReturnType<Awaited<ReturnType<typeof box>>['start']>;

  /** The process served `version` first (the model state.json named when it started), then died by its own SIGKILL at `point`. */
  async function servedThenKilledAt(run: Run, version: string, point: OtaFaultPoint) {
    expect((await run.firstServed).version, `the model served at the start of the run killed at ${point}`).toBe(version);
    const killed = await Promise.race([
      run.killed,
      // Not a timing assertion: a box that never reaches the point would otherwise hang the test.
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`the agent did not reach ${point}`)), 120_000).unref()),
    ]);
    expect(killed.faultPoint).toBe(point);
    expect(await run.agent.exited).toBe(137);
  }

  it('comes back from SIGKILL at every fault point of updates, roll-backs and a failure, serving a verified model, and each finishes', async () => {
    const build = (version: string, after?: (directory: string) => Promise<void>) => pcbAoiPackage(workDir, { version, signer: registry, ...(after ? { after } : {}) });
    const [v4, v5, corrupt] = await Promise.all([build('4'), build('5'), build('6', (directory) => flipByte(join(directory, 'pcb-aoi.opset11.onnx')))]);
    const serve = (pkg: TestPackage) => server.serve(`/packages/${pkg.sha256}`, pkg.bytes);
    // Each kill is a crash the probation and loading budgets count; those budgets have their own test below.
    const { fleet, start, answering, modelsDir } = await box({ OTA_PROBATION_MAX_CRASHES: '100' });
    await fleet.desire(desiredStateOf(v2, serve(v2), 1, 'rollout-1'));

    // One update, a restart per fault point, each resuming where the kill left it, up to the state that activates it.
    let partial = 0;
    const resumable = UPDATE_POINTS.slice(0, UPDATE_POINTS.indexOf('activate:recorded') + 1);
    for (const point of resumable) {
      const before = await expectOnlyVerifiedModels(modelsDir, `before ${point}`);
      await servedThenKilledAt(start({ OTA_TEST_KILL_AT: point }), before.active?.version ?? '1', point);
      await expectOnlyVerifiedModels(modelsDir, `after a kill at ${point}`);
      if (point === 'download:receiving') partial = (await stat(join(modelsDir, 'downloads', `${v2.sha256}.tar.part`))).size;
    }
    expect(partial).toBeGreaterThan(0);
    expect(partial).toBeLessThan(v2.bytes.length);

    /**
     * Starts the box to die at `point`: it finishes what the last desired
     * state asked (`settled`), then gets `next` and dies on the way there.
     * Resolves with the state on disk after the kill, verified.
     */
    const killedOnTheWay = async (point: OtaFaultPoint, settled: { generation: number; status: ModelUpdateStatus; active: string }, next: Buffer) => {
      const before = await expectOnlyVerifiedModels(modelsDir, `before ${point}`);
      const run = start({ OTA_TEST_KILL_AT: point });
      const report = await converged(fleet, settled.status, settled.generation);
      expect(report.active?.version).toBe(settled.active);
      expect(report.runningSha256).toBe(report.active?.sha256);
      await fleet.desire(next);
      await servedThenKilledAt(run, before.active?.version ?? '1', point);
      return expectOnlyVerifiedModels(modelsDir, `after a kill at ${point}`);
    };

    // The first update finishes; the activation's later points each need an update of their own.
    await killedOnTheWay('activate:serving', { generation: 1, status: ACTIVE, active: '2' }, desiredStateOf(v4, serve(v4), 2));
    expect(server.requests.filter((request) => request.path === `/packages/${v2.sha256}`).map((request) => request.range)).toEqual([undefined, `bytes=${partial}-`]);
    await killedOnTheWay('after:activate', { generation: 2, status: ACTIVE, active: '4' }, desiredStateOf(v5, serve(v5), 3));
    // Back to the previous version, then forth again, from their files on the box.
    expect((await killedOnTheWay('roll-back:recorded', { generation: 3, status: ACTIVE, active: '5' }, desiredStateOf(v4, `${server.url}/never-served`, 4))).active?.version).toBe('4');
    expect((await killedOnTheWay('after:roll-back', { generation: 4, status: ACTIVE, active: '4' }, desiredStateOf(v5, `${server.url}/never-served`, 5))).active?.version).toBe('5');
    // A package that fails verification: killed once the failure is recorded, before its files are pruned.
    await killedOnTheWay('fail:recorded', { generation: 5, status: ACTIVE, active: '5' }, desiredStateOf(corrupt, serve(corrupt), 6));

    const last = start();
    expect((await last.firstServed).version).toBe('5');
    expect((await answering(last)).model?.version).toBe('5');
    const report = await converged(fleet, FAILED, 6);
    expect(report.error).toMatch(/^verify failed \(hash-mismatch\): pcb-aoi\.opset11\.onnx does not match/);
    expect(report).toMatchObject({ active: v5.model, previous: v4.model, runningSha256: v5.model.sha256 });
    // What the failed update left on disk goes once the box has nothing to fetch.
    await eventually(async () => expect([...(await readdir(join(modelsDir, 'downloads'))), ...(await readdir(join(modelsDir, 'unpacking')))]).toEqual([]));
    expect(server.requests.filter((request) => request.path.endsWith('never-served'))).toEqual([]);
    expect(server.requests.filter((request) => request.path === `/packages/${corrupt.sha256}`)).toHaveLength(1);
    // Every fault point was hit.
    expect([...resumable, 'activate:serving', 'after:activate', 'roll-back:recorded', 'after:roll-back', 'fail:recorded'].sort()).toEqual([...OTA_FAULT_POINTS].sort());
  }, 600_000);

  it('rolls a model that keeps crashing the agent back on the box within its probation window', async () => {
    const { fleet, start, answering } = await box();
    await fleet.desire(desiredStateOf(v2, server.serve(`/packages/${v2.sha256}`, v2.bytes), 1));

    await servedThenKilledAt(start({ OTA_TEST_KILL_AT: 'after:activate' }), '1', 'after:activate');

    const second = start();
    expect((await answering(second)).model?.version).toBe('2');
    await eventually(() => expect(fleet.latest).toMatchObject({ status: ACTIVE, crashes: 1 }), { timeoutMs: 20_000 });
    await second.agent.stop('SIGKILL');

    const third = start();
    const rolledBack = third.agent.waitForLog('model failed probation; rolled back before it loads again');
    expect((await answering(third)).model?.version).toBe('1');
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
