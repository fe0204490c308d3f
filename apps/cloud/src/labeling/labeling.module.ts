import { Inject, Module, type OnModuleInit } from '@nestjs/common';
import type { Database } from '../database/database';
import { CLOUD_METRICS, DATABASE, LABELING_SETTINGS } from '../infrastructure.tokens';
import type { CloudMetrics } from '../metrics/cloud-metrics';
import { DatasetExport } from './dataset-export';
import { DatasetExportRepository } from './dataset-export.repository';
import { ClaimsController, ProjectsController } from './labeling.controller';
import { LabelingQueue } from './labeling-queue';
import { registerLabelingQueueGauge } from './labeling-queue-gauge';
import { ProjectRepository } from './project.repository';
import { ReviewQueue } from './review-queue';
import { ReviewsController } from './reviews.controller';

@Module({
  controllers: [ProjectsController, ClaimsController, ReviewsController],
  providers: [
    { provide: ProjectRepository, useFactory: (db: Database) => new ProjectRepository(db.db), inject: [DATABASE] },
    { provide: DatasetExport, useFactory: (db: Database) => new DatasetExport(new DatasetExportRepository(db.db)), inject: [DATABASE] },
    {
      provide: LabelingQueue,
      useFactory: (db: Database, settings: { leaseSeconds: number }) => new LabelingQueue(db.pool, settings.leaseSeconds),
      inject: [DATABASE, LABELING_SETTINGS],
    },
    {
      provide: ReviewQueue,
      useFactory: (db: Database, settings: { leaseSeconds: number }) => new ReviewQueue(db.pool, settings.leaseSeconds),
      inject: [DATABASE, LABELING_SETTINGS],
    },
  ],
  exports: [LabelingQueue],
})
export class LabelingModule implements OnModuleInit {
  constructor(
    @Inject(DATABASE) private readonly database: Database,
    @Inject(CLOUD_METRICS) private readonly metrics: CloudMetrics,
  ) {}

  onModuleInit(): void {
    registerLabelingQueueGauge(this.metrics.registry, this.database.pool);
  }
}
