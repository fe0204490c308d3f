/**
 * How far an image lies, in the model's feature space, from the images
 * selected lately. Labels of five nearly identical scenes teach little more
 * than one; a selector that prefers what is far from its recent picks
 * spreads the labels over what the line actually shows.
 */

/**
 * 1 - cosine similarity, capped at 1: pooled ReLU features (the shipped
 * SqueezeNet) never point apart, and for backbones whose features can,
 * anything at least orthogonal counts as wholly new. A zero vector has no
 * direction and counts as wholly new too.
 */
export function cosineDistance(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) throw new RangeError(`feature vectors differ in length: ${a.length} and ${b.length}`);
  let dot = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    aa += a[i]! * a[i]!;
    bb += b[i]! * b[i]!;
  }
  if (!(aa > 0) || !(bb > 0)) return 1;
  const distance = 1 - dot / Math.sqrt(aa * bb);
  // Rounding can leave a vector a hair below 0 from itself; NaN (a NaN feature) reads as new rather than as a duplicate.
  return distance > 0 ? Math.min(distance, 1) : Number.isNaN(distance) ? 1 : 0;
}

/** The distance to the nearest of `recent`, in [0, 1]; 1 when nothing was selected lately. */
export function novelty(features: Float32Array, recent: readonly Float32Array[]): number {
  let nearest = 1;
  for (const earlier of recent) {
    if (earlier.length !== features.length) continue;
    nearest = Math.min(nearest, cosineDistance(features, earlier));
    if (nearest === 0) break;
  }
  return nearest;
}

/**
 * What a selector weighs an inspection by: its uncertainty, discounted by
 * how close it is to recent selections, as the weighted geometric mean
 * uncertainty^(1 - diversity) * novelty^diversity. Diversity 0 is
 * uncertainty sampling, 1 is spread alone. Without a feature vector there
 * is nothing to measure spread by, and the value is the uncertainty.
 */
export function selectionValue(uncertainty: number, noveltyValue: number | undefined, diversity: number): number {
  if (noveltyValue === undefined || diversity === 0) return uncertainty;
  // 0 ** 0 is 1 in JavaScript, so diversity 1 ignores uncertainty and 0 ignores novelty, as the formula means.
  return uncertainty ** (1 - diversity) * noveltyValue ** diversity;
}
