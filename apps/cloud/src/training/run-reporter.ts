import type { TrainingPhase, RunFindings, RunLease } from './training-run';
import type { TrainingRunRepository } from './training-run.repository';

/** The run is no longer this worker's: cancelled, or claimed again by another worker after the lease ran out. */
export class RunLeaseLostError extends Error {
  constructor(lease: RunLease) {
    super(`training run ${lease.runId} is no longer held by ${lease.owner} (attempt ${lease.attempt}): cancelled, or claimed again after the lease ran out`);
    this.name = 'RunLeaseLostError';
  }
}

// Progress within a phase is written at most this often: a bar that moves twice a second, not a write per sample.
const PROGRESS_INTERVAL_MS = 500;

/**
 * A worker's channel into its run's row. Every write is fenced by the lease
 * and renews it; a write the lease no longer allows throws RunLeaseLostError,
 * which stops the pipeline at its next step.
 */
export class RunReporter {
  private phase: TrainingPhase | undefined;
  private lastWrite = 0;

  constructor(
    private readonly runs: Pick<TrainingRunRepository, 'record'>,
    readonly lease: RunLease,
    private readonly leaseSeconds: number,
  ) {}

  /** Where the run is; written at once when the phase changes or ends, otherwise at most every half second. */
  async progress(phase: TrainingPhase, done: number, total: number): Promise<void> {
    const due = phase !== this.phase || done >= total || performance.now() - this.lastWrite >= PROGRESS_INTERVAL_MS;
    this.phase = phase;
    if (due) await this.record({ progress: { phase, done, total } });
  }

  async record(findings: RunFindings): Promise<void> {
    this.lastWrite = performance.now();
    if (!(await this.runs.record(this.lease, findings, this.leaseSeconds))) throw new RunLeaseLostError(this.lease);
  }
}
