import type { ModelManifest } from '@loupe/inference';
import { readOnnxModel } from '@loupe/onnx-graph';
import { classifierModel, headProbabilities, type ClassifierModel, type LinearHead } from '@loupe/trainer';
import type { GoldenSample } from './candidate-publisher';
import type { OpenBackbone } from './backbones';
import type { TrainingExample } from './training-examples';

// Test images the candidate carries as golden samples: enough to catch a wrong graph or wrong preprocessing, few enough to keep the package small.
const GOLDEN_SAMPLES = 4;

/**
 * The labels a candidate rejects on: the serving model's where the project
 * still has them (a retrained model keeps its station's verdicts), else
 * every class but the project's first, the good one as projects list their
 * classes (`Normal`, `Defective`).
 */
export function candidateDecision(classes: readonly string[], serving: ModelManifest['decision'] | undefined): ModelManifest['decision'] {
  const kept = serving?.rejectLabels.filter((label) => classes.includes(label)) ?? [];
  if (kept.length > 0) return { rejectLabels: kept, minScore: serving!.minScore };
  return { rejectLabels: classes.slice(1), minScore: 0.5 };
}

/** The head written into its backbone's graph: one ONNX file and the classifier manifest the agent serves. */
export function candidateClassifier(
  modelName: string,
  backbone: Pick<OpenBackbone, 'onnx' | 'spec'>,
  head: LinearHead,
  decision: ModelManifest['decision'],
): ClassifierModel {
  // The registry writes the version it gives the candidate.
  return classifierModel(readOnnxModel(backbone.onnx), head, { name: modelName, version: '0', backbone: backbone.spec, thresholds: decision });
}

/**
 * Whole test images with the probabilities the trainer's own head gives
 * them: the registry runs the candidate on them and must get the same. A
 * crop classifier's candidate (detection projects) carries none, since the
 * ONNX file sees whole images and the head was trained on crops.
 */
export async function goldenSamplesOf(
  head: LinearHead,
  test: readonly { example: TrainingExample; vector: Float32Array }[],
  imageOf: (example: TrainingExample) => Promise<Buffer | undefined>,
): Promise<GoldenSample[]> {
  const samples: GoldenSample[] = [];
  for (const { example, vector } of test) {
    if (samples.length === GOLDEN_SAMPLES) break;
    if (example.box) continue;
    const image = await imageOf(example);
    if (!image) continue;
    const probabilities = headProbabilities(head, vector);
    samples.push({ sampleId: example.sampleId, image, expected: Object.fromEntries(head.classes.map((name, index) => [name, probabilities[index]!])) });
  }
  return samples;
}
