import type { Inspection, ModelPipeline } from '@loupe/inference';
import { eventually } from '@loupe/testing';
import pino from 'pino';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { ModelStats } from '../models/model-stats';
import { ShadowComparison, verdictsDisagree } from './shadow-comparison';
import { ShadowMetrics } from './shadow-metrics';

const V1 = { name: 'pcb-aoi', version: '1', sha256: 'a'.repeat(64) };
const V2 = { name: 'pcb-aoi', version: '2', sha256: 'b'.repeat(64) };

function inspection(verdict: string, model = V1): Inspection {
  return {
    prediction: { verdict, scores: [{ label: verdict, score: 0.9 }], boxes: [] },
    model,
    provider: 'cpu',
    batchSize: 1,
    timings: { decodeMs: 0, preprocessMs: 0, queueMs: 0, inferenceMs: 1, postprocessMs: 0, totalMs: 1 },
  };
}

/** A shadow pipeline whose verdict is the image's text, answering when `release` is called. */
function shadowPipeline() {
  const waiting: (() => void)[] = [];
  let closed = false;
  const pipeline = {
    model: { manifest: { name: V2.name, version: V2.version }, sha256: V2.sha256, provider: 'cpu' },
    inspect: (image: Buffer) => new Promise<Inspection>((resolve) => waiting.push(() => resolve(inspection(image.toString(), V2)))),
    close: () => {
      closed = true;
      return Promise.resolve();
    },
  } as unknown as ModelPipeline;
  return {
    pipeline,
    waiting,
    release: () => waiting.shift()?.(),
    get closed() {
      return closed;
    },
  };
}

async function setUp(queueSize: number) {
  const registry = new Registry();
  const stats = new ModelStats();
  stats.reset(V1);
  const metrics = new ShadowMetrics(registry);
  const comparison = new ShadowComparison(queueSize, stats, metrics, pino({ level: 'silent' }));
  const shadow = shadowPipeline();
  await comparison.start(shadow.pipeline);
  const value = async (name: string, labels = '') => {
    const metric = (await registry.getMetricsAsJSON()).find((entry) => entry.name === name);
    return metric?.values.find((entry) => labels === '' || entry.labels['reason'] === labels)?.value ?? 0;
  };
  return { stats, comparison, shadow, value };
}

describe('verdictsDisagree', () => {
  it('compares the verdicts, not the scores', () => {
    expect(verdictsDisagree(inspection('pass'), { ...inspection('pass', V2), prediction: { verdict: 'pass', scores: [{ label: 'pass', score: 0.1 }], boxes: [] } })).toBe(false);
    expect(verdictsDisagree(inspection('pass'), inspection('reject', V2))).toBe(true);
  });
});

describe('ShadowComparison', () => {
  it('counts comparisons and disagreements in the active model stats', async () => {
    const { stats, comparison, shadow, value } = await setUp(4);
    comparison.offer(Buffer.from('pass'), inspection('pass'));
    comparison.offer(Buffer.from('reject'), inspection('pass'));
    comparison.offer(Buffer.from('reject'), inspection('reject'));
    await eventually(() => {
      shadow.release();
      expect(stats.snapshot()).toMatchObject({ shadowModel: V2, shadowCompared: 3, shadowDisagreed: 1 });
    });
    expect(await value('loupe_agent_shadow_comparisons_total')).toBe(3);
    expect(await value('loupe_agent_shadow_disagreements_total')).toBe(1);
  });

  it('skips and counts images that find the queue full, one shadow inference at a time', async () => {
    const { stats, comparison, shadow, value } = await setUp(2);
    for (let i = 0; i < 5; i++) comparison.offer(Buffer.from('pass'), inspection('pass'));
    // One taken by the worker, two queued, two skipped.
    await eventually(() => expect(shadow.waiting).toHaveLength(1));
    expect(await value('loupe_agent_shadow_skipped_total', 'queue-full')).toBe(2);
    await eventually(() => {
      shadow.release();
      expect(stats.snapshot()?.shadowCompared).toBe(3);
    });
  });

  it('stops: no more comparisons, the shadow leaves ModelStats and its pipeline closes', async () => {
    const { stats, comparison, shadow } = await setUp(2);
    await comparison.stop();
    comparison.offer(Buffer.from('pass'), inspection('pass'));
    expect(shadow.waiting).toHaveLength(0);
    expect(shadow.closed).toBe(true);
    expect(comparison.model).toBeUndefined();
    expect(stats.snapshot()).not.toHaveProperty('shadowModel');
  });
});
