import type { ModelProto } from '@loupe/onnx-graph';
import type { AnomalyHeadSpec } from './anomaly-head';
import { type AnomalyModel, exportAnomalyModel } from './anomaly-model';
import { AnomalyScorer } from './anomaly-scorer';
import { type BankBuild, type BankOptions, buildMemoryBank } from './bank-builder';
import { type Calibration, calibrateThreshold } from './calibration';
import { checkImageScoreSpec } from './image-score';
import type { ImageTensor } from './patch-extractor';
import { PatchExtractor } from './patch-extractor';
import type { NamedHead } from './station-model';

export interface DiscoverRequest {
  /** The backbone as registered (e.g. the shipped SqueezeNet); the model keeps its input name. */
  backbone: ModelProto;
  /** The station's image size: the model is built for it. */
  size: { height: number; width: number };
  spec: AnomalyHeadSpec;
  bank: BankOptions;
  /** Good units the bank is built from, streamed. */
  bankImages: AsyncIterable<ImageTensor> | Iterable<ImageTensor>;
  /** Other good units, held out to set the threshold. */
  calibrationImages: AsyncIterable<ImageTensor> | Iterable<ImageTensor>;
  /** Share of good units the model may call anomalous, e.g. 0.01. */
  falseAlarmRate: number;
  /** Heads that share the backbone pass (Monitors), added beside the anomaly head. */
  otherHeads?: readonly NamedHead[];
  /** Called after each image of each stage, for a run's progress bar. */
  onProgress?: (progress: { stage: 'bank' | 'calibration'; images: number }) => void;
}

export interface DiscoverResult {
  model: AnomalyModel;
  build: BankBuild;
  calibration: Calibration;
  /** Image scores of the held-out good units, as the model computes them. */
  calibrationScores: number[];
}

/**
 * Discover: from good units of one station to an anomaly model. Builds the
 * memory bank, scores the held-out good units with the builder's own
 * two-stage scoring, sets the threshold for the false-alarm rate, and
 * exports one ONNX model (with any other heads on the same backbone pass).
 */
export async function discoverAnomalyModel(request: DiscoverRequest): Promise<DiscoverResult> {
  const { backbone, size, spec } = request;
  const extractor = await PatchExtractor.create(backbone, spec.features, size, { threads: request.bank.threads, cellStride: request.bank.cellStride });
  try {
    checkImageScoreSpec(spec.imageScore, extractor.geometry);
    const build = await buildMemoryBank(extractor, request.bankImages, request.bank, (images) => request.onProgress?.({ stage: 'bank', images }));
    const scorer = await AnomalyScorer.create(extractor, build.bank, spec.imageScore, { maxChunkBytes: spec.maxChunkBytes, threads: request.bank.threads });
    const calibrationScores: number[] = [];
    try {
      for await (const image of request.calibrationImages) {
        calibrationScores.push((await scorer.score(image)).score);
        request.onProgress?.({ stage: 'calibration', images: calibrationScores.length });
      }
    } finally {
      await scorer.release();
    }
    const calibration = calibrateThreshold(calibrationScores, request.falseAlarmRate);
    const model = exportAnomalyModel(backbone, spec, build.bank, size, { otherHeads: request.otherHeads });
    return { model, build, calibration, calibrationScores };
  } finally {
    await extractor.release();
  }
}
