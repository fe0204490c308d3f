import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeImage, inputSize, type ModelManifest, ModelPipeline, type PipelineSettings, writeImageTensor } from '@loupe/inference';
import { readOnnxModel } from '@loupe/onnx-graph';
import fc from 'fast-check';
import ort from 'onnxruntime-node';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { classifierModel, foldedGemm } from './classifier-model';
import { FeatureExtractor } from './feature-extractor';
import { headProbabilities, type LinearHead } from './linear-head';
import { demoImages, randomHead, shippedBackbone } from './testing/trainer-fixtures';

const CLASSES = ['normal', 'open', 'short', 'spur'];
const maxDifference = (a: ArrayLike<number>, b: ArrayLike<number>) => Array.from(a).reduce((largest, value, i) => Math.max(largest, Math.abs(value - b[i]!)), 0);

const scoresOutput = ({ output }: ModelManifest) => {
  if (output.task !== 'classification') throw new Error(`a ${output.task} model, not a classifier`);
  return output.scores;
};

const settings: PipelineSettings = {
  providers: {
    chain: ['cpu'],
    tensorrt: { fp16: false, int8: false, engineCacheDir: tmpdir(), workspaceBytes: 0 },
    cuda: { deviceId: 0 },
    cpu: { intraOpThreads: 2, interOpThreads: 1, spinWait: false },
  },
  batch: { maxBatch: 4, maxDelayMs: 0, maxQueue: 16, concurrentBatches: 1 },
  maxImagePixels: 50_000_000,
  warmUpRuns: 1,
};

describe('a trained head written into its backbone', () => {
  let backbone: Awaited<ReturnType<typeof shippedBackbone>>;
  let head: LinearHead;
  let images: { path: string; bytes: Buffer }[];
  let expected: Float64Array[];
  let scratch: string;

  beforeAll(async () => {
    backbone = await shippedBackbone();
    images = await demoImages(6);
    const extractor = await FeatureExtractor.create(backbone.bytes, backbone.manifest, { threads: 2 });
    const features = await extractor.extract(images.map(({ bytes }) => ({ image: bytes })));
    await extractor.release();
    head = randomHead({ classes: CLASSES, dimension: 512, featureOutput: backbone.manifest.features.output, seed: 7 });
    expected = features.map((vector) => headProbabilities(head, vector));
    scratch = await mkdtemp(join(tmpdir(), 'loupe-classifier-'));
  });
  afterAll(() => scratch && rm(scratch, { recursive: true, force: true }));

  const written = () =>
    classifierModel(readOnnxModel(backbone.bytes), head, {
      name: 'pcb-defects',
      version: '2',
      backbone: backbone.manifest,
      thresholds: { rejectLabels: ['open', 'short', 'spur'], minScore: 0.4 },
    });

  it('is a head whose probabilities are not trivial: the comparison below means something', () => {
    const top = expected.map((probabilities) => Math.max(...probabilities));
    expect(Math.max(...top)).toBeLessThan(0.999);
    expect(Math.max(...expected.map((probabilities) => maxDifference(probabilities, expected[0]!)))).toBeGreaterThan(1e-2);
  });

  it("gives in onnxruntime the trainer's probabilities within 1e-5, from one ONNX file", async () => {
    const { onnx, manifest } = written();
    const { input } = manifest;
    const { width, height } = inputSize(input);
    const batch = new Float32Array(images.length * 3 * width * height);
    for (const [index, { bytes }] of images.entries()) writeImageTensor((await decodeImage(bytes, input)).pixels, input, batch, index);
    const session = await ort.InferenceSession.create(onnx, { intraOpNumThreads: 2 });
    const result = await session.run({ [input.name]: new ort.Tensor('float32', batch, [images.length, 3, height, width]) });
    await session.release();
    const scores = result[scoresOutput(manifest)]!.data as Float32Array;
    expected.forEach((probabilities, index) => expect(maxDifference(scores.subarray(index * 4, index * 4 + 4), probabilities)).toBeLessThan(1e-5));
  });

  it("is served by the agent's pipeline with the same scores, and its golden samples pass there", async () => {
    const { onnx, manifest } = written();
    const directory = await mkdtemp(join(scratch, 'model-'));
    await writeFile(join(directory, manifest.modelFile), onnx);
    await writeFile(join(directory, 'golden.jpg'), images[0]!.bytes);
    const golden = { image: 'golden.jpg', expected: Object.fromEntries(CLASSES.map((label, c) => [label, expected[0]![c]!])), tolerance: 1e-4 };
    await writeFile(join(directory, 'manifest.json'), JSON.stringify({ ...manifest, goldenSamples: [golden] }));
    const pipeline = await ModelPipeline.open(join(directory, 'manifest.json'), settings, pino({ level: 'silent' }));
    try {
      for (const [index, { bytes }] of images.entries()) {
        const { prediction } = await pipeline.inspect(bytes);
        const scores = new Map(prediction.scores.map(({ label, score }) => [label, score]));
        expect(maxDifference(CLASSES.map((label) => scores.get(label)!), expected[index]!)).toBeLessThan(1e-5);
      }
    } finally {
      await pipeline.close();
    }
  });

  it('has the manifest a classifier needs: the backbone’s preprocessing, classes, thresholds, and its features for the next head', () => {
    const { manifest } = written();
    expect(manifest).toMatchObject({
      task: 'classification',
      input: { ...backbone.manifest.input, shape: [-1, 3, 224, 224] },
      output: { task: 'classification', scores: 'classifier/scores', activation: 'none', topK: 4 },
      labels: CLASSES,
      decision: { rejectLabels: ['open', 'short', 'spur'], minScore: 0.4 },
      features: { output: 'fire9/concat_1', dimension: 512 },
    });
  });

  it('refuses a head that does not fit its dimension, before writing anything', () => {
    expect(() => classifierModel(readOnnxModel(backbone.bytes), { ...head, scale: new Float32Array(3), temperature: 0 }, { name: 'x', version: '1', backbone: backbone.manifest, thresholds: { rejectLabels: [], minScore: 0.5 } })).toThrow(
      /scale has 3 values; temperature 0 is not a positive number/,
    );
    const nhwc = { ...backbone.manifest, input: { ...backbone.manifest.input, layout: 'NHWC' as const, shape: [-1, 224, 224, 3] as [number, number, number, number] } };
    expect(() => classifierModel(readOnnxModel(backbone.bytes), head, { name: 'x', version: '1', backbone: nhwc, thresholds: { rejectLabels: [], minScore: 0.5 } })).toThrow(/NCHW backbones only/);
  });
});

describe('foldedGemm', () => {
  it('is the head: one linear layer on raw features gives the same probabilities', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1000 }), fc.integer({ min: 2, max: 5 }), fc.double({ min: 0.2, max: 5, noNaN: true }), (seed, classes, temperature) => {
        const dimension = 16;
        const head = randomHead({ classes: Array.from({ length: classes }, (_, c) => `c${c}`), dimension, featureOutput: 'x', seed, temperature });
        const features = randomHead({ classes: ['a'], dimension, featureOutput: 'x', seed: seed + 1 }).scale.map((value) => value * 3);
        const { weights, bias } = foldedGemm(head);
        const logits = Array.from({ length: classes }, (_, c) => features.reduce((sum, value, d) => sum + value * weights[d * classes + c]!, bias[c]!));
        const top = Math.max(...logits);
        const exp = logits.map((logit) => Math.exp(logit - top));
        const total = exp.reduce((a, b) => a + b, 0);
        expect(maxDifference(exp.map((value) => value / total), headProbabilities(head, features))).toBeLessThan(1e-5);
      }),
    );
  });
});
