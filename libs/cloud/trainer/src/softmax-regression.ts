import type { Objective } from './lbfgs';

/** Standardised training data: features row-major [N, D], a class index and a weight per row. */
export interface TrainingMatrix {
  features: Float64Array;
  labels: readonly number[];
  weights: Float64Array;
  dimension: number;
  classCount: number;
}

/**
 * Parameters are one vector: the weights [K, D] row-major, then the bias [K],
 * the layout `LinearHead` stores them in.
 */
export const parameterCount = (matrix: Pick<TrainingMatrix, 'dimension' | 'classCount'>) => matrix.classCount * (matrix.dimension + 1);

/**
 * The weighted mean cross-entropy of multinomial logistic regression plus
 * l2 / 2 * |W|^2, and its gradient. The bias is not penalised: shrinking it
 * would pull the head towards uniform class frequencies, which is the class
 * weighting's job, not the regulariser's. Convex, so L-BFGS finds the one
 * minimum when l2 > 0.
 */
export function softmaxRegressionObjective(matrix: TrainingMatrix, l2: number): Objective {
  const { features, labels, weights, dimension: D, classCount: K } = matrix;
  const totalWeight = weights.reduce((sum, weight) => sum + weight, 0);
  const logits = new Float64Array(K);
  return (parameters, gradient) => {
    gradient.fill(0);
    let loss = 0;
    for (let i = 0; i < labels.length; i++) {
      const row = i * D;
      rowLogits(parameters, features, row, D, K, logits);
      const logSum = logSumExp(logits);
      const weight = weights[i]! / totalWeight;
      const label = labels[i]!;
      loss += weight * (logSum - logits[label]!);
      // From here `logits` holds the residuals: the loss's derivative by each logit.
      for (let k = 0; k < K; k++) {
        logits[k] = weight * (Math.exp(logits[k]! - logSum) - (k === label ? 1 : 0));
        gradient[K * D + k] = gradient[K * D + k]! + logits[k]!;
      }
      addOuterRow(gradient, logits, features, row, D, K);
    }
    let squares = 0;
    for (let j = 0; j < K * D; j++) {
      squares += parameters[j]! * parameters[j]!;
      gradient[j] = gradient[j]! + l2 * parameters[j]!;
    }
    return loss + (l2 / 2) * squares;
  };
}

/*
 * The two loops below carry almost all of the training time (2 N K D
 * multiply-adds per evaluation). They take classes four at a time, so each
 * feature is read once per four classes instead of once per class: about
 * twice as fast in V8 as one class at a time.
 */

/** logits[k] = bias[k] + W[k] . x for the feature row at `row`. */
function rowLogits(parameters: Float64Array, features: Float64Array, row: number, D: number, K: number, logits: Float64Array): void {
  let k = 0;
  for (; k + 4 <= K; k += 4) {
    const [w0, w1, w2, w3] = [k * D, (k + 1) * D, (k + 2) * D, (k + 3) * D];
    let [s0, s1, s2, s3] = [0, 0, 0, 0];
    for (let d = 0; d < D; d++) {
      const x = features[row + d]!;
      s0 += parameters[w0 + d]! * x;
      s1 += parameters[w1 + d]! * x;
      s2 += parameters[w2 + d]! * x;
      s3 += parameters[w3 + d]! * x;
    }
    [logits[k], logits[k + 1], logits[k + 2], logits[k + 3]] = [s0, s1, s2, s3];
  }
  for (; k < K; k++) {
    let sum = 0;
    for (let d = 0; d < D; d++) sum += parameters[k * D + d]! * features[row + d]!;
    logits[k] = sum;
  }
  for (k = 0; k < K; k++) logits[k] = logits[k]! + parameters[K * D + k]!;
}

/** gradient W[k] += residuals[k] * x for the feature row at `row`. */
function addOuterRow(gradient: Float64Array, residuals: Float64Array, features: Float64Array, row: number, D: number, K: number): void {
  let k = 0;
  for (; k + 4 <= K; k += 4) {
    const [w0, w1, w2, w3] = [k * D, (k + 1) * D, (k + 2) * D, (k + 3) * D];
    const [r0, r1, r2, r3] = [residuals[k]!, residuals[k + 1]!, residuals[k + 2]!, residuals[k + 3]!];
    for (let d = 0; d < D; d++) {
      const x = features[row + d]!;
      gradient[w0 + d] = gradient[w0 + d]! + r0 * x;
      gradient[w1 + d] = gradient[w1 + d]! + r1 * x;
      gradient[w2 + d] = gradient[w2 + d]! + r2 * x;
      gradient[w3 + d] = gradient[w3 + d]! + r3 * x;
    }
  }
  for (; k < K; k++) {
    const r = residuals[k]!;
    for (let d = 0; d < D; d++) gradient[k * D + d] = gradient[k * D + d]! + r * features[row + d]!;
  }
}

export function logSumExp(values: Float64Array): number {
  let top = -Infinity;
  for (const value of values) top = Math.max(top, value);
  let sum = 0;
  for (const value of values) sum += Math.exp(value - top);
  return top + Math.log(sum);
}
