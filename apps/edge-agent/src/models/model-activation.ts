import { ModelPipeline, type ModelSlot, type PipelineSettings } from '@loupe/inference';
import type { Logger } from 'pino';
import type { AgentMetrics } from '../status/agent-metrics';
import type { AgentStatus } from '../status/agent-status';
import type { ModelStats } from './model-stats';

/**
 * Brings a model into service: load, warm up, check its golden samples,
 * then swap it into the slot. A model that fails any step is refused with
 * its reason, and the one already serving stays. OTA updates load and
 * serve in separate steps, with their self-test in between.
 */
export class ModelActivation {
  private readonly log: Logger;

  constructor(
    private readonly slot: ModelSlot,
    private readonly settings: PipelineSettings,
    private readonly status: AgentStatus,
    private readonly metrics: AgentMetrics,
    private readonly stats: ModelStats,
    private readonly onServing: (serving: boolean) => void,
    logger: Logger,
  ) {
    this.log = logger.child({ component: 'model-activation' });
  }

  /** Resolves true when the model now serves, false when it was refused (the reason is logged). */
  async activate(manifestPath: string): Promise<boolean> {
    let pipeline: ModelPipeline;
    try {
      pipeline = await this.load(manifestPath);
    } catch (error) {
      this.log.error({ manifest: manifestPath, reason: (error as Error).message }, 'model refused; keeping the current one');
      return false;
    }
    await this.serve(pipeline);
    return true;
  }

  /** Loads a model, warms it up and checks its golden samples; throws why it cannot serve. Nothing changes for requests. */
  async load(manifestPath: string): Promise<ModelPipeline> {
    this.log.info({ manifest: manifestPath }, 'loading model');
    return ModelPipeline.open(manifestPath, this.settings, this.log);
  }

  /**
   * Makes a loaded model the one that serves. New requests use it at once;
   * requests already on the old model finish there before it closes, so
   * none fails because of the swap.
   */
  async serve(pipeline: ModelPipeline): Promise<void> {
    const { manifest, sha256, provider } = pipeline.model;
    const model = { name: manifest.name, version: manifest.version, sha256 };
    this.stats.reset(model);
    const swapped = this.slot.swap(pipeline);
    this.status.setActiveModel(model, provider);
    this.metrics.activeModel.reset();
    this.metrics.activeModel.set({ model: manifest.name, version: manifest.version, provider }, 1);
    this.onServing(true);
    this.log.info({ model: manifest.name, version: manifest.version, provider }, 'model serving');
    await swapped;
  }
}
