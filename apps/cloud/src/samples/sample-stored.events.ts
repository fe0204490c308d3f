import { Injectable } from '@nestjs/common';
import type { SampleRecord } from './sample-payload';

/**
 * Acts on samples just made durable. Ingest awaits every listener before it
 * answers for the group, so a listener's failure fails the group and the
 * broker delivers its samples again: a listener must be idempotent, and
 * repeats of stored samples (duplicates) are published again for it.
 */
export type SampleStoredListener = (samples: readonly SampleRecord[]) => Promise<void>;

/**
 * 'Sample stored', in process: ingest publishes each group of samples whose
 * image and row are durable, and whoever acts on new samples (the labeling
 * queue) subscribes, so ingest knows nothing of them.
 */
@Injectable()
export class SampleStoredEvents {
  private readonly listeners: SampleStoredListener[] = [];

  subscribe(listener: SampleStoredListener): void {
    this.listeners.push(listener);
  }

  /** Resolves once every listener has done its work on `samples`; rejects with the first failure. */
  async publish(samples: readonly SampleRecord[]): Promise<void> {
    if (samples.length === 0) return;
    await Promise.all(this.listeners.map((listener) => listener(samples)));
  }
}
