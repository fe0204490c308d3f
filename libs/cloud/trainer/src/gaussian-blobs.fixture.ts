/** mulberry32: a tiny seeded generator, so every synthetic dataset is the same on every run. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function seededNormal(random: () => number): () => number {
  return () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}

export interface BlobSpec {
  dimension: number;
  /** Class centres are drawn N(0, spread^2) per feature around a shared offset; noise is N(0, 1) before the feature's scale. */
  spread: number;
  seed: number;
}

/**
 * Gaussian class blobs that look like pooled CNN features to the trainer:
 * every feature has its own offset and scale (0.1x to 10x), which the
 * standardisation must undo. `draw(counts)` takes counts[k] samples of class k.
 */
export function gaussianBlobs({ dimension, spread, seed }: BlobSpec, classCount: number) {
  const random = seededRandom(seed);
  const normal = seededNormal(random);
  const offsets = Array.from({ length: dimension }, () => 5 * random());
  const scales = Array.from({ length: dimension }, () => 10 ** (2 * random() - 1));
  const centres = Array.from({ length: classCount }, () => Array.from({ length: dimension }, () => spread * normal()));
  const draw = (counts: readonly number[]): { features: Float32Array[]; labels: number[] } => {
    const features: Float32Array[] = [];
    const labels: number[] = [];
    counts.forEach((count, label) => {
      for (let n = 0; n < count; n++) {
        features.push(Float32Array.from(centres[label]!, (centre, d) => offsets[d]! + scales[d]! * (centre + normal())));
        labels.push(label);
      }
    });
    return { features, labels };
  };
  return { draw };
}
