import { BankScorer } from './bank-scorer';
import { imageScore, type ImageScoreSpec } from './image-score';
import type { MemoryBank } from './memory-bank';
import type { ImageTensor, PatchExtractor } from './patch-extractor';

export interface AnomalyScore {
  /** Distance of each cell's patch to the bank in score units, row-major [height, width]. */
  map: Float32Array;
  score: number;
}

/**
 * The builder's own scoring, in two stages: patch features from the
 * extractor, their distances from the bank scorer, the image score from
 * the map here. The exported model computes the same in one graph; the
 * two must agree (the export test holds them to 1e-5).
 */
export class AnomalyScorer {
  private constructor(
    private readonly extractor: PatchExtractor,
    private readonly scorer: BankScorer,
    private readonly spec: ImageScoreSpec,
  ) {}

  static async create(extractor: PatchExtractor, bank: MemoryBank, spec: ImageScoreSpec, options: { maxChunkBytes: number; threads?: number }): Promise<AnomalyScorer> {
    const scorer = await BankScorer.create(bank, { opset: extractor.opset, rowsPerRun: extractor.cells, inScoreUnits: true, ...options });
    return new AnomalyScorer(extractor, scorer, spec);
  }

  async score(image: ImageTensor): Promise<AnomalyScore> {
    const { rows } = await this.extractor.extract(image);
    return this.scoreRows(rows);
  }

  /** Scores patch rows already extracted from one image. */
  async scoreRows(rows: Float32Array): Promise<AnomalyScore> {
    const map = await this.scorer.distances(rows);
    return { map, score: imageScore(map, this.extractor.geometry, this.spec) };
  }

  /** Distances of patch rows to the bank in score units, for rows of any image. */
  distances(rows: Float32Array): Promise<Float32Array> {
    return this.scorer.distances(rows);
  }

  async release(): Promise<void> {
    await this.scorer.release();
  }
}
