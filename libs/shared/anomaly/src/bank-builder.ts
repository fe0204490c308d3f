import { BankScorer } from './bank-scorer';
import { GreedyCoreset } from './coreset';
import type { MemoryBank } from './memory-bank';
import type { ImageTensor, PatchExtractor } from './patch-extractor';
import { PatchPool, type PatchPoolLimits } from './patch-pool';

export interface BankOptions extends PatchPoolLimits {
  /** Take every cellStride-th cell of each image in each direction (the extractor must be made with it). */
  cellStride?: number;
  /** Rows of the bank at most (fewer when the images repeat themselves). */
  bankSize: number;
  /** Dimension of the coreset's random projection, and its seed. */
  coresetDimension: number;
  seed: number;
  maxChunkBytes: number;
  threads?: number;
}

export interface BankBuild {
  bank: MemoryBank;
  images: number;
  poolRows: number;
  poolReductions: number;
  /** Seconds spent extracting features, selecting the coreset, and measuring coverage. */
  seconds: { extract: number; coreset: number; coverage: number };
}

/**
 * Builds a memory bank from good images, streamed one at a time: each
 * image's patch features are reduced to its own coreset in a bounded pool,
 * the pool to a coreset of bankSize rows, and the bank's coverage radius is
 * measured over the pool. Memory stays within the pool's limit however
 * many images come; every distance is computed by onnxruntime.
 */
export async function buildMemoryBank(
  extractor: PatchExtractor,
  images: AsyncIterable<ImageTensor> | Iterable<ImageTensor>,
  options: BankOptions,
  /** Called after each image joins the pool, with the count so far: a long build shows progress. */
  onImage?: (images: number) => void,
): Promise<BankBuild> {
  const { dimension } = extractor;
  const coreset = await GreedyCoreset.create(dimension, { reducedDimension: options.coresetDimension, seed: options.seed, threads: options.threads });
  const seconds = { extract: 0, coreset: 0, coverage: 0 };
  try {
    const pool = new PatchPool(coreset, options);
    const meanSum = new Float64Array(dimension);
    let count = 0;
    for await (const image of images) {
      let started = performance.now();
      const { rows, mean } = await extractor.sample(image);
      seconds.extract += (performance.now() - started) / 1000;
      mean.forEach((value, i) => (meanSum[i] = meanSum[i]! + value));
      count++;
      started = performance.now();
      await pool.add(rows);
      seconds.coreset += (performance.now() - started) / 1000;
      onImage?.(count);
    }
    if (count === 0) throw new RangeError('a memory bank needs at least one good image');
    const center = Float32Array.from(meanSum, (sum) => sum / count);
    let started = performance.now();
    const candidates = pool.contents();
    const selected = await coreset.select(candidates, options.bankSize, { center });
    seconds.coreset += (performance.now() - started) / 1000;
    started = performance.now();
    const partial: MemoryBank = { dimension, vectors: selected.rows, center, coverageRadius: 0, scoreUnit: 1 };
    const coverageRadius = await farthestDistance(partial, candidates, extractor, options);
    seconds.coverage = (performance.now() - started) / 1000;
    const bank = { ...partial, coverageRadius, scoreUnit: coverageRadius > 0 ? coverageRadius : 1 };
    return { bank, images: count, poolRows: pool.rows, poolReductions: pool.reduced, seconds };
  } finally {
    await coreset.release();
  }
}

async function farthestDistance(bank: MemoryBank, rows: Float32Array, extractor: PatchExtractor, options: BankOptions): Promise<number> {
  const scorer = await BankScorer.create(bank, { opset: extractor.opset, rowsPerRun: extractor.sampledCells, maxChunkBytes: options.maxChunkBytes, threads: options.threads });
  try {
    const distances = await scorer.distances(rows);
    return distances.reduce((largest, value) => (value > largest ? value : largest), 0);
  } finally {
    await scorer.release();
  }
}
