import { ModelSlot, type Inspection, type ModelPipeline } from '@loupe/inference';
import type { Logger } from 'pino';
import type { ModelStats } from '../models/model-stats';
import type { ActiveModel } from '../status/agent-status';
import type { ShadowMetrics } from './shadow-metrics';

/** The shadow's answer differs from the active model's when the verdict does: that is what reaches the station. */
export function verdictsDisagree(active: Inspection, shadow: Inspection): boolean {
  return active.prediction.verdict !== shadow.prediction.verdict;
}

interface Comparison {
  image: Buffer;
  active: Inspection;
}

/**
 * Shadow mode: a candidate model in a second slot judges the images the
 * active model has already answered, and how often their verdicts differ
 * is counted in the active model's ModelStats. The line never waits for
 * it: images are offered only after their answer is sent, into a queue of
 * `queueSize` drained by one worker (one shadow inference at a time, so the
 * shadow takes at most one inference's worth of CPU from the line); an
 * image that finds the queue full is skipped and counted.
 */
export class ShadowComparison {
  private readonly slot = new ModelSlot();
  private queue: Comparison[] = [];
  private draining = false;
  private running: ActiveModel | undefined;
  private readonly log: Logger;

  constructor(
    private readonly queueSize: number,
    private readonly stats: ModelStats,
    private readonly metrics: ShadowMetrics,
    logger: Logger,
  ) {
    this.log = logger.child({ component: 'shadow' });
  }

  /** The shadow model loaded, if any. */
  get model(): ActiveModel | undefined {
    return this.running;
  }

  /** Puts a loaded, warmed-up pipeline in the shadow slot, replacing any shadow there. */
  async start(pipeline: ModelPipeline): Promise<void> {
    const { manifest, sha256, provider } = pipeline.model;
    const model = { name: manifest.name, version: manifest.version, sha256 };
    this.queue = [];
    this.running = model;
    this.stats.shadowStarted(model);
    this.metrics.model.reset();
    this.metrics.model.set({ model: manifest.name, version: manifest.version, provider }, 1);
    this.log.info({ model: manifest.name, version: manifest.version, provider }, 'shadow model running');
    await this.slot.swap(pipeline);
  }

  /** Stops comparing and closes the shadow pipeline once its inference in flight is done. */
  async stop(): Promise<void> {
    const stopped = this.running;
    this.queue = [];
    this.running = undefined;
    this.stats.shadowStopped();
    this.metrics.model.reset();
    await this.slot.close();
    if (stopped) this.log.info({ model: stopped.name, version: stopped.version }, 'shadow model stopped');
  }

  /** Call after `active`'s answer is sent; returns at once. */
  offer(image: Buffer, active: Inspection): void {
    if (!this.running) return;
    if (this.queue.length >= this.queueSize) {
      this.metrics.skipped.inc({ reason: 'queue-full' });
      return;
    }
    this.queue.push({ image, active });
    if (!this.draining) void this.drain();
  }

  private async drain(): Promise<void> {
    this.draining = true;
    try {
      for (let next = this.queue.shift(); next; next = this.queue.shift()) await this.compare(next);
    } finally {
      this.draining = false;
    }
  }

  private async compare({ image, active }: Comparison): Promise<void> {
    try {
      const shadow = await this.slot.use((pipeline) => pipeline.inspect(image, Number.POSITIVE_INFINITY));
      const disagreed = verdictsDisagree(active, shadow);
      this.stats.shadowCompared(active.model, shadow.model, disagreed);
      this.metrics.comparisons.inc();
      if (disagreed) this.metrics.disagreements.inc();
    } catch (error) {
      // Stopped under it (empty slot) or the shadow failed on this image: neither concerns the line.
      this.metrics.skipped.inc({ reason: 'error' });
      this.log.debug({ reason: (error as Error).message }, 'shadow comparison skipped');
    }
  }
}
