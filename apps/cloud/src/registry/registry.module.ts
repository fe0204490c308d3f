import { Module } from '@nestjs/common';
import type { Logger } from 'pino';
import type { BlobStore } from '../blobs/blob-store';
import type { Database } from '../database/database';
import { BLOB_STORE, CLOUD_METRICS, DATABASE, LOGGER, REGISTRY_KEYS } from '../infrastructure.tokens';
import type { CloudMetrics } from '../metrics/cloud-metrics';
import { ModelRegistry } from './model-registry';
import { ModelVersionRepository } from './model-version.repository';
import { ModelsController } from './models.controller';
import { PackageValidation } from './package-validation';
import type { RegistryKeys } from './registry-keys';

@Module({
  controllers: [ModelsController],
  providers: [
    {
      provide: ModelRegistry,
      useFactory: (db: Database, blobs: BlobStore, keys: RegistryKeys, logger: Logger, metrics: CloudMetrics) =>
        new ModelRegistry(
          new ModelVersionRepository(db.db),
          blobs, new PackageValidation(() => keys.publishers(), logger.child({ component: 'registry' })), keys.signing, metrics),
      inject: [DATABASE, BLOB_STORE, REGISTRY_KEYS, LOGGER, CLOUD_METRICS],
    },
  ],
  exports: [ModelRegistry],
})
export class RegistryModule {}
