/** Per-feature shift and scale, fitted on the training split, as the head stores them. */
export interface Standardisation {
  mean: Float32Array;
  scale: Float32Array;
}

/**
 * Mean and 1 / population standard deviation of each feature. A feature
 * that barely varies (standard deviation under 1e-6 of its size) gets scale
 * 1: dividing by rounding noise would blow it up into the largest feature.
 * Both are rounded to float32 here, once, so that training sees exactly the
 * numbers the head (and the ONNX graph) will use.
 */
export function fitStandardisation(features: readonly Float32Array[], dimension: number): Standardisation {
  const sum = new Float64Array(dimension);
  for (const vector of features) for (let d = 0; d < dimension; d++) sum[d] = sum[d]! + vector[d]!;
  const mean = new Float32Array(dimension);
  for (let d = 0; d < dimension; d++) mean[d] = sum[d]! / features.length;
  const squares = new Float64Array(dimension);
  for (const vector of features) {
    for (let d = 0; d < dimension; d++) {
      const centred = vector[d]! - mean[d]!;
      squares[d] = squares[d]! + centred * centred;
    }
  }
  const scale = new Float32Array(dimension);
  for (let d = 0; d < dimension; d++) {
    const deviation = Math.sqrt(squares[d]! / features.length);
    scale[d] = deviation > 1e-6 * Math.max(1, Math.abs(mean[d]!)) ? 1 / deviation : 1;
  }
  return { mean, scale };
}

/** The feature vectors standardised into one row-major [N, D] float64 matrix, as the head computes them. */
export function standardise(features: readonly Float32Array[], { mean, scale }: Standardisation): Float64Array {
  const dimension = mean.length;
  const matrix = new Float64Array(features.length * dimension);
  features.forEach((vector, row) => {
    const offset = row * dimension;
    for (let d = 0; d < dimension; d++) matrix[offset + d] = (vector[d]! - mean[d]!) * scale[d]!;
  });
  return matrix;
}
