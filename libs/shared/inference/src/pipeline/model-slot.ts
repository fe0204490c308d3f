import { DomainError } from '@loupe/service';
import type { ModelPipeline } from './model-pipeline';

/** No model is active yet: the agent is still loading or has none (gRPC UNAVAILABLE). */
export class NoActiveModelError extends DomainError {
  readonly kind = 'unavailable';
  constructor() {
    super('no model is active yet; the agent is loading one or has none configured');
  }
}

interface Entry {
  pipeline: ModelPipeline;
  leases: number;
  retired: boolean;
  released?: () => void;
}

/**
 * The model that serves requests, swappable under load. A request holds a
 * lease on the pipeline it started with until it is answered; a swap makes
 * new requests use the new pipeline at once, and closes the old one when
 * its last lease is returned. No request ever sees a closed pipeline.
 */
export class ModelSlot {
  private active: Entry | undefined;

  get current(): ModelPipeline | undefined {
    return this.active?.pipeline;
  }

  async use<T>(work: (pipeline: ModelPipeline) => Promise<T>): Promise<T> {
    const entry = this.active;
    if (!entry) throw new NoActiveModelError();
    entry.leases++;
    try {
      return await work(entry.pipeline);
    } finally {
      entry.leases--;
      if (entry.retired && entry.leases === 0) entry.released?.();
    }
  }

  /** Makes `next` active; resolves once the previous pipeline has finished its requests and closed. */
  async swap(next: ModelPipeline): Promise<void> {
    const previous = this.active;
    this.active = { pipeline: next, leases: 0, retired: false };
    if (!previous) return;
    previous.retired = true;
    if (previous.leases > 0) await new Promise<void>((resolve) => (previous.released = resolve));
    await previous.pipeline.close();
  }

  /** Closes the active pipeline after its requests; the slot is empty afterwards. */
  async close(): Promise<void> {
    const previous = this.active;
    this.active = undefined;
    if (!previous) return;
    previous.retired = true;
    if (previous.leases > 0) await new Promise<void>((resolve) => (previous.released = resolve));
    await previous.pipeline.close();
  }
}
