import { maxPacketBytesFor } from '@loupe/mqtt';
import type { DeviceTopics } from '@loupe/topics';
import { Module } from '@nestjs/common';
import { Clock } from '../../clock';
import type { Database } from '../../database/database';
import { DATABASE, SAMPLE_LIMITS, TOPICS } from '../../infrastructure.tokens';
import type { ServiceAccount } from './broker-access';
import { DeviceCredentials } from './device-credentials';
import { DeviceIdentityController } from './device-identity.controller';
import { DeviceIdentityRepository } from './device-identity.repository';
import { EnrollmentService, type BrokerAccounts } from './enrollment.service';
import { IdentityMetrics } from './identity-metrics';
import { BROKER_ACCOUNTS, BROKER_SERVICE_ACCOUNT } from './identity.tokens';
import { MosquittoConfigService } from './mosquitto-config.service';

/** Enrollment, revocation and broker configuration. DeviceCredentials itself comes from the composition root: the embedded broker shares it. */
@Module({
  controllers: [DeviceIdentityController],
  providers: [
    { provide: DeviceIdentityRepository, useFactory: (db: Database) => new DeviceIdentityRepository(db.db), inject: [DATABASE] },
    {
      provide: EnrollmentService,
      useFactory: (repository: DeviceIdentityRepository, credentials: DeviceCredentials, clock: Clock, metrics: IdentityMetrics, accounts: BrokerAccounts | null) =>
        new EnrollmentService(repository, credentials, clock, metrics, accounts ?? undefined),
      inject: [DeviceIdentityRepository, DeviceCredentials, Clock, IdentityMetrics, BROKER_ACCOUNTS],
    },
    {
      provide: MosquittoConfigService,
      useFactory: (repository: DeviceIdentityRepository, account: ServiceAccount | null, topics: DeviceTopics, limits: { maxSampleBytes: number }) =>
        new MosquittoConfigService(repository, account ?? undefined, topics, maxPacketBytesFor(limits.maxSampleBytes)),
      inject: [DeviceIdentityRepository, BROKER_SERVICE_ACCOUNT, TOPICS, SAMPLE_LIMITS],
    },
  ],
})
export class DeviceIdentityModule {}
