import { Inject, Injectable, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import type { Logger } from 'pino';
import type { DeployableModel } from '@loupe/device-state';
import type { CloudConfig } from '../config/cloud-config';
import { DesiredModels } from '../fleet/state/desired-models';
import { DesiredStatePublisher } from '../fleet/state/desired-state.publisher';
import { DeviceModelStates, type DesiredStateRow } from '../fleet/state/device-model-states';
import { CLOUD_CONFIG, CLOUD_METRICS, LOGGER } from '../infrastructure.tokens';
import type { CloudMetrics } from '../metrics/cloud-metrics';
import { LeaderLease, type Leadership } from './leader-lease';
import { RolloutExecutor, type RolloutModels } from './rollout-executor';
import { judgesGates, planRollout } from './rollout-planner';
import type { RolloutRecord } from './rollout-records';
import { RolloutRepository } from './rollout.repository';

export interface RolloutReconcilerSettings {
  tickMs: number;
  /** How long a desired state may go unanswered before the leader sends it again. */
  republishAfterMs: number;
}

export interface RolloutReconcilerPorts {
  repository: RolloutRepository;
  lease: LeaderLease;
  executor: RolloutExecutor;
  states: DeviceModelStates;
  desiredModels: DesiredModels;
  publisher: DesiredStatePublisher;
  metrics: CloudMetrics;
}

/**
 * Moves every live rollout forward, on exactly one replica: the one holding
 * the `rollouts` leader lease. Each pass, for each rollout, loads a snapshot
 * in one transaction fenced by the lease's term, asks the pure planner
 * (planRollout) for the next steps and applies them with the executor. All
 * state is in Postgres and each pass re-reads it, so a restarted or newly
 * elected reconciler carries on where the last one stopped. The retained
 * DesiredState messages go out after commit, and whatever a device has not
 * answered is sent again.
 *
 * Runs from the application's bootstrap to its shutdown: the last pass
 * finishes and the lease is handed on before the database closes.
 */
@Injectable()
export class RolloutReconciler implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private timer: NodeJS.Timeout | undefined;
  private pass: Promise<void> | undefined;
  private leadership: Leadership | undefined;
  private lastRepublish = 0;
  private readonly models = new Map<string, DeployableModel>();
  private readonly log: Logger;
  private readonly ports: RolloutReconcilerPorts;
  private readonly settings: RolloutReconcilerSettings;

  constructor(
    @Inject(RolloutRepository) repository: RolloutRepository,
    @Inject(LeaderLease) lease: LeaderLease,
    @Inject(RolloutExecutor) executor: RolloutExecutor,
    @Inject(DeviceModelStates) states: DeviceModelStates,
    @Inject(DesiredModels) desiredModels: DesiredModels,
    @Inject(DesiredStatePublisher) publisher: DesiredStatePublisher,
    @Inject(CLOUD_METRICS) metrics: CloudMetrics,
    @Inject(CLOUD_CONFIG) config: Pick<CloudConfig, 'rollouts'>,
    @Inject(LOGGER) logger: Logger,
  ) {
    this.ports = { repository, lease, executor, states, desiredModels, publisher, metrics };
    this.settings = config.rollouts;
    this.log = logger.child({ component: 'rollout-reconciler' });
  }

  onApplicationBootstrap(): void {
    this.start();
  }

  beforeApplicationShutdown(): Promise<void> {
    return this.stop();
  }

  start(): void {
    this.timer = setInterval(() => {
      this.pass ??= this.tick().finally(() => (this.pass = undefined));
    }, this.settings.tickMs);
  }

  /** Finishes the pass in progress and gives up the lease, so another replica takes over at once. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.pass;
    if (this.leadership) await this.ports.lease.release().catch((error: Error) => this.log.warn({ err: error.message }, 'could not release the leader lease'));
    this.leadership = undefined;
    this.ports.metrics.rolloutLeader.set(0);
  }

  /** One pass: take or renew the lease, then advance each live rollout. */
  async tick(): Promise<void> {
    const started = performance.now();
    try {
      const leadership = await this.lead();
      if (!leadership) return;
      const takeover = leadership.takeover;
      const republish = takeover || Date.now() - this.lastRepublish >= this.settings.republishAfterMs;
      for (const rollout of await this.ports.repository.live()) {
        await this.advance(rollout, leadership);
        if (republish) await this.republish(rollout.id, takeover ? 0 : this.settings.republishAfterMs);
      }
      if (republish) this.lastRepublish = Date.now();
      await this.countRollouts();
    } catch (error) {
      this.log.error({ err: (error as Error).message }, 'rollout reconciler pass failed; retrying next tick');
    } finally {
      this.ports.metrics.rolloutTickSeconds.observe((performance.now() - started) / 1_000);
    }
  }

  /** Takes or renews the lease; undefined while another replica leads. */
  private async lead(): Promise<(Leadership & { takeover: boolean }) | undefined> {
    const leadership = await this.ports.lease.acquire();
    if (!leadership) {
      if (this.leadership) this.log.warn({ term: this.leadership.term }, 'lost the rollout reconciler lease; another replica leads');
      this.leadership = undefined;
      this.ports.metrics.rolloutLeader.set(0);
      return undefined;
    }
    const takeover = this.leadership?.term !== leadership.term;
    if (takeover) this.log.info({ term: leadership.term, holder: leadership.holder }, 'leading the rollout reconciler');
    this.leadership = leadership;
    this.ports.metrics.rolloutLeader.set(1);
    return { ...leadership, takeover };
  }

  /** Snapshot, plan, apply: one rollout, one transaction. */
  private async advance(live: RolloutRecord, leadership: Leadership): Promise<void> {
    const { repository, lease, executor } = this.ports;
    const outbox: DesiredStateRow[] = [];
    // Looked up before the transaction: it must not wait for a second connection while holding one.
    const models: RolloutModels = { to: await this.modelOf(live.modelName, live.toVersion), from: await this.modelOf(live.modelName, live.fromVersion) };
    await repository.transaction(async (db) => {
      if (!(await lease.fence(db, leadership))) return;
      const rollout = (await repository.find({ rolloutId: live.id, forUpdate: true }, db))!;
      const observation = { ...(await repository.observe({ rolloutId: rollout.id }, db)), rollout };
      // The cohorts' aggregates are the costliest reads of a pass, and only a judgement of the gates uses them.
      const cohorts = judgesGates(observation) ? await repository.cohorts({ rollout }, db) : undefined;
      const steps = planRollout(cohorts ? { ...observation, cohorts } : observation);
      await executor.apply(steps, { db, rollout, models, outbox });
    });
    if (outbox.length > 0) await this.ports.publisher.publish(outbox);
  }

  /** Registry versions never change once pushed, so each is looked up once. */
  private async modelOf(modelName: string, version: number): Promise<DeployableModel> {
    const key = `${modelName}\n${version}`;
    let model = this.models.get(key);
    if (!model) {
      model = await this.ports.desiredModels.of(modelName, version);
      this.models.set(key, model);
    }
    return model;
  }

  private async republish(rolloutId: string, olderThanMs: number): Promise<void> {
    const unanswered = await this.ports.states.unanswered(rolloutId, olderThanMs);
    if (unanswered.length === 0) return;
    this.log.info({ rolloutId, devices: unanswered.length }, 'sending unanswered desired states again');
    await this.ports.publisher.publish(unanswered);
  }

  private async countRollouts(): Promise<void> {
    const counts = await this.ports.repository.countByState();
    this.ports.metrics.rollouts.reset();
    for (const { state, count } of counts) this.ports.metrics.rollouts.set({ state }, count);
  }
}
