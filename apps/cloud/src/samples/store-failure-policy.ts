import { Injectable } from '@nestjs/common';
import type { SampleRejection } from './sample-payload';
import { classifyStorageFailure, type FailureKind } from './storage-failure';

/** After a failed store: refuse the sample for good, or leave it for the broker to deliver again. */
export type FailureDecision = { kind: 'refuse'; reason: SampleRejection; detail: string } | { kind: 'retry'; failure: Exclude<FailureKind, 'content'>; failures: number };

interface Tally {
  failures: number;
  /** How many samples had been stored when this one first failed. */
  storedBefore: number;
}

/**
 * Decides what a failure to store a sample means for it. A refusal of its
 * content refuses it. A failure of the cloud's own services leaves it to be
 * delivered again, however often. A failure of no known kind is delivered
 * again too, but counted per sample in memory: once one sample has failed
 * `maxUnknownFailures` times while others were stored, the fault is its
 * own and it is refused as `unstorable` rather than sent round forever.
 * While nothing stores at all, nothing is refused: that is an outage or a
 * bug of the cloud, not of the samples, and it shows in the failure metric.
 */
// Failures of no known kind a sample may have, while others store, before it is refused as unstorable.
const MAX_UNKNOWN_FAILURES = 5;

@Injectable()
export class StoreFailurePolicy {
  private readonly unknown = new Map<string, Tally>();
  private stored = 0;

  constructor(
    private readonly maxUnknownFailures = MAX_UNKNOWN_FAILURES,
    /** Samples tallied at most; the longest-tallied are forgotten first. */
    private readonly capacity = 10_000,
  ) {}

  noteStored(sampleId: string): void {
    this.stored++;
    this.unknown.delete(sampleId.toLowerCase());
  }

  decide(sampleId: string, error: unknown): FailureDecision {
    const kind = classifyStorageFailure(error);
    const message = error instanceof Error ? error.message : String(error);
    if (kind === 'content') return { kind: 'refuse', reason: 'invalid', detail: `refused by storage: ${message}` };
    if (kind === 'infrastructure') return { kind: 'retry', failure: kind, failures: 0 };
    const id = sampleId.toLowerCase();
    const tally = this.unknown.get(id) ?? { failures: 0, storedBefore: this.stored };
    tally.failures++;
    this.unknown.delete(id);
    if (tally.failures >= this.maxUnknownFailures && this.stored > tally.storedBefore) {
      return { kind: 'refuse', reason: 'unstorable', detail: `failed ${tally.failures} times while other samples were stored: ${message}` };
    }
    this.unknown.set(id, tally);
    if (this.unknown.size > this.capacity) this.unknown.delete(this.unknown.keys().next().value!);
    return { kind: 'retry', failure: kind, failures: tally.failures };
  }
}
