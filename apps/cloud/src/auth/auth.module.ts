import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import type { CloudConfig } from '../config/cloud-config';
import { CLOUD_CONFIG, CLOUD_METRICS } from '../infrastructure.tokens';
import type { CloudMetrics } from '../metrics/cloud-metrics';
import { AuthController, UsersController } from './auth.controller';
import { AuthService } from './auth.service';
import { HashingSlots } from './hashing-slots';
import { SessionGuard } from './session.guard';
import { UserRepository } from './user.repository';

@Module({
  controllers: [AuthController, UsersController],
  providers: [
    UserRepository,
    AuthService,
    {
      provide: HashingSlots,
      // Built from settings (PASSWORD_HASH_CONCURRENCY, PASSWORD_HASH_QUEUE), with the metric it counts refusals in.
      useFactory: (config: CloudConfig, metrics: CloudMetrics) => new HashingSlots(config.signIn.hashing, () => metrics.signInsRefused.inc({ reason: 'busy' })),
      inject: [CLOUD_CONFIG, CLOUD_METRICS],
    },
    { provide: APP_GUARD, useClass: SessionGuard },
  ],
  exports: [AuthService],
})
export class AuthModule {}
