import { Module } from '@nestjs/common';
import type { Database } from '../database/database';
import { DATABASE, LABELING_SETTINGS } from '../infrastructure.tokens';
import { LabelingQueue } from './labeling-queue';

@Module({
  providers: [
    {
      provide: LabelingQueue,
      useFactory: (db: Database, settings: { leaseSeconds: number }) => new LabelingQueue(db.pool, settings.leaseSeconds),
      inject: [DATABASE, LABELING_SETTINGS],
    },
  ],
  exports: [LabelingQueue],
})
export class LabelingModule {}
