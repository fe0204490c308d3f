import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ModelPipeline } from '@loupe/inference';
import type { Logger } from 'pino';
import sharp from 'sharp';
import { UpdateStepError } from './update-step.error';

const RUNS_PER_IMAGE = 3;

/**
 * The self-test step. ModelPipeline.open has already checked that the
 * golden samples give the scores they were validated with; this checks
 * that they do so in time on this box: each runs through the whole
 * pipeline (decode, batch, infer, decode the output) a few times, and the
 * slowest run must fit OTA_SELFTEST_LATENCY_BUDGET. A model without golden
 * samples is timed on a blank image.
 */
export class ModelSelfTest {
  private readonly log: Logger;

  constructor(
    private readonly latencyBudgetMs: number,
    logger: Logger,
  ) {
    this.log = logger.child({ component: 'model-self-test' });
  }

  async run(pipeline: ModelPipeline): Promise<void> {
    const { manifest, directory } = pipeline.model;
    const images =
      manifest.goldenSamples.length > 0
        ? await Promise.all(manifest.goldenSamples.map((sample) => readFile(join(directory, sample.image))))
        : [await sharp({ create: { width: 64, height: 64, channels: 3, background: { r: 128, g: 128, b: 128 } } }).png().toBuffer()];
    let slowestMs = 0;
    for (let run = 0; run < RUNS_PER_IMAGE; run++) {
      for (const image of images) slowestMs = Math.max(slowestMs, (await pipeline.inspect(image)).timings.totalMs);
    }
    if (slowestMs > this.latencyBudgetMs) {
      throw new UpdateStepError(
        'self-test',
        'latency',
        `the self-test took up to ${slowestMs.toFixed(1)} ms per image, over the ${this.latencyBudgetMs} ms budget (OTA_SELFTEST_LATENCY_BUDGET)`,
      );
    }
    this.log.info({ model: manifest.name, version: manifest.version, images: images.length, slowestMs: Math.round(slowestMs * 10) / 10 }, 'self-test passed');
  }
}
