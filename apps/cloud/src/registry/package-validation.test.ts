import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { parseBackboneManifest } from '@loupe/inference';
import { generateSigningKey, signedPackage, TrustedKeys } from '@loupe/model-package';
import { readOnnxModel } from '@loupe/onnx-graph';
import { classifierModel, FeatureExtractor, headProbabilities, type LinearHead } from '@loupe/trainer';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SQUEEZENET_BACKBONE, squeezeNetBackbonePackage } from '../testing/model-packages';
import { ModelRefusedError, PackageValidation } from './package-validation';

const GOLDEN_IMAGE = join(SQUEEZENET_BACKBONE, '..', '..', 'demo', 'images', 'deeppcb', '12000001_test.jpg');

/** A two-class head that reads the backbone's pooled fire9 and leans on its first channels. */
function smallHead(): LinearHead {
  const dimension = 512;
  const weights = new Float32Array(2 * dimension);
  for (let d = 0; d < 32; d++) weights[d] = 0.05 * (d % 3) - 0.04;
  return { classes: ['good', 'bad'], featureOutput: 'fire9/concat_1', dimension, mean: new Float32Array(dimension).fill(1), scale: new Float32Array(dimension).fill(0.5), weights, bias: Float32Array.of(0.1, -0.1), temperature: 1.5 };
}

describe('PackageValidation of backbones and trained classifiers', () => {
  const publisher = generateSigningKey();
  const validation = new PackageValidation({ publishers: () => Promise.resolve(new TrustedKeys([publisher.publicKey])) }, pino({ level: 'silent' }));
  let scratch: string;
  beforeAll(async () => (scratch = await mkdtemp(join(tmpdir(), 'loupe-validation-'))));
  afterAll(() => scratch && rm(scratch, { recursive: true, force: true }));

  const editManifest = (edit: (manifest: Record<string, unknown>) => Record<string, unknown>) => async (directory: string) => {
    const path = join(directory, 'manifest.json');
    await writeFile(path, JSON.stringify(edit(JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>)));
  };

  it('accepts the shipped backbone, a model with no classes, by the features it yields', async () => {
    const validated = await validation.validate(Readable.from(await squeezeNetBackbonePackage(scratch, { signer: publisher })));
    try {
      expect(validated.verified.model).toMatchObject({ name: 'squeezenet-features', task: 'features', features: { output: 'fire9/concat_1', dimension: 512 } });
      expect(validated.report).toMatchObject({ provider: 'cpu', goldenSamples: 0 });
    } finally {
      await validated.dispose();
    }
  });

  it.each([
    ['a feature output its graph lacks', { output: 'fire10/concat_1', dimension: 512 }, /does not serve as a backbone: cannot expose fire10\/concat_1/],
    ['a dimension its feature map does not have', { output: 'fire9/concat_1', dimension: 1000 }, /pools to 512 features per image; its manifest says 1000/],
  ])('refuses a backbone that names %s', async (_, features, message) => {
    const bytes = await squeezeNetBackbonePackage(scratch, { signer: publisher, before: editManifest((manifest) => ({ ...manifest, features })) });
    const refused = await validation.validate(Readable.from(bytes)).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(ModelRefusedError);
    expect(refused).toMatchObject({ reason: 'model-load-failed', message: expect.stringMatching(message) as unknown });
  });

  it('accepts a head trained on it and written into it, with a golden sample the trainer computed', async () => {
    const backbone = parseBackboneManifest(JSON.parse(await readFile(join(SQUEEZENET_BACKBONE, 'manifest.json'), 'utf8')), 'manifest.json');
    const backboneBytes = await readFile(join(SQUEEZENET_BACKBONE, backbone.modelFile));
    const golden = await readFile(GOLDEN_IMAGE);
    const extractor = await FeatureExtractor.create(backboneBytes, backbone);
    const [features] = await extractor.extract([{ image: golden }]);
    await extractor.release();
    const head = smallHead();
    const probabilities = headProbabilities(head, features!);
    const written = classifierModel(readOnnxModel(backboneBytes), head, {
      name: 'pcb-trained',
      version: '1',
      backbone,
      thresholds: { rejectLabels: ['bad'], minScore: 0.5 },
      goldenSamples: [{ image: 'golden.jpg', expected: { good: probabilities[0]!, bad: probabilities[1]! }, tolerance: 1e-3 }],
    });
    const directory = await mkdtemp(join(scratch, 'trained-'));
    await writeFile(join(directory, written.manifest.modelFile), written.onnx);
    await writeFile(join(directory, 'golden.jpg'), golden);
    await writeFile(join(directory, 'manifest.json'), JSON.stringify(written.manifest));
    const validated = await validation.validate(Readable.from((await signedPackage(directory, publisher)).bytes));
    try {
      expect(validated.verified.model).toMatchObject({ task: 'classification', labels: ['good', 'bad'], features: { output: 'fire9/concat_1' } });
      expect(validated.report).toMatchObject({ provider: 'cpu', goldenSamples: 1 });
    } finally {
      await validated.dispose();
    }
  });
});
