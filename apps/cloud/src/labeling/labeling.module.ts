import { Inject, Module, type OnModuleInit } from '@nestjs/common';
import { CLOUD_METRICS } from '../infrastructure.tokens';
import type { CloudMetrics } from '../metrics/cloud-metrics';
import { DatasetExport } from './dataset-export';
import { DatasetExportRepository } from './dataset-export.repository';
import { LabelAnswerRepository } from './label-answer.repository';
import { LabelTaskRepository } from './label-task.repository';
import { ClaimsController, ProjectsController } from './labeling.controller';
import { LabelingQueue } from './labeling-queue';
import { registerLabelingQueueGauge } from './labeling-queue-gauge';
import { ProjectRepository } from './project.repository';
import { ReviewQueue } from './review-queue';
import { ReviewRepository } from './review.repository';
import { ReviewsController } from './reviews.controller';

@Module({
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
  exports: [LabelingQueue],
})
export class LabelingModule implements OnModuleInit {
  constructor(
    @Inject(LabelTaskRepository) private readonly tasks: LabelTaskRepository,
    @Inject(CLOUD_METRICS) private readonly metrics: CloudMetrics,
  ) {}

  onModuleInit(): void {
    registerLabelingQueueGauge(this.metrics.registry, this.tasks);
  }
}
