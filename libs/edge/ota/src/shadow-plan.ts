import { sameModel, type DesiredModel, type ModelVersion } from '@loupe/device-state';
import { lastFailureOf, type BoxState } from './update-plan';

/** The shadow side of a box, beside the planner's BoxState. */
export interface ShadowState {
  /** The shadow model loaded beside the active one. */
  running?: ModelVersion;
  /** The last shadow that failed to download, verify or load here, and for which generation. */
  failed?: { model: ModelVersion; generation: number };
}

export type ShadowNothingReason = 'no-shadow' | 'up-to-date' | 'shadow-is-active' | 'failed-before';

/**
 * One thing to do for the shadow. `target` is the shadow as a desired model,
 * so the update executors fetch and check it exactly as they would the
 * model to serve; the shadow's package carries no signature of its own in
 * the desired state, so only the registry keys vouch for it.
 */
export type ShadowStep =
  | { kind: 'download'; target: DesiredModel }
  | { kind: 'verify'; target: DesiredModel }
  | { kind: 'stage'; target: DesiredModel }
  | { kind: 'warm-up'; target: DesiredModel }
  | { kind: 'stop' }
  | { kind: 'nothing'; reason: ShadowNothingReason };

/**
 * What to do about the shadow the desired state names, independent of the
 * main plan (planUpdate): a desired state whose model is already active may
 * still ask for a shadow. Pure, like planUpdate. A shadow equal to the
 * active model compares nothing and is stopped; one that failed for this
 * generation (or a later one) is not tried again until a newer generation
 * names it; a staged one needs no download. Loading a new shadow replaces
 * the one running.
 */
export function planShadow(desired: DesiredModel, box: BoxState, shadow: ShadowState): ShadowStep[] {
  const wanted = desired.shadow;
  const stopOr = (reason: ShadowNothingReason): ShadowStep[] => (shadow.running ? [{ kind: 'stop' }] : [{ kind: 'nothing', reason }]);
  if (!wanted) return stopOr('no-shadow');
  if (sameModel(wanted.model, box.active)) return stopOr('shadow-is-active');
  if (sameModel(wanted.model, shadow.running)) return [{ kind: 'nothing', reason: 'up-to-date' }];
  const failed = [shadow.failed, lastFailureOf(wanted.model, box)].some(
    (failure) => failure !== undefined && sameModel(failure.model, wanted.model) && failure.generation >= desired.generation,
  );
  if (failed) return stopOr('failed-before');
  const target = shadowTarget(desired);
  const load: ShadowStep = { kind: 'warm-up', target };
  if (sameModel(wanted.model, box.staged)) return [load];
  return [{ kind: 'download', target }, { kind: 'verify', target }, { kind: 'stage', target }, load];
}

function shadowTarget(desired: DesiredModel): DesiredModel {
  const shadow = desired.shadow!;
  return { generation: desired.generation, model: shadow.model, package: shadow.package, rolloutId: desired.rolloutId };
}
