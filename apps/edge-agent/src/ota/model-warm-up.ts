import type { ModelPipeline } from '@loupe/inference';
import { describeModel, sameModel, type DesiredModel } from '@loupe/device-state';
import type { Logger } from 'pino';
import type { ModelActivation } from '../models/model-activation';
import type { BoxStateFile } from './box-state-file';
import { NO_FAULT_POINTS, type FaultPoints } from './fault-points';
import { UpdateStepError } from './update-step.error';

/**
 * The warm-up step: loads the staged version beside the one serving, runs
 * its warm-up inferences (on TensorRT the first builds the engine, cached
 * per model hash) and checks its golden samples. Before it starts, the
 * attempt is recorded, so a model that kills the process while loading is
 * counted at the next start instead of being retried forever.
 */
export class ModelWarmUp {
  private readonly log: Logger;

  constructor(
    private readonly activation: ModelActivation,
    private readonly state: BoxStateFile,
    logger: Logger,
    private readonly faults: FaultPoints = NO_FAULT_POINTS,
  ) {
    this.log = logger.child({ component: 'model-warm-up' });
  }

  async run(desired: DesiredModel): Promise<ModelPipeline> {
    const staged = this.state.current.staged;
    if (!staged || !sameModel(staged, desired.model)) {
      throw new UpdateStepError('warm-up', 'not-staged', `${describeModel(desired.model)} is not staged on this box; it must be downloaded again`);
    }
    await this.state.change((state) => ({
      ...state,
      loading: {
        model: desired.model,
        generation: desired.generation,
        crashes: state.loading && sameModel(state.loading.model, desired.model) ? state.loading.crashes : 0,
      },
    }));
    this.faults.reached('warm-up:recorded');
    const started = performance.now();
    const pipeline = await this.activation.load(staged.manifestPath);
    if (pipeline.model.sha256 !== desired.model.sha256) {
      await pipeline.close();
      throw new UpdateStepError('warm-up', 'hash-mismatch', `the staged model file has SHA-256 ${pipeline.model.sha256}; the desired state names ${desired.model.sha256}`);
    }
    this.log.info({ model: staged.name, version: staged.version, provider: pipeline.model.provider, ms: Math.round(performance.now() - started) }, 'model warmed up');
    return pipeline;
  }
}
