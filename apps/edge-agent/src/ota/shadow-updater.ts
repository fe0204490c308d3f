import { describeModel, sameModel, type DesiredModel, type ModelVersion } from '@loupe/device-state';
import { planShadow, type ShadowStep } from '@loupe/ota';
import type { Logger } from 'pino';
import type { ShadowComparison } from '../shadow/shadow-comparison';
import type { ShadowMetrics } from '../shadow/shadow-metrics';
import type { BoxStateFile } from './box-state-file';
import type { UpdateExecutors } from './model-updater';
import { failureOf } from './update-step.error';

export interface ShadowUpdaterParts {
  state: BoxStateFile;
  /** The update executors: the shadow is fetched and checked exactly like a model to serve. */
  executors: Pick<UpdateExecutors, 'download' | 'verification' | 'staging' | 'warmUp'>;
  comparison: ShadowComparison;
  metrics: ShadowMetrics;
  logger: Logger;
}

type FetchStep = Exclude<ShadowStep, { kind: 'nothing' | 'stop' }>;

/**
 * Brings the shadow slot to what the desired state names, after the main
 * update has had its turn in the same reconcile loop (planShadow in
 * libs/edge/ota). A shadow that fails to download, verify or load is logged and
 * counted, and not tried again for its generation; it changes neither the
 * active model nor the reported status. Staging records it as the staged
 * version, so a later promotion of the same version needs no download.
 */
export class ShadowUpdater {
  private failed: { model: ModelVersion; generation: number } | undefined;
  private fetching: { model: ModelVersion; controller: AbortController } | undefined;
  private readonly log: Logger;

  constructor(private readonly parts: ShadowUpdaterParts) {
    this.log = parts.logger.child({ component: 'shadow-updater' });
  }

  async reconcile(desired: DesiredModel): Promise<void> {
    const { state, comparison } = this.parts;
    const steps = planShadow(desired, state.current, { running: comparison.model, ...(this.failed ? { failed: this.failed } : {}) });
    if (steps.some((step) => step.kind === 'stop')) {
      await comparison.stop();
      this.parts.metrics.updates.inc({ outcome: 'stopped', step: 'stop', reason: 'ok' });
      return;
    }
    const fetch = steps.filter((step): step is FetchStep => step.kind !== 'nothing' && step.kind !== 'stop');
    if (fetch[0]) await this.fetchAndLoad(fetch[0].target, fetch);
  }

  /** A newer desired state that no longer names the shadow being fetched abandons it (its partial download stays). */
  supersede(desired: DesiredModel): void {
    if (this.fetching && !sameModel(desired.shadow?.model, this.fetching.model)) this.fetching.controller.abort();
  }

  abandon(): void {
    this.fetching?.controller.abort();
  }

  private async fetchAndLoad(target: DesiredModel, steps: FetchStep[]): Promise<void> {
    const { executors, comparison, metrics, state } = this.parts;
    const controller = new AbortController();
    this.fetching = { model: target.model, controller };
    let step: FetchStep['kind'] = 'download';
    try {
      for (const next of steps) {
        if (controller.signal.aborted) return;
        step = next.kind;
        if (next.kind === 'download') await executors.download.run(target, controller.signal);
        else if (next.kind === 'verify') await executors.verification.run(target);
        else if (next.kind === 'stage') await executors.staging.run(target);
        else if (next.kind === 'warm-up') await comparison.start(await executors.warmUp.run(target));
      }
      metrics.updates.inc({ outcome: 'loaded', step: 'warm-up', reason: 'ok' });
    } catch (error) {
      if (controller.signal.aborted) {
        this.log.info({ shadow: describeModel(target.model), step }, 'shadow fetch abandoned for a newer desired state');
        return;
      }
      const { step: failedStep, reason, message } = failureOf(step, error);
      this.failed = { model: target.model, generation: target.generation };
      metrics.updates.inc({ outcome: 'failed', step: failedStep, reason });
      this.log.error({ shadow: describeModel(target.model), generation: target.generation, step: failedStep, reason, err: message }, 'shadow model failed; the active model is not affected');
      // The shadow running before is no longer the one desired: comparing it would report on the wrong candidate.
      if (comparison.model) await comparison.stop();
    } finally {
      this.fetching = undefined;
      // Warm-up marks the candidate as loading to catch one that kills the agent; it is loaded (or refused) now.
      if (state.current.loading) await state.change(({ loading: _loading, ...current }) => current);
    }
  }
}
