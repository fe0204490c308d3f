import { readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ModelPipeline, type PipelineSettings } from '@loupe/inference';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_START_MODEL, demoCrop, demoCropSplit } from './start-model-recipe';

const CROPS_DIR = join(import.meta.dirname, 'images', 'deeppcb-crops');
const MODEL_DIR = join(import.meta.dirname, 'models', DEMO_START_MODEL.name);

const settings: PipelineSettings = {
  providers: {
    chain: ['cpu'],
    tensorrt: { fp16: false, int8: false, engineCacheDir: join(tmpdir(), 'loupe-trt-cache'), workspaceBytes: 1 << 30 },
    cuda: { deviceId: 0 },
    cpu: { intraOpThreads: 2, interOpThreads: 1, spinWait: false },
  },
  batch: { maxBatch: 8, maxDelayMs: 2, maxQueue: 512, concurrentBatches: 1 },
  maxImagePixels: 50_000_000,
  warmUpRuns: 1,
};

describe('demoCropSplit', () => {
  it('splits by board group: the test crops come from boards neither training nor validation saw', async () => {
    const split = demoCropSplit(await readdir(CROPS_DIR).then((names) => names.filter((name) => name.endsWith('.png'))));
    const groupsOf = (crops: { group: string }[]) => new Set(crops.map((crop) => crop.group));
    expect([...groupsOf(split.train)].sort()).toEqual(split.groups.train);
    expect([...groupsOf(split.val)]).toEqual(split.groups.val);
    for (const group of groupsOf(split.test)) expect([...split.groups.train, ...split.groups.val]).not.toContain(group);
    expect(split.train.filter((crop) => crop.label === 'Defective')).toHaveLength(split.train.length / 2);
    const used = [split.train, split.val, split.test, split.rest].flat().map((crop) => crop.file);
    expect(new Set(used).size).toBe(used.length);
  });

  it('refuses a file that is not a demo crop, naming it', () => {
    expect(demoCrop('Normal_12300060_1.png')).toEqual({ file: 'Normal_12300060_1.png', label: 'Normal', group: '12300', pair: '12300060' });
    expect(() => demoCrop('Defective_02.png')).toThrow(/Defective_02\.png is not a demo crop name/);
  });
});

describe('pcb-defects, the demo starting model', () => {
  let pipeline: ModelPipeline;
  beforeAll(async () => {
    // Opening runs the manifest's golden samples: the package is what the build wrote.
    pipeline = await ModelPipeline.open(join(MODEL_DIR, 'manifest.json'), settings, pino({ level: 'silent' }));
  });
  afterAll(() => pipeline?.close());

  it('judges the held-out demo crops far better than chance, with scores that are not near 0 for both classes', async () => {
    const { test } = demoCropSplit(await readdir(CROPS_DIR).then((names) => names.filter((name) => name.endsWith('.png'))));
    const results = await Promise.all(test.map(async (crop) => ({ crop, result: await pipeline.inspect(await readFile(join(CROPS_DIR, crop.file))) })));
    const right = results.filter(({ crop, result }) => result.prediction.verdict === (crop.label === 'Defective' ? 'reject' : 'pass'));
    // The README's figure is 84.1% (the head's own float64 arithmetic); the served graph must agree closely.
    expect(right.length / results.length).toBeGreaterThan(0.82);
    for (const { result } of results) expect(result.prediction.scores[0]!.score).toBeGreaterThanOrEqual(0.5);
  }, 60_000);
});
