import { type ModelProto, writeOnnxModel } from '@loupe/onnx-graph';
import ort from 'onnxruntime-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { manifestHeads } from '@loupe/inference';
import { anomalyManifest } from './anomaly-manifest';
import { exportAnomalyModel } from './anomaly-model';
import type { MemoryBank } from './memory-bank';
import { SeededRandom } from './seeded-random';
import { composeStationModel, linearClassifierHead, type NamedHead } from './station-model';
import { deepPcb, INPUT, SIZE, SPEC, squeezeNet } from './testing/deeppcb-fixture';

const run = async (model: ModelProto, image: Float32Array) => {
  const session = await ort.InferenceSession.create(writeOnnxModel(model), { intraOpNumThreads: 1 });
  const result = await session.run({ data_0: new ort.Tensor('float32', image, [1, 3, SIZE.height, SIZE.width]) });
  await session.release();
  return Object.fromEntries(Object.entries(result).map(([name, tensor]) => [name, tensor.data as Float32Array]));
};

const maxDifference = (a: Float32Array, b: Float32Array) => a.reduce((largest, value, i) => Math.max(largest, Math.abs(value - b[i]!)), 0);

describe('a station model with an anomaly head and classifier heads', () => {
  let backbone: ModelProto;
  let bank: MemoryBank;
  let monitors: NamedHead[];
  let image: Float32Array;

  beforeAll(async () => {
    backbone = await squeezeNet();
    image = await deepPcb('20085010_test.jpg');
    const random = new SeededRandom(11);
    bank = { dimension: SPEC.features.dimension, vectors: random.gaussians(300 * SPEC.features.dimension, 50), center: new Float32Array(SPEC.features.dimension), coverageRadius: 400, scoreUnit: 400 };
    const classifier = (layer: string, channels: number, classes: number, seed: number): NamedHead => ({
      name: `monitor-${seed}`,
      ...linearClassifierHead(backbone, { layer, weights: new SeededRandom(seed).gaussians(channels * classes, 0.01), bias: new SeededRandom(seed + 1).gaussians(classes, 0.1) }),
    });
    monitors = [classifier('fire9/concat_1', 512, 3, 1), classifier('fire5/concat_1', 256, 2, 2)];
  });

  it('runs the backbone once: each backbone weight feeds one node, as in the backbone alone', () => {
    const { model } = exportAnomalyModel(backbone, SPEC, bank, SIZE, { otherHeads: monitors });
    const backboneWeights = new Set(backbone.graph!.initializer.map((tensor) => tensor.name!));
    const readers = new Map<string, number>();
    for (const node of model.graph!.node) for (const input of node.input) if (backboneWeights.has(input)) readers.set(input, (readers.get(input) ?? 0) + 1);
    const backboneConvs = model.graph!.node.filter((node) => node.opType === 'Conv' && backboneWeights.has(node.input[1]!));
    // conv1 and three convolutions in each of fire2..fire9: the classifier's conv10 is gone.
    expect(backboneConvs).toHaveLength(25);
    expect([...readers.values()].every((count) => count === 1)).toBe(true);
    expect(model.graph!.output.map((output) => output.name)).toEqual(['anomaly/score', 'anomaly/map', 'monitor-1/scores', 'monitor-2/scores']);
  });

  it('gives each head the outputs it gives in a model of its own', async () => {
    const station = exportAnomalyModel(backbone, SPEC, bank, SIZE, { otherHeads: monitors });
    const alone = exportAnomalyModel(backbone, SPEC, bank, SIZE);
    const [together, anomalyOnly, firstOnly, secondOnly] = await Promise.all([
      run(station.model, image),
      run(alone.model, image),
      run(composeStationModel(backbone, [monitors[0]!], SIZE).model, image),
      run(composeStationModel(backbone, [monitors[1]!], SIZE).model, image),
    ]);
    expect(maxDifference(together['anomaly/map']!, anomalyOnly['anomaly/map']!)).toBeLessThan(1e-5);
    expect(maxDifference(together['anomaly/score']!, anomalyOnly['anomaly/score']!)).toBeLessThan(1e-5);
    expect(maxDifference(together['monitor-1/scores']!, firstOnly['monitor-1/scores']!)).toBeLessThan(1e-5);
    expect(maxDifference(together['monitor-2/scores']!, secondOnly['monitor-2/scores']!)).toBeLessThan(1e-5);
    expect(together['monitor-1/scores']!.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
  });

  it('describes every head in one manifest, with the verdict rule', () => {
    const station = exportAnomalyModel(backbone, SPEC, bank, SIZE, { otherHeads: monitors });
    const manifest = anomalyManifest(station.metadata, {
      name: 'station-7',
      version: '3',
      modelFile: 'model.onnx',
      input: INPUT,
      threshold: 1.2,
      monitors: [
        { name: 'monitor-1', output: station.values['monitor-1']!.scores!, labels: ['normal', 'open', 'short'], rejectLabels: ['open', 'short'] },
        { name: 'monitor-2', output: station.values['monitor-2']!.scores!, labels: ['normal', 'spur'], rejectLabels: ['spur'], role: 'report' },
      ],
    });
    expect(manifestHeads(manifest).map((head) => [head.name, head.role])).toEqual([
      ['anomaly', 'vote'],
      ['monitor-1', 'vote'],
      ['monitor-2', 'report'],
    ]);
    expect(manifest.verdict.reject).toBe('any');
    const served = manifestHeads(manifest).map((head) => (head.output.task === 'classification' ? head.output.scores : head.output.task === 'anomaly' ? head.output.score : head.output.output));
    expect(served).toEqual(['anomaly/score', 'monitor-1/scores', 'monitor-2/scores']);
    expect(station.model.graph!.output.map((output) => output.name)).toEqual(expect.arrayContaining(served));
  });

  it('refuses heads that share a name, a head with nothing to say, and a classifier with malformed weights', () => {
    expect(() => composeStationModel(backbone, [monitors[0]!, monitors[0]!], SIZE)).toThrow(/head names must differ/);
    expect(() => composeStationModel(backbone, [], SIZE)).toThrow(/at least one head/);
    expect(() => linearClassifierHead(backbone, { layer: 'fire9/concat_1', weights: new Float32Array(7), bias: new Float32Array(2) })).toThrow(/\[channels, classes\] weights/);
  });
});
