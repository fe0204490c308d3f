import type { ROLLOUT_DEVICE_STATE_NAMES, ROLLOUT_STATE_NAMES } from '@loupe/api-contracts';
import type { RolloutPlan } from './rollout-plan';

export type RolloutState = (typeof ROLLOUT_STATE_NAMES)[number];

/** States the controller still works on; the others are final. */
export const LIVE_ROLLOUT_STATES: readonly RolloutState[] = ['running', 'paused', 'rolling_back', 'aborting'];

/**
 * pending: not asked yet. updating: asked for the new version. active: runs
 * it. failed: refused it or rolled it back on the box. reverting: asked for
 * the old version again. reverted: runs it again. skipped: never asked
 * because the rollout ended first.
 */
export type RolloutDeviceState = (typeof ROLLOUT_DEVICE_STATE_NAMES)[number];

export interface RolloutRecord {
  id: string;
  modelName: string;
  fromVersion: number;
  toVersion: number;
  fleetGroup: string;
  plan: RolloutPlan;
  state: RolloutState;
  stage: number;
  bakeStartedAt: Date | null;
  reason: string;
  createdBy: string;
  createdAt: Date;
  updatedAt: Date;
}

export interface RolloutRow {
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

export const ROLLOUT_COLUMNS =
  'id, model_name, from_version, to_version, fleet_group, plan, state, stage, bake_started_at, reason, created_by, created_at, updated_at';

export function toRolloutRecord(row: RolloutRow): RolloutRecord {
  return {
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
  };
}

/** Appends to a rollout's audit log on the caller's transaction. */
export async function recordRolloutEvent(
  db: { query: (text: string, values: unknown[]) => Promise<unknown> },
  rolloutId: string,
  actor: string,
  action: string,
  detail: Record<string, unknown>,
): Promise<void> {
  await db.query('INSERT INTO rollout_events (rollout_id, actor, action, detail) VALUES ($1, $2, $3, $4::jsonb)', [rolloutId, actor, action, JSON.stringify(detail)]);
}
