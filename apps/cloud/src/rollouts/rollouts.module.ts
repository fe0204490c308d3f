import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import { Module } from '@nestjs/common';
import pg from 'pg';
import type { CloudConfig } from '../config/cloud-config';
import { FleetStateModule } from '../fleet/state/fleet-state.module';
import { CLOUD_CONFIG } from '../infrastructure.tokens';
import { LeaderLease } from './leader-lease';
import { RolloutExecutor } from './rollout-executor';
import { RolloutReconciler } from './rollout-reconciler';
import { RolloutRepository } from './rollout.repository';
import { Rollouts } from './rollouts';
import { RolloutsController } from './rollouts.controller';

@Module({
  imports: [FleetStateModule],
  controllers: [RolloutsController],
  providers: [
    RolloutRepository,
    RolloutExecutor,
    Rollouts,
    RolloutReconciler,
    {
      provide: LeaderLease,
      // Built from settings, not injected parts: the lease's name, this process's holder name and ROLLOUT_LEADER_TTL.
      // The holder names this process; a restarted process is a new holder and takes a new term.
      useFactory: (pool: pg.Pool, config: CloudConfig) => new LeaderLease(pool, 'rollouts', `${hostname()}/${process.pid}/${randomUUID().slice(0, 8)}`, config.rollouts.leaderTtlMs),
      inject: [pg.Pool, CLOUD_CONFIG],
    },
  ],
  // Promotions start a candidate's canary the way a person does.
  exports: [Rollouts],
})
export class RolloutsModule {}
