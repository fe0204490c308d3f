import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { DesiredModels } from '../fleet/state/desired-models';
import type { DesiredStateRow } from '../fleet/state/device-model-states';
import { judgeCohorts, type GateVerdict } from './cohort-gates';
import type { Cohorts } from './cohort-stats.repository';
import { RolloutConflictError, RolloutNotFoundError, RolloutRefusedError } from './rollout-errors';
import { RolloutExecutor } from './rollout-executor';
import { parseRolloutPlan } from './rollout-plan';
import { planCommand, type RolloutCommand } from './rollout-planner';
import type { RolloutRecord } from './rollout-records';
import { RolloutRepository, type Db, type RolloutDeviceRecord, type RolloutEvent } from './rollout.repository';
import { assignStages, deviceKeyOf } from './stage-assignment';

export interface StartRollout {
  modelName: string;
  version: number;
  fleetGroup: string;
  plan: unknown;
  /** The version to compare with and return to; by default the one most of the group runs. */
  fromVersion?: number;
}

export interface RolloutDetail extends RolloutRecord {
  devices: RolloutDeviceRecord[];
  /** The gate metrics of both cohorts as they stand now, for the current stage. */
  cohorts: Cohorts;
  gates: GateVerdict;
  events: RolloutEvent[];
}

/** What people do with rollouts: start, look, pause, resume, abort, promote. The reconciler does the rest. */
@Injectable()
export class Rollouts {
  constructor(
    @Inject(RolloutRepository) private readonly repository: RolloutRepository,
    @Inject(RolloutExecutor) private readonly executor: RolloutExecutor,
    @Inject(DesiredModels) private readonly desiredModels: DesiredModels,
  ) {}

  async start(request: StartRollout, actorId: string): Promise<RolloutRecord> {
    const plan = parseRolloutPlan(request.plan);
    const fromVersion = request.fromVersion ?? (await this.repository.versionMostRun({ modelName: request.modelName, fleetGroup: request.fleetGroup }));
    if (fromVersion === undefined) {
      throw new RolloutRefusedError(`no device of fleet group "${request.fleetGroup}" reports running ${request.modelName}; name the version to compare with and return to (fromVersion)`);
    }
    if (fromVersion === request.version) throw new RolloutRefusedError(`the group already runs ${request.modelName} version ${fromVersion}`);
    // Both ends must be deployable before anything is written.
    await this.desiredModels.of(request.modelName, request.version);
    await this.desiredModels.of(request.modelName, fromVersion);
    const { repository } = this;
    const group = { modelName: request.modelName, fleetGroup: request.fleetGroup };
    return repository.transaction(async (db) => {
      await repository.lockModelAndGroup(group, db);
      const live = await repository.liveOf(group, db);
      if (live) throw new RolloutConflictError(`rollout ${live} of ${request.modelName} to fleet group "${request.fleetGroup}" is still live; finish or abort it first`);

      const devices = await repository.groupDevices(group, db);
      if (devices.length === 0) throw new RolloutRefusedError(`fleet group "${request.fleetGroup}" has no enrolled devices`);

      const id = randomUUID();
      const stages = assignStages(id, plan, request.fleetGroup, devices);
      const rollout = await repository.insert(
        { id, ...group, fromVersion, toVersion: request.version, plan, createdBy: actorId, devices: devices.map((d) => ({ ...d, stage: stages.get(deviceKeyOf(d))! })) },
        db,
      );
      await repository.recordEvent({ rolloutId: id, actor: actorId, action: 'started', detail: { fromVersion, toVersion: request.version, devices: devices.length } }, db);
      await repository.recordEvent({ rolloutId: id, actor: actorId, action: 'stage-started', detail: { stage: 0, name: plan.stages[0]!.name } }, db);
      return rollout;
    });
  }

  list(): Promise<RolloutRecord[]> {
    return this.repository.latest({ limit: 200 });
  }

  async get(id: string): Promise<RolloutDetail> {
    const rollout = await this.find(id);
    const devices = await this.repository.devices({ rolloutId: id });
    const events = await this.repository.events({ rolloutId: id });
    const cohorts = await this.repository.cohorts({ rollout });
    return { ...rollout, devices, cohorts, gates: judgeCohorts(cohorts.candidate, cohorts.baseline, rollout.plan.gates), events };
  }

  /** A person's command, kept in the audit log with their reason, applied by the reconciler's own executors. */
  async command(id: string, command: RolloutCommand, actorId: string, reason: string): Promise<RolloutRecord> {
    return this.repository.transaction(async (db) => {
      const rollout = await this.find(id, { db, forUpdate: true });
      // Commands send no desired state (without models, such a step throws), so the outbox stays empty.
      const outbox: DesiredStateRow[] = [];
      await this.executor.apply(planCommand(rollout, command, actorId, reason), { db, rollout, models: undefined, outbox });
      return this.find(id, { db, forUpdate: false });
    });
  }

  private async find(id: string, on?: { db: Db; forUpdate: boolean }): Promise<RolloutRecord> {
    if (!/^[0-9a-f-]{36}$/i.test(id)) throw new RolloutNotFoundError(id);
    const rollout = await this.repository.find({ rolloutId: id, forUpdate: on?.forUpdate }, on?.db);
    if (!rollout) throw new RolloutNotFoundError(id);
    return rollout;
  }
}
