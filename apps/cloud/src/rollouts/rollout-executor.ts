import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import type { DeployableModel } from '@loupe/device-state';
import { DeviceModelStates, type DesiredStateRow, type DeviceKey } from '../fleet/state/device-model-states';
import { CLOUD_METRICS, LOGGER } from '../infrastructure.tokens';
import type { CloudMetrics } from '../metrics/cloud-metrics';
import type { RolloutRecord } from './rollout-records';
import { RolloutRepository, type Db } from './rollout.repository';
import type { RolloutStep, RolloutStepKind, StepOf } from './rollout-steps';

export interface RolloutModels {
  to: DeployableModel;
  from: DeployableModel;
}

/** One pass over one rollout, in the transaction that holds its row. */
export interface StepContext {
  db: Db;
  rollout: RolloutRecord;
  /**
   * Looked up before the transaction, which must not wait for a second
   * connection while it holds one; absent for a person's command, whose steps
   * never send a desired state.
   */
  models: RolloutModels | undefined;
  /** DesiredStates to publish once the transaction has committed. */
  outbox: DesiredStateRow[];
}

type Executor<K extends RolloutStepKind> = (step: StepOf<K>, context: StepContext) => Promise<void>;

/** Exactly one executor per kind of step: the compiler refuses a kind left out or one too many. */
export type RolloutExecutors = { [K in RolloutStepKind]: Executor<K> };

export interface ExecutorPorts {
  repository: RolloutRepository;
  states: DeviceModelStates;
  metrics: CloudMetrics;
  log: Logger;
}

function modelsOf(context: StepContext, step: RolloutStep): RolloutModels {
  if (!context.models) throw new Error(`rollout step ${step.kind} sends a desired state, but its models were not looked up`);
  return context.models;
}

async function desire(ports: ExecutorPorts, context: StepContext, devices: DeviceKey[], model: DeployableModel, shadow?: DeployableModel): Promise<void> {
  const desired = shadow ? { model, shadow, rolloutId: context.rollout.id } : { model, rolloutId: context.rollout.id };
  context.outbox.push(...(await ports.states.desire(context.db, devices, desired)));
}

/** Steps that move devices and send them what to run. */
function deviceExecutors(ports: ExecutorPorts): Pick<RolloutExecutors, 'settle-devices' | 'update-devices' | 'start-shadow' | 'skip-devices' | 'revert-devices'> {
  const { repository, log } = ports;
  return {
    'settle-devices': async ({ changes }, { db, rollout }) => {
      await repository.settleDevices({ rolloutId: rollout.id, changes }, db);
      for (const change of changes.filter((c) => c.state === 'failed')) {
        log.warn({ rolloutId: rollout.id, siteId: change.siteId, deviceId: change.deviceId, reason: change.detail }, 'device failed the new model');
      }
    },
    'update-devices': async (step, context) => {
      await repository.moveDevices({ rolloutId: context.rollout.id, devices: step.devices, state: 'updating' }, context.db);
      await desire(ports, context, step.devices, modelsOf(context, step).to);
    },
    'start-shadow': async (step, context) => {
      const models = modelsOf(context, step);
      await desire(ports, context, step.devices, models.from, models.to);
    },
    'skip-devices': async (step, context) => {
      await repository.moveDevices({ rolloutId: context.rollout.id, devices: step.devices, state: 'skipped' }, context.db);
      if (step.leaveShadow) await desire(ports, context, step.devices, modelsOf(context, step).from);
    },
    'revert-devices': async (step, context) => {
      await repository.moveDevices({ rolloutId: context.rollout.id, devices: step.devices, state: 'reverting' }, context.db);
      await desire(ports, context, step.devices, modelsOf(context, step).from);
    },
  };
}

/** Steps that move the rollout itself; `writeState` is the only write of its state. */
function rolloutExecutors(ports: ExecutorPorts): Omit<RolloutExecutors, keyof ReturnType<typeof deviceExecutors>> {
  const { repository, metrics, log } = ports;
  return {
    'start-bake': async (_step, { db, rollout }) => repository.startBake({ rolloutId: rollout.id }, db),
    'count-verdict': ({ verdict }) => {
      metrics.rolloutGateVerdicts.inc({ verdict });
      return Promise.resolve();
    },
    'record-event': async ({ actor, action, detail }, { db, rollout }) => repository.recordEvent({ rolloutId: rollout.id, actor, action, detail }, db),
    pause: async ({ reason }, { db, rollout }) => {
      await repository.writeState({ rolloutId: rollout.id, state: 'paused', reason }, db);
      log.warn({ rolloutId: rollout.id, reason }, 'rollout paused; it waits for a person');
    },
    resume: async ({ restartTimers }, { db, rollout }) => {
      await repository.writeState({ rolloutId: rollout.id, state: 'running', reason: '', endBake: true }, db);
      if (restartTimers) await repository.restartUpdateTimers({ rolloutId: rollout.id }, db);
    },
    abort: async ({ reason }, { db, rollout }) => repository.writeState({ rolloutId: rollout.id, state: 'aborting', reason }, db),
    'begin-rollback': async ({ reason }, { db, rollout }) => {
      await repository.writeState({ rolloutId: rollout.id, state: 'rolling_back', reason }, db);
      log.warn({ rolloutId: rollout.id, reason }, 'rolling back');
    },
    'finish-revert': async ({ state }, { db, rollout }) => {
      await repository.writeState({ rolloutId: rollout.id, state }, db);
      log.info({ rolloutId: rollout.id, state }, 'every device is back on the old version');
    },
    'advance-stage': async ({ stage }, { db, rollout }) => repository.writeStage({ rolloutId: rollout.id, stage }, db),
    succeed: async (_step, { db, rollout }) => {
      await repository.writeState({ rolloutId: rollout.id, state: 'succeeded', endBake: true }, db);
      log.info({ rolloutId: rollout.id, model: rollout.modelName, version: rollout.toVersion }, 'rollout succeeded');
    },
  };
}

/** Applies planned steps in order, for the reconciler and for people's commands alike. */
@Injectable()
export class RolloutExecutor {
  private readonly executors: RolloutExecutors;

  constructor(
    @Inject(RolloutRepository) repository: RolloutRepository,
    @Inject(DeviceModelStates) states: DeviceModelStates,
    @Inject(CLOUD_METRICS) metrics: CloudMetrics,
    @Inject(LOGGER) logger: Logger,
  ) {
    const ports: ExecutorPorts = { repository, states, metrics, log: logger.child({ component: 'rollout-executor' }) };
    this.executors = { ...deviceExecutors(ports), ...rolloutExecutors(ports) };
  }

  async apply(steps: readonly RolloutStep[], context: StepContext): Promise<void> {
    for (const step of steps) {
      // The table pairs each kind with its executor; TypeScript cannot follow that pairing through the index.
      const execute = this.executors[step.kind] as Executor<RolloutStepKind>;
      await execute(step, context);
    }
  }
}
