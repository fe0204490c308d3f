import { describe, expect, it } from 'vitest';
import { parseModelManifest, type ModelManifest } from '../manifest/model-manifest';
import { scoreAnomaly } from './anomaly';
import { classify, softmax } from './classification';
import { suppressNonMaximum } from './detection';

function manifest(overrides: Record<string, unknown>): ModelManifest {
  return parseModelManifest(
    {
      name: 'm',
      version: '1',
      task: 'classification',
      modelFile: 'm.onnx',
      input: { name: 'x', shape: [-1, 3, 4, 4], layout: 'NCHW', dtype: 'float32', channelOrder: 'RGB', resize: { mode: 'stretch' } },
      output: { task: 'classification', scores: 'y', activation: 'softmax', topK: 2 },
      labels: ['ok', 'scratch', 'dent'],
      ...overrides,
    },
    'test.json',
  );
}

describe('classify', () => {
  it('applies softmax to logits and keeps the top k, highest first', () => {
    const m = manifest({});
    const prediction = classify(Float32Array.from([1, 3, 2]), m.output as Extract<ModelManifest['output'], { task: 'classification' }>, m);
    expect(prediction.scores.map((score) => score.label)).toEqual(['scratch', 'dent']);
    expect(prediction.scores[0]!.score).toBeCloseTo(Math.exp(3) / (Math.exp(1) + Math.exp(3) + Math.exp(2)), 6);
    expect(prediction.verdict).toBe('scratch');
  });

  it('rejects when the top label is a reject label with enough confidence', () => {
    const m = manifest({ decision: { rejectLabels: ['scratch', 'dent'], minScore: 0.5 } });
    const output = m.output as Extract<ModelManifest['output'], { task: 'classification' }>;
    expect(classify(Float32Array.from([0, 5, 0]), output, m).verdict).toBe('reject');
    expect(classify(Float32Array.from([5, 0, 0]), output, m).verdict).toBe('pass');
    // A defect class on top but below minScore passes.
    expect(classify(Float32Array.from([0.9, 1, 0.95]), output, m).verdict).toBe('pass');
  });

  it('refuses an output whose size does not match the labels', () => {
    const m = manifest({});
    expect(() => classify(new Float32Array(5), m.output as Extract<ModelManifest['output'], { task: 'classification' }>, m)).toThrow(
      /emits 5 scores but the manifest lists 3 labels/,
    );
  });

  it('keeps softmax finite for large logits', () => {
    expect([...softmax(Float32Array.from([1000, 1000]))]).toEqual([0.5, 0.5]);
  });
});

describe('scoreAnomaly', () => {
  const output = { task: 'anomaly' as const, score: 'score', threshold: 0.4 };

  it('is anomalous at or above the threshold, with the score normalized to it', () => {
    const high = scoreAnomaly(0.6, output);
    expect(high.verdict).toBe('reject');
    expect(high.anomaly?.normalized).toBeCloseTo(1.5, 6);
    expect(scoreAnomaly(0.4, output).verdict).toBe('reject');
    expect(scoreAnomaly(0.2, output).verdict).toBe('pass');
    expect(scoreAnomaly(0.2, output).anomaly?.normalized).toBeCloseTo(0.5, 6);
  });
});

describe('suppressNonMaximum', () => {
  const box = (classIndex: number, score: number, x1: number) => ({ classIndex, score, x1, y1: 0, x2: x1 + 10, y2: 10 });

  it('keeps the best of overlapping boxes of one class', () => {
    const kept = suppressNonMaximum([box(0, 0.6, 1), box(0, 0.9, 0), box(0, 0.7, 30)], 0.45);
    expect(kept.map((candidate) => candidate.score)).toEqual([0.9, 0.7]);
  });

  it('never suppresses across classes', () => {
    expect(suppressNonMaximum([box(0, 0.9, 0), box(1, 0.8, 0)], 0.45)).toHaveLength(2);
  });
});
