import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateSigningKey } from '@loupe/model-package';
import { ModelUpdateStatus } from '@loupe/proto';
import { eventually } from '@loupe/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { desiredStateOf, flipByte, pcbAoiPackage, type TestPackage } from '../testing/model-packages';
import { inspectOnce, startOtaAgent, type FleetObserver } from '../testing/ota-harness';
import { startPackageServer, type PackageServer } from '../testing/package-server';
import { scrapeMetric } from '../testing/scrape-metric';
import type { TestAgent } from '../testing/test-agent';

const registry = generateSigningKey();

describe('shadow mode on the box', () => {
  let workDir: string;
  let server: PackageServer;
  let v1: TestPackage;
  let v2: TestPackage;
  let running: TestAgent | undefined;
  let fleet: FleetObserver | undefined;

  beforeAll(async () => {
    workDir = await mkdtemp(join(tmpdir(), 'loupe-shadow-'));
    server = await startPackageServer();
    v1 = await pcbAoiPackage(workDir, { version: '1', signer: registry });
    // Rejects what version 1 passes: every comparison on a normal board disagrees.
    v2 = await pcbAoiPackage(workDir, { version: '2', signer: registry, decision: { rejectLabels: ['Normal'], minScore: 0.5 } });
  });
  afterEach(async () => {
    await fleet?.close();
    await running?.stop();
    fleet = running = undefined;
  });
  afterAll(async () => {
    await server?.stop();
    await rm(workDir, { recursive: true, force: true });
  });

  async function start() {
    ({ agent: running, fleet } = await startOtaAgent(registry));
    return { agent: running, fleet, client: running.client };
  }

  const serve = (pkg: TestPackage) => server.serve(`/packages/${pkg.model.version}/${pkg.sha256}`, pkg.bytes);

  it('runs the candidate beside the active model, counts how often they disagree, and stops when the desired state drops it', async () => {
    const { agent, fleet, client } = await start();
    const metric = (sample: string) => scrapeMetric(agent.agent.statusUrl, sample);
    await fleet.desire(desiredStateOf(v1, `${server.url}/never-served`, 1, 'rollout-9', { pkg: v2, url: serve(v2) }));
    await eventually(async () => expect(await metric('loupe_agent_shadow_model{model="pcb-aoi",version="2",provider="cpu"}')).toBe(1), { timeoutMs: 20_000 });

    for (let i = 0; i < 4; i++) {
      const response = await inspectOnce(client);
      expect(response.model?.version).toBe('1');
      expect(response.prediction?.verdict).toBe('pass');
    }
    const stats = await eventually(() => {
      const modelStats = fleet.telemetry.at(-1)?.modelStats;
      expect(modelStats?.shadowCompared).toBeGreaterThanOrEqual(4);
      return modelStats!;
    });
    expect(stats).toMatchObject({ model: { version: '1' }, shadowModel: v2.model });
    expect(stats.shadowDisagreed).toBe(stats.shadowCompared);
    expect(await metric('loupe_agent_shadow_disagreements_total')).toBeGreaterThanOrEqual(4);
    // The shadow never becomes active, and the box reports its own model.
    expect(fleet.latest).toMatchObject({ status: ModelUpdateStatus.MODEL_UPDATE_STATUS_ACTIVE, generation: 1, active: v1.model, error: '' });

    await fleet.desire(desiredStateOf(v1, `${server.url}/never-served`, 2, 'rollout-9'));
    await eventually(() => {
      expect(fleet.telemetry.at(-1)?.modelStats?.shadowModel).toBeUndefined();
      expect(fleet.telemetry.at(-1)?.modelStats?.model).toMatchObject({ version: '1' });
    });
    expect(await metric('loupe_agent_shadow_model{model="pcb-aoi",version="2",provider="cpu"}')).toBe(0);
    const compared = await metric('loupe_agent_shadow_comparisons_total');
    expect((await inspectOnce(client)).model?.version).toBe('1');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await metric('loupe_agent_shadow_comparisons_total')).toBe(compared);
    expect(server.requests.some((request) => request.path === '/never-served')).toBe(false);
  });

  it('counts a shadow that fails verification and leaves the active model and the reported status alone', async () => {
    const { agent, fleet, client } = await start();
    const corrupt = await pcbAoiPackage(workDir, { version: '3', signer: registry, after: (directory) => flipByte(join(directory, 'pcb-aoi.opset11.onnx')) });
    await fleet.desire(desiredStateOf(v1, `${server.url}/never-served`, 1, '', { pkg: corrupt, url: serve(corrupt) }));
    await eventually(async () => expect(await scrapeMetric(agent.agent.statusUrl, 'loupe_agent_shadow_updates_total{outcome="failed",step="verify",reason="hash-mismatch"}')).toBe(1), {
      timeoutMs: 20_000,
    });
    expect(fleet.latest).toMatchObject({ status: ModelUpdateStatus.MODEL_UPDATE_STATUS_ACTIVE, generation: 1, active: v1.model, error: '' });
    expect((await inspectOnce(client)).model?.version).toBe('1');
    await eventually(() => expect(fleet.telemetry.at(-1)?.modelStats).toMatchObject({ model: { version: '1' } }));
    expect(fleet.telemetry.at(-1)?.modelStats?.shadowModel).toBeUndefined();
  });
});
