import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import { Module } from '@nestjs/common';
import type { Logger } from 'pino';
import type { Database } from '../database/database';
import { DesiredModels } from '../fleet/state/desired-models';
import { DesiredStatePublisher } from '../fleet/state/desired-state.publisher';
import { DeviceModelStates } from '../fleet/state/device-model-states';
import { FleetStateModule } from '../fleet/state/fleet-state.module';
import { CLOUD_METRICS, DATABASE, LOGGER, ROLLOUT_SETTINGS } from '../infrastructure.tokens';
import type { CloudMetrics } from '../metrics/cloud-metrics';
import { LeaderLease } from './leader-lease';
import { RolloutExecutor } from './rollout-executor';
import { RolloutReconciler } from './rollout-reconciler';
import { RolloutRepository } from './rollout.repository';
import { Rollouts } from './rollouts';
import { RolloutsController } from './rollouts.controller';

export interface RolloutSettings {
  tickMs: number;
  leaderTtlMs: number;
  republishAfterMs: number;
}

@Module({
  imports: [FleetStateModule],
  controllers: [RolloutsController],
  providers: [
    { provide: RolloutRepository, useFactory: (db: Database) => new RolloutRepository(db.pool), inject: [DATABASE] },
    {
      provide: RolloutExecutor,
      useFactory: (repository: RolloutRepository, states: DeviceModelStates, metrics: CloudMetrics, logger: Logger) =>
        new RolloutExecutor({ repository, states, metrics, log: logger.child({ component: 'rollout-executor' }) }),
      inject: [RolloutRepository, DeviceModelStates, CLOUD_METRICS, LOGGER],
    },
    {
      provide: Rollouts,
      useFactory: (repository: RolloutRepository, executor: RolloutExecutor, models: DesiredModels) => new Rollouts(repository, executor, models),
      inject: [RolloutRepository, RolloutExecutor, DesiredModels],
    },
    {
      provide: RolloutReconciler,
      useFactory: (
        db: Database,
        repository: RolloutRepository,
        executor: RolloutExecutor,
        states: DeviceModelStates,
        desiredModels: DesiredModels,
        publisher: DesiredStatePublisher,
        metrics: CloudMetrics,
        settings: RolloutSettings,
        logger: Logger,
      ) =>
        new RolloutReconciler(
          {
            repository,
            // The holder names this process; a restarted process is a new holder and takes a new term.
            lease: new LeaderLease(db.pool, 'rollouts', `${hostname()}/${process.pid}/${randomUUID().slice(0, 8)}`, settings.leaderTtlMs),
            executor,
            states,
            desiredModels,
            publisher,
            metrics,
          },
          settings,
          logger,
        ),
      inject: [DATABASE, RolloutRepository, RolloutExecutor, DeviceModelStates, DesiredModels, DesiredStatePublisher, CLOUD_METRICS, ROLLOUT_SETTINGS, LOGGER],
    },
  ],
})
export class RolloutsModule {}
