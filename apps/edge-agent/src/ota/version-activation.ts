import type { ModelPipeline } from '@loupe/inference';
import { describeModel, sameModel, type DesiredModel } from '@loupe/device-state';
import type { Logger } from 'pino';
import type { ModelActivation } from '../models/model-activation';
import type { BoxStateFile } from './box-state-file';
import { NO_FAULT_POINTS, type FaultPoints } from './fault-points';
import type { ModelStore } from './model-store';
import { UpdateStepError } from './update-step.error';

/**
 * The activate step: records the staged version as active (the one before
 * it becomes previous, its files kept for a local rollback) and on
 * probation, then swaps the warmed-up pipeline into the model slot. The
 * state is written first: if the process dies right after the swap, the
 * next start counts it against the new model's probation.
 */
export class VersionActivation {
  private readonly log: Logger;

  constructor(
    private readonly activation: ModelActivation,
    private readonly state: BoxStateFile,
    private readonly store: ModelStore,
    private readonly now: () => number,
    logger: Logger,
    private readonly faults: FaultPoints = NO_FAULT_POINTS,
  ) {
    this.log = logger.child({ component: 'version-activation' });
  }

  async run(desired: DesiredModel, pipeline: ModelPipeline): Promise<void> {
    const staged = this.state.current.staged;
    if (!staged || !sameModel(staged, desired.model)) {
      throw new UpdateStepError('activate', 'not-staged', `${describeModel(desired.model)} is no longer staged; the update starts over`);
    }
    const next = await this.state.change(({ loading: _loading, staged: _staged, ...state }) => ({
      ...state,
      active: staged,
      ...(state.active ? { previous: state.active } : {}),
      probation: { model: desired.model, startedAt: this.now(), crashes: 0 },
      settledGeneration: desired.generation,
    }));
    this.faults.reached('activate:recorded');
    await this.activation.serve(pipeline);
    this.faults.reached('activate:serving');
    const removed = await this.store.prune([next.active, next.previous].filter((model) => model !== undefined));
    this.log.info({ model: staged.name, version: staged.version, previous: next.previous?.version, removed: removed.length }, 'model on probation');
  }
}
