import { maxPacketBytesFor } from '@loupe/mqtt';
import type { DeviceTopics } from '@loupe/topics';
import { Module } from '@nestjs/common';
import type { CloudConfig } from '../../config/cloud-config';
import { CLOUD_CONFIG, TOPICS } from '../../infrastructure.tokens';
import type { ServiceAccount } from './broker-access';
import { DeviceIdentityController } from './device-identity.controller';
import { DeviceIdentityRepository } from './device-identity.repository';
import { EnrollmentService } from './enrollment.service';
import { BROKER_SERVICE_ACCOUNT } from './identity.tokens';
import { MosquittoConfigService } from './mosquitto-config.service';

/** Enrollment, revocation and broker configuration. DeviceCredentials itself comes from the composition root: the embedded broker shares it. */
@Module({
  controllers: [DeviceIdentityController],
  providers: [
    DeviceIdentityRepository,
    EnrollmentService,
    {
      provide: MosquittoConfigService,
      // Built from settings: Mosquitto's packet limit follows SAMPLE_MAX_BYTES.
      useFactory: (repository: DeviceIdentityRepository, account: ServiceAccount | null, topics: DeviceTopics, config: CloudConfig) =>
        new MosquittoConfigService(repository, account ?? undefined, topics, maxPacketBytesFor(config.samples.maxSampleBytes)),
      inject: [DeviceIdentityRepository, BROKER_SERVICE_ACCOUNT, TOPICS, CLOUD_CONFIG],
    },
  ],
})
export class DeviceIdentityModule {}
