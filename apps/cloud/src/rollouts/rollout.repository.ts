import { Inject, Injectable } from '@nestjs/common';
import pg from 'pg';
import { inTransaction } from '../database/transaction';
import { cohortsOf, type Cohorts } from './cohort-stats.repository';
import type { DeviceKey } from '../fleet/state/device-model-states';
import type { RolloutPlan } from './rollout-plan';
import { LIVE_ROLLOUT_STATES, type RolloutDeviceState, type RolloutRecord, type RolloutState } from './rollout-records';
import type { DeviceChange, RolloutDeviceView, RolloutObservation } from './rollout-steps';

/** A pool, or the client of a transaction: every method runs on the caller's transaction when given one. */
export type Db = Pick<pg.PoolClient, 'query'>;

export interface RolloutEvent {
  at: Date;
  actor: string;
  action: string;
  detail: Record<string, unknown>;
}

export interface RolloutDeviceRecord extends DeviceKey {
  stage: number;
  state: RolloutDeviceState;
  detail: string;
  updatedAt: Date;
}

interface RolloutRow {
  id: string;
  model_name: string;
  from_version: number;
  to_version: number;
  fleet_group: string;
  plan: RolloutPlan;
  state: RolloutState;
  stage: number;
  bake_started_at: Date | null;
  reason: string;
  created_by: string;
  created_at: Date;
  updated_at: Date;
}

interface ObservedDeviceRow {
  site_id: string;
  device_id: string;
  stage: number;
  state: RolloutDeviceState;
  detail: string;
  updated_at: Date;
  has_report: boolean;
  answers_latest: boolean;
  status: string | null;
  active_name: string | null;
  active_version: string | null;
  error: string;
  has_telemetry: boolean;
  seen_since_change: boolean;
  model_name: string | null;
  model_version: string | null;
}

const COLUMNS = 'id, model_name, from_version, to_version, fleet_group, plan, state, stage, bake_started_at, reason, created_by, created_at, updated_at';

const toRecord = (row: RolloutRow): RolloutRecord => ({
  id: row.id,
  modelName: row.model_name,
  fromVersion: row.from_version,
  toVersion: row.to_version,
  fleetGroup: row.fleet_group,
  plan: row.plan,
  state: row.state,
  stage: row.stage,
  bakeStartedAt: row.bake_started_at,
  reason: row.reason,
  createdBy: row.created_by,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
});

const toObservedDevice = (row: ObservedDeviceRow): RolloutDeviceView => ({
  siteId: row.site_id,
  deviceId: row.device_id,
  stage: row.stage,
  state: row.state,
  detail: row.detail,
  updatedAt: row.updated_at,
  report: row.has_report
    ? { answersLatest: row.answers_latest, status: row.status, activeName: row.active_name, activeVersion: row.active_version, error: row.error }
    : undefined,
  telemetry: row.has_telemetry ? { seenSinceChange: row.seen_since_change, modelName: row.model_name, modelVersion: row.model_version } : undefined,
});

const sitesAndDevices = (devices: DeviceKey[]) => [devices.map((d) => d.siteId), devices.map((d) => d.deviceId)];

/**
 * Every query of rollouts, rollout_devices and rollout_events. Each method
 * takes its parameters by name and runs on the pool, or on the caller's
 * transaction when given its client.
 */
@Injectable()
export class RolloutRepository {
  constructor(@Inject(pg.Pool) private readonly pool: pg.Pool) {}

  transaction<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    return inTransaction(this.pool, work);
  }

  /** undefined when there is no such rollout; `forUpdate` holds its row until the transaction ends. */
  async find(params: { rolloutId: string; forUpdate?: boolean }, db: Db = this.pool): Promise<RolloutRecord | undefined> {
    const lock = params.forUpdate ? ' FOR UPDATE' : '';
    const { rows } = await db.query<RolloutRow>(`SELECT ${COLUMNS} FROM rollouts WHERE id = $1${lock}`, [params.rolloutId]);
    return rows[0] && toRecord(rows[0]);
  }

  async latest(params: { limit: number }): Promise<RolloutRecord[]> {
    const { rows } = await this.pool.query<RolloutRow>(`SELECT ${COLUMNS} FROM rollouts ORDER BY created_at DESC LIMIT $1`, [params.limit]);
    return rows.map(toRecord);
  }

  /** Rollouts the reconciler still works on, oldest first. */
  async live(): Promise<RolloutRecord[]> {
    const { rows } = await this.pool.query<RolloutRow>(`SELECT ${COLUMNS} FROM rollouts WHERE state = ANY($1) ORDER BY created_at`, [LIVE_ROLLOUT_STATES]);
    return rows.map(toRecord);
  }

  async countByState(): Promise<{ state: RolloutState; count: number }[]> {
    const { rows } = await this.pool.query<{ state: RolloutState; n: number }>(`SELECT state, count(*)::int AS n FROM rollouts GROUP BY state`);
    return rows.map((row) => ({ state: row.state, count: row.n }));
  }

  /** Held until the transaction ends: one live rollout per model and group, since two would fight over the same devices. */
  async lockModelAndGroup(params: { modelName: string; fleetGroup: string }, db: Db): Promise<void> {
    await db.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`rollout:${params.modelName}:${params.fleetGroup}`]);
  }

  async liveOf(params: { modelName: string; fleetGroup: string }, db: Db): Promise<string | undefined> {
    const { rows } = await db.query<{ id: string }>(`SELECT id FROM rollouts WHERE model_name = $1 AND fleet_group = $2 AND state = ANY($3)`, [
      params.modelName,
      params.fleetGroup,
      LIVE_ROLLOUT_STATES,
    ]);
    return rows[0]?.id;
  }

  /** The group's enrolled devices, in site and device order. */
  async groupDevices(params: { fleetGroup: string }, db: Db): Promise<DeviceKey[]> {
    const { rows } = await db.query<{ site_id: string; device_id: string }>(
      `SELECT site_id, device_id FROM device_credentials WHERE fleet_group = $1 AND revoked_at IS NULL ORDER BY site_id, device_id`,
      [params.fleetGroup],
    );
    return rows.map((row) => ({ siteId: row.site_id, deviceId: row.device_id }));
  }

  /** The version of `modelName` most of the group reports running, the highest on a tie. */
  async versionMostRun(params: { modelName: string; fleetGroup: string }): Promise<number | undefined> {
    const { rows } = await this.pool.query<{ version: string }>(
      `SELECT s.reported->'active'->>'version' AS version FROM device_model_states s
       JOIN device_credentials c ON c.site_id = s.site_id AND c.device_id = s.device_id
       WHERE c.fleet_group = $1 AND c.revoked_at IS NULL AND s.reported->'active'->>'name' = $2
       GROUP BY 1 ORDER BY count(*) DESC, 1 DESC LIMIT 1`,
      [params.fleetGroup, params.modelName],
    );
    const version = Number(rows[0]?.version);
    return Number.isInteger(version) ? version : undefined;
  }

  /** A new rollout, running from its first stage, with every device pending in the stage it was assigned. */
  async insert(
    params: { id: string; modelName: string; fromVersion: number; toVersion: number; fleetGroup: string; plan: RolloutPlan; createdBy: string; devices: (DeviceKey & { stage: number })[] },
    db: Db,
  ): Promise<RolloutRecord> {
    const { rows } = await db.query<RolloutRow>(
      `INSERT INTO rollouts (id, model_name, from_version, to_version, fleet_group, plan, state, created_by)
       VALUES ($1, $2, $3, $4, $5, $6::jsonb, 'running', $7) RETURNING ${COLUMNS}`,
      [params.id, params.modelName, params.fromVersion, params.toVersion, params.fleetGroup, JSON.stringify(params.plan), params.createdBy],
    );
    await db.query(
      `INSERT INTO rollout_devices (rollout_id, site_id, device_id, stage, state)
       SELECT $1, site_id, device_id, stage, 'pending' FROM unnest($2::text[], $3::text[], $4::int[]) AS d(site_id, device_id, stage)`,
      [params.id, ...sitesAndDevices(params.devices), params.devices.map((d) => d.stage)],
    );
    return toRecord(rows[0]!);
  }

  /**
   * The only statement that changes a rollout's state. `reason` replaces the
   * one shown, when given; `endBake` clears the bake timer.
   */
  async writeState(params: { rolloutId: string; state: RolloutState; reason?: string; endBake?: boolean }, db: Db): Promise<void> {
    await db.query(
      `UPDATE rollouts SET state = $2, reason = COALESCE($3, reason),
         bake_started_at = CASE WHEN $4::boolean THEN NULL ELSE bake_started_at END, updated_at = now()
       WHERE id = $1`,
      [params.rolloutId, params.state, params.reason ?? null, params.endBake ?? false],
    );
  }

  /** A new stage starts its bake afresh. */
  async writeStage(params: { rolloutId: string; stage: number }, db: Db): Promise<void> {
    await db.query(`UPDATE rollouts SET stage = $2, bake_started_at = NULL, updated_at = now() WHERE id = $1`, [params.rolloutId, params.stage]);
  }

  async startBake(params: { rolloutId: string }, db: Db): Promise<void> {
    await db.query(`UPDATE rollouts SET bake_started_at = now(), updated_at = now() WHERE id = $1`, [params.rolloutId]);
  }

  /** Both cohorts' gate metrics for the rollout's current stage (cohort-stats.repository.ts holds those queries). */
  cohorts(params: { rollout: RolloutRecord }, db: Db = this.pool): Promise<Cohorts> {
    return cohortsOf(db, params.rollout, params.rollout.plan.gates);
  }

  /** Appends to a rollout's audit log. */
  async recordEvent(params: { rolloutId: string; actor: string; action: string; detail: Record<string, unknown> }, db: Db): Promise<void> {
    await db.query('INSERT INTO rollout_events (rollout_id, actor, action, detail) VALUES ($1, $2, $3, $4::jsonb)', [
      params.rolloutId,
      params.actor,
      params.action,
      JSON.stringify(params.detail),
    ]);
  }

  async events(params: { rolloutId: string }): Promise<RolloutEvent[]> {
    const { rows } = await this.pool.query<RolloutEvent>(`SELECT at, actor, action, detail FROM rollout_events WHERE rollout_id = $1 ORDER BY id`, [params.rolloutId]);
    return rows;
  }

  async devices(params: { rolloutId: string }): Promise<RolloutDeviceRecord[]> {
    const { rows } = await this.pool.query<{ site_id: string; device_id: string; stage: number; state: RolloutDeviceState; detail: string; updated_at: Date }>(
      `SELECT site_id, device_id, stage, state, detail, updated_at FROM rollout_devices WHERE rollout_id = $1 ORDER BY stage, site_id, device_id`,
      [params.rolloutId],
    );
    return rows.map((d) => ({ siteId: d.site_id, deviceId: d.device_id, stage: d.stage, state: d.state, detail: d.detail, updatedAt: d.updated_at }));
  }

  /**
   * Every device of the rollout, in stage, site and device order, beside its
   * latest ReportedState and telemetry; the comparisons of timestamps and
   * generations are made here, on the database's clock.
   */
  async observe(params: { rolloutId: string }, db: Db): Promise<Omit<RolloutObservation, 'rollout'>> {
    const { rows } = await db.query<ObservedDeviceRow>(
      `SELECT rd.site_id, rd.device_id, rd.stage, rd.state, rd.detail, rd.updated_at,
         s.reported IS NOT NULL AS has_report, COALESCE(s.reported_generation >= s.desired_generation, false) AS answers_latest,
         s.reported->>'status' AS status, s.reported->'active'->>'name' AS active_name, s.reported->'active'->>'version' AS active_version,
         COALESCE(s.reported->>'error', '') AS error,
         d.id IS NOT NULL AS has_telemetry, COALESCE(d.last_seen_at > rd.updated_at, false) AS seen_since_change, d.model_name, d.model_version
       FROM rollout_devices rd
       LEFT JOIN device_model_states s ON s.site_id = rd.site_id AND s.device_id = rd.device_id
       LEFT JOIN devices d ON d.site_id = rd.site_id AND d.id = rd.device_id
       WHERE rd.rollout_id = $1 ORDER BY rd.stage, rd.site_id, rd.device_id`,
      [params.rolloutId],
    );
    const { rows: clock } = await db.query<{ now: Date; shadow_started_at: Date | null; shadow_passed: boolean }>(
      `SELECT now() AS now,
         (SELECT min(at) FROM rollout_events WHERE rollout_id = $1 AND action = 'shadow-started') AS shadow_started_at,
         EXISTS (SELECT 1 FROM rollout_events WHERE rollout_id = $1 AND action = 'shadow-passed') AS shadow_passed`,
      [params.rolloutId],
    );
    const { now, shadow_started_at: startedAt, shadow_passed: passed } = clock[0]!;
    return { now, devices: rows.map(toObservedDevice), shadow: { startedAt, passed } };
  }

  /** Devices whose reports moved them, each to its own state and detail. */
  async settleDevices(params: { rolloutId: string; changes: DeviceChange[] }, db: Db): Promise<void> {
    await db.query(
      `UPDATE rollout_devices rd SET state = c.state, detail = c.detail, updated_at = now()
       FROM unnest($2::text[], $3::text[], $4::text[], $5::text[]) AS c(site_id, device_id, state, detail)
       WHERE rd.rollout_id = $1 AND rd.site_id = c.site_id AND rd.device_id = c.device_id`,
      [params.rolloutId, ...sitesAndDevices(params.changes), params.changes.map((c) => c.state), params.changes.map((c) => c.detail)],
    );
  }

  async moveDevices(params: { rolloutId: string; devices: DeviceKey[]; state: RolloutDeviceState }, db: Db): Promise<void> {
    await db.query(
      `UPDATE rollout_devices SET state = $2, updated_at = now()
       WHERE rollout_id = $1 AND (site_id, device_id) IN (SELECT * FROM unnest($3::text[], $4::text[]))`,
      [params.rolloutId, params.state, ...sitesAndDevices(params.devices)],
    );
  }

  /** The update timeouts of devices still updating start again. */
  async restartUpdateTimers(params: { rolloutId: string }, db: Db): Promise<void> {
    await db.query(`UPDATE rollout_devices SET updated_at = now() WHERE rollout_id = $1 AND state = 'updating'`, [params.rolloutId]);
  }
}
