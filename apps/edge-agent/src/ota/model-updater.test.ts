import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateSigningKey } from '@loupe/model-package';
import { ModelUpdateStatus, type InspectResponse } from '@loupe/proto';
import { eventually } from '@loupe/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { desiredStateOf, flipByte, pcbAoiPackage, type TestPackage } from '../testing/model-packages';
import { inspectOnce, startOtaAgent, type FleetObserver } from '../testing/ota-harness';
import { startPackageServer, type PackageServer } from '../testing/package-server';
import { scrapeMetric } from '../testing/scrape-metric';
import { DEMO_MODEL_DIR, type TestAgent } from '../testing/test-agent';

const { MODEL_UPDATE_STATUS_ACTIVE: ACTIVE, MODEL_UPDATE_STATUS_FAILED: FAILED, MODEL_UPDATE_STATUS_ROLLED_BACK: ROLLED_BACK } = ModelUpdateStatus;
const registry = generateSigningKey();

describe('OTA model updates on the box', () => {
  let workDir: string;
  let server: PackageServer;
  let v1: TestPackage;
  let v2: TestPackage;
  let v3: TestPackage;
  let running: TestAgent | undefined;
  let fleet: FleetObserver | undefined;

  beforeAll(async () => {
    workDir = await mkdtemp(join(tmpdir(), 'loupe-ota-'));
    server = await startPackageServer();
    const build = (version: string) => pcbAoiPackage(workDir, { version, signer: registry });
    [v1, v2, v3] = await Promise.all([build('1'), build('2'), build('3')]);
  });
  afterEach(async () => {
    server.requests.length = 0;
    await fleet?.close();
    await running?.stop();
    fleet = running = undefined;
  });
  afterAll(async () => {
    await server?.stop();
    await rm(workDir, { recursive: true, force: true });
  });

  /** An agent serving the demo pcb-aoi (version 1) from MODEL_MANIFEST, and the cloud's side of its OTA. */
  async function start(env: Record<string, string> = {}) {
    ({ agent: running, fleet } = await startOtaAgent(registry, env));
    return { agent: running, fleet, client: running.client };
  }

  const serve = (pkg: TestPackage, options = {}) => server.serve(`/packages/${pkg.model.version}/${pkg.sha256}`, pkg.bytes, options);
  const requestsFor = (pkg: TestPackage) => server.requests.filter((request) => request.path.endsWith(pkg.sha256)).length;

  async function settled(observer: FleetObserver, status: ModelUpdateStatus, generation: number) {
    return eventually(
      () => {
        const report = observer.latest;
        expect(report).toMatchObject({ status, generation });
        return report!;
      },
      { timeoutMs: 20_000 },
    );
  }

  it('activates a desired version with no failed inspection, reports each step, then comes back to the previous version without a download', async () => {
    const { agent, fleet, client } = await start();
    const answered: InspectResponse[] = [];
    let failures = 0;
    let inspecting = true;
    const load = (async () => {
      while (inspecting) await inspectOnce(client).then((response) => answered.push(response), () => failures++);
    })();

    await fleet.desire(desiredStateOf(v2, serve(v2), 1, 'rollout-7'));
    const report = await settled(fleet, ACTIVE, 1);
    expect(report).toMatchObject({ active: v2.model, previous: { name: 'pcb-aoi', version: '1' }, runningSha256: v2.model.sha256, provider: 'cpu', rolloutId: 'rollout-7', error: '' });
    const statuses = fleet.reports.map((entry) => ModelUpdateStatus[entry.status]).filter((status, index, all) => status !== all[index - 1]);
    expect(statuses.slice(-5)).toEqual([
      'MODEL_UPDATE_STATUS_DOWNLOADING',
      'MODEL_UPDATE_STATUS_VERIFYING',
      'MODEL_UPDATE_STATUS_WARMING_UP',
      'MODEL_UPDATE_STATUS_SELF_TESTING',
      'MODEL_UPDATE_STATUS_ACTIVE',
    ]);
    await eventually(() => expect(answered.at(-1)?.model?.version).toBe('2'));
    inspecting = false;
    await load;
    expect(failures).toBe(0);
    expect(new Set(answered.map((response) => response.model?.version))).toEqual(new Set(['1', '2']));

    const stateFile = JSON.parse(await readFile(join(agent.config.ota.modelsDir, 'state.json'), 'utf8')) as Record<string, { manifestPath: string }>;
    expect(stateFile.active?.manifestPath).toBe(join(agent.config.ota.modelsDir, 'versions', 'pcb-aoi', '2', 'manifest.json'));
    expect(stateFile.previous?.manifestPath).toBe(join(DEMO_MODEL_DIR, 'manifest.json'));
    // Telemetry carries the new model's stats from its activation on.
    await eventually(() => expect(fleet.telemetry.at(-1)?.modelStats?.model).toMatchObject({ version: '2' }));
    expect(fleet.telemetry.at(-1)?.modelStats?.confidenceHistogram).toHaveLength(10);

    await fleet.desire(desiredStateOf(v1, `${server.url}/never-served`, 2));
    expect(await settled(fleet, ACTIVE, 2)).toMatchObject({ active: { version: '1' }, previous: { version: '2' } });
    expect((await inspectOnce(client)).model?.version).toBe('1');
    expect(server.requests.some((request) => request.path === '/never-served')).toBe(false);
  });

  it('never activates a corrupt or wrongly signed package: FAILED with the reason, the old model keeps serving', async () => {
    const { agent, fleet, client } = await start();
    const corrupt = await pcbAoiPackage(workDir, { version: '2', signer: registry, after: (directory) => flipByte(join(directory, 'pcb-aoi.opset11.onnx')) });
    await fleet.desire(desiredStateOf(corrupt, serve(corrupt), 1));
    expect((await settled(fleet, FAILED, 1)).error).toMatch(/^verify failed \(hash-mismatch\): pcb-aoi\.opset11\.onnx does not match/);
    expect((await inspectOnce(client)).model?.version).toBe('1');

    const foreign = await pcbAoiPackage(workDir, { version: '2', signer: generateSigningKey() });
    await fleet.desire(desiredStateOf(foreign, serve(foreign), 2));
    const report = await settled(fleet, FAILED, 2);
    expect(report.error).toMatch(/^verify failed \(unknown-key\)/);
    expect(report).toMatchObject({ active: { name: 'pcb-aoi', version: '1' }, runningSha256: v1.model.sha256 });
    expect((await inspectOnce(client)).model?.version).toBe('1');
    await expect(stat(join(agent.config.ota.modelsDir, 'versions', 'pcb-aoi', '2'))).rejects.toThrow();
    expect(await scrapeMetric(agent.agent.statusUrl, 'loupe_agent_ota_updates_total{outcome="failed",step="verify",reason="unknown-key"}')).toBe(1);
  });

  it('is not moved by duplicate or older desired messages, and takes a newer one arriving mid-download', async () => {
    const { fleet, client } = await start();
    await fleet.desire(desiredStateOf(v2, serve(v2, { bytesPerSecond: 1024 * 1024 }), 2));
    await eventually(() => expect(fleet.latest?.status).toBe(ModelUpdateStatus.MODEL_UPDATE_STATUS_DOWNLOADING));
    await fleet.desire(desiredStateOf(v3, serve(v3), 3));
    expect(await settled(fleet, ACTIVE, 3)).toMatchObject({ active: v3.model });
    expect(fleet.reports.some((report) => report.active?.version === '2')).toBe(false);

    const reportsBefore = fleet.reports.length;
    await fleet.desire(desiredStateOf(v3, serve(v3), 3));
    await fleet.desire(desiredStateOf(v2, serve(v2), 2));
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(fleet.reports.slice(reportsBefore).every((report) => report.active?.version === '3' && report.generation === 3)).toBe(true);
    expect(requestsFor(v3)).toBe(1);
    expect((await inspectOnce(client)).model?.version).toBe('3');
  });

  it('rolls a model over its latency budget back on probation, and does not try it again for the same generation', async () => {
    const { agent, fleet, client } = await start({ OTA_PROBATION_P99_BUDGET: '1ms', OTA_PROBATION_MIN_INSPECTIONS: '3' });
    await fleet.desire(desiredStateOf(v2, serve(v2), 4));
    await settled(fleet, ACTIVE, 4);
    for (let i = 0; i < 3; i++) await inspectOnce(client);
    const report = await settled(fleet, ROLLED_BACK, 4);
    expect(report).toMatchObject({ active: { version: '1' }, previous: { version: '2' }, runningSha256: v1.model.sha256 });
    expect(report.error).toMatch(/^probation failed \(latency\): p99 latency [\d.]+ ms is over the 1 ms budget/);
    expect((await inspectOnce(client)).model?.version).toBe('1');
    expect(await scrapeMetric(agent.agent.statusUrl, 'loupe_agent_ota_rollbacks_total{reason="latency"}')).toBe(1);

    await fleet.desire(desiredStateOf(v2, serve(v2), 4));
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(fleet.latest).toMatchObject({ status: ROLLED_BACK, active: { version: '1' } });
    expect(requestsFor(v2)).toBe(1);
  });

  it('logs, counts and ignores a desired message that is not a valid DesiredState', async () => {
    const { agent, fleet, client } = await start();
    await fleet.desire(Buffer.from('not protobuf at all \xff\xff'));
    await fleet.desire(desiredStateOf(v2, 'ftp://cloud.example/package', 1));
    await eventually(async () => expect(await scrapeMetric(agent.agent.statusUrl, 'loupe_agent_ota_desired_messages_total{outcome="invalid"}')).toBe(2));
    expect((await inspectOnce(client)).model?.version).toBe('1');
    expect(fleet.reports.every((report) => report.status === ModelUpdateStatus.MODEL_UPDATE_STATUS_IDLE)).toBe(true);
  });
});
