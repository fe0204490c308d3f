import type { ROLLOUT_DEVICE_STATE_NAMES, ROLLOUT_STATE_NAMES } from '@loupe/api-contracts';
import type { RolloutPlan } from './rollout-plan';

export type RolloutState = (typeof ROLLOUT_STATE_NAMES)[number];

/** States the reconciler still works on; the others are final. */
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
