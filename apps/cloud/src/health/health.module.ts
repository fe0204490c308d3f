import type { MqttLink } from '@loupe/mqtt';
import { Module } from '@nestjs/common';
import type { BlobStore } from '../blobs/blob-store';
import type { Database } from '../database/database';
import { BLOB_STORE, DATABASE, MQTT_LINK } from '../infrastructure.tokens';
import { HealthController } from './health.controller';
import { HealthService } from './health.service';

@Module({
  controllers: [HealthController],
  providers: [
    {
      provide: HealthService,
      useFactory: (database: Database, link: MqttLink, blobs: BlobStore) => new HealthService(database, link, blobs),
      inject: [DATABASE, MQTT_LINK, BLOB_STORE],
    },
  ],
})
export class HealthModule {}
