import type { ModelManifest } from '../manifest/model-manifest';
import type { Prediction } from './prediction';

type ClassificationOutput = Extract<ModelManifest['output'], { task: 'classification' }>;

/** Scores of one image (one per label, in label order) as a prediction. */
export function classify(raw: Float32Array, output: ClassificationOutput, manifest: ModelManifest): Prediction {
  const { labels, decision } = manifest;
  if (raw.length !== labels.length) {
    throw new Error(`model emits ${raw.length} scores but the manifest lists ${labels.length} labels`);
  }
  const probabilities = activate(raw, output.activation);
  const ranked = labels
    .map((label, index) => ({ label, score: probabilities[index]! }))
    .sort((a, b) => b.score - a.score);
  const top = ranked[0]!;
  const verdict =
    decision.rejectLabels.length === 0
      ? top.label
      : decision.rejectLabels.includes(top.label) && top.score >= decision.minScore
        ? 'reject'
        : 'pass';
  return { verdict, scores: ranked.slice(0, output.topK), boxes: [] };
}

function activate(raw: Float32Array, activation: ClassificationOutput['activation']): Float32Array {
  switch (activation) {
    case 'none':
      return raw;
    case 'sigmoid':
      return raw.map((value) => 1 / (1 + Math.exp(-value)));
    case 'softmax':
      return softmax(raw);
  }
}

/** Softmax, shifted by the maximum so large logits cannot overflow exp(). */
export function softmax(logits: Float32Array): Float32Array {
  const max = logits.reduce((a, b) => Math.max(a, b), Number.NEGATIVE_INFINITY);
  const exps = logits.map((value) => Math.exp(value - max));
  const sum = exps.reduce((a, b) => a + b, 0);
  return exps.map((value) => value / sum);
}
