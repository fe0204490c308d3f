import { Module } from '@nestjs/common';
import { LabelingModule } from '../labeling/labeling.module';
import { RegistryModule } from '../registry/registry.module';
import { Backbones } from './backbones';
import { ChampionEvaluation } from './champion-evaluation';
import { FeatureCache } from './feature-cache';
import { RegistryPackages } from './registry-packages';
import { SampleFeatureRepository } from './sample-feature.repository';
import { ServingVersionRepository } from './serving-version.repository';
import { TrainingPipeline } from './training-pipeline';
import { TrainingRunRepository } from './training-run.repository';
import { TrainingRuns } from './training-runs';
import { TrainingRunsController } from './training-runs.controller';
import { TrainingRunQueue, TrainingTriggers } from './training-triggers';
import { TrainingWorker } from './training-worker';
import { PromotionModule } from './promotion.module';

/**
 * Training runs: the REST API, the queue the triggers fill, and the worker
 * that trains what is queued; a trained candidate goes on to the promotion
 * feature's CandidatePublisher.
 */
@Module({
  imports: [LabelingModule, RegistryModule, PromotionModule],
  controllers: [TrainingRunsController],
  providers: [
    TrainingRunRepository,
    SampleFeatureRepository,
    ServingVersionRepository,
    RegistryPackages,
    Backbones,
    FeatureCache,
    ChampionEvaluation,
    TrainingPipeline,
    TrainingWorker,
    TrainingRuns,
    // The triggers fill the runs' queue, through the interface they declare.
    { provide: TrainingRunQueue, useExisting: TrainingRuns },
    TrainingTriggers,
  ],
  exports: [TrainingRuns, TrainingRunRepository],
})
export class TrainingModule {}
