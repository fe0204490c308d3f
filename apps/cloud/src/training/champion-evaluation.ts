import { join } from 'node:path';
import type { EvaluationDto, ProjectDto } from '@loupe/api-contracts';
import { ModelPipeline, type LabelScore, type ModelManifest } from '@loupe/inference';
import { MODEL_MANIFEST_FILE } from '@loupe/model-package';
import { evaluate } from '@loupe/trainer';
import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import type { BlobStore } from '../blobs/blob-store';
import { BLOB_STORE, LOGGER } from '../infrastructure.tokens';
import { CPU_ONLY } from '../registry/package-validation';
import { RegistryPackages } from './registry-packages';
import { ServingVersionRepository } from './serving-version.repository';
import type { TrainingExample } from './training-examples';

export type ChampionEvaluationDto = EvaluationDto & { version: number };

/** The serving model judged on the run's test split, and the labels it rejects on, which its successor keeps. */
export interface Champion {
  evaluation: ChampionEvaluationDto;
  decision: ModelManifest['decision'];
}

/**
 * The champion's scores as probabilities over the project's classes, in
 * their order: a class the model does not name scores 0, and the rest are
 * scaled to sum to 1 so its calibration error is comparable with the
 * challenger's softmax.
 */
export function classProbabilities(scores: readonly LabelScore[], classes: readonly string[]): Float64Array {
  const byLabel = new Map(scores.map((score) => [score.label, score.score]));
  const raw = Float64Array.from(classes, (name) => Math.max(0, byLabel.get(name) ?? 0));
  const total = raw.reduce((sum, value) => sum + value, 0);
  return total > 0 ? raw.map((value) => value / total) : raw;
}

/**
 * The model that serves the project now, judged on the run's own test
 * split: the same images through the same inference library a box runs, so
 * challenger and champion are compared on equal terms.
 */
@Injectable()
export class ChampionEvaluation {
  private readonly log: Logger;

  constructor(
    @Inject(ServingVersionRepository) private readonly serving: ServingVersionRepository,
    @Inject(RegistryPackages) private readonly packages: RegistryPackages,
    @Inject(BLOB_STORE) private readonly blobs: Pick<BlobStore, 'get'>,
    @Inject(LOGGER) logger: Logger,
  ) {
    this.log = logger.child({ component: 'champion-evaluation' });
  }

  /**
   * Null when nothing serves the project yet, or when it detects (a served
   * detector's boxes are not a crop classifier's answers).
   */
  async evaluate(
    project: Pick<ProjectDto, 'task' | 'classes' | 'modelName'>,
    test: readonly TrainingExample[],
    options: { onProgress: (done: number) => Promise<void>; signal: AbortSignal },
  ): Promise<Champion | null> {
    if (project.task === 'detection' || test.length === 0) return null;
    const version = await this.serving.of(project.modelName);
    if (version === undefined) return null;
    const unpacked = await this.packages.unpack(project.modelName, version);
    try {
      const { model } = unpacked.verified;
      // A backbone pushed under the project's model name serves nothing.
      if (model.task === 'features') return null;
      const pipeline = await ModelPipeline.open(join(unpacked.verified.directory, MODEL_MANIFEST_FILE), CPU_ONLY, this.log);
      try {
        const probabilities: Float64Array[] = [];
        for (const example of test) {
          options.signal.throwIfAborted();
          const image = await this.blobs.get(example.imageKey);
          if (!image) throw new Error(`the image of sample ${example.sampleId} (${example.imageKey}) is not in the blob store`);
          probabilities.push(classProbabilities((await pipeline.inspect(image)).prediction.scores, project.classes));
          await options.onProgress(probabilities.length);
        }
        return { evaluation: { ...evaluate(project.classes, probabilities, test.map((example) => example.label)), version }, decision: model.decision };
      } finally {
        await pipeline.close();
      }
    } finally {
      await unpacked.dispose();
    }
  }
}
