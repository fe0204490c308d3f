import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { MicroBatcher, type BatchSettings } from '../batching/micro-batcher';
import { scoreAnomaly } from '../postprocess/anomaly';
import { classify } from '../postprocess/classification';
import { detectYolox } from '../postprocess/detection';
import type { Prediction } from '../postprocess/prediction';
import { decodeImage, inputSize, type ImageGeometry } from '../preprocess/image-decoder';
import { writeImageTensor } from '../preprocess/tensor-layout';
import type { ProviderSettings } from '../runtime/execution-providers';
import { LoadedModel } from '../runtime/loaded-model';

export interface StageTimings {
  decodeMs: number;
  preprocessMs: number;
  queueMs: number;
  inferenceMs: number;
  postprocessMs: number;
  totalMs: number;
}

export interface Inspection {
  prediction: Prediction;
  model: { name: string; version: string; sha256: string };
  provider: string;
  batchSize: number;
  timings: StageTimings;
}

export interface PipelineSettings {
  providers: ProviderSettings;
  batch: BatchSettings;
  maxImagePixels: number;
  warmUpRuns: number;
}

/** A golden sample's scores are off by more than its tolerance: the model is not the one that was validated. */
export class GoldenSampleMismatchError extends Error {
  constructor(readonly mismatches: string[]) {
    super(`golden samples do not reproduce: ${mismatches.join('; ')}`);
    this.name = 'GoldenSampleMismatchError';
  }
}

/**
 * Everything between encoded image bytes and a prediction for one model:
 * decode and resize, normalize, wait for a batch, run, decode the output.
 */
export class ModelPipeline {
  private readonly batcher: MicroBatcher<Float32Array, Float32Array>;

  private constructor(
    readonly model: LoadedModel,
    private readonly settings: PipelineSettings,
  ) {
    const maxBatch = Math.max(1, Math.min(settings.batch.maxBatch, model.maxBatch));
    this.batcher = new MicroBatcher({ ...settings.batch, maxBatch }, (images) => model.run(images));
  }

  /**
   * Loads a model and makes it ready to serve: warm-up runs, then the golden
   * samples. A model that fails either is released and refused.
   */
  static async open(manifestPath: string, settings: PipelineSettings, logger: Logger): Promise<ModelPipeline> {
    const model = await LoadedModel.load(manifestPath, settings.providers, logger);
    const pipeline = new ModelPipeline(model, settings);
    try {
      const log = logger.child({ model: model.manifest.name, version: model.manifest.version, provider: model.provider });
      await model.warmUp(settings.warmUpRuns, log);
      await pipeline.verifyGoldenSamples();
      log.info({ goldenSamples: model.manifest.goldenSamples.length }, 'model ready');
      return pipeline;
    } catch (error) {
      await pipeline.close();
      throw error;
    }
  }

  get queueDepth(): number {
    return this.batcher.depth;
  }

  async inspect(image: Buffer, deadline?: number): Promise<Inspection> {
    const started = performance.now();
    const { input } = this.model.manifest;
    const decoded = await decodeImage(image, input, this.settings.maxImagePixels);
    const decodedAt = performance.now();
    const tensor = new Float32Array(this.model.imageTensorLength);
    writeImageTensor(decoded.pixels, input, tensor, 0);
    const preprocessedAt = performance.now();
    const outcome = await this.batcher.submit(tensor, deadline);
    const inferredAt = performance.now();
    const prediction = this.decodeOutput(outcome.output, decoded.geometry);
    const finished = performance.now();
    const { manifest, sha256, provider } = this.model;
    return {
      prediction,
      model: { name: manifest.name, version: manifest.version, sha256 },
      provider,
      batchSize: outcome.batchSize,
      timings: {
        decodeMs: decodedAt - started,
        preprocessMs: preprocessedAt - decodedAt,
        queueMs: outcome.queueMs,
        inferenceMs: inferredAt - preprocessedAt - outcome.queueMs,
        postprocessMs: finished - inferredAt,
        totalMs: finished - started,
      },
    };
  }

  /** Finishes what is queued, then releases the model. */
  async close(): Promise<void> {
    await this.batcher.idle();
    await this.model.dispose();
  }

  private decodeOutput(raw: Float32Array, geometry: ImageGeometry): Prediction {
    const { manifest } = this.model;
    const { output } = manifest;
    switch (output.task) {
      case 'classification':
        return classify(raw, output, manifest);
      case 'anomaly':
        return scoreAnomaly(raw[0] ?? Number.NaN, output);
      case 'detection':
        return detectYolox(raw, inputSize(manifest.input), output, manifest, geometry);
    }
  }

  private async verifyGoldenSamples(): Promise<void> {
    const mismatches: string[] = [];
    for (const sample of this.model.manifest.goldenSamples) {
      const image = await readFile(join(this.model.directory, sample.image));
      const { prediction } = await this.inspect(image);
      const actual = new Map(prediction.scores.map((score) => [score.label, score.score]));
      for (const [label, expected] of Object.entries(sample.expected)) {
        const got = actual.get(label);
        if (got === undefined || Math.abs(got - expected) > sample.tolerance) {
          mismatches.push(`${sample.image} ${label}: expected ${expected} ± ${sample.tolerance}, got ${got?.toFixed(4) ?? 'nothing'}`);
        }
      }
    }
    if (mismatches.length > 0) throw new GoldenSampleMismatchError(mismatches);
  }
}
