/**
 * A classifier head over pooled backbone features, as the trainer produces
 * it and as it is written into the backbone's ONNX graph: standardise,
 * linear layer, divide by the calibration temperature, softmax.
 *
 *   p = softmax(((x - mean) * scale) W^T + bias) / temperature)
 */
export interface LinearHead {
  /** Output order of the probabilities. */
  classes: string[];
  /** The backbone value the head reads (a feature map [N, D, H, W] pooled to [N, D]). */
  featureOutput: string;
  /** D, the length of one pooled feature vector. */
  dimension: number;
  /** [D]: subtracted from a feature vector first. */
  mean: Float32Array;
  /** [D]: then multiplied (1 / standard deviation, or 1 for a constant feature). */
  scale: Float32Array;
  /** [classes, D], row-major. */
  weights: Float32Array;
  /** [classes] */
  bias: Float32Array;
  /** Logits are divided by it before the softmax; fitted on the validation split (temperature scaling). */
  temperature: number;
}

/**
 * The head's logits before the temperature, in float64. The trainer fits the
 * temperature and evaluates through this same arithmetic, so what it reports
 * is exactly what `headProbabilities` (and, within float32, the graph) gives.
 */
export function headLogits(head: LinearHead, features: Float32Array): Float64Array {
  const { dimension, classes } = head;
  if (features.length !== dimension) throw new RangeError(`the head takes ${dimension} features; got ${features.length}`);
  const logits = new Float64Array(classes.length);
  for (let c = 0; c < classes.length; c++) {
    let sum = head.bias[c]!;
    for (let d = 0; d < dimension; d++) sum += (features[d]! - head.mean[d]!) * head.scale[d]! * head.weights[c * dimension + d]!;
    logits[c] = sum;
  }
  return logits;
}

/** softmax(logits / temperature), in place: the one softmax the head and the trainer share. */
export function softmaxInPlace(logits: Float64Array, temperature = 1): Float64Array {
  let top = -Infinity;
  for (let c = 0; c < logits.length; c++) top = Math.max(top, (logits[c] = logits[c]! / temperature));
  let total = 0;
  for (let c = 0; c < logits.length; c++) total += logits[c] = Math.exp(logits[c]! - top);
  for (let c = 0; c < logits.length; c++) logits[c] = logits[c]! / total;
  return logits;
}

/** The head's probabilities for one pooled feature vector, in float64: the reference the ONNX graph must reproduce. */
export function headProbabilities(head: LinearHead, features: Float32Array): Float64Array {
  return softmaxInPlace(headLogits(head, features), head.temperature);
}
