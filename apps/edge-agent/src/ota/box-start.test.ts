import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ModelPipeline } from '@loupe/inference';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ModelActivation } from '../models/model-activation';
import { nodeFileSystem } from '../storage/file-system';
import { BoxStateFile, type InstalledModel, type PersistedBoxState } from './box-state-file';
import { startBox } from './box-start';
import { OtaMetrics } from './ota-metrics';

const logger = pino({ level: 'silent' });
const installed = (version: string): InstalledModel => ({ name: 'pcb-aoi', version, sha256: version.repeat(64), manifestPath: `/models/${version}/manifest.json` });
const V1 = installed('1');
const V2 = installed('2');
const BOOT = '/opt/loupe/pcb-aoi/manifest.json';

/** Loads whatever manifest it is given as the model it names, unless the path is in `broken`; remembers what it served. */
function fakeActivation(broken: string[] = []) {
  const served: string[] = [];
  const models = new Map([V1, V2].map((model) => [model.manifestPath, model]));
  models.set(BOOT, { ...V1, manifestPath: BOOT });
  const activation = {
    load: (manifestPath: string) => {
      const model = models.get(manifestPath);
      if (!model || broken.includes(manifestPath)) return Promise.reject(new Error(`${manifestPath} does not load`));
      const pipeline = { model: { manifest: { name: model.name, version: model.version }, sha256: model.sha256 }, close: () => Promise.resolve() };
      return Promise.resolve(pipeline as unknown as ModelPipeline);
    },
    serve: (pipeline: ModelPipeline) => {
      served.push(pipeline.model.manifest.version);
      return Promise.resolve();
    },
  };
  return { activation: activation as unknown as ModelActivation, served };
}

describe('startBox', () => {
  let directory: string;
  let state: BoxStateFile;
  let metrics: OtaMetrics;
  beforeEach(async () => {
    directory = await mkdtemp(join(tmpdir(), 'loupe-box-start-'));
    state = new BoxStateFile(join(directory, 'state.json'), logger, nodeFileSystem);
    await state.load();
    metrics = new OtaMetrics(new Registry());
  });
  afterEach(() => rm(directory, { recursive: true, force: true }));

  const budget = { maxCrashes: 2, maxErrorRate: 0.05, maxP99Ms: 1_000, minInspections: 20 };
  async function given(partial: Partial<PersistedBoxState>) {
    await state.change((current) => ({ ...current, ...partial }));
  }
  const start = (activation: ModelActivation, bootManifest?: string) =>
    startBox({ state, activation, metrics, budget, log: logger, ...(bootManifest ? { bootManifest } : {}) });

  it('serves MODEL_MANIFEST on a fresh box and records it as the active version', async () => {
    const { activation, served } = fakeActivation();
    await start(activation, BOOT);
    expect(served).toEqual(['1']);
    expect(state.current).toMatchObject({ active: { version: '1', manifestPath: BOOT }, agentRunning: true });
  });

  it('serves the persisted active version before MODEL_MANIFEST', async () => {
    await given({ active: V2, previous: V1 });
    const { activation, served } = fakeActivation();
    await start(activation, BOOT);
    expect(served).toEqual(['2']);
  });

  it('counts a crash of the model on probation when the last run did not stop cleanly, and keeps it below the limit', async () => {
    await given({ active: V2, previous: V1, probation: { model: V2, startedAt: 0, crashes: 0 }, agentRunning: true });
    const { activation, served } = fakeActivation();
    await start(activation, BOOT);
    expect(state.current.probation?.crashes).toBe(1);
    expect(served).toEqual(['2']);
  });

  it('does not count a clean stop as a crash', async () => {
    await given({ active: V2, previous: V1, probation: { model: V2, startedAt: 0, crashes: 1 }, agentRunning: false });
    await start(fakeActivation().activation, BOOT);
    expect(state.current.probation?.crashes).toBe(1);
  });

  it('rolls back a model at its crash limit before loading it, and records why', async () => {
    await given({ active: V2, previous: V1, probation: { model: V2, startedAt: 0, crashes: 1 }, settledGeneration: 5, agentRunning: true });
    const { activation, served } = fakeActivation();
    await start(activation, BOOT);
    expect(served).toEqual(['1']);
    expect(state.current).toMatchObject({
      active: V1,
      previous: V2,
      failures: [{ model: { version: '2' }, generation: 5, step: 'probation', reason: 'crashes' }],
      report: { status: 'rolled-back', crashes: 2 },
    });
    expect(state.current.probation).toBeUndefined();
  });

  it('fails a candidate that killed the agent while loading it too often', async () => {
    await given({ active: V1, staged: V2, loading: { model: V2, generation: 6, crashes: 1 }, agentRunning: true });
    await start(fakeActivation().activation, BOOT);
    expect(state.current).toMatchObject({ settledGeneration: 6, failures: [{ step: 'warm-up', reason: 'crashes', generation: 6 }], report: { status: 'failed' } });
    expect(state.current.staged).toBeUndefined();
    expect(state.current.loading).toBeUndefined();
  });

  it('serves the previous version when the active one does not load', async () => {
    await given({ active: V2, previous: V1 });
    const { activation, served } = fakeActivation([V2.manifestPath]);
    await start(activation, BOOT);
    expect(served).toEqual(['1']);
    expect(state.current.active).toEqual(V1);
    expect(state.current.previous).toBeUndefined();
  });

  it('falls back to MODEL_MANIFEST when no version on the box loads', async () => {
    await given({ active: V2, previous: V1 });
    const { activation, served } = fakeActivation([V2.manifestPath, V1.manifestPath]);
    await start(activation, BOOT);
    expect(served).toEqual(['1']);
    expect(state.current.active?.manifestPath).toBe(BOOT);
  });
});
