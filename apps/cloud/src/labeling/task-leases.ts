import { DomainError } from '@loupe/service';
import type { LabelTaskRepository } from './label-task.repository';

/** The caller's lease ran out or was never theirs: another person may hold the sample now (HTTP 409). */
export class LeaseLostError extends DomainError {
  readonly kind = 'conflict';
  constructor(sampleId: string) {
    super(`the lease on sample ${sampleId} has expired or belongs to someone else; claim the next sample`);
  }
}

/**
 * A task under a lease: 'leased' while a labeler answers it, 'reviewing'
 * while a reviewer decides a disagreement. A lease that ends without an
 * answer puts the task back where it was claimed from.
 */
export type LeasedState = 'leased' | 'reviewing';

export interface LeaseHolder {
  sampleId: string;
  /** The labeler or reviewer. */
  labelerId: string;
  /** The fencing token the claim returned. */
  token: string;
}

/** A sample as labeling shows it, to a labeler or in an export: its image and what the model said of it. */
export interface SampleView {
  sampleId: string;
  imageKey: string;
  stationId: string;
  capturedAt: Date;
  modelVersion: string;
  verdict: string;
  prediction: unknown;
}

export interface ClaimedSample extends SampleView {
  /** The fencing token: pass it back with every call on this lease. */
  token: string;
  expiresAt: Date;
  reason: string;
}

/** A claim as a labeler sees it: the sample, if any, and their answers since midnight. */
export interface LabelerClaim {
  sample: ClaimedSample | undefined;
  answeredToday: number;
}

// A lease that ran out is turned back by the next claim in its project, at
// most once a second per process, so claims only ever look at unleased rows
// in index order: an OR with expired leases in the claim would cost a scan.
const SWEEP_INTERVAL_MS = 1_000;

/** The lease calls labelers and reviewers share: heartbeat, release, and returning leases that ran out. */
export class TaskLeases {
  private readonly lastSweep = new Map<string, number>();

  constructor(
    private readonly tasks: LabelTaskRepository,
    readonly leaseSeconds: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Extends a lease by the lease time from now. */
  async heartbeat(state: LeasedState, holder: LeaseHolder): Promise<Date> {
    const expiresAt = await this.tasks.heartbeat(state, holder, this.leaseSeconds);
    if (!expiresAt) throw new LeaseLostError(holder.sampleId);
    return expiresAt;
  }

  /** Ends a lease without an answer: the task goes back where it was claimed from. */
  async release(state: LeasedState, holder: LeaseHolder): Promise<void> {
    if (!(await this.tasks.release(state, holder))) throw new LeaseLostError(holder.sampleId);
  }

  /** Returns the project's leases that ran out; skipped if this process did so less than a second ago. */
  async returnExpired(projectId: string): Promise<void> {
    const now = this.now();
    if (now - (this.lastSweep.get(projectId) ?? 0) < SWEEP_INTERVAL_MS) return;
    this.lastSweep.set(projectId, now);
    await this.tasks.returnExpired(projectId);
  }
}
