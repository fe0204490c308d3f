import { describeModel, sameModel } from '@loupe/device-state';
import { probationVerdict, withFailure, type ProbationBudget, type UpdateFailure } from '@loupe/ota';
import type { Logger } from 'pino';
import type { ModelActivation } from '../models/model-activation';
import type { BoxStateFile, InstalledModel, PersistedBoxState } from './box-state-file';
import type { OtaMetrics } from './ota-metrics';
import { swappedToPrevious } from './version-rollback';

export interface BoxStartParts {
  state: BoxStateFile;
  activation: ModelActivation;
  metrics: OtaMetrics;
  budget: ProbationBudget;
  /** MODEL_MANIFEST: the model of a fresh box, and the last resort of any box. */
  bootManifest?: string;
  log: Logger;
}

/**
 * What a box does when the agent starts, before it takes any update:
 * counts a crash if the last run did not stop cleanly, retires a model
 * that crashed the agent too often (before it can load again), and serves
 * the best model it has: the active version, else the previous one, else
 * MODEL_MANIFEST. The persisted active version wins over MODEL_MANIFEST.
 */
export async function startBox(parts: BoxStartParts): Promise<void> {
  await parts.state.change((state) => afterCrashes(state, parts));
  await serveAtStart(parts);
}

/** The state with this start counted: crashes of the last run, and the consequences of too many. */
function afterCrashes(current: PersistedBoxState, { budget, metrics, log }: BoxStartParts): PersistedBoxState {
  let state: PersistedBoxState = { ...current, agentRunning: true };
  if (current.agentRunning) {
    const { probation, loading } = state;
    if (probation) state = { ...state, probation: { ...probation, crashes: probation.crashes + 1 } };
    if (loading) state = { ...state, loading: { ...loading, crashes: loading.crashes + 1 } };
    if (probation || loading) log.warn({ probation: state.probation, loading: state.loading }, 'the agent did not stop cleanly; counted as a crash of the new model');
  }
  if (state.loading && state.loading.crashes >= budget.maxCrashes) {
    const { loading: candidate, staged, ...rest } = state;
    const failure: UpdateFailure = {
      model: candidate.model,
      generation: candidate.generation,
      step: 'warm-up',
      reason: 'crashes',
      message: `the agent died ${candidate.crashes} times while loading ${describeModel(candidate.model)} (limit ${budget.maxCrashes})`,
    };
    log.error({ model: candidate.model, detail: failure.message }, 'model kept killing the agent while loading; update failed');
    metrics.updates.inc({ outcome: 'failed', step: 'warm-up', reason: 'crashes' });
    state = {
      ...rest,
      ...(staged && !sameModel(staged, candidate.model) ? { staged } : {}),
      failures: withFailure(rest.failures, failure),
      settledGeneration: Math.max(rest.settledGeneration ?? 0, candidate.generation),
      report: { ...rest.report, status: 'failed', error: `warm-up failed (crashes): ${failure.message}`, generation: candidate.generation, crashes: 0 },
    };
  }
  const probation = state.probation;
  const verdict = probation && probationVerdict({ inspections: 0, errors: 0, p99Ms: 0, crashes: probation.crashes }, budget);
  if (probation && verdict?.verdict === 'roll-back' && state.previous) {
    // Swapped before anything loads: a model that kills the agent never runs again.
    const failure: UpdateFailure = { model: probation.model, generation: state.settledGeneration ?? 0, step: 'probation', reason: verdict.reason, message: verdict.detail };
    log.error({ model: probation.model, to: state.previous, reason: verdict.reason, detail: verdict.detail }, 'model failed probation; rolled back before it loads again');
    metrics.rollbacks.inc({ reason: verdict.reason });
    metrics.updates.inc({ outcome: 'rolled_back', step: 'probation', reason: verdict.reason });
    const swapped = swappedToPrevious(state);
    state = {
      ...swapped,
      failures: withFailure(swapped.failures, failure),
      report: { ...swapped.report, status: 'rolled-back', error: `probation failed (${verdict.reason}): ${verdict.detail}`, crashes: probation.crashes },
    };
  }
  return state;
}

async function serveAtStart({ state, activation, metrics, bootManifest, log }: BoxStartParts): Promise<void> {
  const { active, previous } = state.current;
  if (active && (await serve(active, activation, log))) return;
  if (active && previous && (await serve(previous, activation, log))) {
    log.error({ unloadable: active, serving: previous }, 'the active version does not load; serving the previous one');
    metrics.rollbacks.inc({ reason: 'unloadable' });
    await state.change(({ previous: _unloadable, ...current }) => ({ ...current, active: previous }));
    return;
  }
  if (!bootManifest) {
    log.warn('no model to serve: Inspect answers UNAVAILABLE until an update brings one (or set MODEL_MANIFEST)');
    return;
  }
  try {
    const pipeline = await activation.load(bootManifest);
    await activation.serve(pipeline);
    const { manifest, sha256 } = pipeline.model;
    const installed: InstalledModel = { name: manifest.name, version: manifest.version, sha256, manifestPath: bootManifest };
    // Recorded as active so that the first update keeps it as the previous version to roll back to.
    if (!sameModel(state.current.active, installed)) await state.change(({ previous: _gone, ...current }) => ({ ...current, active: installed }));
  } catch (error) {
    log.error({ manifest: bootManifest, reason: (error as Error).message }, 'MODEL_MANIFEST does not load; no model serves until an update brings one');
  }
}

async function serve(model: InstalledModel, activation: ModelActivation, log: Logger): Promise<boolean> {
  try {
    const pipeline = await activation.load(model.manifestPath);
    if (pipeline.model.sha256 !== model.sha256) {
      await pipeline.close();
      throw new Error(`its model file now has SHA-256 ${pipeline.model.sha256}, not ${model.sha256}`);
    }
    await activation.serve(pipeline);
    return true;
  } catch (error) {
    log.error({ model: describeModel(model), manifest: model.manifestPath, reason: (error as Error).message }, 'model version does not load');
    return false;
  }
}
