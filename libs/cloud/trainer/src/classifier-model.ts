import { composeStationModel, linearClassifierHead } from '@loupe/anomaly';
import { type BackboneSpec, inputSize, type ModelManifest, parseModelManifest } from '@loupe/inference';
import { type ModelProto, writeOnnxModel } from '@loupe/onnx-graph';
import type { LinearHead } from './linear-head';

/** The head's name inside the model: its values and its output are prefixed with it. */
const HEAD = 'classifier';

export interface ClassifierManifestFields {
  name: string;
  version: string;
  /** The ONNX file's name in the package. */
  modelFile?: string;
  /** The backbone's manifest: its preprocessing is the classifier's. */
  backbone: BackboneSpec;
  /** From the trainer's calibration: the labels that reject, and the probability they need. */
  thresholds: { rejectLabels: string[]; minScore: number };
  /** Images in the package with the probabilities the trainer expects of them (the registry re-runs them). */
  goldenSamples?: { image: string; expected: Record<string, number>; tolerance: number }[];
}

export interface ClassifierModel {
  onnx: Uint8Array;
  manifest: ModelManifest;
}

/**
 * The trained head written into its backbone's graph as one ONNX model the
 * agent serves like any classifier: the backbone runs, the feature map is
 * pooled, one Gemm and a softmax give the probabilities `headProbabilities`
 * gives. Standardisation and temperature are folded into the Gemm, so the
 * graph adds no operator for them.
 */
export function classifierModel(backbone: ModelProto, head: LinearHead, fields: ClassifierManifestFields): ClassifierModel {
  // composeStationModel fixes the image input's size at axes 2 and 3.
  if (fields.backbone.input.layout !== 'NCHW') throw new RangeError(`a head is written into NCHW backbones only; this one takes ${fields.backbone.input.layout}`);
  const folded = foldedGemm(head);
  const graph = linearClassifierHead(backbone, { layer: head.featureOutput, ...folded });
  const station = composeStationModel(backbone, [{ name: HEAD, ...graph }], inputSize(fields.backbone.input));
  const scores = station.values[HEAD]!.scores!;
  const [, ...imageDims] = fields.backbone.input.shape;
  const manifest = parseModelManifest(
    {
      name: fields.name,
      version: fields.version,
      task: 'classification',
      modelFile: fields.modelFile ?? 'model.onnx',
      input: { ...fields.backbone.input, shape: [-1, ...imageDims] },
      output: { task: 'classification', scores, activation: 'none', topK: head.classes.length },
      labels: head.classes,
      decision: fields.thresholds,
      goldenSamples: fields.goldenSamples ?? [],
      // The layer the head reads stays in the graph: the classifier serves as a backbone too.
      features: { output: head.featureOutput, dimension: head.dimension },
    },
    `${fields.name}@${fields.version} manifest`,
  );
  return { onnx: writeOnnxModel(station.model), manifest };
}

/**
 * The head as one linear layer on raw pooled features, in the [channels,
 * classes] layout linearClassifierHead takes:
 *   W'[d, c] = W[c, d] * scale[d] / T,  b'[c] = (b[c] - sum_d W[c, d] * scale[d] * mean[d]) / T
 * Sums in float64, so folding loses nothing float32 could keep.
 */
export function foldedGemm(head: LinearHead): { weights: Float32Array; bias: Float32Array } {
  checkHead(head);
  const { dimension, temperature } = head;
  const classes = head.classes.length;
  const weights = new Float32Array(dimension * classes);
  const bias = new Float32Array(classes);
  for (let c = 0; c < classes; c++) {
    let shift = 0;
    for (let d = 0; d < dimension; d++) {
      const scaled = head.weights[c * dimension + d]! * head.scale[d]!;
      weights[d * classes + c] = scaled / temperature;
      shift += scaled * head.mean[d]!;
    }
    bias[c] = (head.bias[c]! - shift) / temperature;
  }
  return { weights, bias };
}

function checkHead(head: LinearHead): void {
  const { dimension } = head;
  const classes = head.classes.length;
  const problems = [
    head.mean.length !== dimension && `mean has ${head.mean.length} values`,
    head.scale.length !== dimension && `scale has ${head.scale.length} values`,
    head.weights.length !== classes * dimension && `weights has ${head.weights.length} values, not ${classes} x ${dimension}`,
    head.bias.length !== classes && `bias has ${head.bias.length} values for ${classes} classes`,
    !(head.temperature > 0 && Number.isFinite(head.temperature)) && `temperature ${head.temperature} is not a positive number`,
  ].filter((problem) => problem !== false);
  if (problems.length > 0) throw new RangeError(`the head does not fit ${dimension} features: ${problems.join('; ')}`);
}
