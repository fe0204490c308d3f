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
import { RolloutController } from './rollout-controller';
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
    { provide: Rollouts, useFactory: (db: Database, models: DesiredModels) => new Rollouts(db.pool, models), inject: [DATABASE, DesiredModels] },
    {
      provide: RolloutController,
      useFactory: (db: Database, states: DeviceModelStates, models: DesiredModels, publisher: DesiredStatePublisher, metrics: CloudMetrics, settings: RolloutSettings, logger: Logger) =>
        new RolloutController(
          db.pool,
          // The holder names this process; a restarted process is a new holder and takes a new term.
          new LeaderLease(db.pool, 'rollouts', `${hostname()}/${process.pid}/${randomUUID().slice(0, 8)}`, settings.leaderTtlMs),
          states,
          models,
          publisher,
          metrics,
          settings,
          logger,
        ),
      inject: [DATABASE, DeviceModelStates, DesiredModels, DesiredStatePublisher, CLOUD_METRICS, ROLLOUT_SETTINGS, LOGGER],
    },
  ],
})
export class RolloutsModule {}
