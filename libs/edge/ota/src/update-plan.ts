import { sameModel, type DesiredModel, type ModelVersion } from '@loupe/device-state';

/** The steps of an update that can fail, and probation after it. */
export const UPDATE_STEPS = ['download', 'verify', 'stage', 'warm-up', 'self-test', 'activate', 'roll-back', 'probation'] as const;
export type UpdateStepName = (typeof UPDATE_STEPS)[number];

/** Why an update of one desired generation did not go through; kept so it is not retried in a loop. */
export interface UpdateFailure {
  model: ModelVersion;
  generation: number;
  step: UpdateStepName;
  /** A stable code: a package refusal reason (`hash-mismatch`, `unknown-key`, ...), `crashes`, `latency`, ... */
  reason: string;
  /** For people. */
  message: string;
}

/** A model that has just become active and is watched before it is trusted. */
export interface Probation {
  model: ModelVersion;
  /** Wall-clock milliseconds: probation outlives process restarts. */
  startedAt: number;
  /** Times the agent process died while this model was on probation. */
  crashes: number;
}

/** What the box has, as far as the planner cares. */
export interface BoxState {
  active?: ModelVersion;
  /** The version active before `active`, with its files kept for a local rollback. */
  previous?: ModelVersion;
  /** Downloaded, verified and in place, not yet active. */
  staged?: ModelVersion;
  probation?: Probation;
  /** The highest desired generation this box has settled: made active, found current, or failed. */
  settledGeneration?: number;
  /** The last failure per model version. */
  failures: UpdateFailure[];
}

export type NothingReason = 'up-to-date' | 'stale-generation' | 'duplicate-generation' | 'failed-before';

/** One thing to do. Steps run in the order the planner gives them, each by its own executor. */
export type UpdateStep =
  | { kind: 'download'; desired: DesiredModel }
  | { kind: 'verify'; desired: DesiredModel }
  | { kind: 'stage'; desired: DesiredModel }
  | { kind: 'warm-up'; desired: DesiredModel }
  | { kind: 'self-test'; desired: DesiredModel }
  | { kind: 'activate'; desired: DesiredModel }
  | { kind: 'roll-back'; desired: DesiredModel; to: ModelVersion }
  | { kind: 'nothing'; reason: NothingReason; failure?: UpdateFailure };

export type UpdateStepKind = UpdateStep['kind'];

/**
 * The steps that take the box from what it has to what is desired. Pure:
 * the same inputs give the same plan, so a repeated, late or reordered
 * desired message is harmless, and the loop can re-plan after every step.
 *
 * In order: an older or already-settled generation changes nothing; a
 * version that failed for this generation (or a later one) is not tried
 * again until a newer generation asks for it; the active version needs
 * nothing; the previous version comes back locally without a download; a
 * staged version only needs loading; anything else goes the whole way.
 */
export function planUpdate(desired: DesiredModel, box: BoxState): UpdateStep[] {
  const settled = box.settledGeneration;
  if (settled !== undefined && desired.generation < settled) return [{ kind: 'nothing', reason: 'stale-generation' }];
  const failure = lastFailureOf(desired.model, box);
  if (failure && failure.generation >= desired.generation) return [{ kind: 'nothing', reason: 'failed-before', failure }];
  if (sameModel(desired.model, box.active)) return [{ kind: 'nothing', reason: 'up-to-date' }];
  if (settled !== undefined && desired.generation === settled) return [{ kind: 'nothing', reason: 'duplicate-generation' }];
  if (box.previous && sameModel(desired.model, box.previous)) return [{ kind: 'roll-back', desired, to: box.previous }];
  const load: UpdateStep[] = [
    { kind: 'warm-up', desired },
    { kind: 'self-test', desired },
    { kind: 'activate', desired },
  ];
  if (sameModel(desired.model, box.staged)) return load;
  return [{ kind: 'download', desired }, { kind: 'verify', desired }, { kind: 'stage', desired }, ...load];
}

export function lastFailureOf(model: ModelVersion, box: BoxState): UpdateFailure | undefined {
  return box.failures.findLast((failure) => sameModel(failure.model, model));
}

/** The failures with `failure` as the one for its model version; at most `keep` versions are remembered. */
export function withFailure(failures: readonly UpdateFailure[], failure: UpdateFailure, keep = 32): UpdateFailure[] {
  return [...failures.filter((other) => !sameModel(other.model, failure.model)), failure].slice(-keep);
}
