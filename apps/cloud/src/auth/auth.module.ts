import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import type { Database } from '../database/database';
import { CLOUD_METRICS, DATABASE, PASSWORD_HASHING } from '../infrastructure.tokens';
import type { CloudMetrics } from '../metrics/cloud-metrics';
import { AuthController, UsersController } from './auth.controller';
import { AuthService } from './auth.service';
import { HashingSlots, type HashingLimits } from './hashing-slots';
import { USER_REPOSITORY } from './auth.tokens';
import { SessionGuard } from './session.guard';
import { UserRepository } from './user.repository';

// A labeler's working day, and then some: they sign in again each morning.
const SESSION_MS = 12 * 3600 * 1000;

@Module({
  controllers: [AuthController, UsersController],
  providers: [
    { provide: USER_REPOSITORY, useFactory: (db: Database) => new UserRepository(db.db), inject: [DATABASE] },
    {
      provide: AuthService,
      useFactory: (users: UserRepository, hashing: HashingLimits, metrics: CloudMetrics) =>
        new AuthService(users, SESSION_MS, new HashingSlots(hashing, () => metrics.signInsRefused.inc({ reason: 'busy' }))),
      inject: [USER_REPOSITORY, PASSWORD_HASHING, CLOUD_METRICS],
    },
    { provide: APP_GUARD, useClass: SessionGuard },
  ],
  exports: [AuthService],
})
export class AuthModule {}
