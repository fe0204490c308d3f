/**
 * One weight per training sample. Balanced (inverse frequency): a class with
 * n of N samples, among K classes present, weighs N / (K n) per sample, so
 * each present class carries the same total weight and a rare defect counts
 * as much as the normal class (scikit-learn's `class_weight="balanced"`).
 * Otherwise every sample weighs 1. Either way the weights sum to N.
 */
export function sampleWeights(labels: readonly number[], classCount: number, balanced: boolean): Float64Array {
  const weights = new Float64Array(labels.length).fill(1);
  if (!balanced) return weights;
  const counts = new Float64Array(classCount);
  for (const label of labels) counts[label] = counts[label]! + 1;
  const present = counts.filter((count) => count > 0).length;
  labels.forEach((label, i) => (weights[i] = labels.length / (present * counts[label]!)));
  return weights;
}
