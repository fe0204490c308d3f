import type { MqttLink } from '@loupe/mqtt';
import type { DeviceTopics } from '@loupe/topics';
import { Module } from '@nestjs/common';
import type { Logger } from 'pino';
import type { BlobStore } from '../blobs/blob-store';
import { Clock } from '../clock';
import type { Database } from '../database/database';
import { BLOB_STORE, CLOUD_METRICS, DATABASE, INGEST_LINKS, LOGGER, MQTT_LINK, MQTT_SHARE_GROUP, SAMPLE_LIMITS, TOPICS } from '../infrastructure.tokens';
import { LabelingModule } from '../labeling/labeling.module';
import { LabelingQueue } from '../labeling/labeling-queue';
import type { CloudMetrics } from '../metrics/cloud-metrics';
import { SampleBatchWriter } from './sample-batch-writer';
import { SampleImageController } from './sample-image.controller';
import { SampleIngestConsumer } from './sample-ingest.consumer';
import { SampleRepository } from './sample.repository';
import { StoreFailurePolicy } from './store-failure-policy';

// 128 rows keep one INSERT well under Postgres's parameter limit; 16 image
// writes at once keep a slow object store busy without flooding it.
const INGEST_BATCH = { maxBatch: 128, blobConcurrency: 16 };
// Failures of no known kind a sample may have, while others store, before it is refused as unstorable.
const MAX_UNKNOWN_FAILURES = 5;

@Module({
  imports: [LabelingModule],
  controllers: [SampleImageController],
  providers: [
    { provide: SampleRepository, useFactory: (db: Database) => new SampleRepository(db.db), inject: [DATABASE] },
    {
      provide: SampleIngestConsumer,
      useFactory: (
        link: MqttLink,
        extraLinks: MqttLink[],
        topics: DeviceTopics,
        shareGroup: string,
        samples: SampleRepository,
        queue: LabelingQueue,
        blobs: BlobStore,
        limits: { maxSampleBytes: number; maxSampleAgeMs: number },
        clock: Clock,
        metrics: CloudMetrics,
        logger: Logger,
      ) =>
        new SampleIngestConsumer({
          link,
          extraLinks,
          topics,
          shareGroup,
          samples,
          writer: new SampleBatchWriter(samples, blobs, queue, INGEST_BATCH),
          failures: new StoreFailurePolicy(MAX_UNKNOWN_FAILURES),
          limits: { maxBytes: limits.maxSampleBytes, maxAgeMs: limits.maxSampleAgeMs },
          clock,
          metrics,
          logger,
        }),
      inject: [MQTT_LINK, INGEST_LINKS, TOPICS, MQTT_SHARE_GROUP, SampleRepository, LabelingQueue, BLOB_STORE, SAMPLE_LIMITS, Clock, CLOUD_METRICS, LOGGER],
    },
  ],
})
export class SamplesModule {}
