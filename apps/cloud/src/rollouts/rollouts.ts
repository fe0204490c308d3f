import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { inTransaction } from '../database/transaction';
import type { DesiredModels } from '../fleet/state/desired-models';
import { judgeCohorts, type GateVerdict } from './cohort-gates';
import { cohortsOf, type Cohorts } from './cohort-stats';
import { completeStage } from './rollout-controller';
import { RolloutConflictError, RolloutNotFoundError, RolloutRefusedError } from './rollout-errors';
import { parseRolloutPlan } from './rollout-plan';
import type { RolloutCommand } from './rollout-planner';
import {
  LIVE_ROLLOUT_STATES,
  recordRolloutEvent,
  ROLLOUT_COLUMNS,
  toRolloutRecord,
  type RolloutDeviceState,
  type RolloutRecord,
  type RolloutRow,
  type RolloutState,
} from './rollout-records';
import { assignStages, deviceKeyOf } from './stage-assignment';

export interface StartRollout {
  modelName: string;
  version: number;
  fleetGroup: string;
  plan: unknown;
  /** The version to compare with and return to; by default the one most of the group runs. */
  fromVersion?: number;
}

export interface RolloutDevice {
  siteId: string;
  deviceId: string;
  stage: number;
  state: RolloutDeviceState;
  detail: string;
  updatedAt: Date;
}

export interface RolloutDetail extends RolloutRecord {
  devices: RolloutDevice[];
  /** The gate metrics of both cohorts as they stand now, for the current stage. */
  cohorts: Cohorts;
  gates: GateVerdict;
  events: { at: Date; actor: string; action: string; detail: Record<string, unknown> }[];
}

const ALLOWED: Record<RolloutCommand, readonly RolloutState[]> = {
  pause: ['running'],
  resume: ['paused'],
  abort: ['running', 'paused'],
  promote: ['running', 'paused'],
};

/** What people do with rollouts: start, look, pause, resume, abort, promote. The controller does the rest. */
export class Rollouts {
  constructor(
    private readonly pool: pg.Pool,
    private readonly desiredModels: DesiredModels,
  ) {}

  async start(request: StartRollout, actorId: string): Promise<RolloutRecord> {
    const plan = parseRolloutPlan(request.plan);
    const fromVersion = request.fromVersion ?? (await this.versionMostRun(request.modelName, request.fleetGroup));
    if (fromVersion === undefined) {
      throw new RolloutRefusedError(`no device of fleet group "${request.fleetGroup}" reports running ${request.modelName}; name the version to compare with and return to (fromVersion)`);
    }
    if (fromVersion === request.version) throw new RolloutRefusedError(`the group already runs ${request.modelName} version ${fromVersion}`);
    // Both ends must be deployable before anything is written.
    await this.desiredModels.of(request.modelName, request.version);
    await this.desiredModels.of(request.modelName, fromVersion);
    return inTransaction(this.pool, async (client) => {
      // One live rollout per model and group: two would fight over the same devices.
      await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`rollout:${request.modelName}:${request.fleetGroup}`]);
      const { rows: live } = await client.query<{ id: string }>(
        `SELECT id FROM rollouts WHERE model_name = $1 AND fleet_group = $2 AND state = ANY($3)`,
        [request.modelName, request.fleetGroup, LIVE_ROLLOUT_STATES],
      );
      if (live[0]) throw new RolloutConflictError(`rollout ${live[0].id} of ${request.modelName} to fleet group "${request.fleetGroup}" is still live; finish or abort it first`);

      const { rows: devices } = await client.query<{ site_id: string; device_id: string }>(
        `SELECT site_id, device_id FROM device_credentials WHERE fleet_group = $1 AND revoked_at IS NULL ORDER BY site_id, device_id`,
        [request.fleetGroup],
      );
      if (devices.length === 0) throw new RolloutRefusedError(`fleet group "${request.fleetGroup}" has no enrolled devices`);

      const id = randomUUID();
      const stages = assignStages(id, plan, request.fleetGroup, devices.map((d) => ({ siteId: d.site_id, deviceId: d.device_id })));
      const { rows } = await client.query<RolloutRow>(
        `INSERT INTO rollouts (id, model_name, from_version, to_version, fleet_group, plan, state, created_by)
         VALUES ($1, $2, $3, $4, $5, $6::jsonb, 'running', $7) RETURNING ${ROLLOUT_COLUMNS}`,
        [id, request.modelName, fromVersion, request.version, request.fleetGroup, JSON.stringify(plan), actorId],
      );
      const keys = devices.map((d) => deviceKeyOf({ siteId: d.site_id, deviceId: d.device_id }));
      await client.query(
        `INSERT INTO rollout_devices (rollout_id, site_id, device_id, stage, state)
         SELECT $1, site_id, device_id, stage, 'pending' FROM unnest($2::text[], $3::text[], $4::int[]) AS d(site_id, device_id, stage)`,
        [id, devices.map((d) => d.site_id), devices.map((d) => d.device_id), keys.map((key) => stages.get(key)!)],
      );
      await recordRolloutEvent(client, id, actorId, 'started', { fromVersion, toVersion: request.version, devices: devices.length });
      await recordRolloutEvent(client, id, actorId, 'stage-started', { stage: 0, name: plan.stages[0]!.name });
      return toRolloutRecord(rows[0]!);
    });
  }

  async list(): Promise<RolloutRecord[]> {
    const { rows } = await this.pool.query<RolloutRow>(`SELECT ${ROLLOUT_COLUMNS} FROM rollouts ORDER BY created_at DESC LIMIT 200`);
    return rows.map(toRolloutRecord);
  }

  async get(id: string): Promise<RolloutDetail> {
    const rollout = await this.find(this.pool, id);
    const { rows: devices } = await this.pool.query<{ site_id: string; device_id: string; stage: number; state: RolloutDeviceState; detail: string; updated_at: Date }>(
      `SELECT site_id, device_id, stage, state, detail, updated_at FROM rollout_devices WHERE rollout_id = $1 ORDER BY stage, site_id, device_id`,
      [id],
    );
    const { rows: events } = await this.pool.query<{ at: Date; actor: string; action: string; detail: Record<string, unknown> }>(
      `SELECT at, actor, action, detail FROM rollout_events WHERE rollout_id = $1 ORDER BY id`,
      [id],
    );
    const cohorts = await cohortsOf(this.pool, rollout, rollout.plan.gates);
    return {
      ...rollout,
      devices: devices.map((d) => ({ siteId: d.site_id, deviceId: d.device_id, stage: d.stage, state: d.state, detail: d.detail, updatedAt: d.updated_at })),
      cohorts,
      gates: judgeCohorts(cohorts.candidate, cohorts.baseline, rollout.plan.gates),
      events,
    };
  }

  /** A person's command, kept in the audit log with their reason. */
  async command(id: string, command: RolloutCommand, actorId: string, reason: string): Promise<RolloutRecord> {
    return inTransaction(this.pool, async (client) => {
      const rollout = await this.find(client, id, true);
      if (!ALLOWED[command].includes(rollout.state)) {
        throw new RolloutConflictError(`rollout ${id} is ${rollout.state}; ${command} needs it ${ALLOWED[command].join(' or ')}`);
      }
      await recordRolloutEvent(client, id, actorId, command, { reason, stage: rollout.stage });
      if (command === 'pause') {
        await client.query(`UPDATE rollouts SET state = 'paused', reason = $2, updated_at = now() WHERE id = $1`, [id, reason]);
      } else if (command === 'resume') {
        // Timers start again: the pause may have been for missing data.
        await client.query(`UPDATE rollouts SET state = 'running', reason = '', bake_started_at = NULL, updated_at = now() WHERE id = $1`, [id]);
        await client.query(`UPDATE rollout_devices SET updated_at = now() WHERE rollout_id = $1 AND state = 'updating'`, [id]);
      } else if (command === 'abort') {
        await client.query(`UPDATE rollouts SET state = 'aborting', reason = $2, updated_at = now() WHERE id = $1`, [id, reason || 'aborted by a person']);
      } else {
        await completeStage(client, rollout, actorId);
        if (rollout.state === 'paused') await client.query(`UPDATE rollouts SET state = 'running', reason = '' WHERE id = $1 AND state = 'paused'`, [id]);
      }
      return this.find(client, id);
    });
  }

  private async find(db: Pick<pg.Pool, 'query'>, id: string, forUpdate = false): Promise<RolloutRecord> {
    if (!/^[0-9a-f-]{36}$/i.test(id)) throw new RolloutNotFoundError(id);
    const { rows } = await db.query<RolloutRow>(`SELECT ${ROLLOUT_COLUMNS} FROM rollouts WHERE id = $1${forUpdate ? ' FOR UPDATE' : ''}`, [id]);
    if (!rows[0]) throw new RolloutNotFoundError(id);
    return toRolloutRecord(rows[0]);
  }

  private async versionMostRun(modelName: string, group: string): Promise<number | undefined> {
    const { rows } = await this.pool.query<{ version: string }>(
      `SELECT s.reported->'active'->>'version' AS version FROM device_model_states s
       JOIN device_credentials c ON c.site_id = s.site_id AND c.device_id = s.device_id
       WHERE c.fleet_group = $1 AND c.revoked_at IS NULL AND s.reported->'active'->>'name' = $2
       GROUP BY 1 ORDER BY count(*) DESC, 1 DESC LIMIT 1`,
      [group, modelName],
    );
    const version = Number(rows[0]?.version);
    return Number.isInteger(version) ? version : undefined;
  }
}
