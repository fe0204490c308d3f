import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { SettledSample } from '../labeling/dataset-export.repository';
import { splitOf } from '../labeling/dataset-split';
import { bySplit, shortfallOf, trainingExamples } from './training-examples';

const settled = (answer: SettledSample['answer'], sampleId = randomUUID()): SettledSample => ({
  sampleId,
  imageKey: `samples/${sampleId}`,
  stationId: 'line-1',
  capturedAt: new Date(0),
  modelVersion: '1',
  verdict: 'pass',
  prediction: {},
  answer,
  labelers: ['labeler@example.com'],
  reviewer: null,
});

describe('trainingExamples', () => {
  it('takes one whole-image example per classified sample, in the split of its id, and leaves out classes the project lacks', () => {
    const samples = [settled({ className: 'ok' }), settled({ className: 'scratch' }), settled({ className: 'removed' }), settled({})];
    const examples = trainingExamples({ task: 'classification', classes: ['ok', 'scratch'] }, samples, 1.1);
    expect(examples).toEqual([
      { sampleId: samples[0]!.sampleId, imageKey: samples[0]!.imageKey, split: splitOf(samples[0]!.sampleId), cropKey: '', label: 0, className: 'ok' },
      { sampleId: samples[1]!.sampleId, imageKey: samples[1]!.imageKey, split: splitOf(samples[1]!.sampleId), cropKey: '', label: 1, className: 'scratch' },
    ]);
  });

  it('takes a crop per labeled box of a detection sample, keyed by box and scale, all in the sample split', () => {
    const sample = settled({ boxes: [{ className: 'short', x: 1, y: 2, width: 3, height: 4 }, { className: 'open', x: 5, y: 6, width: 7, height: 8 }] });
    const examples = trainingExamples({ task: 'detection', classes: ['open', 'short'] }, [sample], 1.5);
    expect(examples.map((e) => [e.cropKey, e.label, e.split])).toEqual([
      ['1,2,3,4@1.5', 1, splitOf(sample.sampleId)],
      ['5,6,7,8@1.5', 0, splitOf(sample.sampleId)],
    ]);
    expect(examples[0]!.box).toEqual({ x: 1, y: 2, width: 3, height: 4 });
  });

  it('never yields a label outside the classes, whatever the answers hold', () => {
    fc.assert(
      fc.property(fc.array(fc.record({ className: fc.option(fc.string(), { nil: undefined }) }), { maxLength: 30 }), (answers) => {
        const classes = ['a', 'b', 'c'];
        const examples = trainingExamples({ task: 'anomaly', classes }, answers.map((answer) => settled(answer)), 1.1);
        expect(examples.every((example) => classes[example.label] === example.className)).toBe(true);
        expect(examples.length).toBe(answers.filter((answer) => answer.className !== undefined && classes.includes(answer.className)).length);
      }),
    );
  });
});

describe('shortfallOf', () => {
  const example = (label: number) => ({ sampleId: randomUUID(), imageKey: 'k', cropKey: '', label, className: String(label), split: 'train' as const });

  it('says every split that keeps a head from being trained and judged', () => {
    expect(shortfallOf({ train: [example(0)], val: [], test: [] })).toMatch(/holds one class.*validation split is empty.*test split is empty/);
    expect(shortfallOf({ train: [example(0), example(1)], val: [example(0)], test: [example(1)] })).toBeUndefined();
  });

  it('groups examples by split in order', () => {
    const examples = [example(0), { ...example(1), split: 'test' as const }, example(2)];
    expect(bySplit(examples)).toEqual({ train: [examples[0], examples[2]], val: [], test: [examples[1]] });
  });
});
