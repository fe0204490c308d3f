import { trainingRecipeSchema } from '@loupe/api-contracts';
import { describe, expect, it } from 'vitest';
import { evaluate } from './evaluation';
import { gaussianBlobs, seededNormal, seededRandom } from './gaussian-blobs.fixture';
import { headProbabilities } from './linear-head';
import { trainHead } from './trainer';
import type { LabeledFeatures, TrainHeadRequest } from './training-request';

const recipe = trainingRecipeSchema.parse({});
const classesOf = (count: number) => Array.from({ length: count }, (_, k) => `class-${k}`);
const none: LabeledFeatures = { features: [], labels: [] };

function request(train: LabeledFeatures, val: LabeledFeatures, overrides: Partial<TrainHeadRequest> = {}): TrainHeadRequest {
  return { classes: classesOf(Math.max(...train.labels, ...val.labels) + 1), featureOutput: 'pool', train, val, recipe, ...overrides };
}

const probabilitiesOf = (result: ReturnType<typeof trainHead>, split: LabeledFeatures) => split.features.map((vector) => headProbabilities(result.head, vector));

describe('trainHead', () => {
  it('separates separable classes, on train and on held-out samples', () => {
    const blobs = gaussianBlobs({ dimension: 8, spread: 3, seed: 1 }, 3);
    const result = trainHead(request(blobs.draw([30, 30, 30]), blobs.draw([10, 10, 10])));
    expect(result.validation?.accuracy).toBe(1);
    const test = blobs.draw([50, 50, 50]);
    expect(evaluate(result.head.classes, probabilitiesOf(result, test), test.labels).accuracy).toBe(1);
  });

  it('reports on validation exactly what headProbabilities of the returned head gives', () => {
    const blobs = gaussianBlobs({ dimension: 16, spread: 0.4, seed: 2 }, 4);
    const val = blobs.draw([15, 15, 15, 15]);
    const result = trainHead(request(blobs.draw([40, 40, 40, 40]), val));
    expect(result.validation).toEqual(evaluate(result.head.classes, probabilitiesOf(result, val), val.labels));
  });

  it('returns a head the graph can hold: float32 arrays of the right sizes and the request names', () => {
    const blobs = gaussianBlobs({ dimension: 5, spread: 1, seed: 3 }, 3);
    const { head } = trainHead(request(blobs.draw([10, 10, 10]), blobs.draw([5, 5, 5]), { featureOutput: 'features/pool' }));
    expect(head).toMatchObject({ classes: classesOf(3), featureOutput: 'features/pool', dimension: 5 });
    expect([head.mean.length, head.scale.length, head.weights.length, head.bias.length]).toEqual([5, 5, 15, 3]);
    expect(head.weights).toBeInstanceOf(Float32Array);
  });

  it('raises the recall of a rare class when classes are weighted', () => {
    const blobs = gaussianBlobs({ dimension: 4, spread: 0.6, seed: 4 }, 2);
    const [train, val] = [blobs.draw([300, 15]), blobs.draw([100, 100])];
    const recallOfRare = (classWeighting: boolean) => {
      const result = trainHead(request(train, val, { recipe: { ...recipe, classWeighting, l2Candidates: [1e-2] } }));
      return result.validation!.perClass[1]!.recall;
    };
    const [unweighted, weighted] = [recallOfRare(false), recallOfRare(true)];
    expect(weighted).toBeGreaterThan(unweighted + 0.15);
  });

  it('picks the L2 strength with the better validation macro-F1', () => {
    // Two features with noise 10 along (1, 1) and 0.1 along (1, -1), class means 1 apart along x.
    // Strong L2 leaves the weights along the class-mean difference, which the noise swamps (a coin toss);
    // weak L2 finds the quiet direction (1, -1), in which the classes are 7 noise widths apart.
    const normal = seededNormal(seededRandom(5));
    const draw = (perClass: number): LabeledFeatures => {
      const labels = Array.from({ length: 2 * perClass }, (_, i) => i % 2);
      const features = labels.map((label) => {
        const [loud, quiet] = [10 * normal(), 0.1 * normal()];
        return Float32Array.from([label + (loud + quiet) / Math.SQRT2, (loud - quiet) / Math.SQRT2]);
      });
      return { features, labels };
    };
    const result = trainHead(request(draw(100), draw(50), { recipe: { ...recipe, l2Candidates: [1e3, 1e-3] } }));
    expect(result.l2).toBe(1e-3);
    const [strong, weak] = result.candidates;
    expect(strong).toMatchObject({ l2: 1e3 });
    expect(strong!.macroF1!).toBeLessThan(0.7);
    expect(weak!.macroF1!).toBeGreaterThan(0.95);
  });

  it('breaks a tie in validation macro-F1 towards the stronger L2', () => {
    const blobs = gaussianBlobs({ dimension: 6, spread: 4, seed: 6 }, 3);
    const result = trainHead(request(blobs.draw([20, 20, 20]), blobs.draw([10, 10, 10]), { recipe: { ...recipe, l2Candidates: [1e-3, 1e-1, 1e-2] } }));
    expect(result.candidates.map((fit) => [fit.l2, fit.macroF1])).toEqual([[1e-1, 1], [1e-2, 1], [1e-3, 1]]);
    expect(result.l2).toBe(1e-1);
  });

  it('softens an over-confident head: the fitted temperature lowers validation NLL and calibration error', () => {
    const blobs = gaussianBlobs({ dimension: 40, spread: 0.25, seed: 7 }, 3);
    const val = blobs.draw([100, 100, 100]);
    // No regularisation and few samples in 40 dimensions: the weights grow until train is fit with certainty.
    const result = trainHead(request(blobs.draw([15, 15, 15]), val, { recipe: { ...recipe, l2Candidates: [0] } }));
    expect(result.head.temperature).toBeGreaterThan(1.5);
    const uncalibrated = { ...result.head, temperature: 1 };
    const nll = (head: typeof result.head) => -val.features.reduce((sum, vector, i) => sum + Math.log(headProbabilities(head, vector)[val.labels[i]!]!), 0) / val.labels.length;
    expect(nll(result.head)).toBeLessThan(nll(uncalibrated));
    const before = evaluate(uncalibrated.classes, val.features.map((vector) => headProbabilities(uncalibrated, vector)), val.labels);
    expect(result.validation!.calibrationError).toBeLessThan(before.calibrationError);
    expect(result.validation!.accuracy).toBe(before.accuracy);
  });

  it('without a validation split, takes the strongest L2 unselected and leaves the head uncalibrated', () => {
    const blobs = gaussianBlobs({ dimension: 4, spread: 2, seed: 8 }, 2);
    const result = trainHead(request(blobs.draw([10, 10]), none, { classes: classesOf(2) }));
    expect(result.validation).toBeNull();
    expect(result.head.temperature).toBe(1);
    expect(result.l2).toBe(0.1);
    expect(result.candidates).toEqual([expect.objectContaining({ l2: 0.1, macroF1: null })]);
  });

  it('gives the same head for the same request', () => {
    const blobs = gaussianBlobs({ dimension: 12, spread: 0.5, seed: 9 }, 3);
    const [train, val] = [blobs.draw([20, 20, 20]), blobs.draw([5, 5, 5])];
    const copy = (split: LabeledFeatures) => ({ features: split.features.map((vector) => Float32Array.from(vector)), labels: [...split.labels] });
    expect(trainHead(request(copy(train), copy(val))).head).toEqual(trainHead(request(train, val)).head);
  });

  it('reports progress that only rises and ends at its total', () => {
    const blobs = gaussianBlobs({ dimension: 4, spread: 1, seed: 10 }, 2);
    const calls: [number, number][] = [];
    trainHead(request(blobs.draw([10, 10]), blobs.draw([5, 5]), { onProgress: (done, total) => calls.push([done, total]) }));
    const total = calls[0]![1];
    expect(calls.every(([, t]) => t === total)).toBe(true);
    for (let i = 1; i < calls.length; i++) expect(calls[i]![0]).toBeGreaterThanOrEqual(calls[i - 1]![0]);
    expect(calls.at(-1)).toEqual([total, total]);
  });

  it('trains 6 classes of 512-dimensional blobs to at least 0.85 test accuracy', () => {
    // spread 0.15: centres ~4.8 apart against unit noise, a Bayes accuracy near 0.97; 100 samples per class, 512 features.
    const blobs = gaussianBlobs({ dimension: 512, spread: 0.15, seed: 11 }, 6);
    const counts = (n: number) => new Array<number>(6).fill(n);
    const result = trainHead(request(blobs.draw(counts(100)), blobs.draw(counts(20))));
    const test = blobs.draw(counts(100));
    const accuracy = evaluate(result.head.classes, probabilitiesOf(result, test), test.labels).accuracy;
    expect(accuracy).toBeGreaterThanOrEqual(0.85);
  });
});
