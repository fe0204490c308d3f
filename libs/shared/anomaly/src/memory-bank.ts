/**
 * The patch features of good units that a new patch is compared with. Rows
 * are stored centred (the mean patch of the images they came from
 * subtracted): distances do not change, and expanding them as
 * |x|² + |b|² - 2x·b loses far less to float32 rounding.
 */
export interface MemoryBank {
  dimension: number;
  /** Row-major [size, dimension], centred. */
  vectors: Float32Array;
  /** The mean subtracted from every row, and from every patch before it is compared. */
  center: Float32Array;
  /**
   * The largest distance from a patch of the images the bank was built from
   * (as sampled into the pool) to its nearest row: patches farther than
   * this are not covered by the bank.
   */
  coverageRadius: number;
  /**
   * Scores are distances divided by this: the coverage radius when the bank
   * was first built, kept through updates so a threshold keeps its meaning.
   * A score of 1 is as far from the bank as the farthest patch it was built
   * from, and scores near 1 keep float32 rounding far below 1e-5.
   */
  scoreUnit: number;
}

export function bankSize(bank: MemoryBank): number {
  return bank.vectors.length / bank.dimension;
}

/** Row blocks one after another, as one row-major matrix. */
export function concatenate(parts: readonly Float32Array[]): Float32Array {
  const all = new Float32Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    all.set(part, offset);
    offset += part.length;
  }
  return all;
}
