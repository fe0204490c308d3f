import { Inject, Module, type OnModuleInit } from '@nestjs/common';
import { CLOUD_METRICS } from '../infrastructure.tokens';
import type { CloudMetrics } from '../metrics/cloud-metrics';
import type { SampleRecord } from '../samples/sample-payload';
import { SampleStoredEvents } from '../samples/sample-stored.events';
import { SamplesModule } from '../samples/samples.module';
import { DatasetExport } from './dataset-export';
import { DatasetExportRepository } from './dataset-export.repository';
import { LabelAnswerRepository } from './label-answer.repository';
import { LabelTaskRepository } from './label-task.repository';
import { ClaimsController, ProjectsController } from './labeling.controller';
import { LabelingQueue, type IncomingSample } from './labeling-queue';
import { registerLabelingQueueGauge } from './labeling-queue-gauge';
import { ProjectRepository } from './project.repository';
import { ReviewQueue } from './review-queue';
import { ReviewRepository } from './review.repository';
import { ReviewsController } from './reviews.controller';

@Module({
  imports: [SamplesModule],
  controllers: [ProjectsController, ClaimsController, ReviewsController],
  providers: [
    ProjectRepository,
    DatasetExportRepository,
    DatasetExport,
    LabelTaskRepository,
    LabelAnswerRepository,
    ReviewRepository,
    LabelingQueue,
    ReviewQueue,
  ],
  exports: [LabelingQueue, ProjectRepository, DatasetExportRepository],
})
export class LabelingModule implements OnModuleInit {
  constructor(
    @Inject(LabelTaskRepository) private readonly tasks: LabelTaskRepository,
    @Inject(CLOUD_METRICS) private readonly metrics: CloudMetrics,
    @Inject(SampleStoredEvents) private readonly storedSamples: SampleStoredEvents,
    @Inject(LabelingQueue) private readonly queue: LabelingQueue,
  ) {}

  onModuleInit(): void {
    registerLabelingQueueGauge(this.metrics.registry, this.tasks);
    // Every stored sample waits in its project's queue; enqueue ignores one already there.
    this.storedSamples.subscribe((samples) => this.queue.enqueue(samples.map(toIncoming)));
  }
}

function toIncoming(sample: SampleRecord): IncomingSample {
  const top = sample.prediction.scores.reduce<{ label: string; score: number } | undefined>(
    (best, score) => (best && best.score >= score.score ? best : score),
    undefined,
  );
  return {
    id: sample.id,
    modelName: sample.modelName,
    predictedClass: top?.label ?? sample.verdict,
    samplerPriority: sample.priority,
    reason: sample.reason,
  };
}
