import type { Inspection } from '@loupe/inference';
import { describe, expect, it } from 'vitest';
import { LatencyHistogram } from './latency-histogram';
import { ModelStats } from './model-stats';

const V2 = { name: 'pcb-aoi', version: '2', sha256: 'b'.repeat(64) };
const V1 = { name: 'pcb-aoi', version: '1', sha256: 'a'.repeat(64) };

function inspection(verdict: string, top: number | undefined, totalMs: number, model = V2): Inspection {
  return {
    prediction: { verdict, scores: top === undefined ? [] : [{ label: verdict, score: top }], boxes: [] },
    model,
    provider: 'cpu',
    batchSize: 1,
    timings: { decodeMs: 0, preprocessMs: 0, queueMs: 0, inferenceMs: totalMs, postprocessMs: 0, totalMs },
  };
}

describe('ModelStats', () => {
  it('has nothing to say before a model is active', () => {
    const stats = new ModelStats();
    stats.failed();
    expect(stats.snapshot()).toBeUndefined();
  });

  it('counts inspections, rejects, errors, uncertain ones and the top score in ten bins', () => {
    const stats = new ModelStats();
    stats.reset(V2);
    stats.inspected(inspection('reject', 0.97, 10));
    stats.inspected(inspection('pass', 0.55, 12));
    stats.inspected(inspection('pass', 1, 11));
    stats.inspected(inspection('pass', undefined, 9));
    stats.uncertain(V2);
    stats.failed();
    expect(stats.snapshot()).toMatchObject({
      model: V2,
      inspections: 4,
      rejects: 1,
      errors: 1,
      uncertain: 1,
      confidenceHistogram: [1, 0, 0, 0, 0, 1, 0, 0, 0, 2],
    });
  });

  it('does not count what the previous model answered during the swap', () => {
    const stats = new ModelStats();
    stats.reset(V2);
    stats.inspected(inspection('reject', 0.9, 10, V1));
    stats.uncertain(V1);
    expect(stats.snapshot()).toMatchObject({ inspections: 0, uncertain: 0 });
  });

  it('starts from zero at every activation', () => {
    const stats = new ModelStats();
    stats.reset(V1);
    stats.inspected(inspection('reject', 0.9, 10, V1));
    stats.failed();
    stats.reset(V2);
    expect(stats.snapshot()).toEqual({ model: V2, inspections: 0, errors: 0, rejects: 0, uncertain: 0, confidenceHistogram: new Array(10).fill(0), p99Ms: 0 });
  });
});

describe('LatencyHistogram', () => {
  it('reads the p99 within 5% of the true value', () => {
    const histogram = new LatencyHistogram();
    for (let ms = 1; ms <= 1_000; ms++) histogram.record(ms / 10);
    const p99 = histogram.quantile(0.99);
    expect(p99).toBeGreaterThanOrEqual(99);
    expect(p99).toBeLessThanOrEqual(99 * 1.05);
  });

  it('holds latencies beyond its largest bucket and reads 0 when empty', () => {
    const histogram = new LatencyHistogram();
    expect(histogram.quantile(0.99)).toBe(0);
    histogram.record(10 * 60_000);
    expect(histogram.quantile(0.99)).toBeGreaterThanOrEqual(60_000);
  });

  it('counts shadow comparisons and disagreements against the active model, and only for the running shadow', () => {
    const V3 = { name: 'pcb-aoi', version: '3', sha256: 'c'.repeat(64) };
    const stats = new ModelStats();
    stats.reset(V1);
    expect(stats.snapshot()?.shadowModel).toBeUndefined();
    stats.shadowStarted(V2);
    stats.shadowCompared(V1, V2, false);
    stats.shadowCompared(V1, V2, true);
    stats.shadowCompared(V1, V3, true);
    stats.shadowCompared(V3, V2, true);
    expect(stats.snapshot()).toMatchObject({ model: V1, shadowModel: V2, shadowCompared: 2, shadowDisagreed: 1 });

    stats.reset(V3);
    expect(stats.snapshot()).toMatchObject({ model: V3, shadowModel: V2, shadowCompared: 0, shadowDisagreed: 0 });
    stats.shadowStopped();
    stats.shadowCompared(V3, V2, true);
    expect(stats.snapshot()).not.toHaveProperty('shadowCompared');
  });
});
