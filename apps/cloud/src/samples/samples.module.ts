import { Module } from '@nestjs/common';
import { SampleBatchWriter } from './sample-batch-writer';
import { SampleImageController } from './sample-image.controller';
import { SampleIngest } from './sample-ingest';
import { SampleIngestConsumer } from './sample-ingest.consumer';
import { SampleStoredEvents } from './sample-stored.events';
import { SampleRepository } from './sample.repository';
import { StoreFailurePolicy } from './store-failure-policy';

/** Samples from devices: ingest, its MQTT consumer, and 'sample stored' for those who act on new samples. */
@Module({
  controllers: [SampleImageController],
  providers: [SampleRepository, SampleStoredEvents, SampleBatchWriter, StoreFailurePolicy, SampleIngest, SampleIngestConsumer],
  exports: [SampleStoredEvents],
})
export class SamplesModule {}
