/**
 * Builds the demo's starting model (tools/demo/models/pcb-defects, version 1)
 * with the trainer's own code: the shipped SqueezeNet backbone's pooled
 * features of the demo crops (tools/demo/images/deeppcb-crops), a head
 * trained on a deliberately small part of them, written into the backbone's
 * graph with golden samples, and evaluated on crops of boards it never saw.
 * Small on purpose: the labeling loop of `npm start` should visibly beat it.
 * Deterministic (one onnxruntime thread, a deterministic trainer).
 *
 *   npm run demo:build-model
 */
import { copyFile, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { EvaluationDto } from '@loupe/api-contracts';
import { trainingRecipeSchema } from '@loupe/api-contracts';
import { parseBackboneManifest } from '@loupe/inference';
import { readOnnxModel } from '@loupe/onnx-graph';
import { classifierModel, evaluate, FeatureExtractor, headProbabilities, type LabeledFeatures, trainHead } from '@loupe/trainer';
import { DEMO_START_MODEL, type DemoCrop, demoCropSplit, demoModelReadme } from './start-model-recipe';

const BACKBONE_DIR = join(import.meta.dirname, '..', 'backbones', 'squeezenet-features');
const CROPS_DIR = join(import.meta.dirname, 'images', 'deeppcb-crops');
const TARGET = join(import.meta.dirname, 'models', DEMO_START_MODEL.name);

const backboneManifest = parseBackboneManifest(JSON.parse(await readFile(join(BACKBONE_DIR, 'manifest.json'), 'utf8')), 'squeezenet-features manifest');
const backboneBytes = await readFile(join(BACKBONE_DIR, backboneManifest.modelFile));
const crops = (await readdir(CROPS_DIR)).filter((name) => name.endsWith('.png')).sort();
const split = demoCropSplit(crops);

const extractor = await FeatureExtractor.create(backboneBytes, backboneManifest, { threads: 1 });
const featuresOf = async (set: readonly DemoCrop[]): Promise<LabeledFeatures> => ({
  features: await extractor.extract(await Promise.all(set.map(async (crop) => ({ image: await readFile(join(CROPS_DIR, crop.file)) })))),
  labels: set.map((crop) => DEMO_START_MODEL.classes.indexOf(crop.label)),
});
const [train, val, test, rest] = [await featuresOf(split.train), await featuresOf(split.val), await featuresOf(split.test), await featuresOf(split.rest)];
await extractor.release();

const classes = DEMO_START_MODEL.classes;
const recipe = trainingRecipeSchema.parse({});
const featureOutput = backboneManifest.features.output;
const trained = trainHead({ classes, featureOutput, train, val, recipe });
const probabilities = (features: LabeledFeatures) => features.features.map((vector) => headProbabilities(trained.head, vector));
// What the same recipe reaches with every crop of the training boards labeled: the room the loop has to improve.
const full = trainHead({ classes, featureOutput, train: { features: [...train.features, ...rest.features], labels: [...train.labels, ...rest.labels] }, val, recipe });
const fullEvaluation = evaluate(classes, test.features.map((vector) => headProbabilities(full.head, vector)), test.labels);

// Golden samples: the first held-out crop of each class the head gets clearly right (a wrong or borderline one would
// document a mistake), with the probabilities it gives it.
const testProbabilities = probabilities(test);
const testEvaluation = evaluate(classes, testProbabilities, test.labels);
const golden = classes.map((label, c) => {
  const index = split.test.findIndex((crop, i) => crop.label === label && testProbabilities[i]![c]! > 0.6);
  const expected = Object.fromEntries(classes.map((name, k) => [name, Number(testProbabilities[index]![k]!.toFixed(4))]));
  return { crop: split.test[index]!, sample: { image: `sample-images/${split.test[index]!.file}`, expected, tolerance: 0.01 } };
});
const model = classifierModel(readOnnxModel(backboneBytes), trained.head, {
  name: DEMO_START_MODEL.name,
  version: '1',
  modelFile: DEMO_START_MODEL.modelFile,
  backbone: backboneManifest,
  thresholds: { rejectLabels: ['Defective'], minScore: 0.5 },
  goldenSamples: golden.map(({ sample }) => sample),
});

await rm(TARGET, { recursive: true, force: true });
await mkdir(join(TARGET, 'sample-images'), { recursive: true });
await writeFile(join(TARGET, DEMO_START_MODEL.modelFile), model.onnx);
await writeFile(join(TARGET, 'manifest.json'), `${JSON.stringify(model.manifest, null, 2)}\n`);
for (const { crop } of golden) await copyFile(join(CROPS_DIR, crop.file), join(TARGET, 'sample-images', crop.file));
await copyFile(join(BACKBONE_DIR, 'LICENSE'), join(TARGET, 'LICENSE'));
const figures = { split: { train: split.train.length, val: split.val.length, test: split.test.length }, l2: trained.l2, temperature: trained.head.temperature };
await writeFile(join(TARGET, 'README.md'), demoModelReadme({ ...figures, groups: split.groups, test: testEvaluation, full: fullEvaluation, fullTrain: split.train.length + split.rest.length }));
console.log(JSON.stringify({ ...figures, test: summary(testEvaluation), allTrainingBoards: summary(fullEvaluation) }));

function summary(evaluation: EvaluationDto) {
  return { accuracy: evaluation.accuracy, macroF1: evaluation.macroF1, confusion: evaluation.confusion };
}
