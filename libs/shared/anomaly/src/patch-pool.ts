import type { GreedyCoreset } from './coreset';
import { concatenate } from './memory-bank';

export interface PatchPoolLimits {
  /** Patches kept from one image (its own greedy coreset); fewer when the image repeats itself. */
  patchesPerImage: number;
  /** Rows the pool may hold; when more arrive it is reduced by a coreset to half of this (merge and reduce). */
  maxRows: number;
}

/**
 * The candidate patches of a bank, gathered image by image in bounded
 * memory: at most maxRows x dimension floats however many images come,
 * and each image contributes its most diverse patches rather than a
 * random share, so rare structures survive.
 */
export class PatchPool {
  private parts: Float32Array[] = [];
  private rowCount = 0;
  private reductions = 0;

  constructor(
    private readonly coreset: GreedyCoreset,
    private readonly limits: PatchPoolLimits,
  ) {
    if (limits.patchesPerImage < 1 || limits.maxRows < 2 * limits.patchesPerImage) {
      throw new RangeError(`a pool needs patchesPerImage >= 1 and maxRows >= 2 x patchesPerImage; got ${limits.patchesPerImage} and ${limits.maxRows}`);
    }
  }

  get rows(): number {
    return this.rowCount;
  }

  /** How often the pool was reduced to stay under maxRows. */
  get reduced(): number {
    return this.reductions;
  }

  async add(imageRows: Float32Array): Promise<void> {
    const kept = await this.coreset.select(imageRows, this.limits.patchesPerImage);
    if (this.rowCount + kept.count > this.limits.maxRows) await this.reduce();
    this.parts.push(kept.rows);
    this.rowCount += kept.count;
  }

  /** Every row, row-major [rows, dimension]. */
  contents(): Float32Array {
    if (this.parts.length !== 1) this.parts = [concatenate(this.parts)];
    return this.parts[0] ?? new Float32Array(0);
  }

  private async reduce(): Promise<void> {
    const reduced = await this.coreset.select(this.contents(), Math.floor(this.limits.maxRows / 2));
    this.parts = [reduced.rows];
    this.rowCount = reduced.count;
    this.reductions++;
  }
}
