import { ROLLOUT_DEVICE_STATE_NAMES, type RolloutDetailDto } from '@loupe/api-contracts';
import { duration } from './rollout-numbers';

export type StageMark = 'done' | 'current' | 'upcoming' | 'stopped';

/** One stage of the plan, in order, with where the rollout stands. */
export interface StageRow {
  index: number;
  name: string;
  /** Which devices the stage takes: named canaries and/or a share of the group. */
  takes: string;
  bake: string;
  /** Its devices by state, e.g. `1 active · 2 updating`. */
  devices: string;
  mark: StageMark;
}

// Named canaries are listed while a person can read them at a glance.
const NAMED_DEVICES_LISTED = 3;

function takes(stage: RolloutDetailDto['plan']['stages'][number]): string {
  const parts: string[] = [];
  if (stage.devices.length > 0) {
    parts.push(stage.devices.length <= NAMED_DEVICES_LISTED ? stage.devices.join(', ') : `${stage.devices.length} named devices`);
  }
  if (stage.percent !== undefined) parts.push(`${stage.percent}% of the group`);
  return parts.join(' + ');
}

function markOf(index: number, rollout: Pick<RolloutDetailDto, 'state' | 'stage'>): StageMark {
  if (rollout.state === 'succeeded' || index < rollout.stage) return 'done';
  if (index > rollout.stage) return 'upcoming';
  // The stage at which a rollback or abort ended the rollout.
  return rollout.state === 'rolled_back' || rollout.state === 'aborted' ? 'stopped' : 'current';
}

/** Counts of `states` in the contract's order (pending first), leaving out the states no device is in. */
export function deviceCounts(states: readonly RolloutDetailDto['devices'][number]['state'][]): string {
  const counted = ROLLOUT_DEVICE_STATE_NAMES.map((state) => ({ state, n: states.filter((s) => s === state).length })).filter(({ n }) => n > 0);
  return counted.length === 0 ? 'no devices' : counted.map(({ state, n }) => `${n} ${state}`).join(' · ');
}

/** The plan's stages in order, each with its devices counted by state. */
export function stageRows(rollout: Pick<RolloutDetailDto, 'plan' | 'state' | 'stage' | 'devices'>): StageRow[] {
  return rollout.plan.stages.map((stage, index) => ({
    index,
    name: stage.name,
    takes: takes(stage),
    bake: duration(stage.bakeSeconds),
    devices: deviceCounts(rollout.devices.filter((device) => device.stage === index).map((device) => device.state)),
    mark: markOf(index, rollout),
  }));
}

/** The name of the stage the rollout is at; the last one once it succeeded. */
export function currentStageName(rollout: Pick<RolloutDetailDto, 'plan' | 'stage'>): string {
  return rollout.plan.stages[rollout.stage]?.name ?? rollout.plan.stages.at(-1)?.name ?? '-';
}
