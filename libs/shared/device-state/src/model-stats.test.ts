import { ModelStats } from '@loupe/proto';
import { describe, expect, it } from 'vitest';
import { confidenceBin, modelStatsFromWire, modelStatsToWire } from './model-stats';

const V1 = { name: 'pcb-aoi', version: '1', sha256: 'a'.repeat(64) };
const V2 = { name: 'pcb-aoi', version: '2', sha256: 'b'.repeat(64) };
const counters = { model: V1, inspections: 10, errors: 1, rejects: 2, uncertain: 3, confidenceHistogram: [0, 0, 0, 0, 0, 0, 0, 0, 4, 6], p99Ms: 8 };

describe('model statistics on the wire', () => {
  it.each([
    [-0.5, 0],
    [0, 0],
    [0.099, 0],
    [0.1, 1],
    [0.95, 9],
    [1, 9],
    [1.5, 9],
  ])('puts a top score of %s in bin %s', (score, bin) => {
    expect(confidenceBin(score)).toBe(bin);
  });

  it('writes the shadow both as its message and in the deprecated fields', () => {
    const wire = modelStatsToWire({ ...counters, shadowModel: V2, shadowCompared: 9, shadowDisagreed: 1 });
    expect(wire).toMatchObject({ shadow: { model: V2, compared: 9, disagreed: 1 }, shadowModel: V2, shadowCompared: 9, shadowDisagreed: 1 });
  });

  it('writes no shadow when none runs', () => {
    const wire = modelStatsToWire(counters);
    expect(wire.shadow).toBeUndefined();
    expect(wire).toMatchObject({ shadowCompared: 0, shadowDisagreed: 0 });
  });

  it('prefers the shadow message over the deprecated fields', () => {
    const wire = ModelStats.fromPartial({ ...counters, shadow: { model: V2, compared: 9, disagreed: 1 }, shadowModel: V1, shadowCompared: 99, shadowDisagreed: 99 });
    expect(modelStatsFromWire(wire)).toEqual({ stats: { ...counters, shadowModel: V2, shadowCompared: 9, shadowDisagreed: 1 } });
  });

  it.each([
    ['a histogram of the wrong size', { confidenceHistogram: [1, 2] }, 'model_stats.confidence_histogram must have 10 bins'],
    ['no model', { model: undefined }, 'model_stats.model is required'],
    ['a model name with upper case', { model: { ...V1, name: 'PCB' } }, 'must be a model name'],
  ])('refuses %s', (_why, overrides, message) => {
    const read = modelStatsFromWire(ModelStats.fromPartial({ ...counters, ...overrides }));
    expect(read).toEqual({ issues: [expect.stringContaining(message)] });
  });
});
