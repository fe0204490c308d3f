import { ModelPipeline, type ModelSlot, type PipelineSettings } from '@loupe/inference';
import type { Logger } from 'pino';
import type { AgentMetrics } from '../status/agent-metrics';
import type { AgentStatus } from '../status/agent-status';

/**
 * Brings a model into service: load, warm up, check its golden samples,
 * then swap it into the slot. A model that fails any step is refused with
 * its reason, and the one already serving stays. OTA updates (later) go
 * through here too.
 */
export class ModelActivation {
  private readonly log: Logger;

  constructor(
    private readonly slot: ModelSlot,
    private readonly settings: PipelineSettings,
    private readonly status: AgentStatus,
    private readonly metrics: AgentMetrics,
    private readonly onServing: (serving: boolean) => void,
    logger: Logger,
  ) {
    this.log = logger.child({ component: 'model-activation' });
  }

  /** Resolves true when the model now serves, false when it was refused (the reason is logged). */
  async activate(manifestPath: string): Promise<boolean> {
    this.log.info({ manifest: manifestPath }, 'loading model');
    let pipeline: ModelPipeline;
    try {
      pipeline = await ModelPipeline.open(manifestPath, this.settings, this.log);
    } catch (error) {
      this.log.error({ manifest: manifestPath, reason: (error as Error).message }, 'model refused; keeping the current one');
      return false;
    }
    const { manifest, sha256, provider } = pipeline.model;
    await this.slot.swap(pipeline);
    this.status.setActiveModel({ name: manifest.name, version: manifest.version, sha256 }, provider);
    this.metrics.activeModel.reset();
    this.metrics.activeModel.set({ model: manifest.name, version: manifest.version, provider }, 1);
    this.onServing(true);
    this.log.info({ model: manifest.name, version: manifest.version, provider }, 'model serving');
    return true;
  }
}
